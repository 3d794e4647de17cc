use sqlx::{PgPool, Row};

use super::ServiceError;
use crate::domain::new_show::Place;
use crate::domain::{NewShow, Seat, SeatCategory, SeatMap, ShowSearch, ShowSummary};
use crate::error::AppError;

/// Most shows one list returns; the list is a storefront, not an export.
const LIST_LIMIT: i64 = 200;

/// Shows and trips on sale that have not started, soonest first, matching the search text in
/// the title, venue, origin or destination. Seat counts are derived from the seats (there is
/// no counter row that every booking would have to update).
#[tracing::instrument(skip(pool))]
pub async fn list_upcoming(pool: &PgPool, search: &ShowSearch) -> Result<Vec<ShowSummary>, ServiceError> {
    summaries(pool, Some(search), true, None).await
}

/// Every show and trip, past and cancelled ones too, soonest first, matching the search text.
#[tracing::instrument(skip(pool))]
pub async fn list_all(pool: &PgPool, search: &ShowSearch) -> Result<Vec<ShowSummary>, ServiceError> {
    summaries(pool, Some(search), false, None).await
}

/// One show or trip as the lists show it, whatever its status.
#[tracing::instrument(skip(pool))]
pub async fn summary(pool: &PgPool, show_id: i64) -> Result<ShowSummary, ServiceError> {
    summaries(pool, None, false, Some(show_id))
        .await?
        .pop()
        .ok_or(ServiceError::Rejected(AppError::ShowNotFound))
}

async fn summaries(
    pool: &PgPool,
    search: Option<&ShowSearch>,
    upcoming_only: bool,
    show_id: Option<i64>,
) -> Result<Vec<ShowSummary>, ServiceError> {
    let pattern = search.and_then(ShowSearch::text).map(|text| format!("%{}%", escape_like(text)));
    let shows = sqlx::query_as::<_, ShowSummary>(
        r#"
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
        WHERE (NOT $3 OR (sh.status = 'ON_SALE' AND sh.starts_at > now()))
          AND ($4::bigint IS NULL OR sh.id = $4)
          AND ($1::text IS NULL
               OR sh.title ILIKE $1 OR sh.venue ILIKE $1 OR sh.origin ILIKE $1 OR sh.destination ILIKE $1)
        ORDER BY sh.starts_at, sh.id
        LIMIT $2
        "#,
    )
    .bind(pattern)
    .bind(LIST_LIMIT)
    .bind(upcoming_only)
    .bind(show_id)
    .fetch_all(pool)
    .await?;
    Ok(shows)
}

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
        "INSERT INTO shows (kind, title, venue, origin, destination, starts_at, hold_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(show.kind)
    .bind(&show.title)
    .bind(venue)
    .bind(origin)
    .bind(destination)
    .bind(show.starts_at)
    .bind(show.hold_seconds)
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

/// Every seat of a show with its status as a customer should read it: a hold that ran out
/// reads as AVAILABLE even before the expiry worker has released it.
#[tracing::instrument(skip(pool))]
pub async fn seat_map(pool: &PgPool, show_id: i64) -> Result<SeatMap, ServiceError> {
    let show = sqlx::query("SELECT id, kind, title, starts_at, status FROM shows WHERE id = $1")
        .bind(show_id)
        .fetch_optional(pool)
        .await?
        .ok_or(ServiceError::Rejected(AppError::ShowNotFound))?;
    let categories = sqlx::query(
        "SELECT code, name, price_cents, rank FROM seat_categories WHERE show_id = $1 ORDER BY rank",
    )
    .bind(show_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(SeatCategory {
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            price_cents: row.try_get("price_cents")?,
            rank: row.try_get("rank")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let seats = sqlx::query_as::<_, Seat>(
        "SELECT seat_id, row_label, number, label, grid_row, grid_col, category,
                CASE WHEN status = 'HELD' AND held_until < now() THEN 'AVAILABLE' ELSE status END AS status
         FROM seats WHERE show_id = $1 ORDER BY seat_id",
    )
    .bind(show_id)
    .fetch_all(pool)
    .await?;
    Ok(SeatMap {
        show_id,
        kind: show.try_get("kind")?,
        title: show.try_get("title")?,
        starts_at: show.try_get("starts_at")?,
        status: show.try_get("status")?,
        categories,
        seats,
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
