//! Confirming and cancelling a booking. Each locks the booking row first and then its seats in
//! seat-id order, the order every statement of Box Office locks in, so they never deadlock
//! with claims, the expiry worker or an admin cancelling the show. Each reports the seats it
//! changed, whatever the answer, so the live feed is told without reading them again.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::types::Json;

use crate::domain::booking::cancellation;
use crate::domain::cancellation::{CancellationPolicy, refund_cents};
use crate::domain::show::selling;
use crate::domain::{BookingStatus, ShowStatus};
use crate::error::AppError;
use crate::service::ServiceError;
use crate::service::error::retrying;
use crate::service::waitlist;

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
    /// Confirmed too late while customers wait (or an offer from the waiting list): left for
    /// the expiry worker.
    lapsed_offer: bool,
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
                SELECT x.id, x.show_id, x.status, x.seat_ids, x.hold_expires_at, x.waitlist_entry_id, sh.status AS show_status,
                       sh.starts_at, show_is_selling(sh.status, sh.starts_at) AS selling,
                       EXISTS (SELECT 1 FROM waitlist_entries e WHERE e.show_id = x.show_id AND e.status = 'WAITING')
                           AS waited_for
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
                SELECT b.status = 'PENDING' AS was_pending, ok,
                       -- A lapsed offer from a waiting list, or any lapsed hold while customers
                       -- wait, is left to the expiry worker, which passes its seats to the next
                       -- customer waiting in the same transaction.
                       b.status = 'PENDING' AND (ok OR (b.waitlist_entry_id IS NULL AND NOT b.waited_for)) AS settles
                FROM b, LATERAL (
                    SELECT b.status = 'PENDING' AND b.hold_expires_at > now() AND b.selling
                           AND (SELECT count(*) FROM locked l WHERE l.booking_id = b.id AND l.status = 'HELD')
                               = cardinality(b.seat_ids) AS ok
                ) AS judged
            ),
            seats_done AS (
                UPDATE seats s
                SET status = CASE WHEN v.ok THEN 'BOOKED' ELSE 'AVAILABLE' END::seat_status,
                    held_until = NULL,
                    booking_id = CASE WHEN v.ok THEN s.booking_id END
                FROM b, verdict v, locked l
                WHERE v.settles AND s.show_id = b.show_id AND s.seat_id = l.seat_id
                  AND l.booking_id = b.id AND l.status = 'HELD'
                RETURNING s.seat_id
            ),
            updated AS (
                UPDATE bookings x
                SET status = CASE WHEN v.ok THEN 'CONFIRMED' ELSE 'EXPIRED' END::booking_status, updated_at = now()
                FROM verdict v
                WHERE x.id = $1 AND v.settles
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
                   (SELECT was_pending AND NOT settles FROM verdict) AS lapsed_offer,
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
        (BookingStatus::Pending, None) if row.lapsed_offer => {
            selling(row.show_status, row.starts_at, row.now).and(Err(AppError::HoldExpired))
        }
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
    total_cents: i64,
    hold_expires_at: Option<DateTime<Utc>>,
    /// NULL for bookings made before policies existed: the default.
    cancellation_policy: Option<Json<CancellationPolicy>>,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
}

/// What to cancel of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelling {
    Whole,
    /// These seats of a confirmed booking; the others stay booked.
    Seats(Vec<i32>),
}

impl CancelTarget {
    /// The seats to release, or why not: the booking's state and policy by [`cancellation`],
    /// then, for some seats, that the policy allows it and that they are seats of this booking.
    fn seats_to_release(&self, policy: &CancellationPolicy, which: &Cancelling) -> Result<Vec<i32>, AppError> {
        cancellation(self.status, self.hold_expires_at, policy, self.starts_at, self.now)?;
        let Cancelling::Seats(seats) = which else { return Ok(self.seat_ids.clone()) };
        let mut seats = seats.clone();
        seats.sort_unstable();
        seats.dedup();
        if seats.is_empty() {
            return Err(AppError::invalid("seat_ids", "Choose at least one seat to cancel."));
        }
        if let Some(stranger) = seats.iter().find(|seat| !self.seat_ids.contains(seat)) {
            return Err(AppError::invalid("seat_ids", format!("Seat {stranger} is not a seat of this booking.")));
        }
        if seats.len() == self.seat_ids.len() {
            return Ok(seats);
        }
        if self.status != BookingStatus::Confirmed {
            return Err(AppError::invalid("seat_ids", "A hold is released whole: release it, or book it first."));
        }
        if !policy.partial {
            return Err(AppError::WholeBookingsOnly);
        }
        Ok(seats)
    }
}

/// Cancels a booking, or some seats of a confirmed one, when its policy and state allow it (by
/// the database's clock) and the refund is at least `promised_refund_percent` (what the
/// customer was shown, when they were): releases the seats, records the refund its policy gives for a
/// confirmed booking, and offers the seats to the show's waiting list, all in one transaction,
/// so nobody can take a freed seat before the waiting list has had it.
pub(super) async fn cancel(
    pool: &PgPool,
    booking_id: i64,
    user_id: i64,
    which: &Cancelling,
    promised_refund_percent: Option<u8>,
    offer_seconds: u32,
) -> Result<ChangeOutcome, ServiceError> {
    retrying(|| async {
        let mut tx = pool.begin().await?;
        let target: CancelTarget = sqlx::query_as(
            "SELECT x.show_id, x.status, x.seat_ids, x.total_cents, x.hold_expires_at, x.cancellation_policy, sh.starts_at,
                    now() AS now
             FROM bookings x JOIN shows sh ON sh.id = x.show_id
             WHERE x.id = $1 AND x.user_id = $2
             FOR UPDATE OF x",
        )
        .bind(booking_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::BookingNotFound)?;
        let policy = target.cancellation_policy.clone().map(|Json(policy)| policy).unwrap_or_default();
        let seats = match target.seats_to_release(&policy, which) {
            Ok(seats) => seats,
            Err(refusal) => {
                // Release the booking's lock before answering: a dropped transaction rolls back
                // only when its connection is next used, and the expiry worker skips locked rows.
                tx.rollback().await?;
                return Ok(ChangeOutcome { touched: None, result: Err(refusal) });
            }
        };
        let whole = seats.len() == target.seat_ids.len();
        // What the released seats cost: the booking's total, or their categories' prices.
        let paid_cents: i64 = if whole {
            target.total_cents
        } else {
            sqlx::query_scalar(
                "SELECT COALESCE(sum(c.price_cents), 0)::bigint
                 FROM seats s JOIN seat_categories c ON c.show_id = s.show_id AND c.code = s.category
                 WHERE s.show_id = $1 AND s.seat_id = ANY($2)",
            )
            .bind(target.show_id)
            .bind(&seats)
            .fetch_one(&mut *tx)
            .await?
        };
        let refund_percent =
            if target.status == BookingStatus::Confirmed { policy.refund_percent(target.starts_at, target.now) } else { 0 };
        if let Some(promised) = promised_refund_percent.filter(|&promised| refund_percent < promised) {
            tx.rollback().await?;
            return Ok(ChangeOutcome {
                touched: None,
                result: Err(AppError::RefundChanged { percent: refund_percent, promised }),
            });
        }
        sqlx::query(
            r#"
            WITH locked AS (
                SELECT seat_id FROM seats
                WHERE show_id = $2 AND booking_id = $1 AND seat_id = ANY($4)
                ORDER BY seat_id
                FOR UPDATE
            ),
            released AS (
                UPDATE seats s SET status = 'AVAILABLE', booking_id = NULL, held_until = NULL
                FROM locked l
                WHERE s.show_id = $2 AND s.seat_id = l.seat_id AND s.booking_id = $1
            ),
            updated AS (
                UPDATE bookings
                SET status = CASE WHEN $5 THEN 'CANCELLED' ELSE status END,
                    seat_ids = CASE WHEN $5 THEN seat_ids
                                    ELSE ARRAY(SELECT x FROM unnest(seat_ids) x WHERE x <> ALL($4) ORDER BY x) END,
                    total_cents = CASE WHEN $5 THEN total_cents ELSE total_cents - $6 END,
                    updated_at = now()
                WHERE id = $1
            ),
            refund AS (
                INSERT INTO refunds (show_id, booking_id, seat_ids, paid_cents, refund_percent, amount_cents)
                SELECT $2, $1, $4, $6, $7, $8 WHERE $3 = 'CONFIRMED'
            )
            INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids, detail)
            VALUES ($2, $1, $3, CASE WHEN $5 THEN 'CANCELLED' ELSE $3 END, $4,
                    CASE WHEN NOT $5 THEN 'some seats cancelled' END)
            "#,
        )
        .bind(booking_id)
        .bind(target.show_id)
        .bind(target.status)
        .bind(&seats)
        .bind(whole)
        .bind(paid_cents)
        .bind(i16::from(refund_percent))
        .bind(refund_cents(paid_cents, refund_percent))
        .execute(&mut *tx)
        .await?;
        let offered = waitlist::offer_freed_seats(&mut tx, target.show_id, offer_seconds).await?;
        tx.commit().await?;
        let mut seat_ids = seats;
        seat_ids.extend(offered);
        seat_ids.sort_unstable();
        seat_ids.dedup();
        Ok(ChangeOutcome { touched: Some(Touched { show_id: target.show_id, seat_ids }), result: Ok(()) })
    })
    .await
}
