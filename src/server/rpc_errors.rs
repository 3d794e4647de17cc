//! Server functions answer every error with status 500 (Leptos does not know our error type's
//! statuses). This gives each such answer the status its `AppError` stands for, and
//! `Retry-After` for a 429, so the browser's doors and REST agree on statuses and the bodies'
//! raise sites never set one.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use super::error_response::add_retry_after;
use crate::error::AppError;

/// Server-function error bodies are one small JSON value.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn status_from_error(request: Request, next: Next) -> Response {
    let server_function = request.uri().path().starts_with("/rpc/");
    let response = next.run(request).await;
    if !server_function || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status_code();
        add_retry_after(&error, &mut parts.headers);
    }
    Response::from_parts(parts, Body::from(bytes))
}
