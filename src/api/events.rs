//! Server-Sent Events: the live feed as open pages receive it (REST clients get the same seat
//! stream under `/api/v1`, see `rest::events`).
//!
//! A seat stream starts with a `snapshot` of every seat, then sends `seats` events with what
//! changed; a subscriber that fell too far behind gets a fresh snapshot instead of the
//! changes it missed, so it never shows a stale seat.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use crate::error::AppError;
use crate::server::error_response::json_error;
use crate::server::state::AppState;
use crate::service::live::{LiveFeed, SeatSubscription};

/// The streams the browser's pages open.
pub fn browser_routes() -> Router<AppState> {
    Router::new()
        .route("/shows/{show_id}/events", get(seat_events))
        .route("/events/availability", get(availability_events))
}

pub async fn seat_events(State(feed): State<LiveFeed>, Path(show_id): Path<String>) -> Response {
    let Ok(show_id) = show_id.parse::<i64>() else {
        return error_response(AppError::invalid("show_id", "A show id is a whole number."));
    };
    match feed.subscribe(show_id).await {
        Ok(subscription) => Sse::new(seat_stream(feed, show_id, subscription))
            .keep_alive(KeepAlive::default())
            .into_response(),
        Err(error) => error_response(error.into()),
    }
}

fn seat_stream(
    feed: LiveFeed,
    show_id: i64,
    subscription: SeatSubscription,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let first = Some(event("snapshot", &subscription.snapshot));
    stream::unfold((feed, subscription.changes, first), move |(feed, mut changes, first)| async move {
        if let Some(first) = first {
            return Some((Ok(first), (feed, changes, None)));
        }
        match changes.recv().await {
            Ok(batch) => Some((Ok(Event::default().event("seats").data(&*batch)), (feed, changes, None))),
            Err(RecvError::Lagged(_)) => match feed.subscribe(show_id).await {
                Ok(fresh) => Some((Ok(event("snapshot", &fresh.snapshot)), (feed, fresh.changes, None))),
                Err(_) => None,
            },
            Err(RecvError::Closed) => None,
        }
    })
}

/// Seats left of every show whose seats change, for open show lists.
pub async fn availability_events(State(feed): State<LiveFeed>) -> Response {
    let updates = feed.subscribe_availability();
    let stream = stream::unfold(updates, |mut updates| async move {
        loop {
            match updates.recv().await {
                Ok(batch) => return Some((Ok::<_, Infallible>(event("availability", &batch)), updates)),
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
