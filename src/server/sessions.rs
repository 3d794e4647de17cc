//! Sessions: tower-sessions with its PostgreSQL store, so any instance can serve any request.

use std::time::Duration;

use sqlx::PgPool;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer, session_store::ExpiredDeletion};
use tower_sessions_sqlx_store::PostgresStore;

use crate::domain::user::User;
use crate::error::AppError;

/// Where the signed-in user's id is kept in the session.
pub const USER_ID: &str = "user_id";

/// A session lasts this long after the last request.
const IDLE_DAYS: i64 = 14;

/// Creates the store's schema and table if needed (part of `boxoffice migrate`).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::Error> {
    PostgresStore::new(pool.clone()).migrate().await
}

/// The session layer. Cookies are HttpOnly and SameSite=Lax; Secure when the site is served
/// over https.
pub fn layer(pool: &PgPool, secure_cookies: bool) -> SessionManagerLayer<PostgresStore> {
    let store = PostgresStore::new(pool.clone());
    SessionManagerLayer::new(store)
        .with_name("boxoffice_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(IDLE_DAYS)))
}

fn store_failed(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(%error, "session store failed");
    AppError::Internal
}

/// Signs `user` in on this session, under a new session id (no session fixation).
pub async fn sign_in(session: &Session, user: &User) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_failed)?;
    session.insert(USER_ID, user.id).await.map_err(store_failed)
}

/// Ends the session: its data is deleted and the cookie cleared.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_failed)
}

/// The signed-in user, if any. A session naming a deleted account counts as a guest.
pub async fn current_user(session: &Session, pool: &PgPool) -> Result<Option<User>, AppError> {
    let Some(user_id) = session.get::<i64>(USER_ID).await.map_err(store_failed)? else {
        return Ok(None);
    };
    Ok(crate::service::users::get(pool, user_id).await?)
}

/// Deletes expired sessions every `every` until the pool closes.
pub async fn delete_expired_continuously(pool: PgPool, every: Duration) {
    let store = PostgresStore::new(pool.clone());
    let mut ticker = tokio::time::interval(every);
    while !pool.is_closed() {
        ticker.tick().await;
        if let Err(e) = store.delete_expired().await {
            tracing::warn!(error = %e, "deleting expired sessions failed");
        }
    }
}
