//! The waiting room over REST: a customer's place (read, join, leave, and live as an event
//! stream) and the admin's sale settings (the opening, the room, pause, open now). The
//! waiting-room service decides everything; this maps JSON in and out. The browser's page reads
//! the same event stream.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::stream;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Admin, SignedIn};
use super::error::{ApiError, ApiJson, ApiPath, BadRequest, ErrorBody, Guest, RateLimited};
use crate::api::events::Permit;
use crate::domain::waiting_room::{PlaceInLine, SaleSettings, SaleState, WaitingRoomSettings, WaitingRoomView};
use crate::server::event_streams::StreamPermit;
use crate::server::rate_limit::client_ip;
use crate::server::state::AppState;
use crate::service::waiting_room::{Line, WaitingRooms};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_place, join_waiting_room, leave_waiting_room))
        .routes(routes!(place_events))
        .routes(routes!(get_sale, set_sale))
        .routes(routes!(pause_admissions))
        .routes(routes!(resume_admissions))
        .routes(routes!(open_sale_now))
}

/// A waiting-room join, counted against the client address's limit before anything else.
struct JoinAttempt;

impl FromRequestParts<AppState> for JoinAttempt {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.rate_limits.check_waiting_room_join(client_ip(&parts.extensions))?;
        Ok(Self)
    }
}

/// Your place in the show's waiting room: `place.state` is `outside`, `before_opening`,
/// `waiting` (with `number`, 1 is next, and `eta_seconds`), `admitted` (with
/// `pass_expires_at`: hold and book until then) or `pass_expired`.
#[utoipa::path(get, path = "/shows/{id}/waiting-room", tag = "waiting room",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "The room and your place", body = WaitingRoomView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "`show_not_found`, or `no_waiting_room`: book directly", body = ErrorBody),
        Guest))]
async fn get_place(
    SignedIn(user): SignedIn,
    State(rooms): State<WaitingRooms>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WaitingRoomView>, ApiError> {
    Ok(Json(rooms.view(Some(&user), id).await?))
}

/// Joins the show's waiting room, or keeps the place you have (joining again changes nothing).
/// Before the opening everyone in gets a random place when it comes; after it, the back of the
/// line. When admitted, your pass lets you hold and book this show's seats until it runs out.
#[utoipa::path(post, path = "/shows/{id}/waiting-room", tag = "waiting room",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "In the room: your place", body = WaitingRoomView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "`show_not_found`, or `no_waiting_room`: book directly", body = ErrorBody),
        (status = 409, description = "`show_started` or `show_cancelled`", body = ErrorBody),
        Guest, RateLimited))]
async fn join_waiting_room(
    _attempt: JoinAttempt,
    SignedIn(user): SignedIn,
    State(rooms): State<WaitingRooms>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WaitingRoomView>, ApiError> {
    Ok(Json(rooms.join(&user, id).await?))
}

/// Leaves the show's waiting room, giving up your place (and pass).
#[utoipa::path(delete, path = "/shows/{id}/waiting-room", tag = "waiting room",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "Left: `place.state` is `outside`", body = WaitingRoomView),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "`not_in_waiting_room`, `no_waiting_room` or `show_not_found`", body = ErrorBody),
        Guest, RateLimited))]
async fn leave_waiting_room(
    SignedIn(user): SignedIn,
    State(rooms): State<WaitingRooms>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WaitingRoomView>, ApiError> {
    Ok(Json(rooms.leave(&user, id).await?))
}

/// Your place, live: an endless `text/event-stream` of `place` events, each a
/// `WaitingRoomView`, sent when what you see changes (your number moves, you are admitted, your
/// pass runs out). A `closed` event ends it when the show's waiting room is removed.
#[utoipa::path(get, path = "/shows/{id}/waiting-room/events", tag = "waiting room",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "Server-Sent Events: `place`", content_type = "text/event-stream", body = String),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "`show_not_found` or `no_waiting_room`", body = ErrorBody),
        (status = 429, description = "This client has as many event streams open as it may (see `Retry-After`)", body = ErrorBody),
        Guest))]
async fn place_events(
    SignedIn(user): SignedIn,
    State(rooms): State<WaitingRooms>,
    ApiPath(id): ApiPath<i64>,
    Permit(permit): Permit,
) -> Result<Response, ApiError> {
    let (first, line) = rooms.watch(&user, id).await?;
    let state = PlaceStream {
        user_id: user.id,
        next: Some(first),
        last: None,
        last_sent: std::time::Instant::now(),
        line,
        closed: false,
        _permit: permit,
    };
    let events = stream::unfold(state, |mut state| async move {
        let event = state.next_event().await?;
        Some((Ok::<_, Infallible>(event), state))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

/// How often a waiting customer is told their number moved at most (a change of state, such as
/// their turn, is sent at once): with thousands waiting, the line moves at every read.
const NUMBER_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// One customer's place stream: the first view, then a view whenever what they see changed in
/// this instance's latest read of the line. The permit counts it against the client's streams.
struct PlaceStream {
    user_id: i64,
    next: Option<WaitingRoomView>,
    last: Option<WaitingRoomView>,
    last_sent: std::time::Instant,
    line: tokio::sync::watch::Receiver<Option<std::sync::Arc<Line>>>,
    closed: bool,
    _permit: StreamPermit,
}

impl PlaceStream {
    async fn next_event(&mut self) -> Option<Event> {
        if self.closed {
            return None;
        }
        if let Some(first) = self.next.take() {
            let event = place_event(&first);
            self.last = Some(first);
            return Some(event);
        }
        loop {
            self.line.changed().await.ok()?;
            // Nothing read on this instance yet: wait for the first read.
            let Some(line) = self.line.borrow_and_update().clone() else { continue };
            let Some(view) = line.view(self.user_id, line.read_at) else {
                self.closed = true;
                return Some(Event::default().event("closed").data("{}"));
            };
            if let Some(last) = &self.last {
                // A read that began before the last view (say, before the customer joined)
                // would take them back in time.
                let stale = view.now < last.now;
                let only_moved = matches!((last.place, view.place), (PlaceInLine::Waiting { .. }, PlaceInLine::Waiting { .. }))
                    && self.last_sent.elapsed() < NUMBER_EVERY;
                if stale || only_moved || last.same_for_customer(&view) {
                    continue;
                }
            }
            let event = place_event(&view);
            self.last = Some(view);
            self.last_sent = std::time::Instant::now();
            return Some(event);
        }
    }
}

fn place_event(view: &WaitingRoomView) -> Event {
    Event::default().event("place").data(serde_json::to_string(view).unwrap_or_default())
}

/// How a show's sale opens.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleBody {
    /// Nothing can be held or booked before this; absent or null: on sale at once.
    #[serde(default)]
    sale_opens_at: Option<DateTime<Utc>>,
    /// Absent or null: no waiting room (everyone may book at once).
    #[serde(default)]
    waiting_room: Option<WaitingRoomBody>,
}

/// A waiting room's settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitingRoomBody {
    /// Customers admitted per minute, 1 to 100,000.
    admissions_per_minute: i64,
    /// How many may be admitted at once after the opening or a pause, 1 to 10,000 (default:
    /// five seconds' worth).
    #[serde(default)]
    burst: Option<i64>,
    /// How long a pass lasts, 1 to 1,440 minutes (default 10).
    #[serde(default)]
    pass_minutes: Option<i64>,
}

/// The show's sale (admins only): its opening and its waiting room's figures (waiting,
/// admitted, passes in use).
#[utoipa::path(get, path = "/admin/shows/{id}/sale", tag = "waiting room",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "The sale", body = SaleState),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such show", body = ErrorBody),
        Guest))]
async fn get_sale(_admin: Admin, State(rooms): State<WaitingRooms>, ApiPath(id): ApiPath<i64>) -> Result<Json<SaleState>, ApiError> {
    Ok(Json(rooms.sale(id).await?))
}

/// Sets when the show's sale opens and its waiting room (admins only). The opening can move
/// only while the sale has not opened or nothing has sold (`sale_already_open`); a new rate
/// applies from now on; removing the room lets everyone book at once.
#[utoipa::path(put, path = "/admin/shows/{id}/sale", tag = "waiting room", request_body = SaleBody,
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "The sale as set", body = SaleState),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such show", body = ErrorBody),
        (status = 409, description = "`sale_already_open`: the opening can no longer move", body = ErrorBody),
        BadRequest, Guest))]
async fn set_sale(
    Admin(admin): Admin,
    State(rooms): State<WaitingRooms>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SaleBody>,
) -> Result<Json<SaleState>, ApiError> {
    let waiting_room = match body.waiting_room {
        Some(room) => Some(WaitingRoomSettings::parse(room.admissions_per_minute, room.burst, room.pass_minutes)?),
        None => None,
    };
    let state = rooms.set_sale(id, &SaleSettings { sale_opens_at: body.sale_opens_at, waiting_room }).await?;
    tracing::info!(show_id = id, admin_id = admin.id, "sale settings set through the API");
    Ok(Json(state))
}

/// Pauses the admissions of the show's waiting room (admins only); places stay.
#[utoipa::path(post, path = "/admin/shows/{id}/waiting-room/pause", tag = "waiting room",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "Paused", body = SaleState),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "`show_not_found` or `no_waiting_room`", body = ErrorBody),
        Guest))]
async fn pause_admissions(_admin: Admin, State(rooms): State<WaitingRooms>, ApiPath(id): ApiPath<i64>) -> Result<Json<SaleState>, ApiError> {
    Ok(Json(rooms.set_paused(id, true).await?))
}

/// Resumes the admissions of the show's waiting room (admins only).
#[utoipa::path(post, path = "/admin/shows/{id}/waiting-room/resume", tag = "waiting room",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "Admitting again", body = SaleState),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "`show_not_found` or `no_waiting_room`", body = ErrorBody),
        Guest))]
async fn resume_admissions(_admin: Admin, State(rooms): State<WaitingRooms>, ApiPath(id): ApiPath<i64>) -> Result<Json<SaleState>, ApiError> {
    Ok(Json(rooms.set_paused(id, false).await?))
}

/// Opens the show's sale now, however far away its opening was (admins only).
#[utoipa::path(post, path = "/admin/shows/{id}/sale/open-now", tag = "waiting room",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "Open", body = SaleState),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such show", body = ErrorBody),
        Guest))]
async fn open_sale_now(_admin: Admin, State(rooms): State<WaitingRooms>, ApiPath(id): ApiPath<i64>) -> Result<Json<SaleState>, ApiError> {
    Ok(Json(rooms.open_now(id).await?))
}
