//! Holds and bookings over REST. The booking service decides everything (limits, who may read
//! what, the live feed); this maps JSON in and out.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::SignedIn;
use super::error::{ApiError, ApiJson, ApiPath, BadRequest, ErrorBody, Guest, RateLimited, Unavailable};
use crate::domain::user::User;
use crate::domain::{Booking, BookingStatus, CancellationPolicy, IdempotencyKey, Refund, SeatRequest};
use crate::error::AppError;
use crate::server::state::AppState;
use crate::service::Bookings;
use crate::service::bookings::{Cancelling, Commitment};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_hold))
        .routes(routes!(create_booking))
        .routes(routes!(confirm_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(cancel_seats))
        .routes(routes!(list_bookings))
        .routes(routes!(get_booking))
}

/// Which seats: `seat_ids`, or `seat_count` (best available, optionally in one `category`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatOrderBody {
    /// These seats (ids from the show's seat map), all or nothing.
    #[serde(default)]
    seat_ids: Option<Vec<i64>>,
    /// Or this many of the best seats available, side by side when possible.
    #[serde(default)]
    #[schema(minimum = 1)]
    seat_count: Option<i64>,
    /// With `seat_count`: only seats of this category code.
    #[serde(default)]
    category: Option<String>,
}

impl SeatOrderBody {
    fn into_request(self, max_seats_per_booking: u16) -> Result<SeatRequest, AppError> {
        let too_many = || AppError::TooManySeats { max: max_seats_per_booking };
        match (self.seat_ids, self.seat_count) {
            (Some(ids), None) => {
                if self.category.is_some() {
                    return Err(AppError::invalid(
                        "category",
                        "A category goes with seat_count, not seat_ids.",
                    ));
                }
                // An id beyond i32 names no seat; the service says which seats do not exist.
                let ids = ids
                    .into_iter()
                    .map(|id| {
                        i32::try_from(id)
                            .map_err(|_| AppError::invalid("seat_ids", format!("There is no seat {id}.")))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(SeatRequest::Seats(ids))
            }
            (None, Some(count)) => {
                if count < 1 {
                    return Err(AppError::invalid("seat_count", "Ask for at least one seat."));
                }
                let count = u16::try_from(count).map_err(|_| too_many())?;
                Ok(SeatRequest::BestAvailable { count, category: self.category })
            }
            (Some(_), Some(_)) => {
                Err(AppError::invalid("seat_ids", "Send either seat_ids or seat_count, not both."))
            }
            (None, None) => {
                Err(AppError::invalid("seat_ids", "Send seat_ids (a list of seat ids) or seat_count."))
            }
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiBooking {
    pub id: i64,
    pub show_id: i64,
    pub user_id: i64,
    pub status: BookingStatus,
    pub seats: Vec<ApiBookedSeat>,
    /// Until when the seats are held (PENDING only).
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// What its seats cost now (seats cancelled from it no longer count).
    pub total_cents: i64,
    pub created_at: DateTime<Utc>,
    /// The policy it was made under; later edits to the show's policy do not change it.
    pub cancellation_policy: CancellationPolicy,
    /// Money given back for cancelled seats, oldest first.
    pub refunds: Vec<Refund>,
    pub refunded_cents: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiBookedSeat {
    pub id: i32,
    pub label: String,
}

impl From<Booking> for ApiBooking {
    fn from(b: Booking) -> Self {
        let refunded_cents = b.refunded_cents();
        Self {
            id: b.id,
            show_id: b.show_id,
            user_id: b.user_id,
            status: b.status,
            seats: b.seats.into_iter().map(|s| ApiBookedSeat { id: s.seat_id, label: s.label }).collect(),
            hold_expires_at: b.hold_expires_at,
            total_cents: b.total_cents,
            created_at: b.created_at,
            refunded_cents,
            cancellation_policy: b.cancellation_policy,
            refunds: b.refunds,
        }
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, AppError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().map_err(|_| {
        AppError::invalid("idempotency_key", "An idempotency key is 1 to 200 visible ASCII characters.")
    })?;
    IdempotencyKey::parse(key).map(Some)
}

/// A request for seats of a show, read in the order that gives the most useful refusal:
/// who (401), which show (400), the idempotency key, then the body.
pub struct SeatOrderRequest {
    user: User,
    show_id: i64,
    key: Option<IdempotencyKey>,
    body: SeatOrderBody,
}

impl FromRequest<AppState> for SeatOrderRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = request.into_parts();
        let SignedIn(user) = SignedIn::from_request_parts(&mut parts, state).await?;
        let ApiPath(show_id) = ApiPath::<i64>::from_request_parts(&mut parts, state).await?;
        let key = idempotency_key(&parts.headers)?;
        let ApiJson(body) = ApiJson::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Self { user, show_id, key, body })
    }
}

/// A new booking: 201, its address in `Location` (where it can be read, confirmed, cancelled).
type Created = (StatusCode, [(header::HeaderName, String); 1], Json<ApiBooking>);

impl SeatOrderRequest {
    /// Holds or books the seats through the booking service.
    async fn place(self, state: &AppState, commitment: Commitment) -> Result<Created, ApiError> {
        let bookings = &state.bookings;
        let seats = self.body.into_request(bookings.rules().max_seats_per_booking)?;
        let booking = match commitment {
            Commitment::Hold => bookings.hold(&self.user, self.show_id, seats, self.key).await?,
            Commitment::BookNow => bookings.book_now(&self.user, self.show_id, seats, self.key).await?,
        };
        let location = format!("{}/bookings/{}", super::PREFIX, booking.id);
        Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(booking.into())))
    }
}

/// Why a hold or booking can be refused, for the OpenAPI document.
#[allow(dead_code, reason = "describes answers for the OpenAPI document")]
#[derive(IntoResponses)]
enum SeatOrderRefused {
    /// No such show.
    #[response(status = 404)]
    NoSuchShow(ErrorBody),
    /// `not_admitted`: the show's sale has a waiting room, and you hold no valid pass for it
    /// (join it: `POST /shows/{id}/waiting-room`).
    #[response(status = 403)]
    NotAdmitted(ErrorBody),
    /// `seats_taken` (with `taken_seat_ids`, status FAILED), `not_enough_seats` (status FAILED),
    /// `show_started`, `show_cancelled`, or `sale_not_open` (the sale opens later).
    #[response(status = 409)]
    Conflict(ErrorBody),
}

/// Holds seats for a while (see `hold_expires_at`); confirm the hold to book them.
#[utoipa::path(post, path = "/shows/{id}/holds", tag = "bookings", request_body = SeatOrderBody,
    params(("id" = i64, Path, description = "Show id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: 1 to 200 visible ASCII characters")),
    security(("session" = [])),
    responses((status = 201, description = "The seats are held: status PENDING", body = ApiBooking,
            headers(("Location" = String, description = "The booking: /api/v1/bookings/{id}")),
            links(
                ("ConfirmHold" = (operation_id = "confirm_booking", parameters(("id" = "$response.body#/id")),
                    description = "Confirm this hold")),
                ("CancelHold" = (operation_id = "cancel_booking", parameters(("id" = "$response.body#/id")),
                    description = "Release this hold")),
                ("GetBooking" = (operation_id = "get_booking", parameters(("id" = "$response.body#/id")),
                    description = "Read this booking"))
            )),
        SeatOrderRefused, BadRequest, Guest, RateLimited, Unavailable))]
async fn create_hold(State(state): State<AppState>, request: SeatOrderRequest) -> Result<Created, ApiError> {
    request.place(&state, Commitment::Hold).await
}

/// Books seats at once (hold and confirm in one transaction).
#[utoipa::path(post, path = "/shows/{id}/bookings", tag = "bookings", request_body = SeatOrderBody,
    params(("id" = i64, Path, description = "Show id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: 1 to 200 visible ASCII characters")),
    security(("session" = [])),
    responses((status = 201, description = "The seats are booked: status CONFIRMED", body = ApiBooking,
            headers(("Location" = String, description = "The booking: /api/v1/bookings/{id}")),
            links(
                ("CancelBooking" = (operation_id = "cancel_booking", parameters(("id" = "$response.body#/id")),
                    description = "Cancel this booking")),
                ("GetBooking" = (operation_id = "get_booking", parameters(("id" = "$response.body#/id")),
                    description = "Read this booking"))
            )),
        SeatOrderRefused, BadRequest, Guest, RateLimited, Unavailable))]
async fn create_booking(
    State(state): State<AppState>,
    request: SeatOrderRequest,
) -> Result<Created, ApiError> {
    request.place(&state, Commitment::BookNow).await
}

/// Confirms a hold while it lasts.
#[utoipa::path(post, path = "/bookings/{id}/confirm", tag = "bookings",
    params(("id" = i64, Path, description = "Booking id")), security(("session" = [])),
    responses((status = 200, description = "Booked: status CONFIRMED", body = ApiBooking,
            links(("CancelBooking" = (operation_id = "cancel_booking", parameters(("id" = "$response.body#/id")),
                description = "Cancel this booking")))),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such booking of yours", body = ErrorBody),
        (status = 409, description = "`hold_expired` (status EXPIRED), `show_started`, or the booking was cancelled or failed", body = ErrorBody),
        Guest, RateLimited))]
async fn confirm_booking(
    SignedIn(user): SignedIn,
    State(bookings): State<Bookings>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiBooking>, ApiError> {
    Ok(Json(bookings.confirm(&user, id).await?.into()))
}

/// Cancels a held or confirmed booking before the show starts, as its cancellation policy
/// allows. A confirmed booking is refunded the share its policy gives now (in `refunds`). Its
/// seats go to the show's waiting list, or back on sale.
#[utoipa::path(post, path = "/bookings/{id}/cancel", tag = "bookings",
    params(("id" = i64, Path, description = "Booking id")), security(("session" = [])),
    responses((status = 200, description = "Cancelled: status CANCELLED", body = ApiBooking),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such booking of yours", body = ErrorBody),
        (status = 409, description = "Already cancelled, expired, failed, the show started, or its policy allows no cancelling", body = ErrorBody),
        Guest, RateLimited))]
async fn cancel_booking(
    SignedIn(user): SignedIn,
    State(bookings): State<Bookings>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiBooking>, ApiError> {
    Ok(Json(bookings.cancel(&user, id, Cancelling::Whole).await?.into()))
}

/// Seats of a confirmed booking to cancel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelSeatsBody {
    /// Ids of seats of the booking; the others stay booked. All of them cancels the booking.
    pub seat_ids: Vec<i32>,
}

/// Cancels some seats of a confirmed booking, when its cancellation policy allows it; the rest
/// of the booking stays valid. The cancelled seats are refunded the share the policy gives now.
#[utoipa::path(post, path = "/bookings/{id}/cancel-seats", tag = "bookings", request_body = CancelSeatsBody,
    params(("id" = i64, Path, description = "Booking id")), security(("session" = [])),
    responses((status = 200, description = "Those seats cancelled; the booking with the rest", body = ApiBooking),
        (status = 404, description = "No such booking of yours", body = ErrorBody),
        (status = 409, description = "Not confirmed, the show started, or its policy allows whole bookings only", body = ErrorBody),
        // 400 also for no seats, a seat that is not one of this booking's, or a hold.
        BadRequest, Guest, RateLimited))]
async fn cancel_seats(
    SignedIn(user): SignedIn,
    State(bookings): State<Bookings>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CancelSeatsBody>,
) -> Result<Json<ApiBooking>, ApiError> {
    Ok(Json(bookings.cancel(&user, id, Cancelling::Seats(body.seat_ids)).await?.into()))
}

/// Your bookings, newest first (at most 200).
#[utoipa::path(get, path = "/bookings", tag = "bookings", security(("session" = [])),
    responses((status = 200, description = "Your bookings", body = Vec<ApiBooking>), Guest))]
async fn list_bookings(
    SignedIn(user): SignedIn,
    State(bookings): State<Bookings>,
) -> Result<Json<Vec<ApiBooking>>, ApiError> {
    let list = bookings.list(&user).await?;
    Ok(Json(list.into_iter().map(ApiBooking::from).collect()))
}

/// One of your bookings; admins may read anyone's. Someone else's booking is 404.
#[utoipa::path(get, path = "/bookings/{id}", tag = "bookings",
    params(("id" = i64, Path, description = "Booking id")), security(("session" = [])),
    responses((status = 200, description = "The booking", body = ApiBooking),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such booking of yours", body = ErrorBody), Guest))]
async fn get_booking(
    SignedIn(user): SignedIn,
    State(bookings): State<Bookings>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiBooking>, ApiError> {
    Ok(Json(bookings.get(&user, id).await?.into()))
}
