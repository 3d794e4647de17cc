//! The database stops for ten seconds in the middle of a run of bookings and comes back. Every
//! door answers 503 `unavailable` with Retry-After meanwhile (never a 500); clients retrying
//! with their keys end with exactly the bookings they were told about; no one is told
//! "taken" for seats that are theirs.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boxoffice::server::embedded_pg::{Durability, EmbeddedPostgres};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::booking_world::{assert_invariants, create_show, hall, lock_seat};
use crate::helpers::TestApp;

const CUSTOMERS: i32 = 8;
const SEATS_EACH: i32 = 8;
const OUTAGE: Duration = Duration::from_secs(10);

/// Every answer a customer got, in order: (status, body, Retry-After).
type Answers = Arc<Mutex<Vec<(StatusCode, Value, Option<String>)>>>;

async fn post(client: &reqwest::Client, url: &str, key: &str, body: &Value) -> Option<(StatusCode, Value, Option<String>)> {
    let response = client.post(url).header("idempotency-key", key).json(body).send().await.ok()?;
    let status = response.status();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap_or(Value::Null);
    Some((status, body, retry_after))
}

/// Books this customer's seats one at a time, each with its own key, retrying it after a 503
/// (or no answer) until it is answered; returns the booking id of each seat.
async fn book_my_seats(client: reqwest::Client, base: String, show: i64, seats: Vec<i32>, answers: Answers) -> HashMap<i32, i64> {
    let mut booked = HashMap::new();
    for seat in seats {
        let key = format!("seat-{seat}-{}", uuid::Uuid::new_v4().simple());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(Instant::now() < deadline, "seat {seat} was never answered");
            let answer = post(&client, &format!("{base}/api/v1/shows/{show}/bookings"), &key, &json!({"seat_ids": [seat]})).await;
            let Some(answer) = answer else {
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            };
            answers.lock().unwrap().push(answer.clone());
            match answer.0 {
                StatusCode::CREATED | StatusCode::OK => {
                    booked.insert(seat, answer.1["id"].as_i64().unwrap());
                    break;
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    let wait: u64 = answer.2.as_deref().and_then(|v| v.parse().ok()).unwrap_or(1);
                    tokio::time::sleep(Duration::from_secs(wait.min(2))).await;
                }
                // Anything else is checked below; stop retrying this seat.
                _ => break,
            }
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    booked
}

#[tokio::test]
async fn bookings_survive_the_database_stopping_for_ten_seconds() {
    let dir = std::env::temp_dir().join(format!("boxoffice-outage-{}", uuid::Uuid::new_v4().simple()));
    let cluster = EmbeddedPostgres::start(&dir, Durability::Durable).await.expect("the test's own cluster");
    cluster.ensure_database("outage").await.unwrap();
    let options = cluster.connect_options("outage");
    let (base, pool) = TestApp::serve_on(options, 10).await;
    let show = create_show(&pool, &hall(CUSTOMERS as usize, SEATS_EACH as u16)).await;

    let mut clients = vec![];
    for i in 0..CUSTOMERS {
        let client = reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(30)).build().unwrap();
        let registered = client
            .post(format!("{base}/api/v1/auth/register"))
            .json(&json!({"email": format!("c{i}@example.com"), "name": "Customer", "password": "long enough password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        clients.push(client);
    }
    let answers: Answers = Arc::default();
    let runs: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, client)| {
            let seats = (1..=SEATS_EACH).map(|n| i as i32 * SEATS_EACH + n).collect();
            tokio::spawn(book_my_seats(client.clone(), base.clone(), show, seats, answers.clone()))
        })
        .collect();

    // A moment of bookings, then the database goes away (a fast shutdown: sessions cut).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.stop().await;
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The other doors, while it is down: 503 with Retry-After, the JSON a program reads.
    let probe = &clients[0];
    for path in [format!("/api/v1/shows/{show}"), "/api/v1/bookings".to_owned()] {
        let response = probe.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(response.headers().contains_key("retry-after"), "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unavailable", "{path}: {body}");
    }
    let page = probe.get(format!("{base}/shows/{show}")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "the show page");
    let text = page.text().await.unwrap();
    assert!(!text.to_lowercase().contains("sqlx") && !text.contains("error communicating"), "{text}");
    assert_eq!(probe.get(format!("{base}/readyz")).send().await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);

    tokio::time::sleep(OUTAGE.saturating_sub(stopped_at.elapsed())).await;
    let cluster = EmbeddedPostgres::start(&dir, Durability::Durable).await.expect("the cluster again");

    let mut told_booked: HashMap<i32, i64> = HashMap::new();
    for run in runs {
        told_booked.extend(run.await.unwrap());
    }
    let answers = answers.lock().unwrap().clone();
    let unavailable = answers.iter().filter(|a| a.0 == StatusCode::SERVICE_UNAVAILABLE).count();
    assert!(unavailable > 0, "the outage was noticed by some booking");
    for (status, body, retry_after) in &answers {
        match *status {
            StatusCode::CREATED | StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["code"], "unavailable", "{body}");
                assert!(retry_after.is_some(), "a 503 without Retry-After: {body}");
            }
            other => panic!("answered {other} during or after the outage: {body}"),
        }
    }
    // Every seat answered booked, each once, and the database holds exactly those bookings.
    assert_eq!(told_booked.len(), (CUSTOMERS * SEATS_EACH) as usize);
    let stored: Vec<(i64, Vec<i32>, String)> =
        sqlx::query_as("SELECT id, seat_ids, status::text FROM bookings WHERE show_id = $1")
            .bind(show)
            .fetch_all(&pool)
            .await
            .unwrap();
    let stored_ids: HashSet<i64> = stored.iter().map(|b| b.0).collect();
    let told_ids: HashSet<i64> = told_booked.values().copied().collect();
    assert_eq!(stored_ids, told_ids, "a booking no one was told about, or one told but lost");
    for (id, seats, status) in &stored {
        assert_eq!(status, "CONFIRMED", "booking {id}");
        assert_eq!(told_booked.get(&seats[0]), Some(id), "seat {} went to the booking its customer was told", seats[0]);
    }
    assert_invariants(&pool).await;

    pool.close().await;
    cluster.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// A customer who gives up on a request (closes the connection) while their order waits for a
/// locked seat gets nothing booked behind their back once the seat frees up.
#[tokio::test]
async fn an_order_whose_client_has_gone_is_dropped_unrun() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let registered = client
        .post(format!("{}/api/v1/auth/register", app.address))
        .json(&json!({"email": "quitter@example.com", "name": "Quinn", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let lock = lock_seat(&app.pool, show, 3).await;

    let gave_up = client
        .post(format!("{}/api/v1/shows/{show}/holds", app.address))
        .timeout(Duration::from_millis(700))
        .json(&json!({"seat_ids": [3]}))
        .send()
        .await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()), "the order waits while its seat is locked");
    // Its order goes round again every few milliseconds: long enough to notice it has no client.
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.rollback().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let bookings: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE show_id = $1")
        .bind(show)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(bookings, 0, "nothing was booked for a client that had gone");
    let status: String = sqlx::query_scalar("SELECT status::text FROM seats WHERE show_id = $1 AND seat_id = 3")
        .bind(show)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "AVAILABLE");
}

/// A database that answers but hangs (here: the seats table locked whole) does not pin orders
/// for as long as the request may take: the claim's statement gives up, and the customer is
/// told to try again, with nothing booked.
#[tokio::test]
async fn a_hanging_database_is_answered_unavailable_not_waited_for() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let api = crate::rest::Api::customer(&app, "patient@example.com").await;
    let mut hang = app.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE seats IN ACCESS EXCLUSIVE MODE").execute(&mut *hang).await.unwrap();

    let started = Instant::now();
    let response = api
        .client
        .post(api.url(&format!("/shows/{show}/holds")))
        .json(&json!({"seat_ids": [1]}))
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
    assert!(waited < Duration::from_secs(25), "answered after {waited:?}, near the request timeout");

    hang.rollback().await.unwrap();
    let (status, body) = api.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_invariants(&app.pool).await;
}

/// Asks every session of this test's database to end, and waits until the app's pool answers
/// from a new one (sqlx pings a connection before lending it, so broken ones are dropped).
async fn renew_connections(app: &TestApp, admin: &mut sqlx::PgConnection, read_only: &str) {
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(&app.db.name)
        .execute(&mut *admin)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = sqlx::query_scalar::<_, String>("SHOW default_transaction_read_only").fetch_one(&app.pool).await;
        if seen.as_deref().is_ok_and(|seen| seen == read_only) {
            return;
        }
        assert!(Instant::now() < deadline, "the pool never reconnected: {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A primary that Patroni brings back after a crash is a standby for a few seconds, and the
/// old primary refuses writes while a failover reaches every connection: the server answers
/// but will not write (SQLSTATE 25006). Customers are told to try again, never shown a 500,
/// and nothing is half-booked.
#[tokio::test]
async fn a_database_that_is_read_only_for_a_moment_is_answered_unavailable() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let api = crate::rest::Api::customer(&app, "readonly@example.com").await;
    let mut admin = sqlx::PgConnection::connect_with(&app.db.options).await.unwrap();
    let alter = |setting: &str| format!("ALTER DATABASE \"{}\" SET default_transaction_read_only = {setting}", app.db.name);

    sqlx::query(&alter("on")).execute(&mut admin).await.unwrap();
    renew_connections(&app, &mut admin, "on").await;
    for path in ["holds", "bookings"] {
        let response = api
            .client
            .post(api.url(&format!("/shows/{show}/{path}")))
            .header("idempotency-key", format!("read-only-{path}"))
            .json(&json!({"seat_ids": [1, 2]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(response.headers().contains_key("retry-after"), "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unavailable", "{path}: {body}");
    }

    // `admin` opened before the change, so its own session may still write.
    sqlx::query(&alter("off")).execute(&mut admin).await.unwrap();
    renew_connections(&app, &mut admin, "off").await;
    let booked: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE show_id = $1")
        .bind(show)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(booked, 0, "nothing was booked while the database refused writes");
    let (status, body) = api.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1, 2]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_invariants(&app.pool).await;
}

/// When a claim batch's commit answer is lost, the queue asks PostgreSQL whether the
/// transaction committed. A crash can forget a transaction whose WAL never reached the disk
/// and give its id to the next one, so "committed" alone may be about someone else's booking:
/// the answer is checked against what the batch wrote (found in a chaos run, where customers
/// were told of bookings that a PostgreSQL crash had lost).
#[tokio::test]
async fn a_lost_commit_is_judged_by_what_it_wrote_not_by_a_transaction_id_alone() {
    use boxoffice::service::claims::committed;
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let api = crate::rest::Api::customer(&app, "lost-commit@example.com").await;
    let (status, body) = api.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    // The claim transaction's id, as the claim statement reports it (epoch 0 on a test server).
    let (transaction, created_at): (String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT xmin::text, created_at FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();

    assert_eq!(committed(&app.pool, &transaction, Some((id, created_at))).await, Some(true));
    assert_eq!(committed(&app.pool, &transaction, None).await, Some(true), "a batch of refusals only");
    // The same transaction id, committed, but the booking the lost batch wrote is not there:
    // the id (and the booking id) went to another transaction after a crash.
    let other_booking = created_at + chrono::Duration::microseconds(1);
    assert_eq!(committed(&app.pool, &transaction, Some((id, other_booking))).await, Some(false));
    assert_eq!(committed(&app.pool, &transaction, Some((id + 1_000, created_at))).await, Some(false));

    // A transaction id PostgreSQL has not given out yet: it came back without the lost one.
    let future: String = sqlx::query_scalar("SELECT (pg_current_xact_id()::text::bigint + 1000000)::text")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(committed(&app.pool, &future, Some((id, created_at))).await, Some(false));

    // Still running: not known yet. Rolled back: not committed.
    let mut running = app.pool.begin().await.unwrap();
    let open: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text").fetch_one(&mut *running).await.unwrap();
    assert_eq!(committed(&app.pool, &open, None).await, None);
    running.rollback().await.unwrap();
    assert_eq!(committed(&app.pool, &open, None).await, Some(false));
}
