//! Where seats are claimed. Orders that arrive while the database is busy with the previous
//! batches wait in a queue and go together in the next one: one statement ([`CLAIM_SQL`]), one
//! transaction, one commit (one fsync) for all of them. Alone, an order is a batch of one and waits for
//! nothing; in a flash sale batches grow with the crowd, and the cost per booking falls.
//!
//! Durability is unchanged: a customer is answered only after the commit that holds their
//! booking. An order the database calls busy (a seat it wants is being claimed by another
//! transaction right now) goes again in a later batch, for [`BUSY_BUDGET`] at most: seats
//! locked longer than that (a stuck transaction) are refused as `SeatsBusy`, never a hang.
//!
//! In an outage the queue fails fast and never guesses: it holds at most [`MOST_WAITING`]
//! orders and each for [`ORDER_DEADLINE`] at most (then "unavailable", 503, try again); orders
//! whose client has gone are dropped unrun; a batch that cannot reach the database is answered
//! "unavailable" at once, all of it (nothing was committed); and when a commit's answer is
//! lost, the queue asks PostgreSQL whether that transaction committed, and checks that what it
//! wrote is stored, before it answers ([`committed`]).

mod batch;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use self::batch::{BatchEnd, claim_batch};
pub use self::batch::{CLAIM_SQL, REFUSALS_RECORDED_PER_MINUTE, committed};
use super::ServiceError;
use super::supervisor::Supervisor;
use crate::domain::{BookingStatus, CancellationPolicy};
use crate::domain::ShowStatus;
use crate::error::AppError;

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
/// Orders waiting at most: past that the instance is swamped, and more answer "unavailable".
const MOST_WAITING: usize = 20_000;
/// How long an order may wait for an answer before it is told "unavailable" (nothing booked,
/// try again); a lost commit is asked about for this long too.
pub const ORDER_DEADLINE: Duration = Duration::from_secs(10);
/// The wait suggested to a client told "unavailable".
const RETRY_AFTER_SECONDS: u64 = 2;

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
    /// The most seats the customer may hold on the show, this order's included (holds only).
    pub hold_cap: Option<u16>,
}

/// What the claim statement answered for one order.
#[derive(Debug, Clone)]
pub struct ClaimOutcome {
    /// None: no such show.
    pub show_status: Option<ShowStatus>,
    pub selling: bool,
    /// When the sale opens, if it has not yet (nothing was claimed).
    pub sale_opens_at: Option<DateTime<Utc>>,
    /// False on a show behind a waiting room when the customer has no valid pass for it
    /// (nothing was claimed).
    pub admitted: bool,
    pub seats_found: i64,
    /// The booking stored, if any (a FAILED one only when failures are recorded).
    pub booking: Option<StoredBooking>,
    /// Labels of the seats that were taken, in seat-id order, and their ids.
    pub taken: Vec<String>,
    pub taken_ids: Vec<i32>,
    /// Labels of every seat asked for, in seat-id order.
    pub labels: Vec<String>,
    /// Refused because the customer holds too many seats on the show already.
    pub over_hold_cap: Option<OverHoldCap>,
    /// A refusal that was only counted, not kept as a FAILED booking (past the per-minute bound).
    pub refusal_unrecorded: bool,
}

/// A hold refused by the held-seat cap.
#[derive(Debug, Clone, Copy)]
pub struct OverHoldCap {
    /// Seats the customer holds on the show now.
    pub held: u16,
    /// Seconds until the first of those holds lapses.
    pub first_lapse_in: u64,
}

#[derive(Debug, Clone)]
pub struct StoredBooking {
    pub id: i64,
    pub status: BookingStatus,
    pub total_cents: i64,
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The show's policy, stored with the booking (the default for a failed one).
    pub cancellation_policy: CancellationPolicy,
    pub seats_claimed: i64,
}

/// This instance's claim queue: a cheap handle.
#[derive(Clone)]
pub struct Claims {
    pool: PgPool,
    queue: mpsc::Sender<Waiting>,
}

struct Waiting {
    claim: Claim,
    /// When the order must be answered by.
    deadline: Instant,
    /// Rounds this order has been busy, and since when.
    busy_rounds: u32,
    busy_since: Option<Instant>,
    answer: oneshot::Sender<Result<ClaimOutcome, ServiceError>>,
}

type Receiver = Arc<tokio::sync::Mutex<mpsc::Receiver<Waiting>>>;

impl Claims {
    /// Starts claiming on `pool` until the pool is closed. The queue's receiving end outlives
    /// a dispatcher that panicked: the supervisor's next run picks up where it stopped.
    pub fn start(pool: PgPool, supervisor: &Supervisor) -> Self {
        let (queue, waiting) = mpsc::channel(MOST_WAITING);
        let claims = Self { pool, queue };
        let waiting: Receiver = Arc::new(tokio::sync::Mutex::new(waiting));
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
        let waiting =
            Waiting { claim, deadline: Instant::now() + ORDER_DEADLINE, busy_rounds: 0, busy_since: None, answer };
        match self.queue.try_send(waiting) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("the claim queue is full; an order is turned away");
                return Err(unavailable());
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(stopped()),
        }
        answered.await.map_err(|_| stopped())?
    }

    /// Gathers what waits into batches, as many in flight as allowed.
    async fn dispatch(self, waiting: Receiver) {
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
            let mut batch = Vec::new();
            let mut next = Some(first);
            while let Some(order) = next.take() {
                if let Some(order) = still_wanted(order) {
                    batch.push(order);
                }
                if batch.len() < MAX_BATCH {
                    next = waiting.try_recv().ok();
                }
            }
            if batch.is_empty() {
                continue;
            }
            let claims = self.clone();
            tracing::debug!(orders = batch.len(), "claiming a batch");
            crate::metrics::claim_batch_started(batch.len(), waiting.len());
            tokio::spawn(async move {
                claims.run(batch).await;
                crate::metrics::claim_batch_finished();
                drop(slot);
            });
        }
    }

    /// Runs one batch and answers each order, or sends it round again when it was busy.
    async fn run(&self, batch: Vec<Waiting>) {
        let mut attempt = 1;
        let end = loop {
            let claims: Vec<&Claim> = batch.iter().map(|w| &w.claim).collect();
            let started = Instant::now();
            let ended = claim_batch(&self.pool, &claims).await;
            crate::metrics::claim_transaction(started.elapsed());
            match ended {
                // Deadlocks and serialization failures: PostgreSQL asks us to try again.
                BatchEnd::NotCommitted(error) if attempt < 8 && error.is_transient() => {
                    tokio::time::sleep(Duration::from_millis(2u64.pow(attempt) + rand::random_range(0..10))).await;
                    attempt += 1;
                }
                end => break end,
            }
        };
        match end {
            BatchEnd::Done(outcomes) => self.answer(batch, outcomes),
            BatchEnd::Unknown { outcomes, transaction, error } => {
                tracing::warn!(%error, transaction, orders = batch.len(),
                    "a claim batch's commit went unanswered; asking whether it committed");
                let written = outcomes.iter().find_map(|(outcome, _)| outcome.booking.as_ref());
                let written = written.map(|booking| (booking.id, booking.created_at));
                match self.ask_until_known(&transaction, written, &batch).await {
                    Some(true) => self.answer(batch, outcomes),
                    // Nothing was booked: the orders may try again.
                    Some(false) | None => answer_all(batch, unavailable),
                }
            }
            BatchEnd::NotCommitted(error) if error.is_unreachable() => {
                tracing::warn!(%error, orders = batch.len(), "the database is unreachable; claims answered unavailable");
                answer_all(batch, unavailable);
            }
            BatchEnd::NotCommitted(error) if batch.len() == 1 => {
                if let Some(waiting) = batch.into_iter().next() {
                    let _ = waiting.answer.send(Err(error));
                }
            }
            // One order's error must not become everyone's: each goes again on its own.
            BatchEnd::NotCommitted(error) => {
                tracing::warn!(%error, orders = batch.len(), "a batch of claims failed; claiming one by one");
                for waiting in batch {
                    Box::pin(self.run(vec![waiting])).await;
                }
            }
        }
    }

    fn answer(&self, batch: Vec<Waiting>, outcomes: Vec<(ClaimOutcome, bool)>) {
        for (waiting, (outcome, busy)) in batch.into_iter().zip(outcomes) {
            if busy {
                self.again(waiting);
            } else {
                let _ = waiting.answer.send(Ok(outcome));
            }
        }
    }

    /// Asks PostgreSQL whether `transaction` committed until it can tell, or the batch's last
    /// deadline has passed (None: still unknown).
    async fn ask_until_known(
        &self,
        transaction: &str,
        written: Option<(i64, DateTime<Utc>)>,
        batch: &[Waiting],
    ) -> Option<bool> {
        let deadline = batch.iter().map(|w| w.deadline).max()?;
        loop {
            if let Some(known) = committed(&self.pool, transaction, written).await {
                return Some(known);
            }
            if Instant::now() >= deadline {
                tracing::error!(transaction, "could not learn whether a claim batch committed; its orders are told to retry");
                return None;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
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
        // A busy order is not held to the queue's deadline: the busy budget bounds it.
        waiting.deadline = waiting.deadline.max(Instant::now() + ORDER_DEADLINE);
        let pause = BUSY_PAUSE * waiting.busy_rounds.min(10);
        let queue = self.queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(pause).await;
            if let Err(error) = queue.try_send(waiting) {
                let (waiting, answer) = match error {
                    mpsc::error::TrySendError::Full(waiting) => (waiting, unavailable()),
                    mpsc::error::TrySendError::Closed(waiting) => (waiting, stopped()),
                };
                let _ = waiting.answer.send(Err(answer));
            }
        });
    }
}

/// The order, unless its client has gone (dropped unrun) or its deadline passed ("unavailable").
fn still_wanted(waiting: Waiting) -> Option<Waiting> {
    if waiting.answer.is_closed() {
        tracing::debug!(claim = ?waiting.claim, "the client of an order has gone; not claiming");
        return None;
    }
    if Instant::now() >= waiting.deadline {
        let _ = waiting.answer.send(Err(unavailable()));
        return None;
    }
    Some(waiting)
}

fn answer_all(batch: Vec<Waiting>, error: impl Fn() -> ServiceError) {
    for waiting in batch {
        let _ = waiting.answer.send(Err(error()));
    }
}

fn unavailable() -> ServiceError {
    AppError::Unavailable { retry_after_seconds: RETRY_AFTER_SECONDS }.into()
}

fn stopped() -> ServiceError {
    tracing::error!("the claim queue has stopped");
    AppError::Internal.into()
}
