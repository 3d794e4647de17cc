//! How the API says no: always JSON `{"error": sentence, "code": machine_code, ...}` (see
//! `server::error_response`). axum's own rejections (bad JSON, bad path or query) are mapped
//! here, so no plain-text error ever leaves the API.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa::IntoResponses;

use crate::error::AppError;
pub use crate::server::error_response::ErrorBody;
use crate::server::error_response::{json_error, json_status};

/// The most a request body may carry.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// An error answer of the API: a refusal of the service or the doors (`AppError`), or of the
/// HTTP layer itself. Rendered by `server::error_response`, like every JSON error.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    Http(HttpRefusal),
}

/// What only the HTTP layer refuses: these never reach the service or the browser's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpRefusal {
    /// An address under the API that names no endpoint.
    NoSuchEndpoint,
    /// The address exists, but not for this HTTP method.
    MethodNotAllowed,
    /// A request body over [`BODY_LIMIT_BYTES`].
    BodyTooLarge,
    /// A body that is not declared as JSON where JSON is expected.
    NotJson,
}

impl HttpRefusal {
    fn status(self) -> StatusCode {
        match self {
            HttpRefusal::NoSuchEndpoint => StatusCode::NOT_FOUND,
            HttpRefusal::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HttpRefusal::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            HttpRefusal::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    fn body(self) -> ErrorBody {
        let (message, code) = match self {
            HttpRefusal::NoSuchEndpoint => (
                "There is no such address in the API. The list of endpoints is at /api/v1/openapi.json.".to_owned(),
                "no_such_endpoint",
            ),
            HttpRefusal::MethodNotAllowed => {
                ("This address does not accept this HTTP method.".to_owned(), "method_not_allowed")
            }
            HttpRefusal::BodyTooLarge => (
                format!("The request body is too large: send at most {} KiB.", BODY_LIMIT_BYTES / 1024),
                "body_too_large",
            ),
            HttpRefusal::NotJson => (
                "Send the request body as JSON, with the header Content-Type: application/json.".to_owned(),
                "not_json",
            ),
        };
        ErrorBody::plain(message, code)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl From<HttpRefusal> for ApiError {
    fn from(refusal: HttpRefusal) -> Self {
        Self::Http(refusal)
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(error: crate::service::ServiceError) -> Self {
        Self::App(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::App(error) => json_error(&error),
            ApiError::Http(refusal) => json_status(refusal.status(), refusal.body()),
        }
    }
}

/// The JSON answer for an error status that some layer produced without a JSON body (405 from
/// the router, 413 from the body limit, ...).
pub fn for_status(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => HttpRefusal::NoSuchEndpoint.into(),
        StatusCode::METHOD_NOT_ALLOWED => HttpRefusal::MethodNotAllowed.into(),
        StatusCode::PAYLOAD_TOO_LARGE => HttpRefusal::BodyTooLarge.into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => HttpRefusal::NotJson.into(),
        status if status.is_client_error() => {
            AppError::invalid("request", "The request could not be understood.").into()
        }
        _ => AppError::Internal.into(),
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
            JsonRejection::MissingJsonContentType(_) => return HttpRefusal::NotJson.into(),
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
                return HttpRefusal::BodyTooLarge.into();
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
    /// Too many requests (`rate_limited`), or for holds too many seats held on the show at
    /// once (`too_many_held_seats`, with `max_seats`): wait as long as `Retry-After` says.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))]
    TooMany(ErrorBody),
}

#[allow(dead_code, reason = "only describes answers for the OpenAPI document")]
#[derive(IntoResponses)]
pub enum Unavailable {
    /// `unavailable`: the server cannot reach its database or is swamped; nothing was done.
    /// Send the same request again (with the same `Idempotency-Key`) after `Retry-After`.
    #[response(status = 503, headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))]
    Unavailable(ErrorBody),
}
