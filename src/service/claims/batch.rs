//! One batch of claims in one transaction: the customers' turns, the claim statement, the
//! commit, and what to make of a commit whose answer was lost.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{Claim, ClaimOutcome, OverHoldCap, StoredBooking};
use crate::domain::{BookingStatus, CancellationPolicy, ShowStatus};
use crate::error::AppError;
use crate::service::ServiceError;

/// The statement that claims seats for a batch of orders (or a batch of one), set-based: each
/// step runs once for the whole batch. Parameters are arrays with one element per order ($1
/// show, $2 user, $4 how many seats, $5 the default hold in seconds, $6 idempotency key, $7 book
/// now, else hold, $8 record a failure, $9 the request's fingerprint, $10 the most seats the
/// customer may hold on the show (NULL: no cap), $11 whether this transaction has the
/// customer's turn on the show ([`TAKE_TURNS_SQL`])), the seats of every order one after
/// another in $3 (each order's in seat-id order), and $12 the refusals per customer, show and
/// minute that are kept as FAILED bookings. One row per order, in order.
///
/// Per order, all or nothing: a seat already taken is refused from a glance without locks (no
/// queue for its lock); the seats of an order that may win are locked in seat-id order with SKIP
/// LOCKED, and claimed when every one is locked and still free. An order is "busy", and goes
/// again in a later batch, when another transaction holds one of its seats right now or an
/// earlier order of this batch wants one of them: the next batch sees how that one ended.
///
/// Public so the benchmark can hand PostgreSQL's own load generator exactly what the app runs.
pub const CLAIM_SQL: &str = include_str!("claim.sql");

/// Takes each capped order's turn on its customer and show for this transaction, if no other
/// transaction has it (never waits): the claim statement then counts the customer's held seats
/// knowing no concurrent claim is adding to them. An order that did not get the turn is busy.
/// One row per order, in order.
const TAKE_TURNS_SQL: &str = "
    SELECT CASE WHEN o.capped THEN pg_try_advisory_xact_lock(hashint8(o.show_id), hashint8(o.user_id)) ELSE true END
    FROM unnest($1::bigint[], $2::bigint[], $3::bool[]) WITH ORDINALITY AS o(show_id, user_id, capped, n)
    ORDER BY o.n";

/// Refusals per customer, show and minute kept as FAILED bookings (so their keys replay);
/// the rest are only counted.
pub const REFUSALS_RECORDED_PER_MINUTE: i32 = 10;

/// How long a batch waits for a database connection: when none comes that fast the database
/// is unreachable or swamped, and the orders are answered "unavailable" rather than held.
const CONNECTION_BUDGET: Duration = Duration::from_secs(2);

/// Opens a batch's transaction, with a bound on how long any of its statements may run.
const BEGIN: &str = "BEGIN; SET LOCAL statement_timeout = '10s'";

/// How a batch ended.
pub(super) enum BatchEnd {
    /// Committed (or nothing to commit): each order's outcome, with whether it was busy.
    Done(Vec<(ClaimOutcome, bool)>),
    /// Certainly not committed: the database could not be reached, or failed the batch.
    NotCommitted(ServiceError),
    /// The commit was sent and its answer lost: it may have happened. The outcomes the
    /// statement computed, if it committed, and the transaction to ask about.
    Unknown { outcomes: Vec<(ClaimOutcome, bool)>, transaction: String, error: ServiceError },
}

/// One transaction for the whole batch: take the capped orders' turns, run the statement,
/// commit.
pub(super) async fn claim_batch(pool: &PgPool, claims: &[&Claim]) -> BatchEnd {
    let waiting = crate::metrics::ConnectionWait::start("claim_batch");
    let acquired = tokio::time::timeout(CONNECTION_BUDGET, pool.acquire()).await;
    drop(waiting);
    let mut connection = match acquired {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => return BatchEnd::NotCommitted(error.into()),
        Err(_) => return BatchEnd::NotCommitted(sqlx::Error::PoolTimedOut.into()),
    };
    let ran = async {
        // A database that answers but hangs must not pin the batch either.
        let mut transaction = sqlx::Connection::begin_with(&mut *connection, BEGIN).await?;
        let rows = run_statements(&mut transaction, claims).await?;
        Ok::<_, ServiceError>((transaction, rows))
    }
    .await;
    let (transaction, rows) = match ran {
        Ok(ran) => ran,
        Err(error) => return BatchEnd::NotCommitted(error),
    };
    if rows.len() != claims.len() {
        tracing::error!(orders = claims.len(), rows = rows.len(), "the claim statement answered the wrong number of rows");
        return BatchEnd::NotCommitted(AppError::Internal.into());
    }
    let transaction_id = rows.first().map(|row| row.transaction.clone()).unwrap_or_default();
    let outcomes: Vec<(ClaimOutcome, bool)> = rows.into_iter().map(ClaimRow::into_outcome).collect();
    match transaction.commit().await {
        Ok(()) => BatchEnd::Done(outcomes),
        Err(error) => BatchEnd::Unknown { outcomes, transaction: transaction_id, error: error.into() },
    }
}

async fn run_statements(
    transaction: &mut sqlx::PgTransaction<'_>,
    claims: &[&Claim],
) -> Result<Vec<ClaimRow>, ServiceError> {
    let show_ids: Vec<i64> = claims.iter().map(|c| c.show_id).collect();
    let user_ids: Vec<i64> = claims.iter().map(|c| c.user_id).collect();
    let capped: Vec<bool> = claims.iter().map(|c| c.hold_cap.is_some()).collect();
    let deciding: Vec<bool> = if capped.contains(&true) {
        sqlx::query_scalar(TAKE_TURNS_SQL)
            .bind(&show_ids)
            .bind(&user_ids)
            .bind(&capped)
            .fetch_all(&mut **transaction)
            .await?
    } else {
        vec![true; claims.len()]
    };
    let rows = sqlx::query_as(CLAIM_SQL)
        .bind(&show_ids)
        .bind(&user_ids)
        .bind(claims.iter().flat_map(|c| c.seat_ids.iter().copied()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.seat_ids.len() as i32).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| f64::from(c.hold_seconds)).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.idempotency_key.clone()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.book_now).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.record_failure).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.request.clone()).collect::<Vec<_>>())
        .bind(claims.iter().map(|c| c.hold_cap.map(i32::from)).collect::<Vec<_>>())
        .bind(&deciding)
        .bind(REFUSALS_RECORDED_PER_MINUTE)
        .fetch_all(&mut **transaction)
        .await?;
    Ok(rows)
}

/// Whether a transaction whose commit answer was lost committed: Some(true) or Some(false)
/// once PostgreSQL can tell, None while it cannot be reached or the transaction is still
/// running. `written` is a booking the transaction wrote (its id and creation time, as the
/// statement returned them), if it wrote one.
///
/// `pg_xact_status` alone is not enough: a crash forgets a transaction whose WAL never reached
/// the disk (or the standby that took over), and gives its id, like its bookings' ids, to the
/// next transactions, so "committed" may be about another one. A transaction that wrote a
/// booking committed only if that booking is stored with the same id and creation time; one
/// whose id is "in the future" was forgotten.
pub async fn committed(pool: &PgPool, transaction: &str, written: Option<(i64, DateTime<Utc>)>) -> Option<bool> {
    let status: Result<Option<String>, sqlx::Error> = sqlx::query_scalar("SELECT pg_xact_status($1::xid8)")
        .bind(transaction)
        .fetch_one(pool)
        .await;
    match status {
        Ok(Some(status)) if status == "committed" => match written {
            Some((id, created_at)) => stored(pool, id, created_at).await,
            None => Some(true),
        },
        Ok(Some(status)) if status == "aborted" => Some(false),
        // Still in progress (the server has not noticed the lost connection yet): ask again.
        Ok(Some(_)) => None,
        // Too old for PostgreSQL to remember: only what it wrote can tell.
        Ok(None) => match written {
            Some((id, created_at)) => stored(pool, id, created_at).await,
            None => {
                tracing::error!(transaction, "PostgreSQL no longer knows whether a claim transaction committed");
                Some(false)
            }
        },
        // 22023 "transaction ID … is in the future": PostgreSQL came back without it.
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("22023") => {
            tracing::warn!(transaction, "a claim transaction was lost with the database's last moments before a crash");
            Some(false)
        }
        Err(_) => None,
    }
}

/// Whether the booking `id` is stored as created at `created_at` (None: the database cannot
/// be asked now).
async fn stored(pool: &PgPool, id: i64, created_at: DateTime<Utc>) -> Option<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT FROM bookings WHERE id = $1 AND created_at = $2)")
        .bind(id)
        .bind(created_at)
        .fetch_one(pool)
        .await
        .ok()
}

/// One row of [`CLAIM_SQL`]'s answer (columns of outer joins are NULL where nothing matched).
#[derive(sqlx::FromRow)]
struct ClaimRow {
    show_status: Option<ShowStatus>,
    selling: Option<bool>,
    sale_open: Option<bool>,
    sale_opens_at: Option<DateTime<Utc>>,
    admitted: Option<bool>,
    seats_found: Option<i64>,
    busy: Option<bool>,
    capped: Option<bool>,
    held: Option<i32>,
    first_lapse_in: Option<i64>,
    id: Option<i64>,
    status: Option<BookingStatus>,
    total_cents: Option<i64>,
    hold_expires_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    cancellation_policy: Option<sqlx::types::Json<CancellationPolicy>>,
    claimed: i64,
    meant_to_store: bool,
    taken: Vec<String>,
    taken_ids: Vec<i32>,
    labels: Vec<String>,
    /// This transaction's id, to ask whether it committed when the commit's answer is lost.
    transaction: String,
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
                cancellation_policy: self.cancellation_policy.map(|policy| policy.0).unwrap_or_default(),
                seats_claimed: self.claimed,
            }),
            _ => None,
        };
        let outcome = ClaimOutcome {
            show_status: self.show_status,
            selling: self.selling.unwrap_or(false),
            sale_opens_at: self.sale_opens_at.filter(|_| self.sale_open == Some(false)),
            admitted: self.admitted.unwrap_or(false),
            seats_found: self.seats_found.unwrap_or(0),
            refusal_unrecorded: booking.is_none() && !self.meant_to_store && !self.taken.is_empty(),
            booking,
            taken: self.taken,
            taken_ids: self.taken_ids,
            labels: self.labels,
            over_hold_cap: self.capped.unwrap_or(false).then(|| OverHoldCap {
                held: u16::try_from(self.held.unwrap_or_default()).unwrap_or(u16::MAX),
                first_lapse_in: u64::try_from(self.first_lapse_in.unwrap_or(1)).unwrap_or(1).max(1),
            }),
        };
        (outcome, self.busy.unwrap_or(false))
    }
}
