//! Live places: for each show whose waiting room someone on this instance is watching, the
//! line is read from PostgreSQL a few times a second (one read of every place, however many
//! watch) and shared through a `watch` channel; each watcher works out its own place from it (a
//! binary search) and is sent an update only when what it sees changed. Admissions happen on
//! whichever instance holds the room's lock, and every instance reads the same rows, so a
//! customer sees the same place whichever instance their stream is on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{Notify, watch};

use crate::domain::waiting_room::{LineEntry, PlaceInLine, RoomState, WaitingRoomView};
use crate::service::ServiceError;

/// How often a watched line is read again.
pub(super) const REREAD_EVERY: Duration = Duration::from_millis(250);

/// One read of a show's line.
#[derive(Debug)]
pub struct Line {
    pub show_id: i64,
    /// None: the show has no waiting room (any more).
    pub room: Option<RoomState>,
    pub sale_opens_at: Option<DateTime<Utc>>,
    pub read_at: DateTime<Utc>,
    entries: HashMap<i64, LineEntry>,
    /// Each customer's place, for those who have one.
    places: HashMap<i64, i64>,
    /// Places of those not yet admitted, in order.
    waiting: Vec<i64>,
    /// Customers in and not yet admitted (with or without a place).
    not_admitted: u64,
}

impl Line {
    /// What `user_id` sees of the room at `now`.
    pub fn view(&self, user_id: i64, now: DateTime<Utc>) -> Option<WaitingRoomView> {
        let room = self.room?;
        let entry = self.entries.get(&user_id);
        let number = match self.places.get(&user_id) {
            Some(place) => self.waiting.partition_point(|p| p < place) as u64 + 1,
            None => 0,
        };
        Some(WaitingRoomView {
            show_id: self.show_id,
            sale_opens_at: self.sale_opens_at,
            now,
            room,
            waiting: self.not_admitted,
            place: PlaceInLine::of(entry, number, &room, now),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RoomRow {
    pub sale_opens_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub paused: Option<bool>,
    pub admissions_per_minute: Option<i32>,
    pub now: DateTime<Utc>,
}

impl RoomRow {
    pub(super) fn state(&self) -> Option<RoomState> {
        Some(RoomState {
            open: self.opened_at.is_some(),
            paused: self.paused?,
            admissions_per_minute: u32::try_from(self.admissions_per_minute?).unwrap_or(1),
        })
    }
}

/// The show's room (its columns NULL when it has none), and the database's clock.
pub(super) const ROOM_SQL: &str = "
    SELECT s.sale_opens_at, r.opened_at, r.paused, r.admissions_per_minute, now() AS now
    FROM shows s LEFT JOIN waiting_rooms r ON r.show_id = s.id WHERE s.id = $1";

#[derive(sqlx::FromRow)]
struct PlaceRow {
    user_id: i64,
    place: Option<i64>,
    admitted_at: Option<DateTime<Utc>>,
    pass_expires_at: Option<DateTime<Utc>>,
}

/// Reads a show's whole line; None when there is no such show.
pub(super) async fn read_line(pool: &PgPool, show_id: i64) -> Result<Option<Line>, ServiceError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
    let Some(room): Option<RoomRow> = sqlx::query_as(ROOM_SQL).bind(show_id).fetch_optional(&mut *tx).await? else {
        return Ok(None);
    };
    let rows: Vec<PlaceRow> = sqlx::query_as(
        "SELECT user_id, place, admitted_at, pass_expires_at FROM waiting_room_places WHERE show_id = $1",
    )
    .bind(show_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut line = Line {
        show_id,
        room: room.state(),
        sale_opens_at: room.sale_opens_at,
        read_at: room.now,
        entries: HashMap::with_capacity(rows.len()),
        places: HashMap::with_capacity(rows.len()),
        waiting: Vec::with_capacity(rows.len()),
        not_admitted: 0,
    };
    for row in rows {
        let entry = LineEntry { placed: row.place.is_some(), admitted_at: row.admitted_at, pass_expires_at: row.pass_expires_at };
        if row.admitted_at.is_none() {
            line.not_admitted += 1;
            if let Some(place) = row.place {
                line.waiting.push(place);
            }
        }
        if let Some(place) = row.place {
            line.places.insert(row.user_id, place);
        }
        line.entries.insert(row.user_id, entry);
    }
    line.waiting.sort_unstable();
    Ok(Some(line))
}

type Latest = watch::Sender<Option<Arc<Line>>>;

/// This instance's watched lines: a cheap handle.
#[derive(Clone, Default)]
pub(super) struct Lines {
    watched: Arc<Mutex<HashMap<i64, Latest>>>,
    /// Read again now (a change made here, or a new watcher).
    wake: Arc<Notify>,
}

impl Lines {
    /// The show's line as this instance last read it, then every later read.
    pub(super) fn watch(&self, show_id: i64) -> watch::Receiver<Option<Arc<Line>>> {
        let receiver = {
            let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
            watched.entry(show_id).or_insert_with(|| watch::channel(None).0).subscribe()
        };
        self.wake.notify_one();
        receiver
    }

    /// Reads watched lines again soon (after a change made on this instance).
    pub(super) fn changed(&self) {
        self.wake.notify_one();
    }

    /// Reads every watched line each [`REREAD_EVERY`] (or when woken), until the pool closes;
    /// forgets lines nobody watches any more.
    pub(super) async fn keep_reading(self, pool: PgPool) {
        while !pool.is_closed() {
            let shows: Vec<(i64, Latest)> = {
                let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
                watched.retain(|_, latest| latest.receiver_count() > 0);
                watched.iter().map(|(id, latest)| (*id, latest.clone())).collect()
            };
            for (show_id, latest) in shows {
                match read_line(&pool, show_id).await {
                    Ok(line) => {
                        latest.send_replace(line.map(Arc::new));
                    }
                    // In an outage watchers keep the last read; the next read catches up.
                    Err(error) if error.is_unreachable() => tracing::debug!(%error, show_id, "waiting room line: database unreachable"),
                    Err(error) => tracing::warn!(%error, show_id, "could not read a waiting room's line"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(REREAD_EVERY) => {}
                _ = self.wake.notified() => {}
            }
        }
    }
}
