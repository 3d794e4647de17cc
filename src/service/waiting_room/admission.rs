//! Admission: every instance runs [`admit_due`] a few times a second; for each room whose sale
//! has opened it takes the room's row lock without waiting (`SKIP LOCKED`), so however many
//! instances run, one admits for a room at a time and the others move on. The row holds a token
//! bucket: the allowance grows at the room's rate up to its burst, and each admission spends
//! one. So by any moment `t`, at most `burst + rate × (t − opened_at)` customers were admitted.
//!
//! The first pass after the opening gives everyone who joined before it a place drawn from a
//! shuffle (ordered by a hash of the room's secret seed and the account), so the order is a
//! uniformly random permutation nobody can foresee or improve by joining early or often.
//! Whoever joins after it gets `LATE_PLACES + arrival`: the back of the line, in arrival order.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::service::ServiceError;
use crate::service::error::retrying;

/// Places of those who joined after the opening start here (above any shuffled place).
pub(super) const LATE_PLACES: i64 = 1 << 40;

/// The rooms whose sale has opened, of shows still selling.
const DUE_ROOMS: &str = "FROM waiting_rooms r JOIN shows s ON s.id = r.show_id
    WHERE coalesce(s.sale_opens_at, '-infinity') <= now() AND show_is_selling(s.status, s.starts_at)";

#[derive(sqlx::FromRow)]
struct DueRoom {
    show_id: i64,
    admissions_per_minute: i32,
    burst: i32,
    pass_seconds: i32,
    paused: bool,
    opened_at: Option<DateTime<Utc>>,
    tokens: f64,
    tokens_at: Option<DateTime<Utc>>,
}

/// One pass over the rooms whose sale has opened: opens their lines and admits whom the rate
/// allows. Returns the shows whose line moved, or None when no room's sale is open.
pub async fn admit_due(pool: &PgPool) -> Result<Option<Vec<i64>>, ServiceError> {
    // Most of the time no sale is open behind a room: one cheap read, no transaction.
    let any_due: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 {DUE_ROOMS})")).fetch_one(pool).await?;
    if !any_due {
        return Ok(None);
    }
    retrying(|| async {
        let mut tx = pool.begin().await?;
        let rooms: Vec<DueRoom> = sqlx::query_as(&format!(
            "SELECT r.show_id, r.admissions_per_minute, r.burst, r.pass_seconds, r.paused, r.opened_at, r.tokens, r.tokens_at
             {DUE_ROOMS} ORDER BY r.show_id FOR UPDATE OF r SKIP LOCKED"
        ))
        .fetch_all(&mut *tx)
        .await?;
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        // Read after the locks are held, so each room's clock only moves forward.
        let at: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()").fetch_one(&mut *tx).await?;
        let mut moved = Vec::new();
        for room in &rooms {
            if admit_room(&mut tx, room, at).await? {
                moved.push(room.show_id);
            }
        }
        tx.commit().await?;
        Ok(moved)
    })
    .await
    .map(Some)
}

/// Opens the room's line if it has not opened, then admits as many as the allowance lets.
/// True when anyone's place changed.
async fn admit_room(conn: &mut PgConnection, room: &DueRoom, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let mut moved = false;
    let (mut tokens, opened) = match (room.opened_at, room.tokens_at) {
        (Some(_), Some(tokens_at)) => {
            let elapsed = (at - tokens_at).num_microseconds().unwrap_or(0).max(0) as f64 / 60e6;
            ((room.tokens + f64::from(room.admissions_per_minute) * elapsed).min(f64::from(room.burst)), false)
        }
        _ => {
            shuffle_early_joiners(conn, room.show_id).await?;
            moved = true;
            (f64::from(room.burst), true)
        }
    };
    // Whoever joined as the line opened, too late for the shuffle: the back, in arrival order.
    let late = sqlx::query(
        "UPDATE waiting_room_places SET place = $2 + arrival WHERE show_id = $1 AND place IS NULL",
    )
    .bind(room.show_id)
    .bind(LATE_PLACES)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    moved |= late > 0;
    let due = tokens.floor() as i64;
    if !room.paused && due > 0 {
        let admitted = sqlx::query(
            "WITH next AS (
                 SELECT user_id FROM waiting_room_places
                 WHERE show_id = $1 AND admitted_at IS NULL AND place IS NOT NULL
                 ORDER BY place LIMIT $2
             )
             UPDATE waiting_room_places p
             SET admitted_at = $3, pass_expires_at = $3 + make_interval(secs => $4)
             FROM next WHERE p.show_id = $1 AND p.user_id = next.user_id",
        )
        .bind(room.show_id)
        .bind(due)
        .bind(at)
        .bind(f64::from(room.pass_seconds))
        .execute(&mut *conn)
        .await?
        .rows_affected();
        tokens -= admitted as f64;
        moved |= admitted > 0;
    }
    sqlx::query(
        "UPDATE waiting_rooms SET tokens = $2, tokens_at = $3, opened_at = CASE WHEN $4 THEN $3 ELSE opened_at END
         WHERE show_id = $1",
    )
    .bind(room.show_id)
    .bind(tokens)
    .bind(at)
    .bind(opened)
    .execute(&mut *conn)
    .await?;
    Ok(moved)
}

/// Gives everyone who joined before the opening a place: 1..n in the order of a hash of the
/// room's secret seed and their account, a uniformly random permutation.
async fn shuffle_early_joiners(conn: &mut PgConnection, show_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH drawn AS (
             SELECT p.user_id, row_number() OVER (ORDER BY md5(r.shuffle_seed::text || ':' || p.user_id::text)) AS place
             FROM waiting_room_places p JOIN waiting_rooms r ON r.show_id = p.show_id
             WHERE p.show_id = $1 AND p.place IS NULL
         )
         UPDATE waiting_room_places p SET place = drawn.place
         FROM drawn WHERE p.show_id = $1 AND p.user_id = drawn.user_id",
    )
    .bind(show_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Settles a room's allowance at its current rate up to now (before the rate changes).
pub(super) async fn settle_allowance(conn: &mut PgConnection, show_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE waiting_rooms
         SET tokens = least(burst, tokens + admissions_per_minute * extract(epoch FROM clock_timestamp() - tokens_at) / 60),
             tokens_at = clock_timestamp()
         WHERE show_id = $1 AND tokens_at IS NOT NULL",
    )
    .bind(show_id)
    .execute(conn)
    .await?;
    Ok(())
}
