//! Shared set-up for booking tests: shows with simple layouts, users, and the invariant checker.

use boxoffice::domain::layout::{CategorySpec, RowSpec};
use boxoffice::domain::user::{Role, User};
use boxoffice::domain::{LayoutSpec, NewShow, NewShowSpec, ShowKind};
use boxoffice::service::Bookings;
use boxoffice::service::bookings::BookingRules;
use sqlx::PgPool;

use crate::helpers::TestApp;

/// A hall of `rows` rows of `per_row` seats, rows A.. in one category STD at 10.00.
pub fn hall(rows: usize, per_row: u16) -> NewShowSpec {
    NewShowSpec {
        kind: ShowKind::Show,
        title: "Test Night".into(),
        venue: Some("Test Hall".into()),
        origin: None,
        destination: None,
        starts_at: chrono::Utc::now() + chrono::Duration::days(7),
        hold_seconds: None,
        layout: LayoutSpec {
            categories: vec![CategorySpec { code: "STD".into(), name: "Standard".into(), price_cents: 1000 }],
            rows: (0..rows)
                .map(|i| RowSpec {
                    label: row_label(i),
                    seats: per_row,
                    category: "STD".into(),
                    aisles_after: vec![],
                })
                .collect(),
            blocked: vec![],
        },
    }
}

fn row_label(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < 26 {
        (letters[i] as char).to_string()
    } else {
        format!("{}{}", letters[i / 26 - 1] as char, letters[i % 26] as char)
    }
}

pub async fn create_show(pool: &PgPool, spec: &NewShowSpec) -> i64 {
    let show = NewShow::parse(spec, chrono::Utc::now()).expect("a valid show");
    boxoffice::service::shows::create(pool, &show).await.expect("creating a show")
}

/// `count` customers; returns their ids.
pub async fn create_users(pool: &PgPool, count: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "INSERT INTO users (email, name)
         SELECT 'user' || i || '-' || gen_random_uuid() || '@example.com', 'User ' || i
         FROM generate_series(1, $1) AS i RETURNING id",
    )
    .bind(count)
    .fetch_all(pool)
    .await
    .expect("creating users")
}

/// The default rules with this hold time and no request limit (tests book far faster than
/// any customer could).
pub fn rules(hold_seconds: u32) -> BookingRules {
    BookingRules { hold_seconds, requests_per_second: 0, ..BookingRules::default() }
}

/// A booking service on `app`'s claim queue and live feed, with [`rules`]`(hold_seconds)`.
pub fn booking_service(app: &TestApp, hold_seconds: u32) -> Bookings {
    Bookings::new(app.claims.clone(), app.feed.clone(), rules(hold_seconds))
}

/// The customer with this id, as the booking service is told who is acting.
pub fn customer(id: i64) -> User {
    User { id, email: format!("user{id}@example.com"), name: format!("User {id}"), role: Role::Customer }
}

/// Raw seat statuses of a show as (label, status) in seat order.
pub async fn raw_statuses(pool: &PgPool, show_id: i64) -> Vec<(String, String)> {
    sqlx::query_as("SELECT label, status::text FROM seats WHERE show_id = $1 ORDER BY seat_id")
        .bind(show_id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Checks the booking invariants over the whole database; panics naming what is broken.
pub async fn assert_invariants(pool: &PgPool) {
    let checks: &[(&str, &str)] = &[
        (
            "every HELD seat belongs to a PENDING booking and every BOOKED seat to a CONFIRMED one, of the same show",
            "SELECT s.show_id, s.seat_id, s.status::text, b.status::text FROM seats s JOIN bookings b ON b.id = s.booking_id
             WHERE b.show_id <> s.show_id
                OR (s.status = 'HELD' AND b.status <> 'PENDING')
                OR (s.status = 'BOOKED' AND b.status <> 'CONFIRMED')",
        ),
        (
            "a HELD seat is held only as long as its booking's hold",
            "SELECT s.seat_id FROM seats s JOIN bookings b ON b.id = s.booking_id
             WHERE s.status = 'HELD' AND s.held_until IS DISTINCT FROM b.hold_expires_at",
        ),
        (
            "every CONFIRMED booking owns exactly its seats, all BOOKED",
            "SELECT b.id FROM bookings b WHERE b.status = 'CONFIRMED' AND b.seat_ids IS DISTINCT FROM
               (SELECT array_agg(s.seat_id ORDER BY s.seat_id) FROM seats s
                WHERE s.show_id = b.show_id AND s.booking_id = b.id AND s.status = 'BOOKED')",
        ),
        (
            "no seat belongs to two live bookings",
            "SELECT b.show_id, seat FROM bookings b, unnest(b.seat_ids) AS seat
             WHERE b.status = 'CONFIRMED' OR (b.status = 'PENDING' AND b.hold_expires_at > now())
             GROUP BY b.show_id, seat HAVING count(*) > 1",
        ),
        (
            "a seat belongs to a booking only if the booking asked for it",
            "SELECT s.seat_id FROM seats s JOIN bookings b ON b.id = s.booking_id WHERE NOT (s.seat_id = ANY(b.seat_ids))",
        ),
        (
            "the last event of every booking is its current status",
            "SELECT b.id FROM bookings b WHERE b.status IS DISTINCT FROM
               (SELECT e.to_status FROM booking_events e WHERE e.booking_id = b.id ORDER BY e.id DESC LIMIT 1)",
        ),
        (
            "each event starts from the status the previous one ended in",
            "SELECT booking_id FROM (
                SELECT booking_id, from_status, lag(to_status) OVER (PARTITION BY booking_id ORDER BY id) AS previous
                FROM booking_events) AS chain
             WHERE from_status IS DISTINCT FROM previous",
        ),
    ];
    for (invariant, violations) in checks {
        let broken: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ({violations}) AS v"))
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(broken, 0, "invariant broken: {invariant}");
    }
}
