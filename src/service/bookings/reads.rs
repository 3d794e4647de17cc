//! Reading bookings back: one by id, a customer's list, the booking an idempotency key made.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::types::Json;

use crate::domain::{BookedSeat, Booking, BookingFailure, BookingStatus, CancellationPolicy, IdempotencyKey, Refund};
use crate::error::AppError;
use crate::service::ServiceError;

/// A booking as stored, with its seats' labels. A PENDING booking whose hold ran out reads as
/// EXPIRED even before the expiry worker has stored that.
const BOOKING_SELECT: &str = r#"
    SELECT b.id, b.show_id, b.user_id,
           CASE WHEN b.status = 'PENDING' AND b.hold_expires_at < now() THEN 'EXPIRED' ELSE b.status END AS status,
           b.seat_ids, b.total_cents, b.hold_expires_at, b.failure, b.created_at, b.request,
           ARRAY(SELECT s.label FROM seats s WHERE s.show_id = b.show_id AND s.seat_id = ANY(b.seat_ids)
                 ORDER BY s.seat_id) AS labels,
           b.cancellation_policy,
           COALESCE((
               SELECT json_agg(json_build_object(
                          'seats', ARRAY(SELECT s.label FROM seats s
                                         WHERE s.show_id = r.show_id AND s.seat_id = ANY(r.seat_ids)
                                         ORDER BY s.seat_id),
                          'paid_cents', r.paid_cents, 'refund_percent', r.refund_percent,
                          'amount_cents', r.amount_cents, 'created_at', r.created_at) ORDER BY r.id)
               FROM refunds r WHERE r.show_id = b.show_id AND r.booking_id = b.id), '[]') AS refunds
    FROM bookings b
"#;

#[derive(sqlx::FromRow)]
struct BookingRow {
    id: i64,
    show_id: i64,
    user_id: i64,
    status: BookingStatus,
    seat_ids: Vec<i32>,
    total_cents: i64,
    hold_expires_at: Option<DateTime<Utc>>,
    failure: Option<Json<BookingFailure>>,
    created_at: DateTime<Utc>,
    /// The fingerprint of the request that made it (see `ordering`).
    request: String,
    labels: Vec<String>,
    /// NULL for bookings made before policies existed: the default.
    cancellation_policy: Option<Json<CancellationPolicy>>,
    refunds: Json<Vec<Refund>>,
}

impl BookingRow {
    fn into_booking(self) -> Booking {
        Booking {
            id: self.id,
            show_id: self.show_id,
            user_id: self.user_id,
            status: self.status,
            seats: self.seat_ids.iter().zip(self.labels).map(|(&seat_id, label)| BookedSeat { seat_id, label }).collect(),
            total_cents: self.total_cents,
            hold_expires_at: self.hold_expires_at,
            failure: self.failure.map(|Json(failure)| failure),
            created_at: self.created_at,
            cancellation_policy: self.cancellation_policy.map(|Json(policy)| policy).unwrap_or_default(),
            refunds: self.refunds.0,
        }
    }
}

/// One booking; with `owner`, only that user's ("not found" for anyone else's).
pub(super) async fn get(pool: &PgPool, booking_id: i64, owner: Option<i64>) -> Result<Booking, ServiceError> {
    let sql = format!("{BOOKING_SELECT} WHERE b.id = $1 AND ($2::bigint IS NULL OR b.user_id = $2)");
    let row: Option<BookingRow> = sqlx::query_as(&sql).bind(booking_id).bind(owner).fetch_optional(pool).await?;
    row.map(BookingRow::into_booking).ok_or(AppError::BookingNotFound.into())
}

/// The user's bookings, newest first.
pub(super) async fn list_for_user(pool: &PgPool, user_id: i64) -> Result<Vec<Booking>, ServiceError> {
    let sql = format!("{BOOKING_SELECT} WHERE b.user_id = $1 ORDER BY b.created_at DESC, b.id DESC LIMIT 200");
    let rows: Vec<BookingRow> = sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?;
    Ok(rows.into_iter().map(BookingRow::into_booking).collect())
}

/// The booking made with `key` on the show and the request it was made for (keys are unique
/// per customer and show).
pub(super) async fn find_by_key(
    pool: &PgPool,
    show_id: i64,
    user_id: i64,
    key: &IdempotencyKey,
) -> Result<Option<(Booking, String)>, ServiceError> {
    let sql = format!("{BOOKING_SELECT} WHERE b.show_id = $1 AND b.user_id = $2 AND b.idempotency_key = $3");
    let row: Option<BookingRow> =
        sqlx::query_as(&sql).bind(show_id).bind(user_id).bind(key.as_str()).fetch_optional(pool).await?;
    Ok(row.map(|mut row| {
        let request = std::mem::take(&mut row.request);
        (row.into_booking(), request)
    }))
}
