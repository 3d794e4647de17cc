//! The waiting room in front of a show's on-sale moment (issue 19). Its state lives in
//! PostgreSQL (`waiting_rooms`, `waiting_room_places`), so every instance agrees, a reload keeps
//! a customer's place and admission is decided once for the whole deployment.
//!
//! - `admission`: opening the line (a random order for early joiners) and admitting at the
//!   room's rate, on every instance, one admitter per room at a time.
//! - `line`: live places for the customers watching, read a few times a second per instance.
//!
//! The pass itself is checked where seats are claimed (`claims/claim.sql`), so neither door, no
//! race and no second instance can hold seats of a waiting-room show without one.

mod admission;
mod line;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{Notify, watch};

pub use self::admission::admit_due;
pub use self::line::Line;
use self::line::{Lines, ROOM_SQL, RoomRow};
use super::ServiceError;
use super::live::LiveFeed;
use super::rate_limit::RateLimit;
use super::supervisor::Supervisor;
use crate::domain::show::not_selling;
use crate::domain::user::User;
use crate::domain::waiting_room::{LineEntry, PlaceInLine, SaleSettings, SaleState, WaitingRoomSettings, WaitingRoomStats, WaitingRoomView};
use crate::domain::ShowStatus;
use crate::error::AppError;

/// How often each instance admits from the rooms whose sale has opened.
pub const ADMIT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// How often each instance looks for a sale that opened while none is open behind a room (an
/// admin's change on this instance looks at once).
const IDLE_LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// This instance's waiting-room service: a cheap handle.
#[derive(Clone)]
pub struct WaitingRooms {
    pool: PgPool,
    feed: LiveFeed,
    lines: Lines,
    /// Wakes this instance's admitter (an admin changed a sale here).
    admitter: Arc<Notify>,
    requests_per_customer: Arc<RateLimit<i64>>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    present: bool,
    place: Option<i64>,
    admitted_at: Option<DateTime<Utc>>,
    pass_expires_at: Option<DateTime<Utc>>,
    /// 1-based among those not yet admitted (with a place).
    number: i64,
    waiting: i64,
}

impl WaitingRooms {
    /// Starts admitting (every [`ADMIT_EVERY`] while a sale behind a room is open) and reading
    /// watched lines on this instance.
    pub fn start(pool: PgPool, feed: LiveFeed, supervisor: &Supervisor, requests_per_second: u32) -> Self {
        let rooms = Self {
            pool: pool.clone(),
            feed,
            lines: Lines::default(),
            admitter: Arc::default(),
            requests_per_customer: Arc::new(RateLimit::per_second(
                "waiting_room_per_customer",
                requests_per_second,
            )),
        };
        supervisor.spawn("waiting room admitter", {
            let rooms = rooms.clone();
            move || rooms.clone().admit_continuously()
        });
        supervisor.spawn("waiting room lines", {
            let (lines, pool) = (rooms.lines.clone(), pool.clone());
            move || lines.clone().keep_reading(pool.clone())
        });
        rooms
    }

    async fn admit_continuously(self) {
        while !self.pool.is_closed() {
            let pause = match admit_due(&self.pool).await {
                Ok(Some(moved)) => {
                    if !moved.is_empty() {
                        self.lines.changed();
                    }
                    ADMIT_EVERY
                }
                Ok(None) => IDLE_LOOK_EVERY,
                Err(error) if error.is_unreachable() => {
                    tracing::debug!(%error, "admitting: database unreachable");
                    IDLE_LOOK_EVERY
                }
                Err(error) => {
                    tracing::warn!(%error, "admitting from waiting rooms failed");
                    IDLE_LOOK_EVERY
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.admitter.notified() => {}
            }
        }
    }

    /// Puts `customer` in the show's waiting room, or keeps the place they have (a reload, a
    /// second tab or device). Before the opening everyone gets a random place when it comes;
    /// after it, the back of the line.
    #[tracing::instrument(skip(self, customer), fields(user_id = customer.id))]
    pub async fn join(&self, customer: &User, show_id: i64) -> Result<WaitingRoomView, ServiceError> {
        self.requests_per_customer.check(&customer.id)?;
        let mut tx = self.pool.begin().await?;
        let room: Option<(ShowStatus, bool, bool, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT s.status, show_is_selling(s.status, s.starts_at), r.show_id IS NOT NULL, r.opened_at
             FROM shows s LEFT JOIN waiting_rooms r ON r.show_id = s.id WHERE s.id = $1",
        )
        .bind(show_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((status, selling, has_room, opened_at)) = room else { return Err(AppError::ShowNotFound.into()) };
        if !selling {
            return Err(not_selling(status).into());
        }
        if !has_room {
            return Err(AppError::NoWaitingRoom.into());
        }
        // After the opening: the back of the line at once (otherwise the admitter's next pass
        // gives it, in the same order).
        sqlx::query(
            "INSERT INTO waiting_room_places (show_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(show_id)
        .bind(customer.id)
        .execute(&mut *tx)
        .await?;
        if opened_at.is_some() {
            sqlx::query(
                "UPDATE waiting_room_places SET place = $3 + arrival WHERE show_id = $1 AND user_id = $2 AND place IS NULL",
            )
            .bind(show_id)
            .bind(customer.id)
            .bind(admission::LATE_PLACES)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.lines.changed();
        self.view(Some(customer), show_id).await
    }

    /// Gives up the customer's place (and pass).
    #[tracing::instrument(skip(self, customer), fields(user_id = customer.id))]
    pub async fn leave(&self, customer: &User, show_id: i64) -> Result<WaitingRoomView, ServiceError> {
        self.requests_per_customer.check(&customer.id)?;
        let left = sqlx::query("DELETE FROM waiting_room_places WHERE show_id = $1 AND user_id = $2")
            .bind(show_id)
            .bind(customer.id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if left == 0 {
            // Tell a missing show or room apart from a customer who was not in it.
            self.view(None, show_id).await?;
            return Err(AppError::NotInWaitingRoom.into());
        }
        self.lines.changed();
        self.view(Some(customer), show_id).await
    }

    /// What `customer` (or a guest) sees of the show's waiting room now.
    pub async fn view(&self, customer: Option<&User>, show_id: i64) -> Result<WaitingRoomView, ServiceError> {
        let room: RoomRow = sqlx::query_as(ROOM_SQL)
            .bind(show_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(AppError::ShowNotFound)?;
        let state = room.state().ok_or(AppError::NoWaitingRoom)?;
        let entry: EntryRow = sqlx::query_as(
            "SELECT p.user_id IS NOT NULL AS present, p.place, p.admitted_at, p.pass_expires_at,
                    (SELECT count(*) FROM waiting_room_places q
                     WHERE q.show_id = $1 AND q.admitted_at IS NULL AND q.place <= p.place) AS number,
                    (SELECT count(*) FROM waiting_room_places q WHERE q.show_id = $1 AND q.admitted_at IS NULL) AS waiting
             FROM (SELECT 1) one
             LEFT JOIN waiting_room_places p ON p.show_id = $1 AND p.user_id = $2",
        )
        .bind(show_id)
        .bind(customer.map(|c| c.id))
        .fetch_one(&self.pool)
        .await?;
        let line_entry = entry.present.then(|| LineEntry {
            placed: entry.place.is_some(),
            admitted_at: entry.admitted_at,
            pass_expires_at: entry.pass_expires_at,
        });
        Ok(WaitingRoomView {
            show_id,
            sale_opens_at: room.sale_opens_at,
            now: room.now,
            room: state,
            waiting: u64::try_from(entry.waiting).unwrap_or(0),
            place: PlaceInLine::of(line_entry.as_ref(), u64::try_from(entry.number).unwrap_or(0), &state, room.now),
        })
    }

    /// The customer's view now, then whenever it changes: for their live stream. The channel
    /// holds this instance's latest read of the line.
    pub async fn watch(&self, customer: &User, show_id: i64) -> Result<(WaitingRoomView, watch::Receiver<Option<Arc<Line>>>), ServiceError> {
        let first = self.view(Some(customer), show_id).await?;
        Ok((first, self.lines.watch(show_id)))
    }

    // ----- The admin's side -------------------------------------------------------------

    /// The show's sale: its opening and its waiting room's figures.
    pub async fn sale(&self, show_id: i64) -> Result<SaleState, ServiceError> {
        #[derive(sqlx::FromRow)]
        struct SaleRow {
            sale_opens_at: Option<DateTime<Utc>>,
            now: DateTime<Utc>,
            admissions_per_minute: Option<i32>,
            burst: Option<i32>,
            pass_seconds: Option<i32>,
            paused: Option<bool>,
            opened_at: Option<DateTime<Utc>>,
            waiting: i64,
            admitted: i64,
            passes_in_use: i64,
        }
        let row: SaleRow = sqlx::query_as(
            "SELECT s.sale_opens_at, now() AS now, r.admissions_per_minute, r.burst, r.pass_seconds, r.paused, r.opened_at,
                    count(p.user_id) FILTER (WHERE p.admitted_at IS NULL) AS waiting,
                    count(p.user_id) FILTER (WHERE p.admitted_at IS NOT NULL) AS admitted,
                    count(p.user_id) FILTER (WHERE p.pass_expires_at > now()) AS passes_in_use
             FROM shows s
             LEFT JOIN waiting_rooms r ON r.show_id = s.id
             LEFT JOIN waiting_room_places p ON p.show_id = r.show_id
             WHERE s.id = $1
             GROUP BY s.id, r.show_id",
        )
        .bind(show_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(AppError::ShowNotFound)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let waiting_room = match (row.admissions_per_minute, row.burst, row.pass_seconds, row.paused) {
            (Some(rate), Some(burst), Some(pass_seconds), Some(paused)) => Some(WaitingRoomStats {
                settings: WaitingRoomSettings {
                    admissions_per_minute: rate as u32,
                    burst: burst as u32,
                    pass_minutes: (pass_seconds / 60) as u32,
                },
                paused,
                opened_at: row.opened_at,
                waiting: count(row.waiting),
                admitted: count(row.admitted),
                passes_in_use: count(row.passes_in_use),
            }),
            _ => None,
        };
        Ok(SaleState { show_id, sale_opens_at: row.sale_opens_at, now: row.now, waiting_room })
    }

    /// Sets when the show's sale opens and its waiting room (None removes it: everyone may book
    /// at once). An open sale cannot be moved into the future once it has sold or its line has
    /// opened (`SaleAlreadyOpen`). A new rate applies from now on.
    #[tracing::instrument(skip(self))]
    pub async fn set_sale(&self, show_id: i64, settings: &SaleSettings) -> Result<SaleState, ServiceError> {
        let mut tx = self.pool.begin().await?;
        let current: Option<(Option<DateTime<Utc>>, DateTime<Utc>, DateTime<Utc>, bool, bool, bool)> = sqlx::query_as(
            "SELECT s.sale_opens_at, s.starts_at, now(), coalesce(s.sale_opens_at, '-infinity') <= now(),
                    EXISTS (SELECT 1 FROM bookings b WHERE b.show_id = s.id AND b.status <> 'FAILED'),
                    EXISTS (SELECT 1 FROM waiting_rooms r WHERE r.show_id = s.id AND r.opened_at IS NOT NULL)
             FROM shows s WHERE s.id = $1 FOR UPDATE",
        )
        .bind(show_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((opens_at, starts_at, now, open, sold, line_open)) = current else {
            return Err(AppError::ShowNotFound.into());
        };
        if settings.sale_opens_at.is_some_and(|opening| opening >= starts_at) {
            return Err(AppError::invalid("sale_opens_at", "The sale must open before the show starts.").into());
        }
        if settings.sale_opens_at != opens_at {
            // An open sale that has sold, or whose line has opened, cannot close again.
            let closes_again = settings.sale_opens_at.is_some_and(|opening| opening > now);
            if open && closes_again && (sold || line_open) {
                return Err(AppError::SaleAlreadyOpen.into());
            }
            sqlx::query("UPDATE shows SET sale_opens_at = $2 WHERE id = $1")
                .bind(show_id)
                .bind(settings.sale_opens_at)
                .execute(&mut *tx)
                .await?;
        }
        match settings.waiting_room {
            Some(room) => {
                admission::settle_allowance(&mut tx, show_id).await?;
                sqlx::query(
                    "INSERT INTO waiting_rooms (show_id, admissions_per_minute, burst, pass_seconds) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (show_id) DO UPDATE
                     SET admissions_per_minute = EXCLUDED.admissions_per_minute, burst = EXCLUDED.burst,
                         pass_seconds = EXCLUDED.pass_seconds, tokens = least(waiting_rooms.tokens, EXCLUDED.burst)",
                )
                .bind(show_id)
                .bind(room.admissions_per_minute as i32)
                .bind(room.burst as i32)
                .bind(room.pass_minutes as i32 * 60)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM waiting_room_places WHERE show_id = $1").bind(show_id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM waiting_rooms WHERE show_id = $1").bind(show_id).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        self.changed(show_id);
        self.sale(show_id).await
    }

    /// Pauses or resumes admissions (places stay as they are).
    #[tracing::instrument(skip(self))]
    pub async fn set_paused(&self, show_id: i64, paused: bool) -> Result<SaleState, ServiceError> {
        let updated = sqlx::query("UPDATE waiting_rooms SET paused = $2 WHERE show_id = $1")
            .bind(show_id)
            .bind(paused)
            .execute(&self.pool)
            .await?
            .rows_affected();
        self.must_have_room(show_id, updated).await?;
        self.changed(show_id);
        self.sale(show_id).await
    }

    /// Opens the sale now, however far away its opening was.
    #[tracing::instrument(skip(self))]
    pub async fn open_now(&self, show_id: i64) -> Result<SaleState, ServiceError> {
        sqlx::query("UPDATE shows SET sale_opens_at = now() WHERE id = $1 AND sale_opens_at > now()")
            .bind(show_id)
            .execute(&self.pool)
            .await?;
        self.changed(show_id);
        self.sale(show_id).await
    }

    async fn must_have_room(&self, show_id: i64, updated: u64) -> Result<(), ServiceError> {
        if updated == 0 {
            let state = self.sale(show_id).await?;
            if state.waiting_room.is_none() {
                return Err(AppError::NoWaitingRoom.into());
            }
        }
        Ok(())
    }

    /// Tells seat maps (which show the opening and the room) and watched lines.
    fn changed(&self, show_id: i64) {
        self.feed.changed(show_id);
        self.lines.changed();
        self.admitter.notify_one();
    }
}
