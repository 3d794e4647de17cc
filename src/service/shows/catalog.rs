//! What customers read about shows: the list, one show's summary, its seat map. Seat counts
//! are derived from the seats (no counter row that every booking would have to update).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::{CancellationPolicy, Seat, SeatCategory, SeatMap, SeatStatus, ShowKind, ShowSearch, ShowStatus, ShowSummary};
use crate::error::AppError;
use crate::service::ServiceError;

/// Most shows one list returns; the list is a storefront, not an export.
const LIST_LIMIT: i64 = 200;

const SUMMARY_SELECT: &str = r#"
    SELECT sh.id, sh.kind, sh.title, sh.venue, sh.origin, sh.destination, sh.starts_at, sh.status,
           counts.total_seats, counts.available_seats,
           (SELECT min(price_cents) FROM seat_categories c WHERE c.show_id = sh.id) AS min_price_cents
    FROM shows sh
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE s.status <> 'BLOCKED') AS total_seats,
               count(*) FILTER (WHERE s.status = 'AVAILABLE'
                                   OR (s.status = 'HELD' AND s.held_until < now())) AS available_seats
        FROM seats s WHERE s.show_id = sh.id
    ) AS counts
"#;

/// The columns of `shows` that lists and the admin's figures both show.
#[derive(sqlx::FromRow)]
pub(super) struct ShowColumns {
    pub id: i64,
    pub kind: ShowKind,
    pub title: String,
    pub venue: Option<String>,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub status: ShowStatus,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    show: ShowColumns,
    total_seats: i64,
    available_seats: i64,
    min_price_cents: Option<i64>,
}

impl From<SummaryRow> for ShowSummary {
    fn from(SummaryRow { show, total_seats, available_seats, min_price_cents }: SummaryRow) -> Self {
        Self {
            id: show.id,
            kind: show.kind,
            title: show.title,
            venue: show.venue,
            origin: show.origin,
            destination: show.destination,
            starts_at: show.starts_at,
            status: show.status,
            total_seats,
            available_seats,
            min_price_cents,
        }
    }
}

/// Shows and trips matching the search, soonest first: by default those still selling (see
/// `show_is_selling`), with `include_past` every one. The text matches the title, venue, origin
/// or destination; the day, when given, the start.
#[tracing::instrument(skip(db))]
pub async fn list(db: impl sqlx::PgExecutor<'_>, search: &ShowSearch) -> Result<Vec<ShowSummary>, ServiceError> {
    let pattern = search.text().map(|text| format!("%{}%", escape_like(text)));
    let sql = format!(
        "{SUMMARY_SELECT}
        WHERE ($4 OR show_is_selling(sh.status, sh.starts_at))
          AND ($1::text IS NULL
               OR sh.title ILIKE $1 OR sh.venue ILIKE $1 OR sh.origin ILIKE $1 OR sh.destination ILIKE $1)
          AND ($3::date IS NULL
               OR (sh.starts_at >= ($3::date)::timestamp AT TIME ZONE 'UTC'
                   AND sh.starts_at < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'))
        ORDER BY sh.starts_at, sh.id
        LIMIT $2"
    );
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
        .bind(pattern)
        .bind(LIST_LIMIT)
        .bind(search.date())
        .bind(search.include_past())
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(ShowSummary::from).collect())
}

/// The given shows, whatever their state (for pages about one show or a customer's bookings).
#[tracing::instrument(skip(pool))]
pub async fn summaries(pool: &PgPool, show_ids: &[i64]) -> Result<Vec<ShowSummary>, ServiceError> {
    let sql = format!("{SUMMARY_SELECT} WHERE sh.id = ANY($1)");
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql).bind(show_ids).fetch_all(pool).await?;
    Ok(rows.into_iter().map(ShowSummary::from).collect())
}

/// One show or trip as the lists show it, whatever its status.
pub async fn summary(pool: &PgPool, show_id: i64) -> Result<ShowSummary, ServiceError> {
    summaries(pool, &[show_id]).await?.pop().ok_or(AppError::ShowNotFound.into())
}

#[derive(sqlx::FromRow)]
struct SeatMapShowRow {
    kind: ShowKind,
    title: String,
    starts_at: DateTime<Utc>,
    status: ShowStatus,
    cancellation_policy: sqlx::types::Json<CancellationPolicy>,
    sale_opens_at: Option<DateTime<Utc>>,
    waiting_room: bool,
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
    status: SeatStatus,
}

/// A show's price bands, best first.
pub(crate) async fn categories(conn: impl sqlx::PgExecutor<'_>, show_id: i64) -> Result<Vec<SeatCategory>, sqlx::Error> {
    sqlx::query_as("SELECT code, name, price_cents, rank FROM seat_categories WHERE show_id = $1 ORDER BY rank")
        .bind(show_id)
        .fetch_all(conn)
        .await
}

/// Every seat of a show with its status as a customer should read it: a hold that ran out
/// reads as AVAILABLE even before the expiry worker has released it.
#[tracing::instrument(skip(pool))]
pub async fn seat_map(pool: &PgPool, show_id: i64) -> Result<SeatMap, ServiceError> {
    let show: SeatMapShowRow = sqlx::query_as("SELECT kind, title, starts_at, status, cancellation_policy,
                sale_opens_at,
                EXISTS (SELECT 1 FROM waiting_rooms r WHERE r.show_id = shows.id) AS waiting_room
         FROM shows WHERE id = $1")
        .bind(show_id)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::ShowNotFound)?;
    let categories = categories(pool, show_id).await?;
    let seats: Vec<SeatRow> = sqlx::query_as(
        "SELECT seat_id, row_label, number, label, grid_row, grid_col, category,
                CASE WHEN status = 'HELD' AND held_until < now()
                          -- With customers waiting, the expiry worker hands a lapsed hold's
                          -- seats to them (claims leave them alone meanwhile).
                          AND NOT EXISTS (SELECT 1 FROM waitlist_entries e WHERE e.show_id = $1 AND e.status = 'WAITING')
                     THEN 'AVAILABLE' ELSE status END AS status
         FROM seats WHERE show_id = $1 ORDER BY seat_id",
    )
    .bind(show_id)
    .fetch_all(pool)
    .await?;
    Ok(SeatMap {
        show_id,
        kind: show.kind,
        title: show.title,
        starts_at: show.starts_at,
        status: show.status,
        cancellation_policy: show.cancellation_policy.0,
        sale_opens_at: show.sale_opens_at,
        waiting_room: show.waiting_room,
        categories,
        seats: seats
            .into_iter()
            .map(|s| Seat {
                seat_id: s.seat_id,
                row_label: s.row_label,
                number: s.number,
                label: s.label,
                grid_row: s.grid_row,
                grid_col: s.grid_col,
                category: s.category,
                status: s.status,
            })
            .collect(),
    })
}

/// Makes `%`, `_` and `\` in user text match themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_in_user_text_are_escaped() {
        assert_eq!(super::escape_like(r"50%_off\"), r"50\%\_off\\");
    }
}
