//! Confirming and cancelling a booking. Each locks the booking row first and then its seats in
//! seat-id order, the order every statement of Box Office locks in, so they never deadlock
//! with claims, the expiry worker or an admin cancelling the show. Each reports the seats it
//! changed, whatever the answer, so the live feed is told without reading them again.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::booking::cancellation;
use crate::domain::show::selling;
use crate::domain::{BookingStatus, ShowStatus};
use crate::error::AppError;
use crate::service::ServiceError;
use crate::service::error::retrying;

/// Seats a change released or booked.
#[derive(Debug, Clone)]
pub(super) struct Touched {
    pub show_id: i64,
    pub seat_ids: Vec<i32>,
}

/// What a confirm or cancel did: the seats it changed (none when it changed nothing) and the
/// answer for the customer. A late confirm both releases seats and refuses.
pub(super) struct ChangeOutcome {
    pub touched: Option<Touched>,
    pub result: Result<(), AppError>,
}

/// The confirm statement's answer.
#[derive(sqlx::FromRow)]
struct ConfirmRow {
    show_id: i64,
    seat_ids: Vec<i32>,
    before: BookingStatus,
    after: Option<BookingStatus>,
    show_status: ShowStatus,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
}

/// Confirms a hold in one statement. Succeeds only while the hold is unexpired, the show still
/// sells and the hold still owns every seat; otherwise the booking becomes EXPIRED and its
/// seats are released.
pub(super) async fn confirm(pool: &PgPool, booking_id: i64, user_id: i64) -> Result<ChangeOutcome, ServiceError> {
    let row: ConfirmRow = retrying(|| async {
        sqlx::query_as(
            r#"
            WITH b AS (
                SELECT x.id, x.show_id, x.status, x.seat_ids, x.hold_expires_at, sh.status AS show_status,
                       sh.starts_at, show_is_selling(sh.status, sh.starts_at) AS selling
                FROM bookings x JOIN shows sh ON sh.id = x.show_id
                WHERE x.id = $1 AND x.user_id = $2
                FOR UPDATE OF x
            ),
            locked AS (
                SELECT s.seat_id, s.booking_id, s.status
                FROM seats s, b
                WHERE s.show_id = b.show_id AND s.seat_id = ANY(b.seat_ids)
                ORDER BY s.seat_id
                FOR UPDATE OF s
            ),
            verdict AS (
                SELECT b.status = 'PENDING' AS was_pending,
                       b.status = 'PENDING' AND b.hold_expires_at > now() AND b.selling
                       AND (SELECT count(*) FROM locked l WHERE l.booking_id = b.id AND l.status = 'HELD')
                           = cardinality(b.seat_ids) AS ok
                FROM b
            ),
            seats_done AS (
                UPDATE seats s
                SET status = CASE WHEN v.ok THEN 'BOOKED' ELSE 'AVAILABLE' END::seat_status,
                    held_until = NULL,
                    booking_id = CASE WHEN v.ok THEN s.booking_id END
                FROM b, verdict v, locked l
                WHERE v.was_pending AND s.show_id = b.show_id AND s.seat_id = l.seat_id
                  AND l.booking_id = b.id AND l.status = 'HELD'
                RETURNING s.seat_id
            ),
            updated AS (
                UPDATE bookings x
                SET status = CASE WHEN v.ok THEN 'CONFIRMED' ELSE 'EXPIRED' END::booking_status, updated_at = now()
                FROM verdict v
                WHERE x.id = $1 AND v.was_pending
                RETURNING x.id, x.status
            ),
            event AS (
                INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids, detail)
                SELECT b.show_id, u.id, 'PENDING', u.status, b.seat_ids,
                       CASE WHEN u.status = 'EXPIRED' AND NOT b.selling THEN 'confirm after the show stopped selling'
                            WHEN u.status = 'EXPIRED' THEN 'confirm after the hold ran out' END
                FROM updated u, b
            )
            SELECT b.show_id, b.seat_ids, b.status AS before, (SELECT status FROM updated) AS after,
                   b.show_status, b.starts_at, now() AS now
            FROM b
            "#,
        )
        .bind(booking_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::BookingNotFound.into())
    })
    .await?;

    let touched = row.after.is_some().then(|| Touched { show_id: row.show_id, seat_ids: row.seat_ids.clone() });
    let result = match (row.before, row.after) {
        (_, Some(BookingStatus::Confirmed)) | (BookingStatus::Confirmed, None) => Ok(()),
        // It was pending and did not make it: the show stopped selling, or the hold ran out.
        (_, Some(_)) => selling(row.show_status, row.starts_at, row.now).and(Err(AppError::HoldExpired)),
        (BookingStatus::Expired, None) => Err(AppError::HoldExpired),
        (BookingStatus::Cancelled, None) => Err(AppError::AlreadyCancelled),
        (BookingStatus::Failed, None) => Err(AppError::NothingToConfirm),
        (BookingStatus::Pending, None) => {
            tracing::error!(booking_id, "a pending booking was locked but not updated");
            Err(AppError::Internal)
        }
    };
    Ok(ChangeOutcome { touched, result })
}

/// The booking to cancel, as locked.
#[derive(sqlx::FromRow)]
struct CancelTarget {
    show_id: i64,
    status: BookingStatus,
    seat_ids: Vec<i32>,
    hold_expires_at: Option<DateTime<Utc>>,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
}

/// Cancels a booking when [`cancellation`] allows it (by the database's clock), releasing its
/// seats. One short transaction: lock the booking, decide, release.
pub(super) async fn cancel(pool: &PgPool, booking_id: i64, user_id: i64) -> Result<ChangeOutcome, ServiceError> {
    retrying(|| async {
        let mut tx = pool.begin().await?;
        let target: CancelTarget = sqlx::query_as(
            "SELECT x.show_id, x.status, x.seat_ids, x.hold_expires_at, sh.starts_at, now() AS now
             FROM bookings x JOIN shows sh ON sh.id = x.show_id
             WHERE x.id = $1 AND x.user_id = $2
             FOR UPDATE OF x",
        )
        .bind(booking_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::BookingNotFound)?;
        if let Err(refusal) = cancellation(target.status, target.hold_expires_at, target.starts_at, target.now) {
            // Release the booking's lock before answering: a dropped transaction rolls back
            // only when its connection is next used, and the expiry worker skips locked rows.
            tx.rollback().await?;
            return Ok(ChangeOutcome { touched: None, result: Err(refusal) });
        }
        sqlx::query(
            r#"
            WITH locked AS (
                SELECT seat_id FROM seats
                WHERE show_id = $2 AND booking_id = $1
                ORDER BY seat_id
                FOR UPDATE
            ),
            released AS (
                UPDATE seats s SET status = 'AVAILABLE', booking_id = NULL, held_until = NULL
                FROM locked l
                WHERE s.show_id = $2 AND s.seat_id = l.seat_id AND s.booking_id = $1
            ),
            updated AS (
                UPDATE bookings SET status = 'CANCELLED', updated_at = now() WHERE id = $1
            )
            INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids)
            VALUES ($2, $1, $3, 'CANCELLED', $4)
            "#,
        )
        .bind(booking_id)
        .bind(target.show_id)
        .bind(target.status)
        .bind(&target.seat_ids)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ChangeOutcome {
            touched: Some(Touched { show_id: target.show_id, seat_ids: target.seat_ids }),
            result: Ok(()),
        })
    })
    .await
}
