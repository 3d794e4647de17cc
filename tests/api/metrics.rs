//! Prometheus metrics at /metrics: what a booking leaves there, who may read them, and their
//! listener of their own. The recorder is one per process and tests run in parallel, so these
//! compare a scrape before with one after (counters only grow), never exact totals.

use boxoffice::cli::Cli;
use boxoffice::startup::Application;
use clap::Parser;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;

use crate::booking_world::{create_show, hall};
use crate::helpers::{EventStream, REQUEST_TIMEOUT, TestApp, TestDatabase};
use crate::rest::Api;

/// One scrape: `(name, labels, value)` per sample line.
struct Scrape {
    text: String,
    samples: Vec<(String, Vec<(String, String)>, f64)>,
}

impl Scrape {
    async fn of(url: &str) -> Self {
        let response = reqwest::Client::new().get(url).timeout(REQUEST_TIMEOUT).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        let text = response.text().await.unwrap();
        let samples =
            text.lines().filter(|line| !line.starts_with('#') && !line.is_empty()).map(parse).collect();
        Self { text, samples }
    }

    /// The sum of the series of `name` that carry all of `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name && labels.iter().all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, value)| value)
            .sum()
    }

    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.samples.iter().any(|(n, l, _)| {
            n == name && labels.iter().all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
    }
}

/// `name{a="x",b="y"} 1.5` (label values here never hold quotes or commas).
fn parse(line: &str) -> (String, Vec<(String, String)>, f64) {
    let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("a sample line: {line}"));
    let value: f64 = value.parse().unwrap_or_else(|_| panic!("a sample value: {line}"));
    let (name, labels) = match series.split_once('{') {
        Some((name, labels)) => (name, labels.trim_end_matches('}')),
        None => (series, ""),
    };
    let labels = labels
        .split(',')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap();
            (key.to_owned(), value.trim_matches('"').to_owned())
        })
        .collect();
    (name.to_owned(), labels, value)
}

#[tokio::test]
async fn a_held_and_confirmed_booking_shows_in_the_metrics_read_from_loopback() {
    let app = TestApp::spawn().await;
    let metrics = format!("{}/metrics", app.address);
    let show = create_show(&app.pool, &hall(2, 5)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let bob = Api::customer(&app, "bob@example.com").await;
    let mut seat_map = EventStream::open(&format!("{}/api/v1/shows/{show}/events", app.address)).await;
    seat_map.next(REQUEST_TIMEOUT).await.expect("the seat map's snapshot");
    let before = Scrape::of(&metrics).await;

    let (status, hold) = ann.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1, 2]})).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    let (status, confirmed) = ann.post(&format!("/bookings/{}/confirm", hold["id"]), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let (status, refused) = bob.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [2, 3]})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(app.get("/no-such-page/at-all").await.status(), StatusCode::NOT_FOUND);
    let after = Scrape::of(&metrics).await;
    let grew = |name: &str, labels: &[(&str, &str)]| {
        assert!(
            after.sum(name, labels) > before.sum(name, labels),
            "{name} {labels:?} did not grow: {} then {}\n{}",
            before.sum(name, labels),
            after.sum(name, labels),
            after.text
        );
    };

    // HTTP requests by route pattern (not the path with its ids), method and status.
    let holds = [("route", "/api/v1/shows/{id}/holds"), ("method", "POST")];
    grew("boxoffice_http_requests_total", &[holds[0], holds[1], ("status", "201")]);
    grew("boxoffice_http_requests_total", &[holds[0], holds[1], ("status", "409")]);
    grew("boxoffice_http_request_duration_seconds_count", &holds);
    grew("boxoffice_http_requests_total", &[("route", "other"), ("status", "404")]);
    assert!(
        !after.text.contains(&format!("/shows/{show}/")) && !after.text.contains("no-such-page"),
        "a raw path became a label:\n{}",
        after.text
    );
    // Claim batches: their size and how long they took.
    grew("boxoffice_claim_batch_size_count", &[]);
    grew("boxoffice_claim_batch_duration_seconds_count", &[]);
    assert!(after.has("boxoffice_claim_batch_duration_seconds_bucket", &[("le", "0.01")]), "{}", after.text);
    assert!(after.has("boxoffice_claim_batches_in_flight", &[]), "{}", after.text);
    assert!(after.has("boxoffice_claim_queue_depth", &[]), "{}", after.text);
    // Bookings by outcome, refusals by reason.
    grew("boxoffice_bookings_total", &[("outcome", "held")]);
    grew("boxoffice_bookings_total", &[("outcome", "confirmed")]);
    grew("boxoffice_bookings_total", &[("outcome", "refused"), ("reason", "seats_taken")]);
    // The pool, sampled from this app as it was scraped.
    assert!(
        after.has("boxoffice_db_pool_connections", &[("pool", "primary"), ("state", "in_use")]),
        "{}",
        after.text
    );
    assert!(
        after.has("boxoffice_db_pool_connections", &[("pool", "primary"), ("state", "idle")]),
        "{}",
        after.text
    );
    assert!(after.has("boxoffice_db_pool_max_connections", &[("pool", "primary")]), "{}", after.text);
    // Each claim batch waits for a connection: the wait is timed, and counted while it lasts.
    grew("boxoffice_db_pool_acquire_seconds_count", &[("waiter", "claim_batch")]);
    assert!(after.has("boxoffice_db_pool_waiting", &[("waiter", "claim_batch")]), "{}", after.text);
    assert!(after.has("boxoffice_sse_subscribers", &[("stream", "seat_map")]), "{}", after.text);
    assert!(after.has("boxoffice_ready", &[]), "{}", after.text);

    // The live feed broadcast the hold to the open seat map, and measured how long that took
    // (recorded just after the broadcast: give it a moment).
    seat_map.next(REQUEST_TIMEOUT).await.expect("the hold, broadcast");
    let lag = "boxoffice_live_feed_lag_seconds_count";
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while Scrape::of(&metrics).await.sum(lag, &[]) <= before.sum(lag, &[]) {
        assert!(tokio::time::Instant::now() < deadline, "no feed lag was measured");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn refusals_are_counted_by_the_rate_limit_that_refused() {
    let app = TestApp::spawn_with(|settings| settings.rate_limits.auth_per_minute = 1).await;
    let metrics = format!("{}/metrics", app.address);
    let limit = [("limit", "auth_per_ip")];
    let before = Scrape::of(&metrics).await.sum("boxoffice_rate_limit_refusals_total", &limit);
    let log_in = || {
        app.client
            .post(format!("{}/api/v1/auth/login", app.address))
            .json(&json!({"email": "nobody@example.com", "password": "not the password"}))
            .send()
    };
    assert_eq!(log_in().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(log_in().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    let after = Scrape::of(&metrics).await.sum("boxoffice_rate_limit_refusals_total", &limit);
    assert!(after > before, "{before} then {after}");
}

#[tokio::test]
async fn a_client_outside_the_allowed_ranges_is_told_there_is_nothing_there() {
    let app =
        TestApp::spawn_with(|settings| settings.metrics_allow = vec!["10.0.0.0/8".parse().unwrap()]).await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(!response.text().await.unwrap().contains("boxoffice_"), "no metrics in the answer");
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK, "the app itself answers");
}

#[tokio::test]
async fn with_an_address_of_their_own_the_metrics_are_served_there_and_not_on_the_main_port() {
    let db = TestDatabase::create().await;
    let pool = PgPoolOptions::new().max_connections(4).connect_with(db.options.clone()).await.unwrap();
    boxoffice::server::database::migrate(&pool).await.unwrap();
    let mut settings = Cli::parse_from(["boxoffice"]).settings;
    settings.site_addr = "127.0.0.1:0".parse().unwrap();
    settings.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let app = Application::build(&settings, pool.clone()).await.unwrap();
    let (main, own) = (app.local_addr(), app.metrics_addr().expect("a metrics listener"));
    assert_ne!(main.port(), own.port());
    let served = tokio::spawn(app.run_until(std::future::pending()));

    // Something to count first: a request on the main port.
    let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().unwrap();
    assert_eq!(client.get(format!("http://{main}/healthz")).send().await.unwrap().status(), StatusCode::OK);
    let scrape = Scrape::of(&format!("http://{own}/metrics")).await;
    assert!(
        scrape.sum("boxoffice_http_requests_total", &[("route", "/healthz"), ("status", "200")]) >= 1.0,
        "{}",
        scrape.text
    );
    assert!(scrape.has("boxoffice_db_pool_max_connections", &[("pool", "primary")]), "{}", scrape.text);
    let on_main = client.get(format!("http://{main}/metrics")).send().await.unwrap();
    assert_eq!(on_main.status(), StatusCode::NOT_FOUND, "not on the main port, even from loopback");

    served.abort();
    pool.close().await;
}
