//! Sessions: tower-sessions with its PostgreSQL store, so any instance can serve any request.

use std::time::Duration;

use sqlx::PgPool;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, session_store::ExpiredDeletion};
use tower_sessions_sqlx_store::PostgresStore;

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
