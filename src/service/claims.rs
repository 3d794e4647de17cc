//! Where seats are claimed. Orders that arrive while the database is busy with the previous
//! batches wait in a queue and go together in the next one: one statement ([`CLAIM_SQL`]), one
//! transaction, one commit (one fsync) for all of them. Alone, an order is a batch of one and waits for
//! nothing; in a flash sale batches grow with the crowd, and the cost per booking falls.
//!
//! Durability is unchanged: a customer is answered only after the commit that holds their
//! booking. An order the database calls busy (a seat it wants is being claimed by another
//! transaction right now) goes again in a later batch.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::ServiceError;
use super::error::retrying;
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
pub const CLAIM_SQL: &str = r#"
    WITH orders AS (
        SELECT o.*, (sum(o.seat_count) OVER (ORDER BY o.n) - o.seat_count + 1)::int AS first_seat
        FROM unnest($1::bigint[], $2::bigint[], $4::int[], $5::float8[], $6::text[], $7::bool[], $8::bool[], $9::text[])
             WITH ORDINALITY AS o(show_id, user_id, seat_count, hold_seconds, idempotency_key, book_now, record_failure, request, n)
    ),
    wanted AS (
        SELECT o.n, o.show_id, w.seat_id
        FROM orders o, unnest(($3::int[])[o.first_seat : o.first_seat + o.seat_count - 1]) AS w(seat_id)
    ),
    show AS (
        SELECT sh.id AS show_id, sh.status, (sh.status = 'ON_SALE' AND sh.starts_at > now()) AS selling,
               sh.hold_seconds
        FROM shows sh WHERE sh.id IN (SELECT show_id FROM orders)
    ),
    glance AS (
        SELECT w.n, s.seat_id, s.label, s.category,
               (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until < now())) AS free
        FROM wanted w
        JOIN show sh ON sh.show_id = w.show_id AND sh.selling
        JOIN seats s ON s.show_id = w.show_id AND s.seat_id = w.seat_id
    ),
    seen AS (
        SELECT o.n, count(g.seat_id) AS seats_found, coalesce(bool_and(g.free), false) AS all_free,
               coalesce(array_agg(g.label ORDER BY g.seat_id) FILTER (WHERE g.seat_id IS NOT NULL), '{}') AS labels,
               coalesce(array_agg(g.label ORDER BY g.seat_id) FILTER (WHERE NOT g.free), '{}') AS taken,
               coalesce(sum(c.price_cents), 0)::bigint AS total_cents
        FROM orders o
        LEFT JOIN glance g ON g.n = o.n
        LEFT JOIN seat_categories c ON c.show_id = o.show_id AND c.code = g.category
        GROUP BY o.n
    ),
    candidate AS (
        SELECT o.n FROM orders o JOIN seen v ON v.n = o.n WHERE v.seats_found = o.seat_count AND v.all_free
    ),
    contested AS (
        SELECT DISTINCT later.n
        FROM wanted later
        JOIN candidate cl ON cl.n = later.n
        JOIN wanted earlier ON earlier.show_id = later.show_id AND earlier.seat_id = later.seat_id
                           AND earlier.n < later.n
        JOIN candidate ce ON ce.n = earlier.n
    ),
    locked AS (
        SELECT w.n, s.show_id, s.seat_id,
               (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until < now())) AS free
        FROM seats s
        JOIN wanted w ON s.show_id = w.show_id AND s.seat_id = w.seat_id
        WHERE w.n IN (SELECT n FROM candidate EXCEPT SELECT n FROM contested)
        ORDER BY s.show_id, s.seat_id
        FOR UPDATE OF s SKIP LOCKED
    ),
    settled AS (
        SELECT l.n, count(*) AS seats_locked, bool_and(l.free) AS still_free FROM locked l GROUP BY l.n
    ),
    verdict AS (
        SELECT o.n, v.seats_found,
               (v.seats_found = o.seat_count AND NOT v.all_free) AS refused,
               coalesce(st.seats_locked = o.seat_count AND st.still_free, false) AS wins,
               (v.seats_found = o.seat_count AND v.all_free
                AND NOT coalesce(st.seats_locked = o.seat_count AND st.still_free, false)) AS busy
        FROM orders o JOIN seen v ON v.n = o.n LEFT JOIN settled st ON st.n = o.n
    ),
    -- Booking ids drawn here, so that each stored booking maps back to its order.
    stored AS (
        SELECT o.n, nextval(pg_get_serial_sequence('bookings', 'id')) AS id, v.wins
        FROM orders o JOIN verdict v ON v.n = o.n
        WHERE v.wins OR (v.refused AND o.record_failure)
    ),
    booking AS (
        INSERT INTO bookings (id, show_id, user_id, status, seat_ids, total_cents, hold_expires_at, idempotency_key, failure, request)
        OVERRIDING SYSTEM VALUE
        SELECT st.id, o.show_id, o.user_id,
               CASE WHEN NOT st.wins THEN 'FAILED'
                    WHEN o.book_now THEN 'CONFIRMED'
                    ELSE 'PENDING' END::booking_status,
               ($3::int[])[o.first_seat : o.first_seat + o.seat_count - 1],
               v.total_cents,
               CASE WHEN st.wins AND NOT o.book_now
                    THEN now() + make_interval(secs => COALESCE(sh.hold_seconds, o.hold_seconds)) END,
               o.idempotency_key,
               CASE WHEN NOT st.wins THEN jsonb_build_object('SeatsTaken', jsonb_build_object('seats', to_jsonb(v.taken))) END,
               o.request
        FROM stored st
        JOIN orders o ON o.n = st.n
        JOIN seen v ON v.n = st.n
        JOIN show sh ON sh.show_id = o.show_id
        ORDER BY st.n
        ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, show_id, status, seat_ids, total_cents, hold_expires_at, created_at
    ),
    claimed AS (
        UPDATE seats s
        SET status = CASE WHEN b.status = 'CONFIRMED' THEN 'BOOKED' ELSE 'HELD' END::seat_status,
            booking_id = b.id,
            held_until = b.hold_expires_at
        FROM booking b
        JOIN stored st ON st.id = b.id
        JOIN locked l ON l.n = st.n
        WHERE b.status <> 'FAILED' AND s.show_id = l.show_id AND s.seat_id = l.seat_id
        RETURNING st.n
    ),
    event AS (
        INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids)
        SELECT b.show_id, b.id, NULL, b.status, b.seat_ids FROM booking b
    ),
    claimed_per_order AS (
        SELECT c.n, count(*) AS seats FROM claimed c GROUP BY c.n
    )
    SELECT sh.status AS show_status, sh.selling, v.seats_found, v.busy,
           b.id, b.status, b.total_cents, b.hold_expires_at, b.created_at,
           coalesce(cl.seats, 0) AS claimed,
           seen.taken, seen.labels
    FROM orders o
    JOIN seen ON seen.n = o.n
    JOIN verdict v ON v.n = o.n
    LEFT JOIN show sh ON sh.show_id = o.show_id
    LEFT JOIN stored st ON st.n = o.n
    LEFT JOIN booking b ON b.id = st.id
    LEFT JOIN claimed_per_order cl ON cl.n = o.n
    ORDER BY o.n
    "#;

/// Orders in one batch at most (a bound on one transaction's length and locks).
const MAX_BATCH: usize = 256;
/// Batches in flight at once: one leaves the database idle while a batch travels, many only
/// split the crowd into smaller batches. Measured on 2 cores (flash sale, 1,000 customers,
/// when each order still ran its own statement inside the batch): 1 gave 4,000 seats/s, 2 to 4
/// gave 4,800 to 5,300, 3 the best latency of those.
pub const BATCHES_IN_FLIGHT: usize = 3;
/// How long a busy order waits before it goes again, and how often it may.
const BUSY_PAUSE: Duration = Duration::from_millis(2);
const BUSY_ATTEMPTS: u32 = 2_500;

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
    busy_attempts: u32,
    answer: oneshot::Sender<Result<ClaimOutcome, ServiceError>>,
}

impl Claims {
    /// Starts claiming on `pool` until the pool is closed.
    pub fn start(pool: PgPool) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        let claims = Self { pool, queue };
        tokio::spawn(claims.clone().dispatch(waiting));
        claims
    }

    /// The database the claims go to (for what else a booking reads and writes).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Claims seats for one order, with the orders that arrive meanwhile.
    pub async fn claim(&self, claim: Claim) -> Result<ClaimOutcome, ServiceError> {
        let (answer, answered) = oneshot::channel();
        self.queue.send(Waiting { claim, busy_attempts: 0, answer }).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }

    /// Gathers what waits into batches, as many in flight as allowed.
    async fn dispatch(self, mut waiting: mpsc::UnboundedReceiver<Waiting>) {
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

    /// A busy order goes again after a pause (the transaction in its way is short).
    fn again(&self, mut waiting: Waiting) {
        waiting.busy_attempts += 1;
        if waiting.busy_attempts > BUSY_ATTEMPTS {
            tracing::error!(claim = ?waiting.claim, "seats stayed locked by another transaction");
            let _ = waiting.answer.send(Err(AppError::Internal.into()));
            return;
        }
        let queue = self.queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(BUSY_PAUSE).await;
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
    let rows = sqlx::query(CLAIM_SQL)
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
    rows.iter().map(outcome).collect()
}

fn outcome(row: &sqlx::postgres::PgRow) -> Result<(ClaimOutcome, bool), ServiceError> {
    let booking = match row.try_get::<Option<i64>, _>("id")? {
        Some(id) => Some(StoredBooking {
            id,
            status: row.try_get("status")?,
            total_cents: row.try_get("total_cents")?,
            hold_expires_at: row.try_get("hold_expires_at")?,
            created_at: row.try_get("created_at")?,
            seats_claimed: row.try_get("claimed")?,
        }),
        None => None,
    };
    let outcome = ClaimOutcome {
        show_status: row.try_get("show_status")?,
        selling: row.try_get::<Option<bool>, _>("selling")?.unwrap_or(false),
        seats_found: row.try_get::<Option<i64>, _>("seats_found")?.unwrap_or(0),
        booking,
        taken: row.try_get("taken")?,
        labels: row.try_get("labels")?,
    };
    Ok((outcome, row.try_get::<Option<bool>, _>("busy")?.unwrap_or(false)))
}
