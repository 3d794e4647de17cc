//! The feed's LISTEN connection, on a connection of its own (requests and publishing never
//! wait for it, nor it for them). A connection can look open and deliver nothing (half-open
//! after a network cut), so the feed NOTIFYs a heartbeat every [`HEARTBEAT_EVERY`] and trusts
//! the listener only while it hears one: otherwise the session cache reads the database, the
//! supervisor is told (so `/readyz` answers 503), and the connection is replaced.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgNotification, PgPoolOptions};

use super::channels::lock;
use super::{APPLICATION_NAME, CHANNEL, LiveFeed, RESYNC_INTERVAL, session_bus};
use super::announcement::ShowChanges;

/// The supervisor's name for the listener.
pub(super) const TASK: &str = "live feed listener";
const HEARTBEAT_CHANNEL: &str = "boxoffice_feed_heartbeat";
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// A listener that heard nothing for this long is not trusted, and its connection replaced.
const HEARTBEAT_MISSED_AFTER: Duration = Duration::from_secs(4);
/// How long opening the connection may take, and the pause before trying again.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// When the listener last heard anything on its current connection.
#[derive(Default)]
pub(super) struct ListenerHealth {
    heard: Mutex<Option<Instant>>,
}

impl ListenerHealth {
    pub(super) fn confirmed(&self) -> bool {
        lock(&self.heard).is_some_and(|heard| heard.elapsed() < HEARTBEAT_MISSED_AFTER)
    }

    /// Records a notification; true if the listener was not confirmed before it.
    fn heard(&self) -> bool {
        let mut heard = lock(&self.heard);
        let was_confirmed = heard.is_some_and(|heard| heard.elapsed() < HEARTBEAT_MISSED_AFTER);
        *heard = Some(Instant::now());
        !was_confirmed
    }

    fn lost(&self) {
        *lock(&self.heard) = None;
    }

    /// Nothing heard for too long since `connected`.
    fn overdue(&self, connected: Instant) -> bool {
        lock(&self.heard).unwrap_or(connected).elapsed() >= HEARTBEAT_MISSED_AFTER
    }
}

impl LiveFeed {
    pub(super) async fn listen(self) {
        // A run after a panic trusts nothing it heard before.
        self.inner.listener.lost();
        let closing = self.inner.pool.close_event();
        tokio::pin!(closing);
        let mut resync = tokio::time::interval(RESYNC_INTERVAL);
        let mut beat = tokio::time::interval(HEARTBEAT_EVERY);
        while !self.inner.pool.is_closed() {
            let (mut listener, pool) = match self.connect_listener().await {
                Ok(connected) => connected,
                Err(error) => {
                    tracing::warn!(%error, "seat feed cannot listen; retrying");
                    self.impaired(format!("cannot listen: {error}"));
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            };
            // Whatever happened while we were not listening.
            self.missed_notifications();
            let mut connected = Instant::now();
            self.send_heartbeat();
            loop {
                tokio::select! {
                    notification = listener.try_recv() => match notification {
                        Ok(Some(notification)) => self.deliver(&notification),
                        // The connection dropped; the next try_recv reconnects, and notifications
                        // sent meanwhile are lost.
                        Ok(None) => {
                            self.impaired("connection lost; reconnecting".to_owned());
                            self.missed_notifications();
                            connected = Instant::now();
                        }
                        Err(error) => {
                            tracing::warn!(%error, "seat feed lost its connection");
                            self.impaired(format!("connection lost: {error}"));
                            break;
                        }
                    },
                    _ = resync.tick() => self.mark_stale(None),
                    _ = beat.tick() => {
                        if self.inner.listener.overdue(connected) {
                            // Half-open: it never recovers by itself. Dropping it abandons it
                            // with its own pool, so the new connection need not wait for it.
                            tracing::warn!("seat feed heard no heartbeat; replacing its connection");
                            self.impaired(format!("no heartbeat heard for {HEARTBEAT_MISSED_AFTER:?}"));
                            break;
                        }
                        self.send_heartbeat();
                    }
                    _ = &mut closing => return,
                }
            }
            // Closed once the abandoned connection comes back (or its socket errs).
            drop(listener);
            tokio::spawn(async move { pool.close().await });
        }
    }

    /// A listener on a fresh single-connection pool of its own.
    async fn connect_listener(&self) -> Result<(PgListener, PgPool), sqlx::Error> {
        let options = self.inner.pool.connect_options().as_ref().clone().application_name(APPLICATION_NAME);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(options);
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen_all([CHANNEL, session_bus::CHANNEL, HEARTBEAT_CHANNEL]).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        // A connection can go silent between opening and listening, too.
        match tokio::time::timeout(CONNECT_TIMEOUT, listening).await {
            Ok(listener) => Ok((listener?, pool)),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    fn deliver(&self, notification: &PgNotification) {
        if self.inner.listener.heard() {
            self.inner.supervisor.report(TASK, Ok(()));
        }
        match notification.channel() {
            session_bus::CHANNEL => self.inner.ended_sessions.deliver(notification.payload()),
            HEARTBEAT_CHANNEL => {}
            _ => self.mark_stale(Some(ShowChanges::parse(notification.payload()))),
        }
    }

    fn impaired(&self, reason: String) {
        self.inner.listener.lost();
        self.inner.supervisor.report(TASK, Err(reason));
    }

    /// From the feed's own pool, so a listener that hears it proves that it hears the others.
    fn send_heartbeat(&self) {
        let own = self.inner.own.clone();
        tokio::spawn(async move {
            let notify = sqlx::query("SELECT pg_notify($1, '')").bind(HEARTBEAT_CHANNEL).execute(&own);
            if let Ok(Err(error)) = tokio::time::timeout(HEARTBEAT_EVERY, notify).await {
                tracing::debug!(%error, "could not send the feed's heartbeat");
            }
        });
    }
}
