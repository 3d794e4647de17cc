//! Where reads that may lag a little go: a standby's pool when `BOXOFFICE_REPLICA_URL` is set,
//! else the primary's. Only lists and reports use it (the show list and search, the admin
//! dashboard); seat maps, bookings, holds, sessions, waiting rooms and everything that decides
//! read the primary, and the live seat-map cache is fed from the primary's feed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

/// After the standby fails to give a connection, reads go straight to the primary this long
/// rather than each waiting out the standby's acquire timeout again.
const REPLICA_REST: Duration = Duration::from_secs(5);

/// The pool for lagging reads: cheap to clone.
#[derive(Clone)]
pub struct ReadPool {
    primary: PgPool,
    replica: Option<Replica>,
}

#[derive(Clone)]
struct Replica {
    pool: PgPool,
    /// Until when reads skip the standby after it failed.
    resting_until: Arc<std::sync::Mutex<Option<Instant>>>,
}

impl ReadPool {
    /// Reads from `replica` when given (its pool should have a short acquire timeout), falling
    /// back to `primary`.
    pub fn new(primary: PgPool, replica: Option<PgPool>) -> Self {
        let replica = replica.map(|pool| Replica { pool, resting_until: Default::default() });
        Self { primary, replica }
    }

    /// Everything from the primary.
    pub fn primary_only(primary: PgPool) -> Self {
        Self::new(primary, None)
    }

    /// A connection for reads that may lag: the standby's when it gives one in time, else the
    /// primary's, so a standby that is down slows a list a little and never fails it.
    pub async fn acquire(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        if let Some(replica) = &self.replica {
            let resting = replica.resting_until.lock().unwrap().is_some_and(|until| Instant::now() < until);
            if !resting {
                match replica.pool.acquire().await {
                    Ok(connection) => return Ok(connection),
                    Err(error) => {
                        tracing::warn!(%error, "the read replica gave no connection; reading from the primary");
                        *replica.resting_until.lock().unwrap() = Some(Instant::now() + REPLICA_REST);
                    }
                }
            }
        }
        self.primary.acquire().await
    }
}
