//! What server functions take from the request: the app state (one context value that
//! `leptos_routes_with_context` provides) and the session's user.

use leptos::prelude::*;

use super::sessions;
use super::state::AppState;
use crate::domain::user::{Role, User};
use crate::error::AppError;

/// The app state: the services and this instance's plumbing.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("no app state in the server function context");
        AppError::Internal
    })
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
    current_user().await?.ok_or(AppError::NotSignedIn)
}

/// The signed-in admin: 401 for a guest, 403 for a customer. Every admin server function
/// starts here, whatever the UI shows.
pub async fn require_admin() -> Result<User, AppError> {
    let user = require_user().await?;
    match user.role {
        Role::Admin => Ok(user),
        Role::Customer => Err(AppError::Forbidden),
    }
}
