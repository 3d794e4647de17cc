//! Where seats are claimed. Orders that arrive while the database is busy with the previous
//! batches wait in a queue and go together in the next one: one statement ([`CLAIM_SQL`]), one
//! transaction, one commit (one fsync) for all of them. Alone, an order is a batch of one and waits for
//! nothing; in a flash sale batches grow with the crowd, and the cost per booking falls.
//!
//! Durability is unchanged: a customer is answered only after the commit that holds their
//! booking. An order the database calls busy (a seat it wants is being claimed by another
//! transaction right now) goes again in a later batch, for [`BUSY_BUDGET`] at most: seats
//! locked longer than that (a stuck transaction) are refused as `SeatsBusy`, never a hang.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::ServiceError;
use super::error::retrying;
use super::supervisor::Supervisor;
use crate::domain::{BookingStatus, ShowStatus};
use crate::error::AppError;

/// The statement that claims seats for a batch of orders (or a batch of one), set-based: each
/// step runs once for the whole batch. Parameters are arrays with one element per order ($1
/// show, $2 user, $4 how many seats, $5 the default hold in seconds, $6 idempotency key, $7 book
/// now, else hold, $8 record a failure, $9 the request's fingerprint), the seats of every order
/// one after another in $3 (each order's in seat-id order). One row per order, in order.
///
/// Per order, all or nothing: a seat already taken is refused from a glance without locks (no
/// queue for its lock); the seats of an order that may win are locked in seat-id order with SKIP
/// LOCKED, and claimed when every one is locked and still free. An order is "busy", and goes
/// again in a later batch, when another transaction holds one of its seats right now or an
/// earlier order of this batch wants one of them: the next batch sees how that one ended.
///
/// Public so the benchmark can hand PostgreSQL's own load generator exactly what the app runs.
pub const CLAIM_SQL: &str = include_str!("claim.sql");

/// Orders in one batch at most (a bound on one transaction's length and locks).
const MAX_BATCH: usize = 256;
/// Batches in flight at once: one leaves the database idle while a batch travels, many only
/// split the crowd into smaller batches (docs/PERFORMANCE.md has the measurements).
pub const BATCHES_IN_FLIGHT: usize = 3;
/// How long a busy order waits before it goes again: this, times the rounds it has been busy,
/// up to ten times this (a long wait should not hammer the database every 2 ms).
const BUSY_PAUSE: Duration = Duration::from_millis(2);
/// How long an order may stay busy, from its first busy answer, before it is refused as
/// `SeatsBusy` (public so the tests can outlast it).
pub const BUSY_BUDGET: Duration = Duration::from_secs(5);

/// One order's claim.
#[derive(Debug, Clone)]
pub struct Claim {
    pub show_id: i64,
    pub user_id: i64,
    pub seat_ids: Vec<i32>,
    pub hold_seconds: u32,
    pub idempotency_key: Option<String>,
    pub book_now: bool,
    pub record_failure: bool,
    pub request: String,
}

/// What the claim statement answered for one order.
#[derive(Debug, Clone)]
pub struct ClaimOutcome {
    /// None: no such show.
    pub show_status: Option<ShowStatus>,
    pub selling: bool,
    pub seats_found: i64,
    /// The booking stored, if any (a FAILED one only when failures are recorded).
    pub booking: Option<StoredBooking>,
    /// Labels of the seats that were taken, in seat-id order.
    pub taken: Vec<String>,
    /// Labels of every seat asked for, in seat-id order.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct StoredBooking {
    pub id: i64,
    pub status: BookingStatus,
    pub total_cents: i64,
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub seats_claimed: i64,
}

/// This instance's claim queue: a cheap handle.
#[derive(Clone)]
pub struct Claims {
    pool: PgPool,
    queue: mpsc::UnboundedSender<Waiting>,
}

struct Waiting {
    claim: Claim,
    /// Rounds this order has been busy, and since when.
    busy_rounds: u32,
    busy_since: Option<Instant>,
    answer: oneshot::Sender<Result<ClaimOutcome, ServiceError>>,
}

impl Claims {
    /// Starts claiming on `pool` until the pool is closed. The queue's receiving end outlives
    /// a dispatcher that panicked: the supervisor's next run picks up where it stopped.
    pub fn start(pool: PgPool, supervisor: &Supervisor) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        let claims = Self { pool, queue };
        let waiting = Arc::new(tokio::sync::Mutex::new(waiting));
        supervisor.spawn("claim dispatcher", {
            let claims = claims.clone();
            move || claims.clone().dispatch(waiting.clone())
        });
        claims
    }

    /// The database the claims go to (for what else a booking reads and writes).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Claims seats for one order, with the orders that arrive meanwhile.
    pub async fn claim(&self, claim: Claim) -> Result<ClaimOutcome, ServiceError> {
        let (answer, answered) = oneshot::channel();
        self.queue.send(Waiting { claim, busy_rounds: 0, busy_since: None, answer }).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }

    /// Gathers what waits into batches, as many in flight as allowed.
    async fn dispatch(self, waiting: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Waiting>>>) {
        let mut waiting = waiting.lock().await;
        let in_flight = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
        let closing = self.pool.close_event();
        tokio::pin!(closing);
        loop {
            let first = tokio::select! {
                first = waiting.recv() => first,
                _ = &mut closing => None,
            };
            let Some(first) = first else { break };
            // Wait for a free slot first: whatever arrives meanwhile joins this batch.
            let Ok(slot) = in_flight.clone().acquire_owned().await else { break };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH
                && let Ok(next) = waiting.try_recv()
            {
                batch.push(next);
            }
            let claims = self.clone();
            tracing::debug!(orders = batch.len(), "claiming a batch");
            tokio::spawn(async move {
                claims.run(batch).await;
                drop(slot);
            });
        }
    }

    /// Runs one batch and answers each order, or sends it round again when it was busy.
    async fn run(&self, batch: Vec<Waiting>) {
        let outcomes = {
            let claims: Vec<&Claim> = batch.iter().map(|w| &w.claim).collect();
            retrying(|| claim_batch(&self.pool, &claims)).await
        };
        match outcomes {
            Ok(outcomes) => {
                for (waiting, (outcome, busy)) in batch.into_iter().zip(outcomes) {
                    if busy {
                        self.again(waiting);
                    } else {
                        let _ = waiting.answer.send(Ok(outcome));
                    }
                }
            }
            Err(error) if batch.len() == 1 => {
                let _ = batch.into_iter().next().expect("one").answer.send(Err(error));
            }
            // One order's error must not become everyone's: each goes again on its own.
            Err(error) => {
                tracing::warn!(%error, orders = batch.len(), "a batch of claims failed; claiming one by one");
                for waiting in batch {
                    Box::pin(self.run(vec![waiting])).await;
                }
            }
        }
    }

    /// A busy order goes again after a pause (the transaction in its way is usually short),
    /// until it has been busy for [`BUSY_BUDGET`]: then the customer is told so.
    fn again(&self, mut waiting: Waiting) {
        let since = *waiting.busy_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= BUSY_BUDGET {
            tracing::warn!(claim = ?waiting.claim, rounds = waiting.busy_rounds,
                "seats stayed locked by another transaction; refusing the order");
            let _ = waiting.answer.send(Err(AppError::SeatsBusy.into()));
            return;
        }
        waiting.busy_rounds += 1;
        let pause = BUSY_PAUSE * waiting.busy_rounds.min(10);
        let queue = self.queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(pause).await;
            if let Err(mpsc::error::SendError(waiting)) = queue.send(waiting) {
                let _ = waiting.answer.send(Err(stopped()));
            }
        });
    }
}

fn stopped() -> ServiceError {
    tracing::error!("the claim queue has stopped");
    AppError::Internal.into()
}

/// One statement for the whole batch; each outcome with whether the order was busy.
async fn claim_batch(pool: &PgPool, claims: &[&Claim]) -> Result<Vec<(ClaimOutcome, bool)>, ServiceError> {
    let rows: Vec<ClaimRow> = sqlx::query_as(CLAIM_SQL)
        .bind(claims.iter().map(|c| c.show_id).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.user_id).collect::<Vec<_>>())
        .bind(claims.iter().flat_map(|c| c.seat_ids.iter().copied()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.seat_ids.len() as i32).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| f64::from(c.hold_seconds)).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.idempotency_key.clone()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.book_now).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.record_failure).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.request.clone()).collect::<Vec<_>>())
        .fetch_all(pool)
        .await?;
    if rows.len() != claims.len() {
        tracing::error!(
            orders = claims.len(),
            rows = rows.len(),
            "the claim statement answered the wrong number of rows"
        );
        return Err(AppError::Internal.into());
    }
    Ok(rows.into_iter().map(ClaimRow::into_outcome).collect())
}

/// One row of [`CLAIM_SQL`]'s answer (columns of outer joins are NULL where nothing matched).
#[derive(sqlx::FromRow)]
struct ClaimRow {
    show_status: Option<ShowStatus>,
    selling: Option<bool>,
    seats_found: Option<i64>,
    busy: Option<bool>,
    id: Option<i64>,
    status: Option<BookingStatus>,
    total_cents: Option<i64>,
    hold_expires_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    claimed: i64,
    taken: Vec<String>,
    labels: Vec<String>,
}

impl ClaimRow {
    fn into_outcome(self) -> (ClaimOutcome, bool) {
        let booking = match (self.id, self.status, self.created_at) {
            (Some(id), Some(status), Some(created_at)) => Some(StoredBooking {
                id,
                status,
                total_cents: self.total_cents.unwrap_or_default(),
                hold_expires_at: self.hold_expires_at,
                created_at,
                seats_claimed: self.claimed,
            }),
            _ => None,
        };
        let outcome = ClaimOutcome {
            show_status: self.show_status,
            selling: self.selling.unwrap_or(false),
            seats_found: self.seats_found.unwrap_or(0),
            booking,
            taken: self.taken,
            labels: self.labels,
        };
        (outcome, self.busy.unwrap_or(false))
    }
}
