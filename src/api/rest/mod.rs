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
mod waiting_room;
mod waitlist;

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
    tags((name = "accounts"), (name = "shows"), (name = "bookings"), (name = "waitlist"), (name = "waiting room"))
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
        .merge(waitlist::routes())
        .merge(waiting_room::routes())
        .fallback(no_such_endpoint);
    let (router, mut openapi) =
        OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(PREFIX, api).split_for_parts();
    link_shows_to_bookings(&mut openapi);
    let document = openapi.clone();
    let router = router
        .route(&format!("{PREFIX}/openapi.json"), get(move || async move { Json(document) }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::map_response(errors_as_json));
    (router, openapi)
}

/// OpenAPI links from the answers that name a show to the operations that book its seats, so a
/// client (and the stateful phase of `scripts/api-fuzz.sh`) can follow a real show's id to a
/// hold or a booking of one seat. The links out of a new booking (confirm, cancel, read it)
/// are declared on the booking operations themselves.
fn link_shows_to_bookings(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::extensions::ExtensionsBuilder;
    use utoipa::openapi::link::LinkBuilder;

    let link = |operation: &str, id: &str, description: &str| {
        let link = LinkBuilder::new().operation_id(operation).parameter("id", id).description(description);
        RefOr::T(link.build())
    };
    // The best available seat; schemathesis sends this body as it is, not merged into its own.
    let replace_body = serde_json::json!({"merge_body": false});
    let one_seat = |operation: &str, id: &str, description: &str| {
        let link = LinkBuilder::new()
            .operation_id(operation)
            .parameter("id", id)
            .request_body(Some(serde_json::json!({"seat_count": 1})))
            .description(description)
            .extensions(Some(ExtensionsBuilder::new().add("x-schemathesis", replace_body.clone()).build()));
        RefOr::T(link.build())
    };
    let answers = [
        ("/admin/shows", "201", "$response.body#/id"),
        ("/shows/{id}", "200", "$response.body#/id"),
        ("/shows", "200", "$response.body#/0/id"),
    ];
    for (path, status, id) in answers {
        let item = openapi.paths.paths.get_mut(&format!("{PREFIX}{path}")).expect("a path of the API");
        let operation = item.post.as_mut().or(item.get.as_mut()).expect("an operation on the path");
        let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) else {
            panic!("{path} documents no {status} answer");
        };
        response.links.insert("HoldSeats".into(), one_seat("create_hold", id, "Hold a seat of this show"));
        response.links.insert("BookSeats".into(), one_seat("create_booking", id, "Book a seat of this show"));
        if path != "/shows/{id}" {
            response.links.insert("GetShow".into(), link("get_show", id, "Read this show and its seats"));
        }
    }
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
