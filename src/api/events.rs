//! Server-Sent Events: the live feed as open pages receive it (REST clients get the same seat
//! stream under `/api/v1`, see `rest::events`).
//!
//! A seat stream starts with a `snapshot` of every seat, then sends `seats` events with what
//! changed; a subscriber that fell too far behind gets a fresh snapshot instead of the
//! changes it missed, so it never shows a stale seat.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use crate::error::AppError;
use crate::server::error_response::json_error;
use crate::server::event_streams::StreamPermit;
use crate::server::rate_limit::client_ip;
use crate::server::state::AppState;
use crate::service::live::{LiveFeed, SeatSubscription};

/// The streams the browser's pages open.
pub fn browser_routes() -> Router<AppState> {
    Router::new()
        .route("/shows/{show_id}/events", get(seat_events))
        .route("/events/availability", get(availability_events))
}

/// A place for one more stream from this client (see `server::event_streams`), or the 429.
/// It counts until the stream's response is dropped.
pub struct Permit(pub StreamPermit);

impl FromRequestParts<AppState> for Permit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let permit = state.rate_limits.open_event_stream(client_ip(&parts.extensions));
        permit.map(Permit).map_err(|error| json_error(&error))
    }
}

pub async fn seat_events(State(feed): State<LiveFeed>, Path(show_id): Path<String>, Permit(permit): Permit) -> Response {
    let Ok(show_id) = show_id.parse::<i64>() else {
        return error_response(AppError::invalid("show_id", "A show id is a whole number."));
    };
    match feed.subscribe(show_id).await {
        Ok(subscription) => Sse::new(seat_stream(feed, show_id, subscription, permit))
            .keep_alive(KeepAlive::default())
            .into_response(),
        Err(error) => error_response(error.into()),
    }
}

/// The stream's state: the permit lives (and counts) as long as the stream does.
struct SeatStream {
    feed: LiveFeed,
    subscription: SeatSubscription,
    snapshot_sent: bool,
    _permit: StreamPermit,
}

fn seat_stream(
    feed: LiveFeed,
    show_id: i64,
    subscription: SeatSubscription,
    permit: StreamPermit,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let state = SeatStream { feed, subscription, snapshot_sent: false, _permit: permit };
    stream::unfold(state, move |mut state| async move {
        if !state.snapshot_sent {
            state.snapshot_sent = true;
            let snapshot = Event::default().event("snapshot").data(&*state.subscription.snapshot);
            return Some((Ok(snapshot), state));
        }
        loop {
            match state.subscription.changes.recv().await {
                // Already in the snapshot this subscriber started from.
                Ok(batch) if batch.version <= state.subscription.version => continue,
                Ok(batch) => return Some((Ok(Event::default().event("seats").data(&*batch.json)), state)),
                Err(RecvError::Lagged(_)) => {
                    // Too far behind: start again from a fresh snapshot.
                    state.subscription = state.feed.subscribe(show_id).await.ok()?;
                    let snapshot = Event::default().event("snapshot").data(&*state.subscription.snapshot);
                    return Some((Ok(snapshot), state));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// Seats left of every show whose seats change, for open show lists.
pub async fn availability_events(State(feed): State<LiveFeed>, Permit(permit): Permit) -> Response {
    let updates = feed.subscribe_availability();
    let stream = stream::unfold((updates, permit), |(mut updates, permit)| async move {
        loop {
            match updates.recv().await {
                Ok(batch) => return Some((Ok::<_, Infallible>(event("availability", &batch)), (updates, permit))),
                // Counts are absolute: the next batch repairs anything skipped.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

fn event<T: serde::Serialize + ?Sized>(name: &str, data: &T) -> Event {
    Event::default().event(name).data(serde_json::to_string(data).unwrap_or_else(|_| "[]".into()))
}

fn error_response(error: AppError) -> Response {
    json_error(&error)
}
