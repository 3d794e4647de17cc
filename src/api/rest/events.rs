//! The live seat feed for API clients: the same Server-Sent Events stream as the browser's.

use axum::extract::{Path, State};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::state::AppState;
use crate::service::live::LiveFeed;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(seat_events))
}

/// A show's seats, live: an endless `text/event-stream`. First a `snapshot` event with every
/// seat's id by state (`{"AVAILABLE":[1,2],"HELD":[3]}`), then `seats` events with the seats
/// whose state changed, in the same shape. A client that falls behind is sent a fresh snapshot.
#[utoipa::path(get, path = "/shows/{id}/events", tag = "shows",
    params(("id" = String, Path, description = "Show id")),
    responses((status = 200, description = "Server-Sent Events: `snapshot`, then `seats`", content_type = "text/event-stream", body = String),
        (status = 400, description = "The id is not a number", body = super::error::ErrorBody),
        (status = 404, description = "No such show", body = super::error::ErrorBody)))]
async fn seat_events(feed: State<LiveFeed>, id: Path<String>) -> Response {
    crate::api::events::seat_events(feed, id).await
}
