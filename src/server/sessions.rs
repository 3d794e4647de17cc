//! Sessions: tower-sessions with its PostgreSQL store, so any instance can serve any request,
//! read through an in-memory cache, so a signed-in request rarely costs the database anything.
//!
//! The cache is trusted only so far: a trigger on the session table announces every deletion
//! (log-out, the id cycled at log-in, a row deleted in SQL) over the live feed's LISTEN
//! connection in the deleting transaction, and every instance forgets the session; a cached
//! session is read again, with its account's current role, after [`SessionSettings::trust`];
//! and while the feed's listener is not confirmed alive (its heartbeat unheard) sessions are
//! read from the database. Sessions roll: activity moves their expiry, a few times per idle
//! period rather than on every request.

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
use crate::service::live::{EndedSessions, LiveFeed, SESSIONS_ENDED_CHANNEL};
use crate::service::supervisor::Supervisor;
use crate::service::users;

/// Where the signed-in user is kept in the session: the account as at log-in, checked against
/// the database whenever the session is read from it (within [`SessionSettings::trust`]).
pub const USER: &str = "user";
/// When the session was last saved (Unix seconds): saving moves its expiry and the cookie's.
const RENEWED: &str = "renewed";
/// A session is saved again once this fraction of its idle time has passed since the last save.
const RENEW_AFTER_FRACTION: i64 = 10;
/// Sessions kept in memory per instance (the least used go first; they are read again).
const CACHED_SESSIONS: u64 = 100_000;
/// What a client told "unavailable" waits before trying again.
const RETRY_SECONDS: u64 = 2;

/// How sessions behave (see `server::config` for the settings).
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// Cookies only over https (and named with the `__Host-` prefix).
    pub secure_cookies: bool,
    /// A session ends this long after its last request.
    pub idle: Duration,
    /// How long an instance serves a session from memory before reading it again.
    pub trust: Duration,
}

/// Creates the store's schema and table if needed, and the trigger that announces every
/// deletion of a session that had not expired (part of `boxoffice migrate`).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::Error> {
    PostgresStore::new(pool.clone()).migrate().await?;
    let mut transaction = pool.begin().await?;
    // Instances migrating at once create the trigger once.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('boxoffice_session_trigger'))")
        .execute(&mut *transaction)
        .await?;
    sqlx::query(&format!(
        "CREATE OR REPLACE FUNCTION tower_sessions.announce_session_ended() RETURNS trigger
         LANGUAGE plpgsql AS $$
         BEGIN
             PERFORM pg_notify('{SESSIONS_ENDED_CHANNEL}', OLD.id);
             RETURN NULL;
         END $$"
    ))
    .execute(&mut *transaction)
    .await?;
    sqlx::query("DROP TRIGGER IF EXISTS session_ended ON tower_sessions.session")
        .execute(&mut *transaction)
        .await?;
    // Expired sessions are forgotten by every cache anyway: the clean-up need not announce them.
    sqlx::query(
        "CREATE TRIGGER session_ended AFTER DELETE ON tower_sessions.session
         FOR EACH ROW WHEN (OLD.expiry_date > now())
         EXECUTE FUNCTION tower_sessions.announce_session_ended()",
    )
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await
}

/// The session layer. Cookies are HttpOnly and SameSite=Lax; Secure when the site is served
/// over https.
pub fn layer(
    pool: &PgPool,
    feed: &LiveFeed,
    supervisor: &Supervisor,
    settings: SessionSettings,
) -> SessionManagerLayer<CachedStore> {
    let store = CachedStore::new(pool, feed, settings.trust);
    supervisor.spawn("session cache", {
        let (store, feed) = (store.clone(), feed.clone());
        move || store.clone().forget_ended(feed.subscribe_ended_sessions())
    });
    let idle = tower_sessions::cookie::time::Duration::try_from(settings.idle)
        .unwrap_or(tower_sessions::cookie::time::Duration::MAX);
    SessionManagerLayer::new(store)
        .with_name(cookie_name(settings.secure_cookies))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookies)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// The session cookie's name. Over https it carries the `__Host-` prefix, with which the
/// browser accepts it only when Secure, for this host alone and for every path, so another
/// subdomain cannot plant or overwrite it.
pub fn cookie_name(secure_cookies: bool) -> &'static str {
    if secure_cookies { "__Host-boxoffice_session" } else { "boxoffice_session" }
}

/// The store could not be read or written: the database is down or unreachable, which passes.
fn store_failed(error: tower_sessions::session::Error) -> AppError {
    match error {
        tower_sessions::session::Error::Store(session_store::Error::Backend(error)) => {
            tracing::warn!(%error, "session store unavailable");
            AppError::Unavailable { retry_after_seconds: RETRY_SECONDS }
        }
        error => {
            tracing::error!(%error, "session store failed");
            AppError::Internal
        }
    }
}

/// Signs `user` in on this session, under a new session id (no session fixation).
pub async fn sign_in(session: &Session, user: &User) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_failed)?;
    session.insert(USER, user).await.map_err(store_failed)?;
    session.insert(RENEWED, OffsetDateTime::now_utc().unix_timestamp()).await.map_err(store_failed)
}

/// Ends the session: its data is deleted and the cookie cleared.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(store_failed)
}

/// The signed-in user, if any. A signed-in request also keeps the session alive.
pub async fn current_user(session: &Session) -> Result<Option<User>, AppError> {
    let user = session.get::<User>(USER).await.map_err(store_failed)?;
    if user.is_some() {
        renew_when_due(session).await?;
    }
    Ok(user)
}

/// Marks the session changed once a fraction of its idle time has passed since it was last
/// saved: the session layer then saves it (moving its expiry in the store) and sends the
/// cookie again (moving the browser's).
async fn renew_when_due(session: &Session) -> Result<(), AppError> {
    let Some(Expiry::OnInactivity(idle)) = session.expiry() else { return Ok(()) };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let every = (idle.whole_seconds() / RENEW_AFTER_FRACTION).max(1);
    let renewed = session.get::<i64>(RENEWED).await.map_err(store_failed)?;
    if renewed.is_none_or(|at| now - at >= every) {
        session.insert(RENEWED, now).await.map_err(store_failed)?;
    }
    Ok(())
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

/// The PostgreSQL store behind a per-instance cache. Reads come from memory after the first,
/// for at most the trust period and only while the feed's listener is confirmed alive; writes
/// go to both; a deletion is announced by the table's trigger, so every instance drops its copy.
#[derive(Clone, Debug)]
pub struct CachedStore {
    database: PostgresStore,
    cache: Cache<Id, Cached>,
    /// Bumped by every announced ending, so a read that raced with one is not kept.
    generation: Arc<AtomicU64>,
    feed: LiveFeed,
    pool: PgPool,
}

impl CachedStore {
    fn new(pool: &PgPool, feed: &LiveFeed, trust: Duration) -> Self {
        Self {
            database: PostgresStore::new(pool.clone()),
            cache: Cache::builder().max_capacity(CACHED_SESSIONS).expire_after(Trusted { trust }).build(),
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

    /// Keeps a copy, but only while endings are heard: one missed now would never be undone.
    /// `checked` is when its account was last read: the copy is trusted from then.
    fn keep(&self, record: &Record, checked: Instant) {
        if self.feed.listener_confirmed() {
            self.cache.insert(record.id, Cached { record: record.clone(), checked });
        } else {
            self.cache.invalidate(&record.id);
        }
    }

    /// The signed-in account as it is now: a changed role applies, a deleted account signs out.
    async fn recheck_user(&self, record: &mut Record) -> session_store::Result<()> {
        let Some(signed_in) = record.data.get(USER).and_then(|user| serde_json::from_value::<User>(user.clone()).ok())
        else {
            return Ok(());
        };
        let now = users::find(&self.pool, signed_in.id)
            .await
            .map_err(|error| session_store::Error::Backend(format!("reading the signed-in account: {error}")))?;
        match now {
            Some(user) if user == signed_in => {}
            Some(user) => {
                let user = serde_json::to_value(user).map_err(|error| session_store::Error::Encode(error.to_string()))?;
                record.data.insert(USER.to_owned(), user);
            }
            None => {
                record.data.remove(USER);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl SessionStore for CachedStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // At log-in: the account was read just now.
        self.database.create(record).await?;
        self.keep(record, Instant::now());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.database.save(record).await?;
        // Saving does not check the account again, so it does not extend the copy's trust.
        match self.cache.get(&record.id) {
            Some(cached) => self.keep(record, cached.checked),
            None => self.cache.invalidate(&record.id),
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if self.feed.listener_confirmed()
            && let Some(cached) = self.cache.get(id)
        {
            return Ok(Some(cached.record));
        }
        let (generation, checked) = (self.generation.load(Ordering::SeqCst), Instant::now());
        let Some(mut record) = self.database.load(id).await? else { return Ok(None) };
        self.recheck_user(&mut record).await?;
        self.keep(&record, checked);
        // Ended while it was being read: the copy must not outlive the announcement.
        if self.generation.load(Ordering::SeqCst) != generation {
            self.cache.invalidate(id);
        }
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        // The table's trigger announces it to every instance, in the same transaction.
        self.database.delete(id).await?;
        self.cache.invalidate(id);
        Ok(())
    }
}

/// A session in memory, and when its account was last read.
#[derive(Clone, Debug)]
struct Cached {
    record: Record,
    checked: Instant,
}

/// A cached session lives no longer than the session itself, nor past the trust period from
/// the last reading of its account.
struct Trusted {
    trust: Duration,
}

impl Trusted {
    fn left(&self, cached: &Cached) -> Duration {
        let until_expiry: Duration =
            (cached.record.expiry_date - OffsetDateTime::now_utc()).try_into().unwrap_or_default();
        until_expiry.min(self.trust.saturating_sub(cached.checked.elapsed()))
    }
}

impl moka::Expiry<Id, Cached> for Trusted {
    fn expire_after_create(&self, _: &Id, cached: &Cached, _: Instant) -> Option<Duration> {
        Some(self.left(cached))
    }

    fn expire_after_update(
        &self,
        _: &Id,
        cached: &Cached,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.left(cached))
    }
}
