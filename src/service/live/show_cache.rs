//! Shows with their seat maps as customers read them, kept in memory so that a crowd opening
//! the same show costs PostgreSQL one read, not one per customer. The live feed keeps it
//! correct: a change made through this instance drops the show at once (so a customer always
//! reads their own booking), a change announced by any instance over LISTEN/NOTIFY drops it
//! within the feed's batching window, and nothing is served older than [`MAX_AGE`] (holds that
//! lapse change a seat without anyone writing).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::service::ServiceError;
use crate::service::shows::catalog as shows;
use crate::domain::{SeatMap, ShowSummary};

/// The oldest entry served.
const MAX_AGE: Duration = Duration::from_secs(1);
/// Shows kept at most; stale ones go first.
const CAPACITY: usize = 1000;

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
    /// Bumped by every invalidation of a show, so a read that began before it is not stored.
    generations: HashMap<i64, u64>,
    /// Bumped when every show is invalidated at once.
    epoch: u64,
}

struct Entry {
    view: Arc<CachedShow>,
    loaded_at: Instant,
}

impl State {
    fn version(&self, show_id: i64) -> (u64, u64) {
        (self.epoch, self.generations.get(&show_id).copied().unwrap_or_default())
    }
}

impl ShowCache {
    /// The show from memory when fresh, else read from the database (and kept).
    pub async fn get(&self, pool: &PgPool, show_id: i64) -> Result<Arc<CachedShow>, ServiceError> {
        let version = {
            let state = self.state.lock().expect("show cache lock");
            if let Some(entry) = state.entries.get(&show_id)
                && entry.loaded_at.elapsed() < MAX_AGE
            {
                return Ok(entry.view.clone());
            }
            state.version(show_id)
        };
        let loaded_at = Instant::now();
        let view = Arc::new(CachedShow {
            show: shows::summary(pool, show_id).await?,
            seat_map: shows::seat_map(pool, show_id).await?,
        });
        let mut state = self.state.lock().expect("show cache lock");
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
        let mut state = self.state.lock().expect("show cache lock");
        state.entries.remove(&show_id);
        *state.generations.entry(show_id).or_default() += 1;
    }

    pub fn invalidate_all(&self) {
        let mut state = self.state.lock().expect("show cache lock");
        state.entries.clear();
        state.epoch += 1;
    }
}
