//! Holding, confirming and cancelling seats. Every operation is one SQL statement, so it is
//! atomic without a client-side transaction and costs one round trip; claims go through the
//! claim queue (`claims`), which runs the orders that arrive together as one batch. Confirm
//! and cancel lock seats in seat-id order (after the booking row), and claims never wait for a
//! seat's lock (SKIP LOCKED), so requests never deadlock each other; PostgreSQL's deadlock and
//! serialization errors are retried all the same.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgPool, Row};

use super::claims::{Claim, Claims};
use super::error::{ServiceError, retrying};
use super::live::LiveFeed;
use super::shows;
use crate::domain::best_available::{self, NotEnough};
use crate::domain::{
    BookedSeat, Booking, BookingFailure, BookingStatus, IdempotencyKey, SeatRequest, ShowStatus,
};
use crate::error::AppError;

/// The booking rules an instance runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingRules {
    /// How long a hold lasts unless the show sets its own.
    pub hold_seconds: u32,
    pub max_seats_per_booking: u16,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self { hold_seconds: 120, max_seats_per_booking: 10 }
    }
}

/// Hold the seats until the hold expires, or book them at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commitment {
    Hold,
    BookNow,
}

/// A request for seats from one customer.
#[derive(Debug, Clone)]
pub struct SeatOrder {
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
/// recorded as FAILED and returned as such (see [`Booking::succeeded`]); replaying the same
/// idempotency key returns the first booking, whatever it was.
#[tracing::instrument(skip(claims, rules), fields(show_id = order.show_id, user_id = order.user_id))]
pub async fn order_seats(
    claims: &Claims,
    rules: &BookingRules,
    order: SeatOrder,
) -> Result<Booking, ServiceError> {
    let pool = claims.pool();
    let request = order.seats.clone().parse(rules.max_seats_per_booking)?;
    let fingerprint = fingerprint(&order, &request);
    if let Some(key) = &order.idempotency_key
        && let Some(first) = replay(pool, order.user_id, key, &fingerprint).await?
    {
        return Ok(first);
    }
    let order = Fingerprinted { order: &order, fingerprint: &fingerprint };
    match request {
        SeatRequest::Seats(seat_ids) => claim(claims, rules, &order, &seat_ids, true).await,
        SeatRequest::BestAvailable { count, category } => {
            let mut attempt = 1;
            loop {
                let map = shows::seat_map(pool, order.order.show_id).await?;
                ensure_selling(map.status, map.starts_at)?;
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
                        let failure = BookingFailure::NotEnoughSeats { requested: count, available };
                        return retrying(|| record_failure(pool, &order, &failure)).await;
                    }
                };
                // Only the last attempt records a failure; earlier ones just pick again.
                let last = attempt == BEST_AVAILABLE_ATTEMPTS;
                let booking = claim(claims, rules, &order, &seat_ids, last).await?;
                if booking.status != BookingStatus::Failed || last {
                    return Ok(booking);
                }
                attempt += 1;
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

/// The booking first made with this key, if any; refused when the key was used for a
/// different request (a client bug that must not silently return someone else's answer).
async fn replay(
    pool: &PgPool,
    user_id: i64,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> Result<Option<Booking>, ServiceError> {
    let Some((booking, first_request)) = find_by_key(pool, user_id, key).await? else { return Ok(None) };
    if first_request != fingerprint {
        return Err(AppError::invalid(
            "idempotency_key",
            "This idempotency key was already used for a different request.",
        )
        .into());
    }
    Ok(Some(booking))
}

/// Claims the seats of one order (through the claim queue, see `claims`). `record_failure` =
/// false leaves no trace when the seats are taken (and returns a FAILED booking with id 0,
/// never stored).
async fn claim(
    claims: &Claims,
    rules: &BookingRules,
    order: &Fingerprinted<'_>,
    seat_ids: &[i32],
    record_failure: bool,
) -> Result<Booking, ServiceError> {
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
        })
        .await?;

    let Some(show_status) = outcome.show_status else {
        return Err(AppError::ShowNotFound.into());
    };
    // The database's clock decides whether the show was still selling: once a booking is
    // stored, that is the answer, whatever time it is here now.
    let Some(stored) = outcome.booking else {
        if !outcome.selling {
            return Err(match show_status {
                ShowStatus::Cancelled => AppError::ShowCancelled,
                ShowStatus::OnSale => AppError::ShowStarted,
            }
            .into());
        }
        if outcome.seats_found != seat_ids.len() as i64 {
            return Err(
                AppError::invalid("seats", "Some of the chosen seats do not exist in this show.").into()
            );
        }
        if !outcome.taken.is_empty() && !record_failure {
            // Not recorded: the caller picks again.
            return Ok(unrecorded_failure(order, seat_ids, outcome.taken));
        }
        // Nothing inserted though the seats were there: the idempotency key was used by a
        // concurrent request, which is the first answer.
        return concurrent_first_answer(claims.pool(), order, fingerprint).await;
    };

    debug_assert!(stored.status == BookingStatus::Failed || stored.seats_claimed == seat_ids.len() as i64);
    Ok(Booking {
        id: stored.id,
        show_id: order.show_id,
        user_id: order.user_id,
        status: stored.status,
        seats: booked_seats(seat_ids, outcome.labels),
        total_cents: stored.total_cents,
        hold_expires_at: stored.hold_expires_at,
        failure: (stored.status == BookingStatus::Failed)
            .then_some(BookingFailure::SeatsTaken { seats: outcome.taken }),
        created_at: stored.created_at,
    })
}

fn unrecorded_failure(order: &SeatOrder, seat_ids: &[i32], taken: Vec<String>) -> Booking {
    Booking {
        id: 0,
        show_id: order.show_id,
        user_id: order.user_id,
        status: BookingStatus::Failed,
        seats: seat_ids.iter().map(|&seat_id| BookedSeat { seat_id, label: String::new() }).collect(),
        total_cents: 0,
        hold_expires_at: None,
        failure: Some(BookingFailure::SeatsTaken { seats: taken }),
        created_at: Utc::now(),
    }
}

/// Records a booking that failed before it could claim anything (e.g. not enough seats).
async fn record_failure(
    pool: &PgPool,
    order: &Fingerprinted<'_>,
    failure: &BookingFailure,
) -> Result<Booking, ServiceError> {
    let Fingerprinted { order, fingerprint } = *order;
    let inserted: Option<i64> = sqlx::query_scalar(
        r#"
        WITH booking AS (
            INSERT INTO bookings (show_id, user_id, status, seat_ids, total_cents, idempotency_key, failure, request)
            VALUES ($1, $2, 'FAILED', '{}', 0, $3, $4, $5)
            ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id
        ),
        event AS (
            INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids)
            SELECT $1, id, NULL, 'FAILED', '{}' FROM booking
        )
        SELECT id FROM booking
        "#,
    )
    .bind(order.show_id)
    .bind(order.user_id)
    .bind(order.idempotency_key.as_ref().map(IdempotencyKey::as_str))
    .bind(Json(failure))
    .bind(fingerprint)
    .fetch_optional(pool)
    .await?;
    match inserted {
        Some(id) => get(pool, id, order.user_id).await,
        None => concurrent_first_answer(pool, order, fingerprint).await,
    }
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
    replay(pool, order.user_id, key, fingerprint).await?.ok_or_else(|| {
        tracing::error!("an idempotency key conflicted but its booking is missing");
        AppError::Internal.into()
    })
}

fn ensure_selling(status: ShowStatus, starts_at: DateTime<Utc>) -> Result<(), AppError> {
    match status {
        ShowStatus::Cancelled => Err(AppError::ShowCancelled),
        ShowStatus::OnSale if starts_at <= Utc::now() => Err(AppError::ShowStarted),
        ShowStatus::OnSale => Ok(()),
    }
}

/// Confirms a hold (payment is taken elsewhere). Succeeds only while the hold is unexpired and
/// still owns every seat; otherwise the booking becomes EXPIRED, its seats are released, and the
/// caller gets `HoldExpired`.
#[tracing::instrument(skip(pool))]
pub async fn confirm(pool: &PgPool, booking_id: i64, user_id: i64) -> Result<Booking, ServiceError> {
    let (before, after, show_status, selling) = retrying(|| async {
        let row = sqlx::query(
            r#"
            WITH b AS (
                SELECT x.id, x.show_id, x.status, x.seat_ids, x.hold_expires_at, sh.status AS show_status,
                       (sh.status = 'ON_SALE' AND sh.starts_at > now()) AS selling
                FROM bookings x JOIN shows sh ON sh.id = x.show_id
                WHERE x.id = $1 AND x.user_id = $2
                FOR UPDATE OF x
            ),
            locked AS (
                SELECT s.seat_id, s.booking_id, s.status
                FROM seats s, b
                WHERE s.show_id = b.show_id AND s.seat_id = ANY(b.seat_ids)
                ORDER BY s.seat_id
                FOR UPDATE OF s
            ),
            verdict AS (
                SELECT b.status = 'PENDING' AS was_pending,
                       b.status = 'PENDING' AND b.hold_expires_at > now() AND b.selling
                       AND (SELECT count(*) FROM locked l WHERE l.booking_id = b.id AND l.status = 'HELD')
                           = cardinality(b.seat_ids) AS ok
                FROM b
            ),
            seats_done AS (
                UPDATE seats s
                SET status = CASE WHEN v.ok THEN 'BOOKED' ELSE 'AVAILABLE' END::seat_status,
                    held_until = NULL,
                    booking_id = CASE WHEN v.ok THEN s.booking_id END
                FROM b, verdict v, locked l
                WHERE v.was_pending AND s.show_id = b.show_id AND s.seat_id = l.seat_id
                  AND l.booking_id = b.id AND l.status = 'HELD'
                RETURNING s.seat_id
            ),
            updated AS (
                UPDATE bookings x
                SET status = CASE WHEN v.ok THEN 'CONFIRMED' ELSE 'EXPIRED' END::booking_status, updated_at = now()
                FROM verdict v
                WHERE x.id = $1 AND v.was_pending
                RETURNING x.id, x.status
            ),
            event AS (
                INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids, detail)
                SELECT b.show_id, u.id, 'PENDING', u.status, b.seat_ids,
                       CASE WHEN u.status = 'EXPIRED' AND NOT b.selling THEN 'confirm after the show stopped selling'
                            WHEN u.status = 'EXPIRED' THEN 'confirm after the hold ran out' END
                FROM updated u, b
            )
            SELECT b.status AS before, (SELECT status FROM updated) AS after, b.show_status, b.selling FROM b
            "#,
        )
        .bind(booking_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else { return Err(AppError::BookingNotFound.into()) };
        Ok((
            row.try_get::<BookingStatus, _>("before")?,
            row.try_get::<Option<BookingStatus>, _>("after")?,
            row.try_get::<ShowStatus, _>("show_status")?,
            row.try_get::<bool, _>("selling")?,
        ))
    })
    .await?;
    let show_refusal = (!selling).then_some(match show_status {
        ShowStatus::Cancelled => AppError::ShowCancelled,
        ShowStatus::OnSale => AppError::ShowStarted,
    });

    match (before, after) {
        (_, Some(BookingStatus::Confirmed)) | (BookingStatus::Confirmed, None) => {
            get(pool, booking_id, user_id).await
        }
        (_, Some(_)) => Err(show_refusal.unwrap_or(AppError::HoldExpired).into()),
        (BookingStatus::Expired, None) => Err(AppError::HoldExpired.into()),
        (BookingStatus::Cancelled, None) => {
            Err(AppError::WrongBookingState("This booking was cancelled.".into()).into())
        }
        (BookingStatus::Failed, None) => Err(AppError::WrongBookingState(
            "This booking did not get its seats, so there is nothing to confirm.".into(),
        )
        .into()),
        (BookingStatus::Pending, None) => {
            tracing::error!(booking_id, "a pending booking was locked but not updated");
            Err(AppError::Internal.into())
        }
    }
}

/// Cancels a pending or confirmed booking before its show starts; its seats go back on sale.
#[tracing::instrument(skip(pool))]
pub async fn cancel(pool: &PgPool, booking_id: i64, user_id: i64) -> Result<Booking, ServiceError> {
    let (before, upcoming, lapsed, cancelled) = retrying(|| async {
        let row = sqlx::query(
            r#"
            WITH b AS (
                SELECT x.id, x.show_id, x.status, x.seat_ids, sh.starts_at > now() AS upcoming,
                       (x.status = 'PENDING' AND x.hold_expires_at <= now()) AS lapsed
                FROM bookings x JOIN shows sh ON sh.id = x.show_id
                WHERE x.id = $1 AND x.user_id = $2
                FOR UPDATE OF x
            ),
            -- A hold that ran out becomes EXPIRED (by the worker), never CANCELLED.
            verdict AS (SELECT status IN ('PENDING', 'CONFIRMED') AND NOT lapsed AND upcoming AS ok FROM b),
            locked AS (
                SELECT s.seat_id FROM seats s, b, verdict v
                WHERE v.ok AND s.show_id = b.show_id AND s.booking_id = b.id
                ORDER BY s.seat_id
                FOR UPDATE OF s
            ),
            released AS (
                UPDATE seats s SET status = 'AVAILABLE', booking_id = NULL, held_until = NULL
                FROM b, locked l
                WHERE s.show_id = b.show_id AND s.seat_id = l.seat_id AND s.booking_id = b.id
                RETURNING s.seat_id
            ),
            updated AS (
                UPDATE bookings x SET status = 'CANCELLED', updated_at = now()
                FROM verdict v WHERE v.ok AND x.id = $1
                RETURNING x.id
            ),
            event AS (
                INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids)
                SELECT b.show_id, b.id, b.status, 'CANCELLED', b.seat_ids FROM b, updated
            )
            SELECT b.status, b.upcoming, b.lapsed, (SELECT count(*) FROM updated) > 0 AS cancelled FROM b
            "#,
        )
        .bind(booking_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else { return Err(AppError::BookingNotFound.into()) };
        Ok((
            row.try_get::<BookingStatus, _>("status")?,
            row.try_get::<bool, _>("upcoming")?,
            row.try_get::<bool, _>("lapsed")?,
            row.try_get::<bool, _>("cancelled")?,
        ))
    })
    .await?;

    if cancelled {
        return get(pool, booking_id, user_id).await;
    }
    Err(match before {
        BookingStatus::Pending if lapsed => AppError::HoldExpired,
        BookingStatus::Pending | BookingStatus::Confirmed if !upcoming => AppError::ShowStarted,
        BookingStatus::Cancelled => AppError::WrongBookingState("This booking is already cancelled.".into()),
        _ => AppError::WrongBookingState("Only a held or confirmed booking can be cancelled.".into()),
    }
    .into())
}

/// Releases holds that ran out, at most `limit` bookings per call, and returns the show of
/// each booking it expired. Several instances can run this at once: each takes bookings
/// nobody else has locked (`SKIP LOCKED`).
pub async fn expire_due_holds(pool: &PgPool, limit: i64) -> Result<Vec<i64>, ServiceError> {
    retrying(|| async {
        let expired: Vec<i64> = sqlx::query_scalar(
            r#"
            WITH due AS (
                SELECT id, show_id, seat_ids FROM bookings
                WHERE status = 'PENDING' AND hold_expires_at < now()
                ORDER BY hold_expires_at
                LIMIT $1
                FOR UPDATE SKIP LOCKED
            ),
            locked AS (
                SELECT s.show_id, s.seat_id, s.booking_id FROM seats s JOIN due d ON s.booking_id = d.id
                ORDER BY s.show_id, s.seat_id
                FOR UPDATE OF s
            ),
            -- Joining on the locked row's booking (not `IN (SELECT id FROM due)`) keeps the plan
            -- linear: the planner underestimates how many holds are due.
            released AS (
                UPDATE seats s SET status = 'AVAILABLE', booking_id = NULL, held_until = NULL
                FROM locked l
                WHERE s.show_id = l.show_id AND s.seat_id = l.seat_id
                  AND s.booking_id = l.booking_id AND s.status = 'HELD'
                RETURNING s.seat_id
            ),
            updated AS (
                UPDATE bookings x SET status = 'EXPIRED', updated_at = now()
                FROM due WHERE x.id = due.id
                RETURNING x.id, x.show_id, x.seat_ids
            ),
            event AS (
                INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids, detail)
                SELECT show_id, id, 'PENDING', 'EXPIRED', seat_ids, 'hold ran out' FROM updated
            )
            SELECT show_id FROM updated
            "#,
        )
        .bind(limit)
        .fetch_all(pool)
        .await?;
        Ok(expired)
    })
    .await
}

/// Runs [`expire_due_holds`] every `interval` until the pool is closed, telling the live feed
/// (when there is one) which shows got seats back.
pub async fn run_expiry_worker(pool: PgPool, interval: std::time::Duration, feed: Option<LiveFeed>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        ticker.tick().await;
        match expire_due_holds(&pool, 1000).await {
            Ok(shows) if shows.is_empty() => {}
            Ok(shows) => {
                tracing::info!(expired = shows.len(), "released expired holds");
                if let Some(feed) = &feed {
                    shows.iter().for_each(|&show| feed.changed(show));
                }
            }
            Err(e) if pool.is_closed() => tracing::debug!(error = %e, "expiry worker stopping"),
            Err(e) => tracing::warn!(error = %e, "expiry worker pass failed"),
        }
    }
}

const BOOKING_COLUMNS: &str = r#"
    b.id, b.show_id, b.user_id,
    CASE WHEN b.status = 'PENDING' AND b.hold_expires_at < now() THEN 'EXPIRED' ELSE b.status END AS status,
    b.seat_ids, b.total_cents, b.hold_expires_at, b.failure, b.created_at,
    ARRAY(SELECT s.label FROM seats s WHERE s.show_id = b.show_id AND s.seat_id = ANY(b.seat_ids) ORDER BY s.seat_id) AS labels
"#;

/// One of the user's bookings. Another user's booking is "not found", never shown.
pub async fn get(pool: &PgPool, booking_id: i64, user_id: i64) -> Result<Booking, ServiceError> {
    let sql = format!("SELECT {BOOKING_COLUMNS} FROM bookings b WHERE b.id = $1 AND b.user_id = $2");
    let row = sqlx::query(&sql).bind(booking_id).bind(user_id).fetch_optional(pool).await?;
    row.as_ref().map(booking_from_row).transpose()?.ok_or(AppError::BookingNotFound.into())
}

/// Any booking, whoever made it: for admins.
pub async fn get_any(pool: &PgPool, booking_id: i64) -> Result<Booking, ServiceError> {
    let sql = format!("SELECT {BOOKING_COLUMNS} FROM bookings b WHERE b.id = $1");
    let row = sqlx::query(&sql).bind(booking_id).fetch_optional(pool).await?;
    row.as_ref().map(booking_from_row).transpose()?.ok_or(AppError::BookingNotFound.into())
}

/// The user's bookings, newest first.
pub async fn list_for_user(pool: &PgPool, user_id: i64) -> Result<Vec<Booking>, ServiceError> {
    let sql = format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings b WHERE b.user_id = $1 ORDER BY b.created_at DESC, b.id DESC LIMIT 200"
    );
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(pool).await?;
    Ok(rows.iter().map(booking_from_row).collect::<Result<_, _>>()?)
}

/// The booking made with `key` and the request it was made for.
async fn find_by_key(
    pool: &PgPool,
    user_id: i64,
    key: &IdempotencyKey,
) -> Result<Option<(Booking, String)>, ServiceError> {
    let sql = format!(
        "SELECT {BOOKING_COLUMNS}, b.request FROM bookings b WHERE b.user_id = $1 AND b.idempotency_key = $2"
    );
    let Some(row) = sqlx::query(&sql).bind(user_id).bind(key.as_str()).fetch_optional(pool).await? else {
        return Ok(None);
    };
    Ok(Some((booking_from_row(&row)?, row.try_get("request")?)))
}

fn booking_from_row(row: &sqlx::postgres::PgRow) -> Result<Booking, sqlx::Error> {
    let seat_ids: Vec<i32> = row.try_get("seat_ids")?;
    let labels: Vec<String> = row.try_get("labels")?;
    let failure: Option<Json<BookingFailure>> = row.try_get("failure")?;
    Ok(Booking {
        id: row.try_get("id")?,
        show_id: row.try_get("show_id")?,
        user_id: row.try_get("user_id")?,
        status: row.try_get("status")?,
        seats: booked_seats(&seat_ids, labels),
        total_cents: row.try_get("total_cents")?,
        hold_expires_at: row.try_get("hold_expires_at")?,
        failure: failure.map(|Json(f)| f),
        created_at: row.try_get("created_at")?,
    })
}

fn booked_seats(seat_ids: &[i32], labels: Vec<String>) -> Vec<BookedSeat> {
    seat_ids.iter().zip(labels).map(|(&seat_id, label)| BookedSeat { seat_id, label }).collect()
}
