//! Sessions end everywhere (issue 14, item 3): an instance serves a session from memory only
//! while it hears endings, and only for so long. A session deleted in SQL, a log-out whose
//! announcement is not heard, a demoted or deleted account: each takes effect on every
//! instance within the bound. Sessions roll with activity; the store's failures are a 503.

use std::time::Duration;

use boxoffice::cli::Cli;
use boxoffice::service::live::{APPLICATION_NAME, LiveFeed};
use boxoffice::startup::Application;
use clap::Parser;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::time::Instant;

use crate::freezer::Freezer;
use crate::helpers::{Browser, REQUEST_TIMEOUT, TestApp, TestDatabase};

/// Another instance on the same database, connecting with `options`, served by this test's
/// runtime (so it stops with the test): its address and its feed.
async fn instance(options: PgConnectOptions) -> (String, LiveFeed) {
    let pool = PgPoolOptions::new().max_connections(5).connect_with(options).await.unwrap();
    let mut settings = Cli::parse_from(["boxoffice"]).settings;
    settings.site_addr = "127.0.0.1:0".parse().unwrap();
    let app = Application::build(&settings, pool).await.unwrap();
    let served = (format!("http://{}", app.local_addr()), app.live_feed());
    tokio::spawn(app.run_until(std::future::pending()));
    served
}

/// Polls `check` every 50 ms until it holds; fails after `limit`.
async fn within(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A customer's session cookie, sent by hand to any instance.
struct Cookie(String);

impl Cookie {
    async fn of_new_customer(base: &str) -> Self {
        let email = format!("c-{}@example.com", uuid::Uuid::new_v4().simple());
        let response = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/register"))
            .json(&json!({"email": email, "name": "Cee", "password": "long enough password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
        Self(set_cookie.split(';').next().unwrap().to_owned())
    }

    /// The session id, as the store keys it.
    fn id(&self) -> &str {
        self.0.split_once('=').unwrap().1
    }

    /// `GET /api/v1/me` on `base`: the status.
    async fn me(&self, base: &str) -> u16 {
        let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().unwrap();
        let response = client.get(format!("{base}/api/v1/me")).header("cookie", &self.0).send().await.unwrap();
        response.status().as_u16()
    }
}

async fn readyz(base: &str) -> u16 {
    reqwest::get(format!("{base}/readyz")).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_deleted_in_sql_is_forgotten_by_every_instance_at_once() {
    let app = TestApp::spawn().await;
    let (other, other_feed) = instance(app.db.options.clone()).await;
    within(Duration::from_secs(10), "both listeners confirmed", async || {
        app.feed.listener_confirmed() && other_feed.listener_confirmed()
    })
    .await;
    let cookie = Cookie::of_new_customer(&app.address).await;
    for base in [&app.address, &other] {
        assert_eq!(cookie.me(base).await, 200, "signed in, and now in {base}'s memory");
    }

    // No log-out: the row goes, and the trigger announces it in the same transaction.
    let deleted = sqlx::query("DELETE FROM tower_sessions.session WHERE id = $1")
        .bind(cookie.id())
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    // Far within the 60 s that a cached session is trusted.
    for base in [&app.address, &other] {
        within(Duration::from_secs(5), "the deletion heard", async || cookie.me(base).await == 401).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_listener_hears_nothing_reads_sessions_from_the_database() {
    let app = TestApp::spawn().await;
    let freezer = Freezer::start(&app.db.options, APPLICATION_NAME);
    let (other, other_feed) = instance(freezer.options(&app.db.options)).await;
    within(Duration::from_secs(10), "the listener confirmed", async || other_feed.listener_confirmed()).await;
    let cookie = Cookie::of_new_customer(&app.address).await;
    assert_eq!(cookie.me(&other).await, 200, "in the other instance's memory now");

    // Its LISTEN connection goes silent but stays open, as after a network cut; a log-out
    // elsewhere is announced, and not heard there.
    freezer.freeze(true);
    let logout = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/logout", app.address))
        .header("cookie", &cookie.0)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    within(Duration::from_secs(15), "the silent listener noticed", async || readyz(&other).await == 503).await;
    assert!(!other_feed.listener_confirmed());
    assert_eq!(cookie.me(&other).await, 401, "read from the database, not memory");
    let fresh = Cookie::of_new_customer(&app.address).await;
    assert_eq!(fresh.me(&other).await, 200, "sessions still work, from the database");

    freezer.freeze(false);
    within(Duration::from_secs(20), "the listener back", async || readyz(&other).await == 200).await;
    within(Duration::from_secs(5), "the heartbeat heard", async || other_feed.listener_confirmed()).await;
    assert_eq!(cookie.me(&other).await, 401);
    assert_eq!(fresh.me(&other).await, 200);
}

#[tokio::test]
async fn a_demoted_or_deleted_account_loses_its_rights_within_the_trust_bound() {
    let app = TestApp::spawn_with(|settings| settings.session_trust_seconds = 1).await;
    within(Duration::from_secs(10), "the listener confirmed", async || app.feed.listener_confirmed()).await;
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    assert_eq!(admin.call("admin/dashboard", &[]).await.0, 200);
    let (_, me, _) = admin.call("me", &[]).await;
    let admin_id = me["id"].as_i64().unwrap();

    // Nothing announces a change of role: the bound does.
    sqlx::query("UPDATE users SET role = 'CUSTOMER' WHERE id = $1").bind(admin_id).execute(&app.pool).await.unwrap();
    within(Duration::from_secs(5), "the demotion applied", async || admin.call("admin/dashboard", &[]).await.0 == 403)
        .await;
    assert_eq!(admin.call("me", &[]).await.1["role"], "CUSTOMER");

    sqlx::query("DELETE FROM users WHERE id = $1").bind(admin_id).execute(&app.pool).await.unwrap();
    within(Duration::from_secs(5), "the deletion applied", async || admin.call("me", &[]).await.1 == Value::Null)
        .await;
    assert_eq!(admin.call("admin/dashboard", &[]).await.0, 401);
}

#[tokio::test]
async fn an_active_session_rolls_past_the_idle_time_and_an_idle_one_ends() {
    const IDLE: Duration = Duration::from_secs(4);
    let app = TestApp::spawn_with(|settings| settings.session_idle_seconds = IDLE.as_secs() as u32).await;
    // The browser keeps whatever cookie the server sends last; the idle one is sent by hand,
    // so it is the server that ends it, not the cookie's expiry.
    let active = Browser::new(&app);
    active.sign_up("Active").await;
    let idle = Cookie::of_new_customer(&app.address).await;

    let started = Instant::now();
    while started.elapsed() < IDLE * 2 {
        let (status, me, _) = active.call("me", &[]).await;
        assert_eq!(status, 200);
        assert_ne!(me, Value::Null, "signed out {:?} after signing in", started.elapsed());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Twice the idle time has passed for the idle session without a request.
    assert_eq!(idle.me(&app.address).await, 401);
    let (_, me, _) = active.call("me", &[]).await;
    assert_ne!(me, Value::Null, "the active session lives on");
}

#[tokio::test]
async fn the_session_store_failing_is_a_503_to_retry_not_a_500() {
    // A pool on a server that is not there: every query fails, as while the database is down.
    let db = TestDatabase::create().await;
    let missing: sqlx::postgres::PgConnectOptions = "postgres://nobody@127.0.0.1:1/none".parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy_with(missing);
    let app = TestApp::spawn_with_pool(db, pool).await;
    let cookie = format!("boxoffice_session={}", tower_sessions::session::Id::default());

    let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().unwrap();
    for request in [
        client.get(format!("{}/api/v1/me", app.address)),
        client.post(format!("{}/rpc/me", app.address)),
    ] {
        let response = request.header("cookie", &cookie).send().await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "2");
        let body = response.text().await.unwrap();
        assert!(body.contains("unavailable") || body.contains("Unavailable"), "{body}");
    }
}
