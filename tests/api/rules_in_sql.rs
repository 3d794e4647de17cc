//! Rules that exist once in Rust and once in SQL (the SQL twin runs inside statements): the
//! two copies must agree, value for value.

use boxoffice::domain::show::selling;
use boxoffice::domain::{BookingFailure, ShowStatus};
use chrono::{Duration, Utc};

use crate::helpers::TestApp;

#[tokio::test]
async fn on_sale_means_the_same_in_rust_and_in_sql() {
    let app = TestApp::spawn().await;
    let cases = [
        (ShowStatus::OnSale, Duration::hours(2)),
        (ShowStatus::OnSale, Duration::hours(-2)),
        (ShowStatus::Cancelled, Duration::hours(2)),
        (ShowStatus::Cancelled, Duration::hours(-2)),
    ];
    for (status, from_now) in cases {
        let starts_at = Utc::now() + from_now;
        let in_sql: bool = sqlx::query_scalar("SELECT show_is_selling($1, $2)")
            .bind(status)
            .bind(starts_at)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        let in_rust = selling(status, starts_at, Utc::now()).is_ok();
        assert_eq!(in_sql, in_rust, "{status:?}, starting {from_now} from now");
    }
}

#[tokio::test]
async fn the_stored_failure_json_round_trips_through_the_domain_type() {
    let app = TestApp::spawn().await;
    let taken = BookingFailure::SeatsTaken { seats: vec!["A1".into(), "B10".into()] };
    let short = BookingFailure::NotEnoughSeats { requested: 4, available: 3 };
    let built: (serde_json::Value, serde_json::Value) = sqlx::query_as(
        "SELECT booking_failure_json(ARRAY['A1', 'B10'], NULL, NULL), booking_failure_json(NULL, 4, 3)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // What SQL builds reads back as the domain value, and the domain value writes the same JSON.
    assert_eq!(serde_json::from_value::<BookingFailure>(built.0.clone()).unwrap(), taken);
    assert_eq!(serde_json::from_value::<BookingFailure>(built.1.clone()).unwrap(), short);
    assert_eq!(serde_json::to_value(&taken).unwrap(), built.0);
    assert_eq!(serde_json::to_value(&short).unwrap(), built.1);
}
