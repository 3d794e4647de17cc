//! Releasing holds that ran out. Correctness never waits for this (an expired hold is
//! claimable by the claim statement, and reads show it as available); it makes seat maps and
//! counts right promptly. Every instance runs the worker: each pass takes the bookings nobody
//! else has locked (`SKIP LOCKED`), so instances never fight.

use sqlx::PgPool;

use crate::service::ServiceError;
use crate::service::error::retrying;
use crate::service::live::LiveFeed;

/// Releases holds that ran out, at most `limit` bookings per call, and returns the show of
/// each booking it expired. Several instances can run this at once: each takes bookings
/// nobody else has locked (`SKIP LOCKED`).
pub async fn expire_due_holds(pool: &PgPool, limit: i64) -> Result<Vec<i64>, ServiceError> {
    retrying(|| async {
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
        .fetch_all(pool)
        .await?;
        Ok(expired)
    })
    .await
}

/// Runs [`expire_due_holds`] every `interval` until the pool is closed, telling the live feed
/// (when there is one) which shows got seats back.
pub async fn run_expiry_worker(pool: PgPool, interval: std::time::Duration, feed: Option<LiveFeed>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        ticker.tick().await;
        match expire_due_holds(&pool, 1000).await {
            Ok(shows) if shows.is_empty() => {}
            Ok(shows) => {
                tracing::info!(expired = shows.len(), "released expired holds");
                if let Some(feed) = &feed {
                    shows.iter().for_each(|&show| feed.changed(show));
                }
            }
            Err(e) if pool.is_closed() => tracing::debug!(error = %e, "expiry worker stopping"),
            Err(e) => tracing::warn!(error = %e, "expiry worker pass failed"),
        }
    }
}
