use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, TestDatabase};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readyz_is_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"), "every response carries its request id");
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_unreachable() {
    // A pool that points at a database which does not exist: every query fails.
    let db = TestDatabase::create().await;
    let missing = PgConnectOptions::from_str("postgres://nobody@127.0.0.1:1/none").unwrap();
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy_with(missing);
    let app = TestApp::spawn_with_pool(db, pool).await;

    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), "database unreachable");
}
