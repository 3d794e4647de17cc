//! Releasing holds that ran out. Correctness never waits for this (an expired hold is
//! claimable by the claim statement, and reads show it as available); it makes seat maps and
//! counts right promptly. Every instance runs the worker: each pass takes the bookings nobody
//! else has locked (`SKIP LOCKED`), so instances never fight.
//!
//! The seats a pass releases go to the show's waiting list first, in the same transaction
//! (`waitlist::offer_freed_seats`): a lapsed waiting-list offer is passed to the next customer
//! whose party fits before anyone else can claim its seats (they are held with
//! `held_until = 'infinity'` until then), and seats nobody waiting fits go back on sale.

use sqlx::PgPool;

use super::BookingRules;
use crate::service::ServiceError;
use crate::service::error::retrying;
use crate::service::live::LiveFeed;
use crate::service::waitlist;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryPass {
    /// The show of each booking it expired.
    pub expired: Vec<i64>,
    /// The seats it offered to waiting customers, by show.
    pub offered: Vec<(i64, Vec<i32>)>,
}

/// Releases holds that ran out, at most `limit` bookings per call, and returns the show of
/// each booking it expired. Seats it frees are offered to waiting lists with the default offer
/// time; the worker uses [`expire_and_offer`] with the configured one.
pub async fn expire_due_holds(pool: &PgPool, limit: i64) -> Result<Vec<i64>, ServiceError> {
    Ok(expire_and_offer(pool, limit, BookingRules::default().waitlist_offer_seconds).await?.expired)
}

/// Releases holds that ran out, at most `limit` bookings per call, and offers the seats of
/// their shows to the customers waiting for them (offers held for `offer_seconds`), in one
/// transaction. Several instances can run this at once: each takes bookings nobody else has
/// locked (`SKIP LOCKED`), and offering is serialized per show.
pub async fn expire_and_offer(pool: &PgPool, limit: i64, offer_seconds: u32) -> Result<ExpiryPass, ServiceError> {
    retrying(|| async {
        let mut tx = pool.begin().await?;
        let expired: Vec<i64> = sqlx::query_scalar(
            r#"
            WITH due AS (
                SELECT id, show_id, seat_ids FROM bookings
                WHERE status = 'PENDING' AND hold_expires_at < now()
                ORDER BY hold_expires_at
                LIMIT $1
                FOR UPDATE SKIP LOCKED
            ),
            locked AS (
                SELECT s.show_id, s.seat_id, s.booking_id FROM seats s JOIN due d ON s.booking_id = d.id
                ORDER BY s.show_id, s.seat_id
                FOR UPDATE OF s
            ),
            -- Joining on the locked row's booking (not `IN (SELECT id FROM due)`) keeps the plan
            -- linear: the planner underestimates how many holds are due.
            released AS (
                UPDATE seats s SET status = 'AVAILABLE', booking_id = NULL, held_until = NULL
                FROM locked l
                WHERE s.show_id = l.show_id AND s.seat_id = l.seat_id
                  AND s.booking_id = l.booking_id AND s.status = 'HELD'
                RETURNING s.seat_id
            ),
            updated AS (
                UPDATE bookings x SET status = 'EXPIRED', updated_at = now()
                FROM due WHERE x.id = due.id
                RETURNING x.id, x.show_id, x.seat_ids
            ),
            event AS (
                INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids, detail)
                SELECT show_id, id, 'PENDING', 'EXPIRED', seat_ids, 'hold ran out' FROM updated
            )
            SELECT show_id FROM updated
            "#,
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        // Bookings, then seats (above), then the shows' offering locks in show order: the
        // order every path that frees seats takes them in.
        let offered = if expired.is_empty() {
            Vec::new()
        } else {
            waitlist::offer_freed_seats_of_shows(&mut tx, &expired, offer_seconds).await?
        };
        tx.commit().await?;
        crate::metrics::holds_expired(expired.len());
        Ok(ExpiryPass { expired, offered })
    })
    .await
}

/// [`run_expiry_worker_offering`] with the default waiting-list offer time.
pub async fn run_expiry_worker(pool: PgPool, interval: std::time::Duration, feed: Option<LiveFeed>) {
    run_expiry_worker_offering(pool, interval, feed, BookingRules::default().waitlist_offer_seconds).await
}

/// Runs [`expire_and_offer`] every `interval` until the pool is closed, telling the live feed
/// (when there is one) which shows got seats back or offered.
pub async fn run_expiry_worker_offering(
    pool: PgPool,
    interval: std::time::Duration,
    feed: Option<LiveFeed>,
    offer_seconds: u32,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        ticker.tick().await;
        match expire_and_offer(&pool, 1000, offer_seconds).await {
            Ok(pass) if pass.expired.is_empty() => {}
            Ok(ExpiryPass { expired, offered }) => {
                let offers: usize = offered.iter().map(|(_, seats)| seats.len()).sum();
                tracing::info!(expired = expired.len(), offered_seats = offers, "released expired holds");
                if let Some(feed) = &feed {
                    expired.iter().for_each(|&show| feed.changed(show));
                }
            }
            Err(e) if pool.is_closed() => tracing::debug!(error = %e, "expiry worker stopping"),
            Err(e) => tracing::warn!(error = %e, "expiry worker pass failed"),
        }
    }
}
