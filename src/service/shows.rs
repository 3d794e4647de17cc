use sqlx::PgPool;

use super::ServiceError;
use crate::domain::{ShowSearch, ShowSummary};

/// Most shows one list returns; the list is a storefront, not an export.
const LIST_LIMIT: i64 = 200;

/// Shows and trips on sale that have not started, soonest first, matching the search text in
/// the title, venue, origin or destination.
#[tracing::instrument(skip(pool))]
pub async fn list_upcoming(
    pool: &PgPool,
    search: &ShowSearch,
) -> Result<Vec<ShowSummary>, ServiceError> {
    let pattern = search.text().map(|text| format!("%{}%", escape_like(text)));
    let shows = sqlx::query_as::<_, ShowSummary>(
        r#"
        SELECT id, kind, title, venue, origin, destination, starts_at, status
        FROM shows
        WHERE status = 'ON_SALE'
          AND starts_at > now()
          AND ($1::text IS NULL
               OR title ILIKE $1 OR venue ILIKE $1 OR origin ILIKE $1 OR destination ILIKE $1)
        ORDER BY starts_at, id
        LIMIT $2
        "#,
    )
    .bind(pattern)
    .bind(LIST_LIMIT)
    .fetch_all(pool)
    .await?;
    Ok(shows)
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
