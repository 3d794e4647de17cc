//! Offering freed seats to the waiting list: inside the transaction that freed them, under the
//! show's offering lock, the free seats are locked and held for the first waiting customer
//! whose party fits (join order), then the next one whose party fits what is left, and so on.
//!
//! Lock order, shared with every path that frees seats: booking rows, then seats in seat-id
//! order, then waitlist entries (the `waitlist_follows_booking` trigger), then this show's
//! offering lock (`pg_advisory_xact_lock`). Whoever holds the offering lock never waits for a
//! booking or a seat (seats are taken `SKIP LOCKED`: a seat a concurrent claim has locked is
//! being taken), so a transaction that holds seats and waits for the lock cannot deadlock.

use std::collections::HashSet;

use sqlx::PgConnection;

use crate::domain::best_available;
use crate::domain::{Seat, SeatStatus};
use crate::service::shows::catalog;

/// Advisory-lock key space of the waiting list: "WAIT" in the high 32 bits of the one-bigint
/// key form, the show id in the low ones. The other advisory locks of Box Office are the
/// two-int form (claims: customer's turn on a show) or `hashtext(...)` (an int4 value, sessions),
/// so no key here equals one of theirs.
const LOCK_TAG: i64 = 0x5741_4954 << 32;

/// This show's offering lock key.
pub(super) fn lock_key(show_id: i64) -> i64 {
    LOCK_TAG | (show_id & 0xFFFF_FFFF)
}

/// Takes the show's offering lock for the rest of the transaction (re-entrant).
pub(super) async fn lock_show(conn: &mut PgConnection, show_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(lock_key(show_id)).execute(&mut *conn).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct WaitingRow {
    id: i64,
    user_id: i64,
    party_size: i16,
    category: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SeatRow {
    seat_id: i32,
    row_label: String,
    number: i32,
    label: String,
    grid_row: i16,
    grid_col: i16,
    category: String,
    /// AVAILABLE and locked by this transaction.
    free: bool,
}

/// See `super::offer_freed_seats`.
pub(super) async fn offer(conn: &mut PgConnection, show_id: i64, offer_seconds: u32) -> Result<Vec<i32>, sqlx::Error> {
    lock_show(conn, show_id).await?;
    // Read after the lock: a new statement sees every offer and every entry committed before.
    let mut waiting: Vec<WaitingRow> = sqlx::query_as(
        "SELECT e.id, e.user_id, e.party_size, e.category
         FROM waitlist_entries e JOIN shows sh ON sh.id = e.show_id
         WHERE e.show_id = $1 AND e.status = 'WAITING' AND show_is_selling(sh.status, sh.starts_at)
         ORDER BY e.id",
    )
    .bind(show_id)
    .fetch_all(&mut *conn)
    .await?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    // The free seats, locked in seat-id order; a seat someone else has locked is being taken.
    let rows: Vec<SeatRow> = sqlx::query_as(
        "WITH free AS MATERIALIZED (
             SELECT seat_id FROM seats
             WHERE show_id = $1 AND status = 'AVAILABLE'
             ORDER BY seat_id
             FOR UPDATE SKIP LOCKED
         )
         SELECT s.seat_id, s.row_label, s.number, s.label, s.grid_row, s.grid_col, s.category,
                f.seat_id IS NOT NULL AS free
         FROM seats s LEFT JOIN free f ON f.seat_id = s.seat_id
         WHERE s.show_id = $1
         ORDER BY s.seat_id",
    )
    .bind(show_id)
    .fetch_all(&mut *conn)
    .await?;
    if !rows.iter().any(|r| r.free) {
        return Ok(Vec::new());
    }
    let categories = catalog::categories(&mut *conn, show_id).await?;
    let mut seats: Vec<Seat> = rows
        .into_iter()
        .map(|r| Seat {
            seat_id: r.seat_id,
            row_label: r.row_label,
            number: r.number,
            label: r.label,
            grid_row: r.grid_row,
            grid_col: r.grid_col,
            category: r.category,
            // Anything not free to offer counts as taken for the choice.
            status: if r.free { SeatStatus::Available } else { SeatStatus::Booked },
        })
        .collect();

    let mut offered = Vec::new();
    // After each offer, start again from the first customer in the queue: the first whose
    // party fits what is left gets it.
    'offering: loop {
        let free = seats.iter().filter(|s| s.status == SeatStatus::Available).count();
        for (i, entry) in waiting.iter().enumerate() {
            let party = entry.party_size.max(1) as usize;
            if party > free {
                continue;
            }
            let Some(chosen) = best_available::choose_for_party(&seats, &categories, party, entry.category.as_deref())
            else {
                continue;
            };
            if hold_for(conn, show_id, entry, &chosen, offer_seconds).await? {
                let chosen_set: HashSet<i32> = chosen.iter().copied().collect();
                for seat in seats.iter_mut().filter(|s| chosen_set.contains(&s.seat_id)) {
                    seat.status = SeatStatus::Held;
                }
                offered.extend(chosen);
            }
            // Offered, or no longer waiting (left meanwhile): either way not again.
            waiting.remove(i);
            continue 'offering;
        }
        break;
    }
    offered.sort_unstable();
    Ok(offered)
}

/// Holds `seat_ids` for the entry: a PENDING booking of the customer's (under the show's
/// cancellation policy) until the offer's deadline, its seats HELD with `held_until =
/// 'infinity'` (so no claim takes them even after the deadline, until the waiting list passes
/// them on), and the entry OFFERED. One statement, all or nothing: false when the entry is no
/// longer waiting (it left meanwhile) and nothing was written.
async fn hold_for(
    conn: &mut PgConnection,
    show_id: i64,
    entry: &WaitingRow,
    seat_ids: &[i32],
    offer_seconds: u32,
) -> Result<bool, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        r#"
        WITH wanted AS (
            SELECT count(*) AS seats, coalesce(sum(c.price_cents), 0)::bigint AS total_cents
            FROM seats s JOIN seat_categories c ON c.show_id = s.show_id AND c.code = s.category
            WHERE s.show_id = $1 AND s.seat_id = ANY($3) AND s.status = 'AVAILABLE'
        ),
        drawn AS (SELECT nextval(pg_get_serial_sequence('bookings', 'id')) AS id),
        entry AS (
            UPDATE waitlist_entries e SET status = 'OFFERED', booking_id = d.id, updated_at = now()
            FROM drawn d, wanted w
            WHERE e.show_id = $1 AND e.id = $4 AND e.status = 'WAITING' AND w.seats = cardinality($3)
            RETURNING e.booking_id
        ),
        booking AS (
            INSERT INTO bookings (id, show_id, user_id, status, seat_ids, total_cents, hold_expires_at, request,
                                  cancellation_policy, waitlist_entry_id)
            OVERRIDING SYSTEM VALUE
            SELECT entry.booking_id, $1, $2, 'PENDING', $3, w.total_cents,
                   now() + make_interval(secs => $5::float8),
                   'waiting list offer, entry ' || $4::text, sh.cancellation_policy, $4
            FROM entry, wanted w, shows sh
            WHERE sh.id = $1
            RETURNING id, seat_ids
        ),
        held AS (
            UPDATE seats s SET status = 'HELD', booking_id = b.id, held_until = 'infinity'
            FROM booking b
            WHERE s.show_id = $1 AND s.seat_id = ANY(b.seat_ids) AND s.status = 'AVAILABLE'
            RETURNING s.seat_id
        ),
        event AS (
            INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids, detail)
            SELECT $1, b.id, NULL, 'PENDING', b.seat_ids, 'offered from the waiting list' FROM booking b
        )
        SELECT b.id, (SELECT count(*) FROM held) AS held FROM booking b
        "#,
    )
    .bind(show_id)
    .bind(entry.user_id)
    .bind(seat_ids)
    .bind(entry.id)
    .bind(f64::from(offer_seconds))
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => Ok(false),
        Some((_, held)) if held == seat_ids.len() as i64 => Ok(true),
        Some((booking_id, held)) => {
            // The seats were locked by this transaction and AVAILABLE: this cannot happen.
            // Failing rolls the whole transaction back rather than leave a booking without
            // its seats.
            tracing::error!(booking_id, held, wanted = seat_ids.len(), "an offer held fewer seats than it chose");
            Err(sqlx::Error::Protocol(format!("waiting-list offer {booking_id} held {held} of {} seats", seat_ids.len())))
        }
    }
}
