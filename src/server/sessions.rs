//! Sessions: tower-sessions with its PostgreSQL store, so any instance can serve any request,
//! read through an in-memory cache, so a signed-in request costs the database nothing. Ending a
//! session (log-out, or the id cycled at log-in) is announced over the live feed's
//! LISTEN/NOTIFY connection, and every instance forgets it at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::sync::Cache;
use sqlx::PgPool;
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer, session_store::ExpiredDeletion};
use tower_sessions_sqlx_store::PostgresStore;

use crate::domain::user::User;
use crate::error::AppError;
use crate::service::live::{EndedSessions, LiveFeed};
use crate::service::supervisor::Supervisor;

/// Where the signed-in user is kept in the session: the account as it was at log-in, so no
/// request reads it again (a promotion to admin takes effect at the next log-in).
pub const USER: &str = "user";

/// A session lasts this long after the last request.
const IDLE_DAYS: i64 = 14;
/// Sessions kept in memory per instance (the least used go first; they are read again).
const CACHED_SESSIONS: u64 = 100_000;

/// Creates the store's schema and table if needed (part of `boxoffice migrate`).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::Error> {
    PostgresStore::new(pool.clone()).migrate().await
}

/// The session layer. Cookies are HttpOnly and SameSite=Lax; Secure when the site is served
/// over https.
pub fn layer(
    pool: &PgPool,
    feed: &LiveFeed,
    supervisor: &Supervisor,
    secure_cookies: bool,
) -> SessionManagerLayer<CachedStore> {
    let store = CachedStore::new(pool, feed);
    supervisor.spawn("session cache", {
        let (store, feed) = (store.clone(), feed.clone());
        move || store.clone().forget_ended(feed.subscribe_ended_sessions())
    });
    SessionManagerLayer::new(store)
        .with_name(cookie_name(secure_cookies))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(IDLE_DAYS)))
}

/// The session cookie's name. Over https it carries the `__Host-` prefix, with which the
/// browser accepts it only when Secure, for this host alone and for every path, so another
/// subdomain cannot plant or overwrite it.
pub fn cookie_name(secure_cookies: bool) -> &'static str {
    if secure_cookies { "__Host-boxoffice_session" } else { "boxoffice_session" }
}

fn store_failed(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(%error, "session store failed");
    AppError::Internal
}

/// Signs `user` in on this session, under a new session id (no session fixation).
pub async fn sign_in(session: &Session, user: &User) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_failed)?;
    session.insert(USER, user).await.map_err(store_failed)
}

/// Ends the session: its data is deleted and the cookie cleared.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_failed)
}

/// The signed-in user, if any.
pub async fn current_user(session: &Session) -> Result<Option<User>, AppError> {
    session.get::<User>(USER).await.map_err(store_failed)
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

/// The PostgreSQL store behind a per-instance cache. Reads come from memory after the first;
/// writes go to both; a deletion is announced so that every instance drops its copy. A session's
/// data changes only at log-in (under a new id) and log-out (deleted), which is why a copy can
/// never be stale; a change to a live session's data would have to be announced as well.
#[derive(Clone, Debug)]
pub struct CachedStore {
    database: PostgresStore,
    cache: Cache<Id, Record>,
    /// Bumped by every announced ending, so a read that raced with one is not kept.
    generation: Arc<AtomicU64>,
    feed: LiveFeed,
    pool: PgPool,
}

impl CachedStore {
    fn new(pool: &PgPool, feed: &LiveFeed) -> Self {
        Self {
            database: PostgresStore::new(pool.clone()),
            cache: Cache::builder().max_capacity(CACHED_SESSIONS).expire_after(UntilItExpires).build(),
            generation: Arc::default(),
            feed: feed.clone(),
            pool: pool.clone(),
        }
    }

    /// Drops the sessions other instances (and this one) ended, until the pool closes.
    async fn forget_ended(self, mut ended: tokio::sync::broadcast::Receiver<EndedSessions>) {
        // A run after a panic has missed the endings announced meanwhile.
        self.cache.invalidate_all();
        let closing = self.pool.close_event();
        tokio::pin!(closing);
        loop {
            let forget = tokio::select! {
                forget = ended.recv() => forget,
                _ = &mut closing => break,
            };
            self.generation.fetch_add(1, Ordering::SeqCst);
            match forget {
                Ok(EndedSessions::One(id)) => match id.parse::<Id>() {
                    Ok(id) => self.cache.invalidate(&id),
                    Err(_) => self.cache.invalidate_all(),
                },
                // Endings may have been missed: forget everything, it is read again.
                Ok(EndedSessions::Unknown) | Err(RecvError::Lagged(_)) => self.cache.invalidate_all(),
                Err(RecvError::Closed) => break,
            }
        }
    }
}

#[async_trait]
impl SessionStore for CachedStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.database.create(record).await?;
        self.cache.insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.database.save(record).await?;
        self.cache.insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.cache.get(id) {
            return Ok(Some(record));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let record = self.database.load(id).await?;
        if let Some(record) = &record {
            self.cache.insert(*id, record.clone());
            // Ended while it was being read: the copy must not outlive the announcement.
            if self.generation.load(Ordering::SeqCst) != generation {
                self.cache.invalidate(id);
            }
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.database.delete(id).await?;
        self.cache.invalidate(id);
        self.feed.session_ended(&id.to_string()).await.map_err(|error| {
            session_store::Error::Backend(format!("announcing the end of a session: {error:?}"))
        })
    }
}

/// A cached session lives no longer than the session itself.
struct UntilItExpires;

impl UntilItExpires {
    fn left(record: &Record) -> Duration {
        (record.expiry_date - OffsetDateTime::now_utc()).try_into().unwrap_or_default()
    }
}

impl moka::Expiry<Id, Record> for UntilItExpires {
    fn expire_after_create(&self, _: &Id, record: &Record, _: Instant) -> Option<Duration> {
        Some(Self::left(record))
    }

    fn expire_after_update(
        &self,
        _: &Id,
        record: &Record,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(Self::left(record))
    }
}
