//! A customer's entry: joining, leaving, declining an offer, reading it with its place.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::offering;
use crate::domain::show::selling;
use crate::domain::waitlist::{WaitlistEntry, WaitlistJoin, WaitlistOffer, WaitlistStatus, WaitlistView, may_join, nearly_sold_out};
use crate::domain::{SeatStatus, ShowStatus};
use crate::error::AppError;
use crate::service::ServiceError;
use crate::service::error::retrying;
use crate::service::live::show_cache::CachedShow;

/// What joining needs to know about the show, read under its offering lock.
#[derive(sqlx::FromRow)]
struct ShowNow {
    status: ShowStatus,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
    category_known: bool,
    available: i64,
    total: i64,
    free_for_party: i64,
}

/// Adds the entry. Under the show's offering lock, so an offer being made for the show
/// finishes first and the seats it leaves on sale are counted.
pub(super) async fn join(pool: &PgPool, show_id: i64, user_id: i64, join: &WaitlistJoin) -> Result<(), ServiceError> {
    retrying(|| async {
        let mut tx = pool.begin().await?;
        offering::lock_show(&mut tx, show_id).await?;
        let show: ShowNow = sqlx::query_as(
            r#"
            SELECT sh.status, sh.starts_at, now() AS now,
                   ($2::text IS NULL OR EXISTS (SELECT 1 FROM seat_categories c WHERE c.show_id = sh.id AND c.code = $2))
                       AS category_known,
                   counts.available, counts.total, counts.free_for_party
            FROM shows sh
            CROSS JOIN LATERAL (
                SELECT count(*) FILTER (WHERE s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until < now()))
                           AS available,
                       count(*) FILTER (WHERE s.status <> 'BLOCKED') AS total,
                       count(*) FILTER (WHERE (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until < now()))
                                          AND ($2::text IS NULL OR s.category = $2)) AS free_for_party
                FROM seats s WHERE s.show_id = sh.id
            ) AS counts
            WHERE sh.id = $1
            "#,
        )
        .bind(show_id)
        .bind(join.category())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::ShowNotFound)?;
        let refusal = if let Err(refusal) = selling(show.status, show.starts_at, show.now) {
            Some(refusal)
        } else if !show.category_known {
            Some(AppError::invalid(
                "category",
                format!("This show has no seat category “{}”.", join.category().unwrap_or_default()),
            ))
        } else if !may_join(join.party_size(), show.free_for_party, show.available, show.total) {
            Some(AppError::SeatsAvailable {
                party_size: join.party_size(),
                available: u32::try_from(show.free_for_party).unwrap_or(u32::MAX),
            })
        } else {
            None
        };
        if let Some(refusal) = refusal {
            // Release the lock before answering (a dropped transaction rolls back only when its
            // connection is next used).
            tx.rollback().await?;
            return Err(refusal.into());
        }
        let added: Option<i64> = sqlx::query_scalar(
            "INSERT INTO waitlist_entries (show_id, user_id, party_size, category) VALUES ($1, $2, $3, $4)
             ON CONFLICT (show_id, user_id) WHERE status IN ('WAITING', 'OFFERED') DO NOTHING
             RETURNING id",
        )
        .bind(show_id)
        .bind(user_id)
        .bind(join.party_size() as i16)
        .bind(join.category())
        .fetch_optional(&mut *tx)
        .await?;
        if added.is_none() {
            tx.rollback().await?;
            return Err(AppError::AlreadyWaiting.into());
        }
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// The customer's live entry: its id, status and offer booking.
#[derive(sqlx::FromRow)]
struct LiveEntry {
    id: i64,
    status: WaitlistStatus,
    booking_id: Option<i64>,
}

async fn live_entry(
    conn: &mut sqlx::PgConnection,
    show_id: i64,
    user_id: i64,
) -> Result<Option<LiveEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, status, booking_id FROM waitlist_entries
         WHERE show_id = $1 AND user_id = $2 AND status IN ('WAITING', 'OFFERED')",
    )
    .bind(show_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await
}

/// Declines the customer's outstanding offer: its booking CANCELLED (the entry DECLINED, by
/// the trigger), its seats offered to the next fitting customer or put back on sale, all in one
/// transaction. Returns the seats that changed.
pub(super) async fn decline(pool: &PgPool, show_id: i64, user_id: i64, offer_seconds: u32) -> Result<Vec<i32>, ServiceError> {
    retrying(|| async {
        let mut tx = pool.begin().await?;
        let entry = live_entry(&mut tx, show_id, user_id).await?.ok_or(AppError::NotWaiting)?;
        let (WaitlistStatus::Offered, Some(booking_id)) = (entry.status, entry.booking_id) else {
            tx.rollback().await?;
            return Err(AppError::NoOffer.into());
        };
        let touched = release_offer(&mut tx, show_id, booking_id, offer_seconds).await?;
        let Some(touched) = touched else {
            // Confirmed or lapsed just now.
            tx.rollback().await?;
            return Err(AppError::NoOffer.into());
        };
        tx.commit().await?;
        Ok(touched)
    })
    .await
}

/// Takes the customer off the list; an outstanding offer is declined first. Returns the seats
/// that changed.
pub(super) async fn leave(pool: &PgPool, show_id: i64, user_id: i64, offer_seconds: u32) -> Result<Vec<i32>, ServiceError> {
    // Twice at most: an offer made between reading the entry and leaving is declined on the
    // second pass.
    for _ in 0..2 {
        if let Some(touched) = leave_once(pool, show_id, user_id, offer_seconds).await? {
            return Ok(touched);
        }
    }
    Err(AppError::NotWaiting.into())
}

/// One attempt at leaving: the seats that changed, or None when an offer was made meanwhile.
async fn leave_once(pool: &PgPool, show_id: i64, user_id: i64, offer_seconds: u32) -> Result<Option<Vec<i32>>, ServiceError> {
    retrying(|| async {
        let mut tx = pool.begin().await?;
        let entry = live_entry(&mut tx, show_id, user_id).await?.ok_or(AppError::NotWaiting)?;
        let touched = match (entry.status, entry.booking_id) {
            (WaitlistStatus::Offered, Some(booking_id)) => {
                release_offer(&mut tx, show_id, booking_id, offer_seconds).await?.unwrap_or_default()
            }
            _ => Vec::new(),
        };
        // WAITING, or DECLINED just now; an offer confirmed meanwhile is BOOKED and stays so.
        let left = sqlx::query(
            "UPDATE waitlist_entries SET status = 'LEFT', updated_at = now()
             WHERE id = $1 AND status IN ('WAITING', 'DECLINED')",
        )
        .bind(entry.id)
        .execute(&mut *tx)
        .await?;
        if left.rows_affected() == 0 {
            tx.rollback().await?;
            // OFFERED now: an offer was made after the entry was read. Otherwise it was booked
            // or left meanwhile.
            let offered = latest_row(pool, show_id, user_id)
                .await?
                .is_some_and(|row| WaitlistEntry::from(row).status == WaitlistStatus::Offered);
            return if offered { Ok(None) } else { Err(AppError::NotWaiting.into()) };
        }
        tx.commit().await?;
        Ok(Some(touched))
    })
    .await
}

/// Cancels a PENDING offer booking and offers its seats on. Locks the booking, then its seats
/// in seat order, then (the trigger) the entry, then the offering lock: the order of every
/// other path. None when the booking is no longer pending (confirmed or expired meanwhile).
async fn release_offer(
    tx: &mut sqlx::PgConnection,
    show_id: i64,
    booking_id: i64,
    offer_seconds: u32,
) -> Result<Option<Vec<i32>>, sqlx::Error> {
    let released: Option<Vec<i32>> = sqlx::query_scalar(
        r#"
        WITH b AS (
            SELECT id, seat_ids FROM bookings
            WHERE id = $1 AND show_id = $2 AND status = 'PENDING' AND waitlist_entry_id IS NOT NULL
            FOR UPDATE
        ),
        locked AS (
            SELECT s.seat_id FROM seats s, b
            WHERE s.show_id = $2 AND s.booking_id = b.id
            ORDER BY s.seat_id
            FOR UPDATE OF s
        ),
        released AS (
            UPDATE seats s SET status = 'AVAILABLE', booking_id = NULL, held_until = NULL
            FROM locked l
            WHERE s.show_id = $2 AND s.seat_id = l.seat_id AND s.booking_id = $1
        ),
        updated AS (
            UPDATE bookings x SET status = 'CANCELLED', updated_at = now() FROM b WHERE x.id = b.id
        ),
        event AS (
            INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids, detail)
            SELECT $2, b.id, 'PENDING', 'CANCELLED', b.seat_ids, 'declined the waiting-list offer' FROM b
        )
        SELECT b.seat_ids FROM b
        "#,
    )
    .bind(booking_id)
    .bind(show_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(mut touched) = released else { return Ok(None) };
    touched.extend(offering::offer(tx, show_id, offer_seconds).await?);
    touched.sort_unstable();
    touched.dedup();
    Ok(Some(touched))
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    show_id: i64,
    party_size: i16,
    category: Option<String>,
    status: WaitlistStatus,
    created_at: DateTime<Utc>,
    place: Option<i64>,
    booking_id: Option<i64>,
    seat_ids: Option<Vec<i32>>,
    labels: Option<Vec<String>>,
    total_cents: Option<i64>,
    hold_expires_at: Option<DateTime<Utc>>,
}

impl From<EntryRow> for WaitlistEntry {
    fn from(row: EntryRow) -> Self {
        let offer = match (row.status, row.booking_id, row.seat_ids, row.hold_expires_at) {
            (WaitlistStatus::Offered, Some(booking_id), Some(seat_ids), Some(expires_at)) => Some(WaitlistOffer {
                booking_id,
                seat_ids,
                seats: row.labels.unwrap_or_default(),
                total_cents: row.total_cents.unwrap_or_default(),
                expires_at,
            }),
            _ => None,
        };
        WaitlistEntry {
            id: row.id,
            show_id: row.show_id,
            party_size: row.party_size.max(0) as u16,
            category: row.category,
            status: row.status,
            place: row.place.map(|p| p.max(0) as u32),
            joined_at: row.created_at,
            offer,
        }
    }
}

async fn latest_row(pool: &PgPool, show_id: i64, user_id: i64) -> Result<Option<EntryRow>, ServiceError> {
    Ok(sqlx::query_as(
        r#"
        SELECT e.id, e.show_id, e.party_size, e.category, e.status, e.created_at,
               CASE WHEN e.status = 'WAITING' THEN
                   (SELECT count(*) FROM waitlist_entries w
                    WHERE w.show_id = e.show_id AND w.status = 'WAITING' AND w.id <= e.id)
               END AS place,
               b.id AS booking_id, b.seat_ids, b.total_cents, b.hold_expires_at,
               CASE WHEN b.id IS NOT NULL THEN
                   ARRAY(SELECT s.label FROM seats s
                         WHERE s.show_id = e.show_id AND s.seat_id = ANY(b.seat_ids) ORDER BY s.seat_id)
               END AS labels
        FROM waitlist_entries e
        LEFT JOIN bookings b ON e.status = 'OFFERED' AND b.show_id = e.show_id AND b.id = e.booking_id
        WHERE e.show_id = $1 AND e.user_id = $2
        ORDER BY e.id DESC
        LIMIT 1
        "#,
    )
    .bind(show_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}

/// The customer's latest entry on the show's list; `NotWaiting` when they never joined.
pub(super) async fn latest(pool: &PgPool, show_id: i64, user_id: i64) -> Result<WaitlistEntry, ServiceError> {
    match latest_row(pool, show_id, user_id).await? {
        Some(row) => Ok(row.into()),
        None => {
            // Tell a show that does not exist from an entry that does not.
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM shows WHERE id = $1)")
                .bind(show_id)
                .fetch_one(pool)
                .await?;
            Err(if exists { AppError::NotWaiting } else { AppError::ShowNotFound }.into())
        }
    }
}

/// The panel: the show's counts from this instance's show cache (kept correct by the live
/// feed), so a page view costs the database nothing more than the customer's own entry.
pub(super) async fn view(
    pool: &PgPool,
    cached: &CachedShow,
    user_id: Option<i64>,
    max_party: u16,
) -> Result<WaitlistView, ServiceError> {
    let show_id = cached.show.id;
    let entry = match user_id {
        Some(user_id) => latest_row(pool, show_id, user_id).await?.map(WaitlistEntry::from),
        None => None,
    };
    let seats = &cached.seat_map.seats;
    let available = seats.iter().filter(|s| s.status == SeatStatus::Available).count() as i64;
    let total = seats.iter().filter(|s| s.status != SeatStatus::Blocked).count() as i64;
    let now = Utc::now();
    let sells = selling(cached.show.status, cached.show.starts_at, now).is_ok();
    Ok(WaitlistView {
        available_seats: available,
        total_seats: total,
        max_party,
        categories: cached.seat_map.categories.clone(),
        open: sells && (nearly_sold_out(available, total) || available < i64::from(max_party)),
        entry,
        now,
    })
}
