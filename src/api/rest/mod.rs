//! The REST JSON API v1, for mobile apps and partners: thin doors like the server functions.
//! Each handler authenticates, parses, calls the service layer and maps errors; the OpenAPI
//! document at `/api/v1/openapi.json` is generated from the handlers' annotations.
//!
//! Policies: unknown JSON fields and unknown query parameters are refused (400), so a typo is
//! never silently ignored; bodies are limited to [`error::BODY_LIMIT_BYTES`]; every error,
//! including the router's own 404/405, is JSON.

mod auth;
mod bookings;
pub mod error;
mod events;
mod shows;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use self::error::{ApiError, BODY_LIMIT_BYTES, HttpRefusal};
use crate::server::state::AppState;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Box Office API",
        version = "1",
        description = "Book numbered seats for shows and trips. Sign in with /auth/login: the \
                       session cookie authenticates the other requests. Errors are JSON \
                       {\"error\": sentence, \"code\": machine_code, ...}."
    ),
    modifiers(&SessionCookie),
    tags((name = "accounts"), (name = "shows"), (name = "bookings"))
)]
struct ApiDoc;

/// The session cookie as the API's security scheme.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("boxoffice_session"))),
        );
    }
}

/// The API's routes (under [`PREFIX`]) and its OpenAPI document.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .merge(auth::routes())
        .merge(shows::routes())
        .merge(bookings::routes())
        .merge(events::routes())
        .fallback(no_such_endpoint);
    let (router, openapi) =
        OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(PREFIX, api).split_for_parts();
    let document = openapi.clone();
    let router = router
        .route(&format!("{PREFIX}/openapi.json"), get(move || async move { Json(document) }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::map_response(errors_as_json));
    (router, openapi)
}

async fn no_such_endpoint() -> ApiError {
    HttpRefusal::NoSuchEndpoint.into()
}

/// Error answers made outside the handlers (the router's 405, a body limit's 413) get the same
/// JSON body as every other error; their headers (e.g. `Allow`) stay.
async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let replacement = error::for_status(status).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let (_, body) = replacement.into_parts();
    Response::from_parts(parts, body)
}
