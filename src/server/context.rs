//! What server functions take from the request context that `leptos_routes_with_context` fills.

use leptos::prelude::*;
use sqlx::PgPool;

use super::sessions;
use crate::domain::user::{Role, User};
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
        if let AppError::TooManyRequests { retry_after_seconds } = &error {
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(*retry_after_seconds));
        }
    }
    error
}

async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session on the request");
        AppError::Internal
    })
}

/// Signs `user` in on this session, under a new session id (no session fixation).
pub async fn sign_in(user: &User) -> Result<(), AppError> {
    sessions::sign_in(&session().await?, user).await
}

/// Ends the session: its data is deleted and the cookie cleared.
pub async fn sign_out() -> Result<(), AppError> {
    sessions::sign_out(&session().await?).await
}

/// The signed-in user, if any.
pub async fn current_user() -> Result<Option<User>, AppError> {
    sessions::current_user(&session().await?).await
}

/// The signed-in user, or 401 for a guest.
pub async fn require_user() -> Result<User, AppError> {
    current_user().await?.ok_or_else(|| reject(AppError::NotSignedIn))
}

/// The signed-in admin: 401 for a guest, 403 for a customer. Every admin server function
/// starts here, whatever the UI shows.
pub async fn require_admin() -> Result<User, AppError> {
    let user = require_user().await?;
    match user.role {
        Role::Admin => Ok(user),
        Role::Customer => Err(reject(AppError::Forbidden)),
    }
}

/// This instance's rate limits.
pub fn rate_limits() -> Result<super::rate_limit::RateLimits, AppError> {
    use_context().ok_or_else(|| {
        tracing::error!("no rate limits in the server function context");
        AppError::Internal
    })
}

/// The booking rules this instance runs with.
pub fn booking_rules() -> Result<crate::service::bookings::BookingRules, AppError> {
    use_context().ok_or_else(|| {
        tracing::error!("no booking rules in the server function context");
        AppError::Internal
    })
}

/// This instance's claim queue (every booking's seats go through it).
pub fn claims() -> Result<crate::service::claims::Claims, AppError> {
    use_context().ok_or_else(|| {
        tracing::error!("no claim queue in the server function context");
        AppError::Internal
    })
}

/// This instance's live seat feed.
pub fn live_feed() -> Result<crate::service::live::LiveFeed, AppError> {
    use_context().ok_or_else(|| {
        tracing::error!("no live feed in the server function context");
        AppError::Internal
    })
}
