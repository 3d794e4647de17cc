//! What server functions take from the request context that `leptos_routes_with_context` fills.

use leptos::prelude::*;
use sqlx::PgPool;

use crate::error::AppError;

pub fn pool() -> Result<PgPool, AppError> {
    use_context::<PgPool>().ok_or_else(|| {
        tracing::error!("no database pool in the server function context");
        AppError::Internal
    })
}

/// Sets the HTTP status of the current server-function response to match the error, so a bad
/// input answers 400 rather than the default 500, and hands the error back for `?`.
pub fn reject(error: AppError) -> AppError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status_code());
    }
    error
}
