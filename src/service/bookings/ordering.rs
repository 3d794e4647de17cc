//! Holding and booking seats: chosen seats, or the best available ones. Claims go through the
//! claim queue (`service::claims`), which runs the orders that arrive together as one
//! statement. A request that could not get its seats is recorded as a FAILED booking, so
//! replaying its idempotency key gives the same refusal.

use sqlx::PgPool;

use super::BookingRules;
use super::reads;
use crate::domain::best_available::{self, NotEnough};
use crate::domain::show::{not_selling, selling};
use crate::domain::{BookedSeat, Booking, BookingFailure, BookingStatus, IdempotencyKey, SeatRequest};
use crate::error::AppError;
use crate::service::ServiceError;
use crate::service::claims::{Claim, Claims, REFUSALS_RECORDED_PER_MINUTE};
use crate::service::error::retrying;
use crate::service::live::LiveFeed;

/// Hold the seats until the hold expires, or book them at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commitment {
    Hold,
    BookNow,
}

/// A request for seats from one customer.
#[derive(Debug, Clone)]
pub(super) struct SeatOrder {
    pub show_id: i64,
    pub user_id: i64,
    pub seats: SeatRequest,
    pub commitment: Commitment,
    pub idempotency_key: Option<IdempotencyKey>,
}

/// How often "best available" picks again after someone took the seats it chose. Each retry
/// spreads wider over equally good seats, so a crowd asking at once converges quickly.
const BEST_AVAILABLE_ATTEMPTS: u32 = 12;

/// Claims the seats of `order`: all or nothing. A booking that could not get its seats is
/// recorded as FAILED and returned as such (its `failure` says why); replaying the same
/// idempotency key returns the first booking, whatever it was.
#[tracing::instrument(skip(claims, feed, rules), fields(show_id = order.show_id, user_id = order.user_id))]
pub(super) async fn order_seats(
    claims: &Claims,
    feed: &LiveFeed,
    rules: &BookingRules,
    order: SeatOrder,
) -> Result<Booking, ServiceError> {
    let pool = claims.pool();
    // A hold can never be bigger than what one customer may hold.
    let most = match order.commitment {
        Commitment::Hold => rules.max_seats_per_booking.min(rules.max_held_seats),
        Commitment::BookNow => rules.max_seats_per_booking,
    };
    let request = order.seats.clone().parse(most)?;
    // A replayed key is not looked up first (a query more for every order): the claim
    // statement stores nothing under a key that has a booking, and `claim` then answers with it.
    let fingerprint = fingerprint(&order, &request);
    let order = Fingerprinted { order: &order, fingerprint: &fingerprint };
    match request {
        SeatRequest::Seats(seat_ids) => match claim(claims, rules, &order, &seat_ids, true).await? {
            Claimed::Stored(booking) => Ok(booking),
            Claimed::TakenNotRecorded => {
                tracing::error!("a claim asked to record its failure recorded nothing");
                Err(AppError::Internal.into())
            }
        },
        SeatRequest::BestAvailable { count, category } => {
            let mut attempt = 1;
            loop {
                // The seat map as this instance keeps it (at most a moment old): a seat it shows
                // free that was just taken only loses the claim, and the next pick spreads wider.
                // Reading every seat from the database per attempt made a crowd let in at once
                // (a waiting room's burst) queue on those reads.
                let cached = feed.show(order.order.show_id).await?;
                let map = &cached.seat_map;
                selling(map.status, map.starts_at, chrono::Utc::now())?;
                if let Some(wanted) = &category
                    && !map.categories.iter().any(|c| &c.code == wanted)
                {
                    return Err(AppError::invalid(
                        "category",
                        format!("This show has no seat category “{wanted}”."),
                    )
                    .into());
                }
                let variant =
                    if attempt == 1 { 0 } else { rand::random_range(0..2usize.pow(attempt.min(10))) };
                let seat_ids = match best_available::choose(
                    &map.seats,
                    &map.categories,
                    usize::from(count),
                    category.as_deref(),
                    variant,
                ) {
                    Ok(ids) => ids,
                    Err(NotEnough { available }) => {
                        return retrying(|| record_not_enough(pool, &order, count, available)).await;
                    }
                };
                // Only the last attempt records a failure; earlier ones just pick again.
                let last = attempt == BEST_AVAILABLE_ATTEMPTS;
                match claim(claims, rules, &order, &seat_ids, last).await? {
                    Claimed::Stored(booking) => return Ok(booking),
                    Claimed::TakenNotRecorded => attempt += 1,
                }
            }
        }
    }
}

/// An order with the fingerprint stored beside its idempotency key.
struct Fingerprinted<'a> {
    order: &'a SeatOrder,
    fingerprint: &'a str,
}

/// What was asked for, in a form that tells two requests apart: e.g. "show 7, hold, seats 3,4"
/// or "show 7, book now, best 2 PREMIUM".
fn fingerprint(order: &SeatOrder, request: &SeatRequest) -> String {
    let commitment = match order.commitment {
        Commitment::Hold => "hold",
        Commitment::BookNow => "book now",
    };
    let seats = match request {
        SeatRequest::Seats(ids) => {
            format!("seats {}", ids.iter().map(i32::to_string).collect::<Vec<_>>().join(","))
        }
        SeatRequest::BestAvailable { count, category } => {
            format!("best {count} {}", category.as_deref().unwrap_or("any"))
        }
    };
    format!("show {}, {commitment}, {seats}", order.show_id)
}

/// The booking first made with this key on this show, if any; refused when the key was used
/// for a different request (a client bug that must not silently return someone else's answer).
async fn replay(
    pool: &PgPool,
    order: &SeatOrder,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> Result<Option<Booking>, ServiceError> {
    let Some((booking, first_request)) = reads::find_by_key(pool, order.show_id, order.user_id, key).await? else {
        return Ok(None);
    };
    if first_request != fingerprint {
        return Err(AppError::invalid(
            "idempotency_key",
            "This idempotency key was already used for a different request.",
        )
        .into());
    }
    Ok(Some(booking))
}

/// What one claim left behind.
enum Claimed {
    /// The booking stored: PENDING or CONFIRMED with its seats, or FAILED with the reason.
    Stored(Booking),
    /// Some seats were taken and, as asked, nothing was recorded: best available picks again.
    TakenNotRecorded,
}

/// Claims the seats of one order through the claim queue. `record_failure` = false leaves no
/// trace when the seats are taken.
async fn claim(
    claims: &Claims,
    rules: &BookingRules,
    order: &Fingerprinted<'_>,
    seat_ids: &[i32],
    record_failure: bool,
) -> Result<Claimed, ServiceError> {
    let Fingerprinted { order, fingerprint } = *order;
    let outcome = claims
        .claim(Claim {
            show_id: order.show_id,
            user_id: order.user_id,
            seat_ids: seat_ids.to_vec(),
            hold_seconds: rules.hold_seconds,
            idempotency_key: order.idempotency_key.as_ref().map(|key| key.as_str().to_owned()),
            book_now: order.commitment == Commitment::BookNow,
            record_failure,
            request: fingerprint.to_owned(),
            hold_cap: (order.commitment == Commitment::Hold).then_some(rules.max_held_seats),
        })
        .await?;

    let Some(show_status) = outcome.show_status else {
        return Err(AppError::ShowNotFound.into());
    };
    // The database's clock decides whether the show was still selling: once a booking is
    // stored, that is the answer, whatever time it is here now.
    let Some(stored) = outcome.booking else {
        // Nothing stored: when the key already has a booking (a replay, or a concurrent request
        // with the same key), that booking is the answer, whatever this claim found.
        if let Some(key) = &order.idempotency_key
            && let Some(first) = replay(claims.pool(), order, key, fingerprint).await?
        {
            return Ok(Claimed::Stored(first));
        }
        if !outcome.selling {
            return Err(not_selling(show_status).into());
        }
        if let Some(opens_at) = outcome.sale_opens_at {
            return Err(AppError::SaleNotOpen { opens_at }.into());
        }
        if !outcome.admitted {
            return Err(AppError::NotAdmitted.into());
        }
        if outcome.seats_found != seat_ids.len() as i64 {
            return Err(
                AppError::invalid("seats", "Some of the chosen seats do not exist in this show.").into()
            );
        }
        if let Some(over) = outcome.over_hold_cap {
            return Err(AppError::TooManyHeldSeats {
                limit: rules.max_held_seats,
                held: over.held,
                retry_after_seconds: over.first_lapse_in,
            }
            .into());
        }
        if !outcome.taken.is_empty() && !record_failure {
            return Ok(Claimed::TakenNotRecorded);
        }
        if outcome.refusal_unrecorded {
            return Err(AppError::SeatsTaken { seats: outcome.taken, seat_ids: outcome.taken_ids, booking_id: None }.into());
        }
        // Nothing inserted though the seats were there: the idempotency key was used by a
        // concurrent request, which is the first answer.
        return concurrent_first_answer(claims.pool(), order, fingerprint).await.map(Claimed::Stored);
    };

    let failed = stored.status == BookingStatus::Failed;
    if !failed && stored.seats_claimed != seat_ids.len() as i64 {
        // The statement stored a booking without all its seats: never answer it as booked.
        tracing::error!(booking_id = stored.id, claimed = stored.seats_claimed, wanted = seat_ids.len(),
            "a booking was stored without all of its seats");
        return Err(AppError::Internal.into());
    }
    // Stored by this claim (a replay is answered above, from what was stored before).
    match stored.status {
        BookingStatus::Pending => crate::metrics::booking("held"),
        BookingStatus::Confirmed => crate::metrics::booking("confirmed"),
        _ => {}
    }
    Ok(Claimed::Stored(Booking {
        id: stored.id,
        show_id: order.show_id,
        user_id: order.user_id,
        status: stored.status,
        seats: seat_ids.iter().zip(outcome.labels).map(|(&seat_id, label)| BookedSeat { seat_id, label }).collect(),
        total_cents: stored.total_cents,
        hold_expires_at: stored.hold_expires_at,
        failure: failed.then_some(BookingFailure::SeatsTaken { seats: outcome.taken }),
        created_at: stored.created_at,
        cancellation_policy: stored.cancellation_policy,
        refunds: Vec::new(),
    }))
}

/// Records a booking that failed before it could claim anything: not enough seats left.
/// (Seats taken by others are recorded by the claim statement itself.)
async fn record_not_enough(
    pool: &PgPool,
    order: &Fingerprinted<'_>,
    requested: u16,
    available: u32,
) -> Result<Booking, ServiceError> {
    let Fingerprinted { order, fingerprint } = *order;
    // Counted like every refusal; kept as a FAILED booking only within the per-minute bound.
    let (recorded, inserted): (bool, Option<i64>) = sqlx::query_as(
        r#"
        WITH counted AS (
            SELECT count_refusals($1, $2, 1) < $7 AS recorded
        ),
        booking AS (
            INSERT INTO bookings (show_id, user_id, status, seat_ids, total_cents, idempotency_key, failure, request)
            SELECT $1, $2, 'FAILED', '{}', 0, $3, booking_failure_json(NULL, $4, $5), $6
            FROM counted WHERE recorded
            ON CONFLICT (show_id, user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id
        ),
        event AS (
            INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids)
            SELECT $1, id, NULL, 'FAILED', '{}' FROM booking
        )
        SELECT counted.recorded, (SELECT id FROM booking) FROM counted
        "#,
    )
    .bind(order.show_id)
    .bind(order.user_id)
    .bind(order.idempotency_key.as_ref().map(IdempotencyKey::as_str))
    .bind(i32::from(requested))
    .bind(i32::try_from(available).unwrap_or(i32::MAX))
    .bind(fingerprint)
    .bind(REFUSALS_RECORDED_PER_MINUTE)
    .fetch_one(pool)
    .await?;
    match inserted {
        Some(id) => reads::get(pool, id, Some(order.user_id)).await,
        None if !recorded => {
            let refusal = AppError::NotEnoughSeats { requested, available, booking_id: None };
            unrecorded_refusal(pool, order, fingerprint, refusal).await
        }
        None => concurrent_first_answer(pool, order, fingerprint).await,
    }
}

/// A refusal past the per-minute bound, kept nowhere: unless a concurrent request with the same
/// key got there first (the seats it found taken may be its own), in which case that is the
/// answer.
async fn unrecorded_refusal(
    pool: &PgPool,
    order: &SeatOrder,
    fingerprint: &str,
    refusal: AppError,
) -> Result<Booking, ServiceError> {
    if let Some(key) = &order.idempotency_key
        && let Some(first) = replay(pool, order, key, fingerprint).await?
    {
        return Ok(first);
    }
    Err(refusal.into())
}

/// Nothing was inserted although the request was valid: a concurrent request with the same
/// idempotency key got there first, and its booking is the answer.
async fn concurrent_first_answer(
    pool: &PgPool,
    order: &SeatOrder,
    fingerprint: &str,
) -> Result<Booking, ServiceError> {
    let Some(key) = &order.idempotency_key else {
        tracing::error!("a claim without an idempotency key inserted nothing");
        return Err(AppError::Internal.into());
    };
    replay(pool, order, key, fingerprint).await?.ok_or_else(|| {
        tracing::error!("an idempotency key conflicted but its booking is missing");
        AppError::Internal.into()
    })
}
