//! Shared set-up for booking tests: shows with simple layouts, users, and the invariant checker.

use boxoffice::domain::layout::{CategorySpec, RowSpec};
use boxoffice::domain::user::{Role, User};
use boxoffice::domain::{LayoutSpec, NewShow, NewShowSpec, ShowKind};
use boxoffice::service::Bookings;
use boxoffice::service::bookings::BookingRules;
use sqlx::{PgConnection, PgPool};

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
        sale_opens_at: None,
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

/// The booking invariants, one SQL check each (see the file's header): run here and by scripts.
const INVARIANTS_SQL: &str = include_str!("../invariants.sql");

/// The checks of `tests/invariants.sql` as (what must hold, the SELECT returning the rows that
/// break it). Panics on a file that does not keep to its format, so a check cannot be lost.
pub fn invariants() -> Vec<(&'static str, String)> {
    let mut checks: Vec<(&'static str, String)> = Vec::new();
    let mut open = false;
    for (number, line) in INVARIANTS_SQL.lines().enumerate() {
        let number = number + 1;
        if let Some(description) = line.strip_prefix("-- invariant:") {
            assert!(!open, "invariants.sql:{number}: the previous check does not end with `;`");
            let description = description.trim();
            assert!(!description.is_empty(), "invariants.sql:{number}: a check without a description");
            checks.push((description, String::new()));
            open = true;
        } else if line.trim().is_empty() {
            continue;
        } else if line.starts_with("--") {
            assert!(checks.is_empty(), "invariants.sql:{number}: a comment outside the header: {line}");
        } else {
            assert!(open, "invariants.sql:{number}: SQL outside a check: {line}");
            let sql = &mut checks.last_mut().expect("open means there is a check").1;
            sql.push_str(line);
            sql.push('\n');
            if line.trim_end().ends_with(';') {
                let end = sql.trim_end().trim_end_matches(';').trim_end().len();
                sql.truncate(end);
                open = false;
            }
        }
    }
    assert!(!open, "invariants.sql: the last check does not end with `;`");
    for (description, sql) in &checks {
        assert!(sql.trim_start().to_uppercase().starts_with("SELECT"), "not one SELECT: {description}");
        assert!(!sql.contains(';'), "more than one statement: {description}");
    }
    checks
}

/// Checks the booking invariants over the whole database; panics naming what is broken and
/// the first rows that break it. Every check holds at any committed instant, so this may run
/// while customers are booking.
pub async fn assert_invariants(pool: &PgPool) {
    let mut conn = pool.acquire().await.expect("a connection to check the invariants");
    if let Some((invariant, rows)) = broken_invariants(&mut conn).await.into_iter().next() {
        panic!("invariant broken: {invariant}; rows: {rows}");
    }
}

/// The invariants broken on `conn` (e.g. inside a transaction), each with the first rows that
/// break it.
pub async fn broken_invariants(conn: &mut PgConnection) -> Vec<(&'static str, String)> {
    let mut broken = Vec::new();
    for (invariant, violations) in invariants() {
        let (count, rows): (i64, Option<String>) = sqlx::query_as(&format!(
            "SELECT count(*), left(string_agg(v::text, '; '), 2000) FROM ({violations}) AS v"
        ))
        .fetch_one(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("invariant check failed to run ({invariant}): {e}"));
        if count > 0 {
            broken.push((invariant, rows.unwrap_or_default()));
        }
    }
    broken
}

#[test]
fn the_invariants_file_keeps_its_format() {
    let checks = invariants();
    let descriptions: std::collections::HashSet<&str> = checks.iter().map(|(d, _)| *d).collect();
    assert_eq!(descriptions.len(), checks.len(), "two checks with one description");
    assert!(checks.len() >= 13, "checks went missing: {descriptions:?}");
}

/// A booking's status as stored (not as read through the service, which shows a PENDING
/// booking whose hold ran out as EXPIRED before anything has stored that).
pub async fn stored_status(pool: &PgPool, booking_id: i64) -> String {
    sqlx::query_scalar("SELECT status::text FROM bookings WHERE id = $1")
        .bind(booking_id)
        .fetch_one(pool)
        .await
        .expect("the booking is stored")
}

/// A booking's events as (from, to, detail), oldest first.
pub async fn events(pool: &PgPool, booking_id: i64) -> Vec<(Option<String>, String, Option<String>)> {
    sqlx::query_as(
        "SELECT from_status::text, to_status::text, detail FROM booking_events WHERE booking_id = $1 ORDER BY id",
    )
    .bind(booking_id)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Locks one seat's row, as another transaction in the middle of claiming it would, until the
/// returned transaction ends.
pub async fn lock_seat(pool: &PgPool, show_id: i64, seat_id: i32) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM seats WHERE show_id = $1 AND seat_id = $2 FOR UPDATE")
        .bind(show_id)
        .bind(seat_id)
        .execute(&mut *lock)
        .await
        .unwrap();
    lock
}
