//! Shows with their seat maps as customers read them, kept in memory so that a crowd opening
//! the same show costs PostgreSQL one read, not one per customer. The live feed keeps it
//! correct: a change made through this instance drops the show at once (so a customer always
//! reads their own booking), a change announced by any instance over LISTEN/NOTIFY drops it
//! within the feed's batching window, and nothing is served older than [`MAX_AGE`] (holds that
//! lapse change a seat without anyone writing).
//!
//! Reads of one show are not repeated in parallel: a customer who misses the cache waits for
//! the read in progress, if any, and then takes the first read that began after they asked
//! (which sees everything committed before they asked, their own booking included), so a
//! crowd arriving while bookings keep changing the show costs one read at a time, not one each.
//!
//! It also remembers, for [`MISSING_FOR`], which show ids do not exist, so that a loop of
//! requests for unknown shows does not read the database each time; a show's creation is
//! announced like any change, which forgets that it was missing on every instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::channels::lock;
use crate::error::AppError;
use crate::service::ServiceError;
use crate::service::shows::catalog as shows;
use crate::domain::{SeatMap, ShowSummary};

/// The oldest entry served.
const MAX_AGE: Duration = Duration::from_secs(1);
/// Shows kept at most; stale ones go first.
const CAPACITY: usize = 1000;
/// How long a show id is known not to exist.
const MISSING_FOR: Duration = Duration::from_secs(5);
/// Unknown ids remembered at most (beyond that, they are read again).
const MISSING_CAPACITY: usize = 10_000;

/// A show and every seat's state, read together.
#[derive(Debug)]
pub struct CachedShow {
    pub show: ShowSummary,
    pub seat_map: SeatMap,
}

#[derive(Default)]
pub struct ShowCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<i64, Entry>,
    /// Show ids found not to exist, and when.
    missing: HashMap<i64, Instant>,
    /// Bumped by every invalidation of a show, so a read that began before it is not stored.
    generations: HashMap<i64, u64>,
    /// Bumped when every show is invalidated at once.
    epoch: u64,
    /// One reader of each show at a time, with its latest read and when that read began.
    readers: HashMap<i64, Reader>,
}

type Reader = Arc<tokio::sync::Mutex<Option<(Instant, Arc<CachedShow>)>>>;

struct Entry {
    view: Arc<CachedShow>,
    loaded_at: Instant,
}

impl State {
    fn version(&self, show_id: i64) -> (u64, u64) {
        (self.epoch, self.generations.get(&show_id).copied().unwrap_or_default())
    }

    /// The show as kept, if it is fresh.
    fn fresh(&self, show_id: i64) -> Option<Arc<CachedShow>> {
        self.entries.get(&show_id).filter(|entry| entry.loaded_at.elapsed() < MAX_AGE).map(|entry| entry.view.clone())
    }

    fn is_missing(&self, show_id: i64) -> bool {
        self.missing.get(&show_id).is_some_and(|found| found.elapsed() < MISSING_FOR)
    }
}

impl ShowCache {
    /// The show from memory when fresh, else read from the database (and kept), waiting for a
    /// read of it already under way and taking that when it began after this call.
    pub async fn get(&self, pool: &PgPool, show_id: i64) -> Result<Arc<CachedShow>, ServiceError> {
        let asked_at = Instant::now();
        let reader = {
            let mut state = lock(&self.state);
            if let Some(view) = state.fresh(show_id) {
                return Ok(view);
            }
            if state.is_missing(show_id) {
                return Err(AppError::ShowNotFound.into());
            }
            if state.readers.len() >= CAPACITY {
                state.readers.retain(|_, reader| Arc::strong_count(reader) > 1);
            }
            state.readers.entry(show_id).or_default().clone()
        };
        let mut latest = reader.lock().await;
        if let Some((began, view)) = latest.as_ref()
            && *began >= asked_at
        {
            return Ok(view.clone());
        }
        let version = {
            let state = lock(&self.state);
            if let Some(view) = state.fresh(show_id) {
                return Ok(view);
            }
            if state.is_missing(show_id) {
                return Err(AppError::ShowNotFound.into());
            }
            state.version(show_id)
        };
        let loaded_at = Instant::now();
        let read = async { Ok::<_, ServiceError>((shows::summary(pool, show_id).await?, shows::seat_map(pool, show_id).await?)) };
        let (show, seat_map) = match read.await {
            Err(ServiceError::Refused(AppError::ShowNotFound)) => {
                self.remember_missing(show_id, version);
                return Err(AppError::ShowNotFound.into());
            }
            read => read?,
        };
        let view = Arc::new(CachedShow { show, seat_map });
        *latest = Some((loaded_at, view.clone()));
        let mut state = lock(&self.state);
        // Invalidated while we read: what we read may predate the change, so do not keep it.
        if state.version(show_id) == version {
            if state.entries.len() >= CAPACITY {
                state.entries.retain(|_, entry| entry.loaded_at.elapsed() < MAX_AGE);
            }
            if state.entries.len() < CAPACITY {
                state.entries.insert(show_id, Entry { view: view.clone(), loaded_at });
            }
        }
        Ok(view)
    }

    pub fn invalidate(&self, show_id: i64) {
        let mut state = lock(&self.state);
        state.entries.remove(&show_id);
        state.missing.remove(&show_id);
        *state.generations.entry(show_id).or_default() += 1;
    }

    pub fn invalidate_all(&self) {
        let mut state = lock(&self.state);
        state.entries.clear();
        state.missing.clear();
        state.epoch += 1;
    }

    /// What a read of `show_id` that begins now must still match to be kept.
    pub(super) fn version(&self, show_id: i64) -> (u64, u64) {
        lock(&self.state).version(show_id)
    }

    /// Whether `show_id` was found not to exist a moment ago.
    pub(super) fn known_missing(&self, show_id: i64) -> bool {
        lock(&self.state).is_missing(show_id)
    }

    /// Remembers that `show_id` does not exist, unless it changed since the read began.
    pub(super) fn remember_missing(&self, show_id: i64, version: (u64, u64)) {
        let mut state = lock(&self.state);
        if state.version(show_id) != version {
            return;
        }
        if state.missing.len() >= MISSING_CAPACITY {
            state.missing.retain(|_, found| found.elapsed() < MISSING_FOR);
        }
        if state.missing.len() < MISSING_CAPACITY {
            state.missing.insert(show_id, Instant::now());
        }
    }
}
