//! Read routing (issue 17, item 2): with `BOXOFFICE_REPLICA_URL` set, the show list and search
//! and the admin dashboard read the standby; seat maps and bookings stay on the primary; a
//! standby that is down slows those reads a little and never fails them.
//!
//! The "standby" here is a second, separate database holding a show the primary does not have,
//! so every answer tells which database it came from.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::booking_world::{create_show, hall};
use crate::helpers::{Browser, TestApp, TestDatabase};
use crate::rest::Api;

const STANDBY_TITLE: &str = "Only on the standby";
const PRIMARY_TITLE: &str = "On the primary";

/// A fresh migrated database with one show of its own, standing in for the standby.
async fn standby() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect_with(db.options.clone()).await.unwrap();
    boxoffice::server::database::migrate(&pool).await.unwrap();
    create_show(&pool, &hall_titled(STANDBY_TITLE)).await;
    (db, pool)
}

fn hall_titled(title: &str) -> boxoffice::domain::NewShowSpec {
    boxoffice::domain::NewShowSpec { title: title.into(), ..hall(2, 5) }
}

fn titles(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn lists_and_the_dashboard_read_the_standby_while_seat_maps_and_bookings_use_the_primary() {
    let (standby_db, standby) = standby().await;
    let app = TestApp::spawn_with(|settings| settings.replica_url = Some(standby_db.url())).await;
    let show = create_show(&app.pool, &hall_titled(PRIMARY_TITLE)).await;
    let api = Api::customer(&app, "ann@example.com").await;

    let (status, list) = api.get("/shows").await;
    assert_eq!(
        (status, titles(&list)),
        (StatusCode::OK, vec![STANDBY_TITLE]),
        "the REST list reads the standby"
    );
    assert_eq!(titles(&api.get("/shows?q=standby").await.1), [STANDBY_TITLE], "and so does search");
    assert!(titles(&api.get("/shows?q=primary").await.1).is_empty());
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains(STANDBY_TITLE) && !home.contains(PRIMARY_TITLE), "the home page reads the standby");

    // A seat map and a booking are the primary's.
    let (status, seat_map) = api.get(&format!("/shows/{show}")).await;
    assert_eq!((status, seat_map["title"].as_str()), (StatusCode::OK, Some(PRIMARY_TITLE)), "{seat_map}");
    let (status, booking) = api.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [1, 2]})).await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    let (_, seat_map) = api.get(&format!("/shows/{show}")).await;
    let statuses: Vec<&str> =
        seat_map["seats"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses[..3], ["BOOKED", "BOOKED", "AVAILABLE"], "the seat map shows the booking at once");
    let count = "SELECT count(*) FROM bookings";
    assert_eq!(sqlx::query_scalar::<_, i64>(count).fetch_one(&app.pool).await.unwrap(), 1);
    assert_eq!(sqlx::query_scalar::<_, i64>(count).fetch_one(&standby).await.unwrap(), 0);

    // The admin dashboard's figures read the standby too.
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    let (status, dashboard, _) = admin.call("admin/dashboard", &[]).await;
    assert_eq!((status, titles(&dashboard)), (200, vec![STANDBY_TITLE]), "{dashboard}");
    standby.close().await;
}

#[tokio::test]
async fn with_the_standby_down_lists_read_the_primary() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::spawn_with(|settings| {
        settings.replica_url = Some(format!("postgres://boxoffice@127.0.0.1:{closed}/boxoffice"));
    })
    .await;
    create_show(&app.pool, &hall_titled(PRIMARY_TITLE)).await;
    let api = Api::new(&app);

    let started = Instant::now();
    let (status, list) = api.get("/shows").await;
    assert_eq!((status, titles(&list)), (StatusCode::OK, vec![PRIMARY_TITLE]), "{list}");
    assert!(started.elapsed() < Duration::from_secs(5), "the fallback took {:?}", started.elapsed());
    assert!(app.get("/").await.text().await.unwrap().contains(PRIMARY_TITLE), "the home page too");
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    let (status, dashboard, _) = admin.call("admin/dashboard", &[]).await;
    assert_eq!((status, titles(&dashboard)), (200, vec![PRIMARY_TITLE]), "{dashboard}");
}

#[tokio::test]
async fn a_bad_replica_url_is_a_clear_error() {
    use boxoffice::cli::Cli;
    use boxoffice::server::database::Database;
    use clap::Parser;

    let mut settings = Cli::parse_from(["boxoffice"]).settings;
    settings.replica_url = Some("mysql://nope".into());
    let error = Database::open_replica(&settings).err().expect("refused");
    assert!(error.to_string().contains("BOXOFFICE_REPLICA_URL is not a valid PostgreSQL URL"), "{error:#}");
    settings.replica_url = None;
    assert!(Database::open_replica(&settings).unwrap().is_none());
}
