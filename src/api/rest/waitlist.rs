//! The waiting list over REST: join, read, leave, decline. The waiting-list service decides
//! everything; this maps JSON in and out. Accepting an offer is confirming its booking
//! (`POST /bookings/{id}/confirm`, the offer's `booking_id`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::SignedIn;
use super::error::{ApiError, ApiJson, ApiPath, BadRequest, ErrorBody, Guest, RateLimited};
use crate::domain::waitlist::{WaitlistEntry, WaitlistJoin};
use crate::server::state::AppState;
use crate::service::waitlist::Waitlist;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join_waitlist, get_waitlist_entry, leave_waitlist))
        .routes(routes!(decline_waitlist_offer))
}

/// Who is waiting: a party of 1 to the per-booking maximum, optionally for one seat category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    #[schema(minimum = 1)]
    party_size: i64,
    /// Only seats of this category code (e.g. "PREMIUM"); any category when absent.
    #[serde(default)]
    category: Option<String>,
}

/// Why joining can be refused, for the OpenAPI document.
#[allow(dead_code, reason = "describes answers for the OpenAPI document")]
#[derive(IntoResponses)]
enum JoinRefused {
    /// No such show.
    #[response(status = 404)]
    NoSuchShow(ErrorBody),
    /// `already_waiting`, `seats_available` (the show still has seats for the party: book
    /// them), `show_started` or `show_cancelled`.
    #[response(status = 409)]
    Conflict(ErrorBody),
}

/// Joins the waiting list of a sold-out (or nearly sold-out) show. When seats come back, they
/// are held for the first waiting customer whose party fits: the entry becomes OFFERED, with
/// the seats and the deadline; confirm its `booking_id` to book them.
#[utoipa::path(post, path = "/shows/{id}/waitlist", tag = "waitlist", request_body = JoinBody,
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 201, description = "On the list: status WAITING, with the place", body = WaitlistEntry),
        JoinRefused, BadRequest, Guest, RateLimited))]
async fn join_waitlist(
    SignedIn(user): SignedIn,
    State(waitlist): State<Waitlist>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<JoinBody>,
) -> Result<(StatusCode, Json<WaitlistEntry>), ApiError> {
    let join = WaitlistJoin::parse(body.party_size, body.category.as_deref(), waitlist.max_party())?;
    Ok((StatusCode::CREATED, Json(waitlist.join(&user, id, join).await?)))
}

/// Your entry on the show's waiting list (the latest, whatever its status): your place while
/// WAITING, the seats held for you while OFFERED.
#[utoipa::path(get, path = "/shows/{id}/waitlist", tag = "waitlist",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "Your entry", body = WaitlistEntry),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "`not_waiting` (you never joined this show's list) or `show_not_found`", body = ErrorBody),
        Guest))]
async fn get_waitlist_entry(
    SignedIn(user): SignedIn,
    State(waitlist): State<Waitlist>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WaitlistEntry>, ApiError> {
    Ok(Json(waitlist.my_entry(&user, id).await?))
}

/// Leaves the show's waiting list, declining seats held for you (they go to the next waiting
/// customer whose party fits, or back on sale).
#[utoipa::path(delete, path = "/shows/{id}/waitlist", tag = "waitlist",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "Left: status LEFT", body = WaitlistEntry),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "`not_waiting`: you are not on this show's list", body = ErrorBody),
        Guest, RateLimited))]
async fn leave_waitlist(
    SignedIn(user): SignedIn,
    State(waitlist): State<Waitlist>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WaitlistEntry>, ApiError> {
    Ok(Json(waitlist.leave(&user, id).await?))
}

/// Declines the seats held for you: they go to the next waiting customer whose party fits, or
/// back on sale.
#[utoipa::path(post, path = "/shows/{id}/waitlist/decline", tag = "waitlist",
    params(("id" = i64, Path, description = "Show id")), security(("session" = [])),
    responses((status = 200, description = "Declined: status DECLINED", body = WaitlistEntry),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "`not_waiting`: you are not on this show's list", body = ErrorBody),
        (status = 409, description = "`no_offer`: no seats are held for you now", body = ErrorBody),
        Guest, RateLimited))]
async fn decline_waitlist_offer(
    SignedIn(user): SignedIn,
    State(waitlist): State<Waitlist>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WaitlistEntry>, ApiError> {
    Ok(Json(waitlist.decline(&user, id).await?))
}
