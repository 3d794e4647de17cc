//! What the live feed reads from PostgreSQL: seats' states as customers read them (a lapsed
//! hold is available) and seats left per show.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::domain::SeatStatus;
use crate::domain::live::{SeatChange, SeatChanges, ShowAvailability};
use crate::service::ServiceError;

/// One seat's state as customers read it.
#[derive(sqlx::FromRow)]
struct SeatStateRow {
    show_id: i64,
    seat_id: i32,
    status: SeatStatus,
}

#[derive(sqlx::FromRow)]
struct AvailabilityRow {
    show_id: i64,
    available_seats: i64,
}

pub(super) fn as_changes(seats: &HashMap<i32, SeatStatus>) -> SeatChanges {
    seats.iter().map(|(&seat_id, &status)| SeatChange { seat_id, status }).collect()
}

/// Each seat's state as customers read it (a lapsed hold is available).
pub(super) async fn load_seats(
    pool: &PgPool,
    shows: &[i64],
) -> Result<HashMap<i64, HashMap<i32, SeatStatus>>, ServiceError> {
    if shows.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<SeatStateRow> = sqlx::query_as(
        "SELECT show_id, seat_id,
                CASE WHEN status = 'HELD' AND held_until < now() THEN 'AVAILABLE' ELSE status END AS status
         FROM seats WHERE show_id = ANY($1)",
    )
    .bind(shows)
    .fetch_all(pool)
    .await?;
    let mut by_show: HashMap<i64, HashMap<i32, SeatStatus>> =
        shows.iter().map(|&id| (id, HashMap::new())).collect();
    for SeatStateRow { show_id, seat_id, status } in rows {
        by_show.entry(show_id).or_default().insert(seat_id, status);
    }
    Ok(by_show)
}

/// The state of each seat named, by show (a lapsed hold is available).
pub(super) async fn load_named_seats(
    pool: &PgPool,
    seats: &[(i64, i32)],
) -> Result<HashMap<i64, HashMap<i32, SeatStatus>>, ServiceError> {
    if seats.is_empty() {
        return Ok(HashMap::new());
    }
    let (shows, seat_ids): (Vec<i64>, Vec<i32>) = seats.iter().copied().unzip();
    let rows: Vec<SeatStateRow> = sqlx::query_as(
        "SELECT s.show_id, s.seat_id,
                CASE WHEN s.status = 'HELD' AND s.held_until < now() THEN 'AVAILABLE' ELSE s.status END AS status
         FROM unnest($1::bigint[], $2::int[]) AS named(show_id, seat_id)
         JOIN seats s ON s.show_id = named.show_id AND s.seat_id = named.seat_id",
    )
    .bind(shows)
    .bind(seat_ids)
    .fetch_all(pool)
    .await?;
    let mut by_show: HashMap<i64, HashMap<i32, SeatStatus>> = HashMap::new();
    for SeatStateRow { show_id, seat_id, status } in rows {
        by_show.entry(show_id).or_default().insert(seat_id, status);
    }
    Ok(by_show)
}

pub(super) async fn load_availability(pool: &PgPool, shows: &[i64]) -> Result<Vec<ShowAvailability>, ServiceError> {
    let rows: Vec<AvailabilityRow> = sqlx::query_as(
        "SELECT show_id,
                count(*) FILTER (WHERE status = 'AVAILABLE' OR (status = 'HELD' AND held_until < now())) AS available_seats
         FROM seats WHERE show_id = ANY($1) GROUP BY show_id",
    )
    .bind(shows)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|AvailabilityRow { show_id, available_seats }| ShowAvailability { show_id, available_seats })
        .collect())
}
