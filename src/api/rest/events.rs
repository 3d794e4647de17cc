//! The live seat feed for API clients: the same Server-Sent Events stream as the browser's,
//! under the same cap on streams per client.

use axum::extract::{Path, State};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::events::Permit;
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
        (status = 404, description = "No such show", body = super::error::ErrorBody),
        (status = 429, description = "This client has as many event streams open as it may (see `Retry-After`)", body = super::error::ErrorBody)))]
async fn seat_events(feed: State<LiveFeed>, id: Path<String>, permit: Permit) -> Response {
    crate::api::events::seat_events(feed, id, permit).await
}
