//! How an error becomes an HTTP answer: the one place that sets its status, its
//! `Retry-After`, and its body. Programs read `{"error": sentence, "code": machine_code, ...}`
//! (the REST API, event streams, the cross-site guard); the browser's server functions read
//! the `AppError` itself, which they decode.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leptos::server_fn::error::FromServerFnError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::BookingStatus;
use crate::error::AppError;

/// The body of every JSON error answer.
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
    /// For `rate_limited` and `unavailable`: the same as the `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

impl ErrorBody {
    /// A body with only the sentence and the code (refusals of the HTTP layer itself).
    pub fn plain(error: String, code: &str) -> Self {
        Self {
            error,
            code: code.to_owned(),
            field: None,
            status: None,
            taken_seat_ids: None,
            taken_seats: None,
            booking_id: None,
            available_seats: None,
            max_seats: None,
            retry_after_seconds: None,
        }
    }

    /// The body for `error`, with the details its variant carries.
    pub fn of(error: &AppError) -> Self {
        let mut body = Self::plain(error.to_string(), error.code());
        match error {
            AppError::InvalidInput { field, .. } => body.field = Some(field.clone()),
            AppError::SeatsTaken { seats, seat_ids, booking_id } => {
                body.status = Some(BookingStatus::Failed);
                body.taken_seats = Some(seats.clone());
                body.taken_seat_ids = Some(seat_ids.clone());
                body.booking_id = *booking_id;
            }
            AppError::NotEnoughSeats { available, booking_id, .. } => {
                body.status = Some(BookingStatus::Failed);
                body.available_seats = Some(*available);
                body.booking_id = *booking_id;
            }
            AppError::HoldExpired => body.status = Some(BookingStatus::Expired),
            AppError::TooManySeats { max } | AppError::TooManyHeldSeats { limit: max, .. } => {
                body.max_seats = Some(*max)
            }
            _ => {}
        }
        body.retry_after_seconds = error.retry_after_seconds();
        body
    }
}

/// `error` as a JSON answer for programs.
pub fn json_error(error: &AppError) -> Response {
    let mut response = (error.status_code(), axum::Json(ErrorBody::of(error))).into_response();
    add_retry_after(error, response.headers_mut());
    response
}

/// `error` as a server function answers it: the encoded `AppError`, which the browser decodes.
pub fn server_fn_error(error: &AppError) -> Response {
    let mut response = (
        error.status_code(),
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        error.ser(),
    )
        .into_response();
    add_retry_after(error, response.headers_mut());
    response
}

/// A 429 or 503 tells how long to wait.
pub fn add_retry_after(error: &AppError, headers: &mut HeaderMap) {
    if let Some(seconds) = error.retry_after_seconds() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
}

/// A refusal of the HTTP layer (no such address, wrong method, ...) as a JSON answer.
pub fn json_status(status: StatusCode, body: ErrorBody) -> Response {
    (status, axum::Json(body)).into_response()
}
