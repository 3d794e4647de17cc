use leptos::prelude::*;

use crate::domain::ShowSummary;
use crate::error::AppError;

/// Upcoming shows and trips on sale, optionally narrowed by a search text and a day.
#[server(prefix = "/rpc", endpoint = "list_shows")]
pub async fn list_shows(
    search: String,
    #[server(default)] date: String,
) -> Result<Vec<ShowSummary>, AppError> {
    use crate::domain::ShowSearch;
    use crate::server::context::{pool, reject};

    let search = ShowSearch::parse(&search).and_then(|s| s.on_date(&date)).map_err(reject)?;
    crate::service::shows::list_upcoming(&pool()?, &search).await.map_err(|e| reject(e.into()))
}
