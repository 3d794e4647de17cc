//! The show list for the browser.

use leptos::prelude::*;

use crate::domain::ShowSummary;
use crate::error::AppError;

/// Shows and trips, soonest first, narrowed by a search text and a day; upcoming ones on sale
/// unless `all` asks for past and cancelled ones too (the same filters as REST).
#[server(prefix = "/rpc", endpoint = "list_shows")]
pub async fn list_shows(
    search: String,
    #[server(default)] date: String,
    #[server(default)] all: bool,
) -> Result<Vec<ShowSummary>, AppError> {
    use crate::domain::ShowSearch;

    let search = ShowSearch::parse(&search)?.on_date(&date)?.including_past(all);
    Ok(crate::server::context::app_state()?.shows.list(&search).await?)
}
