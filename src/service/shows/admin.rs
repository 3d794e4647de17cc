//! What admins do with shows: create them, edit them before they sell, cancel them, block
//! seats, set their cancellation policy. (How they sell is `sales`.) The `Shows` handle tells
//! the live feed after each change.

use sqlx::PgPool;
use sqlx::types::Json;

use crate::domain::new_show::Place;
use crate::domain::{CancellationPolicy, NewShow, ShowEdit, ShowStatus};
use crate::error::AppError;
use crate::service::ServiceError;
use crate::service::error::retrying;
use crate::service::waitlist;

/// Creates a show with all its categories and seats in one transaction: three statements
/// whatever the size of the layout (the seats go in as arrays).
#[tracing::instrument(skip(pool, show), fields(title = %show.title, seats = show.layout.seats().len()))]
pub async fn create(pool: &PgPool, show: &NewShow) -> Result<i64, ServiceError> {
    let (venue, origin, destination) = match &show.place {
        Place::Venue(venue) => (Some(venue.as_str()), None, None),
        Place::Route { origin, destination } => (None, Some(origin.as_str()), Some(destination.as_str())),
    };
    let mut tx = pool.begin().await?;
    let show_id: i64 = sqlx::query_scalar(
        "INSERT INTO shows (kind, title, venue, origin, destination, starts_at, hold_seconds, sale_opens_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(show.kind)
    .bind(&show.title)
    .bind(venue)
    .bind(origin)
    .bind(destination)
    .bind(show.starts_at)
    .bind(show.hold_seconds)
    .bind(show.sale_opens_at)
    .fetch_one(&mut *tx)
    .await?;

    let categories = show.layout.categories();
    sqlx::query(
        "INSERT INTO seat_categories (show_id, code, name, price_cents, rank)
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::smallint[])",
    )
    .bind(show_id)
    .bind(categories.iter().map(|c| c.code.clone()).collect::<Vec<_>>())
    .bind(categories.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
    .bind(categories.iter().map(|c| c.price_cents).collect::<Vec<_>>())
    .bind(categories.iter().map(|c| c.rank).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;

    let seats = show.layout.seats();
    sqlx::query(
        "INSERT INTO seats (show_id, seat_id, row_label, number, label, grid_row, grid_col, category, status)
         SELECT $1, seat_id, row_label, number, label, grid_row, grid_col, category,
                CASE WHEN blocked THEN 'BLOCKED' ELSE 'AVAILABLE' END::seat_status
         FROM UNNEST($2::int[], $3::text[], $4::int[], $5::text[], $6::smallint[], $7::smallint[], $8::text[], $9::bool[])
              AS t(seat_id, row_label, number, label, grid_row, grid_col, category, blocked)",
    )
    .bind(show_id)
    .bind(seats.iter().map(|s| s.seat_id).collect::<Vec<_>>())
    .bind(seats.iter().map(|s| s.row_label.clone()).collect::<Vec<_>>())
    .bind(seats.iter().map(|s| s.number).collect::<Vec<_>>())
    .bind(seats.iter().map(|s| s.label.clone()).collect::<Vec<_>>())
    .bind(seats.iter().map(|s| s.grid_row).collect::<Vec<_>>())
    .bind(seats.iter().map(|s| s.grid_col).collect::<Vec<_>>())
    .bind(seats.iter().map(|s| s.category.clone()).collect::<Vec<_>>())
    .bind(seats.iter().map(|s| s.blocked).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;

    tx.commit().await?;
    Ok(show_id)
}

#[derive(sqlx::FromRow)]
struct EditRow {
    status: ShowStatus,
    done: bool,
}

#[derive(sqlx::FromRow)]
struct BlockRow {
    show_status: Option<ShowStatus>,
    found: i64,
    changed: i64,
    refused: Vec<String>,
}

/// Changes the title and start time of a show that has sold nothing yet.
#[tracing::instrument(skip(pool))]
pub(super) async fn edit(pool: &PgPool, show_id: i64, edit: &ShowEdit) -> Result<(), ServiceError> {
    let row: EditRow = sqlx::query_as(
        r#"
        WITH target AS (
            SELECT id, status,
                   NOT EXISTS (SELECT 1 FROM bookings b WHERE b.show_id = $1 AND b.status <> 'FAILED') AS unsold
            FROM shows WHERE id = $1 FOR UPDATE
        ),
        updated AS (
            UPDATE shows sh SET title = $2, starts_at = $3
            FROM target t WHERE sh.id = t.id AND t.unsold AND t.status = 'ON_SALE'
            RETURNING sh.id
        )
        SELECT t.status, t.unsold, EXISTS (SELECT 1 FROM updated) AS done FROM target t
        "#,
    )
    .bind(show_id)
    .bind(&edit.title)
    .bind(edit.starts_at)
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::ShowNotFound)?;
    if row.done {
        return Ok(());
    }
    Err(if row.status == ShowStatus::Cancelled { AppError::ShowCancelled } else { AppError::ShowHasBookings }.into())
}

/// Cancels a show: it stops selling, every live booking (a confirmed one, or a hold that has
/// not run out) becomes CANCELLED (its customer sees that in My bookings) and every seat goes
/// off sale. A hold that had already run out but was not yet released by the expiry worker
/// becomes EXPIRED, as the worker would have made it: it was never the show's to cancel. A
/// claim racing with the cancellation waits on the seat locks and then finds the show no
/// longer selling, so nothing sells afterwards. Returns how many bookings were cancelled.
#[tracing::instrument(skip(pool))]
pub(super) async fn cancel(pool: &PgPool, show_id: i64) -> Result<u64, ServiceError> {
    retrying(|| async {
        let mut tx = pool.begin().await?;
        // NO KEY UPDATE, not UPDATE: a claim's new booking checks its show with KEY SHARE, and
        // must not wait for this transaction while holding the seats it waits for next.
        let status: ShowStatus = sqlx::query_scalar("SELECT status FROM shows WHERE id = $1 FOR NO KEY UPDATE")
            .bind(show_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AppError::ShowNotFound)?;
        if status == ShowStatus::Cancelled {
            // Release the show's lock before answering (a dropped transaction would hold it
            // until its connection is next used).
            tx.rollback().await?;
            return Err(AppError::ShowCancelled.into());
        }
        sqlx::query("UPDATE shows SET status = 'CANCELLED' WHERE id = $1").bind(show_id).execute(&mut *tx).await?;
        // Bookings first, then seats in seat order: the order every other statement locks in.
        sqlx::query(
            "SELECT id FROM bookings WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED') ORDER BY id FOR UPDATE",
        )
        .bind(show_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT seat_id FROM seats WHERE show_id = $1 ORDER BY seat_id FOR UPDATE")
            .bind(show_id)
            .execute(&mut *tx)
            .await?;
        // Its waiting list closes (entries after bookings and seats: the order every path
        // locks in), before the offers' bookings are cancelled below, which would otherwise
        // read as declined by their customers.
        sqlx::query(
            "UPDATE waitlist_entries SET status = 'CLOSED', updated_at = now()
             WHERE show_id = $1 AND status IN ('WAITING', 'OFFERED')",
        )
        .bind(show_id)
        .execute(&mut *tx)
        .await?;
        // A new statement sees the claims that committed while we waited for their seats, and
        // its start (every lock held) is the moment that decides which holds had run out: the
        // same rule as `cancellation` (a hold ends at its expiry time).
        let cancelled: i64 = sqlx::query_scalar(
            r#"
            WITH off_sale AS (
                UPDATE seats SET status = 'BLOCKED', booking_id = NULL, held_until = NULL
                WHERE show_id = $1 AND status <> 'BLOCKED'
            ),
            before AS (
                SELECT id, status,
                       CASE WHEN status = 'PENDING' AND hold_expires_at <= statement_timestamp()
                            THEN 'EXPIRED' ELSE 'CANCELLED' END::booking_status AS to_status
                FROM bookings WHERE show_id = $1 AND status IN ('PENDING', 'CONFIRMED')
            ),
            updated AS (
                UPDATE bookings b SET status = before.to_status, updated_at = now()
                FROM before
                WHERE b.id = before.id
                RETURNING b.id, before.status AS from_status, before.to_status, b.seat_ids, b.total_cents
            ),
            event AS (
                INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids, detail)
                SELECT $1, id, from_status, to_status, seat_ids,
                       CASE WHEN to_status = 'EXPIRED' THEN 'hold ran out before the show was cancelled'
                            ELSE 'the show was cancelled' END
                FROM updated
            ),
            -- The venue called it off: every confirmed booking gets all its money back,
            -- whatever its policy says.
            refund AS (
                INSERT INTO refunds (show_id, booking_id, seat_ids, paid_cents, refund_percent, amount_cents)
                SELECT $1, u.id, u.seat_ids, u.total_cents, 100, u.total_cents
                FROM updated u WHERE u.from_status = 'CONFIRMED' AND cardinality(u.seat_ids) > 0
            )
            SELECT count(*) FILTER (WHERE to_status = 'CANCELLED') FROM updated
            "#,
        )
        .bind(show_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(cancelled as u64)
    })
    .await
}

/// Takes free seats off sale (`blocked` = true) or puts blocked seats back on sale, offering
/// them to the show's waiting list first; returns the seats held for offers. All or nothing: a
/// seat that is held or sold (or already in the wanted state) is named in the error.
#[tracing::instrument(skip(pool))]
pub(super) async fn set_blocked(
    pool: &PgPool,
    show_id: i64,
    seat_ids: &[i32],
    blocked: bool,
    offer_seconds: u32,
) -> Result<Vec<i32>, ServiceError> {
    let mut seat_ids = seat_ids.to_vec();
    seat_ids.sort_unstable();
    seat_ids.dedup();
    if seat_ids.is_empty() {
        return Err(AppError::invalid("seats", "Choose at least one seat.").into());
    }
    let seat_ids = &seat_ids;
    let (from, to) = if blocked { ("AVAILABLE", "BLOCKED") } else { ("BLOCKED", "AVAILABLE") };
    retrying(|| async {
        let mut tx = pool.begin().await?;
        let row: BlockRow = sqlx::query_as(
            r#"
            WITH show AS (SELECT status FROM shows WHERE id = $1),
            locked AS (
                SELECT seat_id, label,
                       (status = $3::seat_status
                        OR ($3::seat_status = 'AVAILABLE' AND status = 'HELD' AND held_until < now())) AS changeable
                FROM seats
                WHERE show_id = $1 AND seat_id = ANY($2) AND EXISTS (SELECT 1 FROM show WHERE status = 'ON_SALE')
                ORDER BY seat_id
                FOR UPDATE
            ),
            verdict AS (SELECT count(*) AS found, coalesce(bool_and(changeable), false) AS ok FROM locked),
            changed AS (
                UPDATE seats s SET status = $4::seat_status, booking_id = NULL, held_until = NULL
                FROM locked l, verdict v
                WHERE v.ok AND v.found = cardinality($2) AND s.show_id = $1 AND s.seat_id = l.seat_id
                RETURNING s.seat_id
            )
            SELECT (SELECT status FROM show) AS show_status, v.found, (SELECT count(*) FROM changed) AS changed,
                   ARRAY(SELECT label FROM locked WHERE NOT changeable ORDER BY seat_id) AS refused
            FROM verdict v
            "#,
        )
        .bind(show_id)
        .bind(seat_ids)
        .bind(from)
        .bind(to)
        .fetch_one(&mut *tx)
        .await?;
        let mut offered = Vec::new();
        if row.changed == seat_ids.len() as i64 && !blocked {
            // Seats back on sale go to the waiting list first, in the same transaction.
            offered = waitlist::offer_freed_seats(&mut tx, show_id, offer_seconds).await?;
        }
        tx.commit().await?;
        match row.show_status {
            None => return Err(AppError::ShowNotFound.into()),
            Some(ShowStatus::Cancelled) => return Err(AppError::ShowCancelled.into()),
            Some(ShowStatus::OnSale) => {}
        }
        if row.changed == seat_ids.len() as i64 {
            return Ok(offered);
        }
        if row.found != seat_ids.len() as i64 {
            return Err(AppError::invalid("seats", "Some of the chosen seats do not exist in this show.").into());
        }
        let refused = row.refused;
        let what = if blocked { "free, so they cannot be blocked" } else { "blocked, so they cannot be unblocked" };
        Err(AppError::invalid("seats", format!("Not {what}: {}.", refused.join(", "))).into())
    })
    .await
}


/// Gives a show a new cancellation policy. Bookings made before keep the policy they were made
/// under.
#[tracing::instrument(skip(pool))]
pub(super) async fn set_cancellation_policy(
    pool: &PgPool,
    show_id: i64,
    policy: &CancellationPolicy,
) -> Result<(), ServiceError> {
    let updated = sqlx::query("UPDATE shows SET cancellation_policy = $2 WHERE id = $1")
        .bind(show_id)
        .bind(Json(policy))
        .execute(pool)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::ShowNotFound.into());
    }
    Ok(())
}
