//! How the API says no: always JSON `{"error": sentence, "code": machine_code, ...}`, with the
//! status of the `AppError`. axum's own rejections (bad JSON, bad path or query) are mapped
//! here, so no plain-text error ever leaves the API.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::domain::{Booking, BookingFailure, BookingStatus};
use crate::error::AppError;
use crate::server::rate_limit::with_retry_after;

/// The most a request body may carry.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    /// For `seats_taken`: the ids of the seats that were taken.
    pub taken_seat_ids: Option<Vec<i32>>,
    /// The FAILED booking that recorded the refusal, when there is one.
    pub booking_id: Option<i64>,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A sentence for a person.
    #[schema(example = "Sorry, seat C7 was just taken by someone else.")]
    pub error: String,
    /// A stable code for a program, e.g. `invalid_input`, `seats_taken`, `not_enough_seats`,
    /// `hold_expired`, `not_signed_in`, `forbidden`, `rate_limited`.
    #[schema(example = "seats_taken")]
    pub code: String,
    /// For `invalid_input`: the field at fault, e.g. `rows[2].aisles_after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The booking's status, when the refusal is about a booking: FAILED for `seats_taken` and
    /// `not_enough_seats`, EXPIRED for `hold_expired`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BookingStatus>,
    /// For `seats_taken`: the seats taken, by id and by label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_seat_ids: Option<Vec<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_seats: Option<Vec<String>>,
    /// For `seats_taken` and `not_enough_seats`: the FAILED booking recording the attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<i64>,
    /// For `not_enough_seats`: how many seats (of the category asked for) are left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_seats: Option<u32>,
    /// For `too_many_seats`: the most seats one booking may take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_seats: Option<u16>,
    /// For `rate_limited`: the same as the `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self { error, taken_seat_ids: None, booking_id: None }
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(error: crate::service::ServiceError) -> Self {
        AppError::from(error).into()
    }
}

impl ApiError {
    /// The refusal for a booking that did not get its seats, naming them by id as well.
    pub fn failed_booking(booking: &Booking, failure: BookingFailure) -> Self {
        let taken_seat_ids = match &failure {
            BookingFailure::SeatsTaken { seats } => {
                Some(booking.seats.iter().filter(|s| seats.contains(&s.label)).map(|s| s.seat_id).collect())
            }
            BookingFailure::NotEnoughSeats { .. } => None,
        };
        Self { error: failure.into(), taken_seat_ids, booking_id: (booking.id != 0).then_some(booking.id) }
    }

    fn body(&self) -> ErrorBody {
        let error = &self.error;
        let mut body = ErrorBody {
            error: error.to_string(),
            code: error.code().to_owned(),
            field: None,
            status: None,
            taken_seat_ids: self.taken_seat_ids.clone(),
            taken_seats: None,
            booking_id: self.booking_id,
            available_seats: None,
            max_seats: None,
            retry_after_seconds: None,
        };
        match error {
            AppError::InvalidInput { field, .. } => body.field = Some(field.clone()),
            AppError::SeatsTaken { seats } => {
                body.status = Some(BookingStatus::Failed);
                body.taken_seats = Some(seats.clone());
            }
            AppError::NotEnoughSeats { available, .. } => {
                body.status = Some(BookingStatus::Failed);
                body.available_seats = Some(*available);
            }
            AppError::HoldExpired => body.status = Some(BookingStatus::Expired),
            AppError::TooManySeats { max } => body.max_seats = Some(*max),
            AppError::TooManyRequests { retry_after_seconds } => {
                body.retry_after_seconds = Some(*retry_after_seconds)
            }
            _ => {}
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let response = (self.error.status_code(), axum::Json(self.body())).into_response();
        with_retry_after(&self.error, response)
    }
}

/// The JSON answer for an error status that some layer produced without a JSON body (405 from
/// the router, 413 from the body limit, ...).
pub fn for_status(status: StatusCode) -> AppError {
    match status {
        StatusCode::NOT_FOUND => AppError::NoSuchEndpoint,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => AppError::BodyTooLarge { limit_kib: BODY_LIMIT_BYTES / 1024 },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::NotJson,
        status if status.is_client_error() => {
            AppError::invalid("request", "The request could not be understood.")
        }
        _ => AppError::Internal,
    }
}

/// A JSON body; a body that is not JSON, or not the expected shape, is a 400 naming the field.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Path parameters; an id that is not a number is a 400.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; unknown names and values are a 400.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::NotJson,
            JsonRejection::JsonDataError(error) => match find_source::<PathError>(&error) {
                Some(error) => body_error(error),
                None => {
                    AppError::invalid("body", format!("The request body does not fit: {}", error.body_text()))
                }
            },
            JsonRejection::JsonSyntaxError(error) => {
                let detail = find_source::<serde_json::Error>(&error)
                    .map_or_else(|| error.body_text(), without_location);
                AppError::invalid("body", format!("The request body is not valid JSON ({detail})."))
            }
            rejection if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                for_status(StatusCode::PAYLOAD_TOO_LARGE)
            }
            rejection => {
                tracing::debug!(%rejection, "unreadable request body");
                AppError::invalid("body", "The request body could not be read.")
            }
        }
        .into()
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        use axum::extract::path::ErrorKind;
        match rejection {
            PathRejection::FailedToDeserializePathParams(error) => match error.kind() {
                ErrorKind::ParseErrorAtKey { key, value, .. } => AppError::invalid(
                    key.as_str(),
                    format!("“{value}” in the address is not an id: ids are whole numbers like 42."),
                ),
                _ => {
                    AppError::invalid("path", "The address does not name a valid id: ids are whole numbers.")
                }
            }
            .into(),
            rejection => {
                tracing::error!(%rejection, "path parameters missing from a matched route");
                AppError::Internal.into()
            }
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        let detail = innermost(&rejection);
        AppError::invalid("query", format!("The query string is not acceptable: {detail}.")).into()
    }
}

type PathError = serde_path_to_error::Error<serde_json::Error>;

/// "rows[2].seats: invalid type: string "x", expected u16" as a sentence, naming the field.
pub fn body_error(error: &PathError) -> AppError {
    let detail = without_location(error.inner());
    let path = error.path().to_string();
    let within = |name: &str| if path == "." { name.to_owned() } else { format!("{path}.{name}") };
    if let Some(missing) = detail.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
        let field = within(missing);
        return AppError::invalid(field.clone(), format!("The field {field} is required."));
    }
    if let Some(rest) = detail.strip_prefix("unknown field") {
        // "Unknown field `admin`, expected one of `email`, `name`, `password`."
        return AppError::invalid(path.clone(), format!("Unknown field{rest}."));
    }
    if path == "." {
        AppError::invalid("body", format!("The request body does not fit: {detail}."))
    } else {
        AppError::invalid(path.clone(), format!("The field {path} is not acceptable: {detail}."))
    }
}

/// serde_json's message without " at line 1 column 7", which means little to a reader of the
/// API, and with the first letter as it is.
fn without_location(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let location = format!(" at line {} column {}", error.line(), error.column());
    message.strip_suffix(&location).unwrap_or(&message).to_owned()
}

fn find_source<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// The deepest cause's message: the part that says what was wrong.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// Error answers shared by the endpoints, for the OpenAPI document.
#[allow(dead_code, reason = "only describes answers for the OpenAPI document")]
#[derive(IntoResponses)]
pub enum BadRequest {
    /// Invalid input: malformed JSON, a wrong type, a missing or unknown field, a bad value.
    #[response(status = 400)]
    Invalid(ErrorBody),
    /// The body is over the size limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not declared as JSON.
    #[response(status = 415)]
    NotJson(ErrorBody),
}

#[allow(dead_code, reason = "only describes answers for the OpenAPI document")]
#[derive(IntoResponses)]
pub enum Guest {
    /// Not signed in.
    #[response(status = 401)]
    NotSignedIn(ErrorBody),
}

#[allow(dead_code, reason = "only describes answers for the OpenAPI document")]
#[derive(IntoResponses)]
pub enum RateLimited {
    /// Too many requests: wait as long as `Retry-After` says.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))]
    TooMany(ErrorBody),
}
