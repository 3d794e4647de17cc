//! The live seat feed. Doors report which shows they changed; each instance gathers those and
//! publishes them as one `NOTIFY` per short window (never inside a booking's transaction, so
//! the notification queue's lock never throttles bookings). Every instance `LISTEN`s, on a
//! connection of its own that a heartbeat keeps honest (`listener`), re-reads the seat states
//! of the shows named, and broadcasts what changed to its subscribers (the SSE streams of open
//! seat maps and show lists, one channel per show: `channels`). Several instances behind a
//! load balancer thus show every customer the same seats. A periodic resync covers a lost
//! connection and holds that lapse without the expiry worker. The same signals keep the
//! instance's show cache (`show_cache`, which also remembers unknown show ids) correct, and
//! the same connection carries the session-ended bus (`session_bus`, for `server::sessions`).
//! The feed's reads are in `seat_reads`. Its locks never stay poisoned: the tasks are
//! restarted after a panic, and what they guard stays consistent.

mod announcement;
mod channels;
mod listener;
mod seat_reads;
mod session_bus;
pub mod show_cache;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::{Notify, broadcast};

use self::announcement::{Changed, ShowChanges};
pub use self::channels::{ChangesJson, SeatBatch, SeatSubscription};
use self::channels::{ShowChannel, lock};
use self::listener::ListenerHealth;
use self::seat_reads::{load_availability, load_named_seats, load_seats};
use self::session_bus::SessionBus;
pub use self::session_bus::{CHANNEL as SESSIONS_ENDED_CHANNEL, EndedSessions};
use self::show_cache::{CachedShow, ShowCache};
use super::ServiceError;
use super::supervisor::Supervisor;
use crate::domain::live::ShowAvailability;
use crate::error::AppError;

const CHANNEL: &str = "boxoffice_seats";
/// Changes gathered before one NOTIFY goes out.
const BATCH_WINDOW: Duration = Duration::from_millis(50);
/// How often subscribed shows are re-read whatever was notified.
const RESYNC_INTERVAL: Duration = Duration::from_secs(5);
/// Show lists' updates a slow subscriber may fall behind by (counts are absolute).
const AVAILABILITY_BACKLOG: usize = 256;
/// Connections of the feed's own pool: one publishes while another re-reads seats. The
/// LISTEN connection is apart from these (`listener`).
const OWN_CONNECTIONS: u32 = 2;
/// The feed's LISTEN connection as `pg_stat_activity` names it.
pub const APPLICATION_NAME: &str = "boxoffice live feed";
/// The feed's other connections (publishing, re-reading).
const OWN_APPLICATION_NAME: &str = "boxoffice live feed publisher";

/// A cheap handle to this instance's feed.
#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

struct Inner {
    /// The requests' pool: its closing stops the feed. A new subscriber's first read of a
    /// show is a request's read, so it queues here, never ahead of publishing.
    pool: PgPool,
    /// The feed's own connections. Under a flash sale requests queue for the shared pool, and
    /// seat updates must not wait in that queue: a stale map makes customers pick seats that
    /// are already sold, which makes the queue longer still.
    own: PgPool,
    /// Seats changed here and not yet published.
    pending: Mutex<ShowChanges>,
    wake: Notify,
    /// Shows announced (by any instance) and not yet re-read here.
    stale: Mutex<Stale>,
    stale_wake: Notify,
    /// Open seat maps, by show. The map's lock is held only to find or add a channel; each
    /// show's seats have a lock of their own.
    shows: Mutex<HashMap<i64, Arc<ShowChannel>>>,
    /// Seats left per show, for open show lists.
    availability: broadcast::Sender<Arc<Vec<ShowAvailability>>>,
    /// Shows as customers read them, and the ids of shows that do not exist.
    cache: ShowCache,
    /// Sessions ended anywhere, for the session cache.
    ended_sessions: SessionBus,
    /// Whether the LISTEN connection is known to hear notifications now.
    listener: ListenerHealth,
    supervisor: Supervisor,
}

/// What the re-reader has to catch up on. Announcements that arrive while it reads are merged
/// here, so a slow read never builds a queue of reads: the feed's lag stays one read long.
#[derive(Default)]
struct Stale {
    shows: ShowChanges,
    /// Every subscribed show (after a reconnect, and periodically).
    all: bool,
    /// When the first of `shows` was announced: the start of the feed's lag.
    since: Option<std::time::Instant>,
}

impl std::fmt::Debug for LiveFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFeed").finish_non_exhaustive()
    }
}

impl LiveFeed {
    /// Starts publishing and listening on `pool`'s database, until the pool is closed.
    pub fn start(pool: PgPool, supervisor: &Supervisor) -> Self {
        let (availability, _) = broadcast::channel(AVAILABILITY_BACKLOG);
        let own = PgPoolOptions::new()
            .max_connections(OWN_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(pool.connect_options().as_ref().clone().application_name(OWN_APPLICATION_NAME));
        // The feed's connections go when the app's do.
        tokio::spawn({
            let (closing, own) = (pool.close_event(), own.clone());
            async move {
                closing.await;
                own.close().await;
            }
        });
        let feed = Self {
            inner: Arc::new(Inner {
                pool,
                own,
                pending: Mutex::default(),
                wake: Notify::new(),
                stale: Mutex::default(),
                stale_wake: Notify::new(),
                shows: Mutex::default(),
                availability,
                cache: ShowCache::default(),
                ended_sessions: SessionBus::new(),
                listener: ListenerHealth::default(),
                supervisor: supervisor.clone(),
            }),
        };
        supervisor.spawn("live feed publisher", { let feed = feed.clone(); move || feed.clone().publish() });
        supervisor.spawn(listener::TASK, { let feed = feed.clone(); move || feed.clone().listen() });
        supervisor.spawn("live feed re-reader", { let feed = feed.clone(); move || feed.clone().reread() });
        feed
    }

    /// Reports that possibly any seat of `show_id` changed (after the change committed).
    pub fn changed(&self, show_id: i64) {
        self.report(show_id, None);
    }

    /// Reports that these seats of `show_id` changed (after the change committed).
    pub fn seats_changed(&self, show_id: i64, seats: &[i32]) {
        self.report(show_id, Some(seats));
    }

    /// Reports a new show (after it committed): every instance forgets that it did not exist.
    pub fn show_created(&self, show_id: i64) {
        self.report(show_id, None);
    }

    fn report(&self, show_id: i64, seats: Option<&[i32]>) {
        // Here at once, so whoever made the change reads it back; elsewhere after the NOTIFY.
        self.inner.cache.invalidate(show_id);
        lock(&self.inner.pending).add(show_id, seats);
        self.inner.wake.notify_one();
    }

    /// A show and its seat map for customers: from memory while nothing changed it.
    pub async fn show(&self, show_id: i64) -> Result<Arc<CachedShow>, ServiceError> {
        self.inner.cache.get(&self.inner.pool, show_id).await
    }

    /// Every seat's state now, then every change to it.
    pub async fn subscribe(&self, show_id: i64) -> Result<SeatSubscription, ServiceError> {
        let open = {
            let shows = lock(&self.inner.shows);
            shows.get(&show_id).map(|channel| (channel.clone(), channel.receiver()))
        };
        let (channel, changes) = match open {
            Some(open) => open,
            None => self.open(show_id).await?,
        };
        Ok(channel.subscription(changes))
    }

    /// The first subscriber loads the show; later ones share its channel.
    async fn open(
        &self,
        show_id: i64,
    ) -> Result<(Arc<ShowChannel>, broadcast::Receiver<SeatBatch>), ServiceError> {
        if self.inner.cache.known_missing(show_id) {
            return Err(AppError::ShowNotFound.into());
        }
        let version = self.inner.cache.version(show_id);
        let seats = load_seats(&self.inner.pool, &[show_id]).await?.remove(&show_id).unwrap_or_default();
        if seats.is_empty() {
            // Every show has seats, so this one does not exist.
            self.inner.cache.remember_missing(show_id, version);
            return Err(AppError::ShowNotFound.into());
        }
        let opened = {
            let mut shows = lock(&self.inner.shows);
            let channel = shows.entry(show_id).or_insert_with(|| ShowChannel::new(seats)).clone();
            let changes = channel.receiver();
            (channel, changes)
        };
        // A change announced while we read may predate what we read: read the show again.
        if self.inner.cache.version(show_id) != version {
            let mut changes = ShowChanges::default();
            changes.add(show_id, None);
            self.mark_stale(Some(changes));
        }
        Ok(opened)
    }

    /// Whether this instance hears notifications now (its LISTEN connection answered a
    /// heartbeat lately). While it does not, announcements may be missed.
    pub fn listener_confirmed(&self) -> bool {
        self.inner.listener.confirmed()
    }

    /// Sessions ended anywhere (announced by the session table's trigger), from now on.
    pub fn subscribe_ended_sessions(&self) -> broadcast::Receiver<EndedSessions> {
        self.inner.ended_sessions.subscribe()
    }

    /// Live-update streams open now: (seat maps, show lists).
    pub fn subscribers(&self) -> (usize, usize) {
        let seat_maps = lock(&self.inner.shows).values().map(|channel| channel.subscribers()).sum();
        (seat_maps, self.inner.availability.receiver_count())
    }

    /// Seats left of every show whose seats change.
    pub fn subscribe_availability(&self) -> broadcast::Receiver<Arc<Vec<ShowAvailability>>> {
        self.inner.availability.subscribe()
    }

    async fn publish(self) {
        while !self.inner.pool.is_closed() {
            self.inner.wake.notified().await;
            tokio::time::sleep(BATCH_WINDOW).await;
            let changes = std::mem::take(&mut *lock(&self.inner.pending));
            for payload in changes.payloads() {
                if let Err(error) = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(&payload)
                    .execute(&self.inner.own)
                    .await
                {
                    tracing::warn!(%error, "could not publish seat changes; subscribers resync shortly");
                }
            }
        }
    }

    /// Everything announced may have been missed: re-read every show, forget every session.
    fn missed_notifications(&self) {
        self.mark_stale(None);
        self.inner.ended_sessions.missed();
    }

    /// Drops the cached shows at once and has the re-reader catch up (None: every show).
    fn mark_stale(&self, changes: Option<ShowChanges>) {
        let mut stale = lock(&self.inner.stale);
        match changes {
            Some(changes) => {
                changes.show_ids().into_iter().for_each(|show| self.inner.cache.invalidate(show));
                stale.shows.merge(changes);
                stale.since.get_or_insert_with(std::time::Instant::now);
            }
            None => {
                self.inner.cache.invalidate_all();
                stale.all = true;
            }
        }
        self.inner.stale_wake.notify_one();
    }

    /// Re-reads what was announced, everything announced meanwhile in one go.
    async fn reread(self) {
        while !self.inner.pool.is_closed() {
            self.inner.stale_wake.notified().await;
            let Stale { shows, all, since } = std::mem::take(&mut *lock(&self.inner.stale));
            if all {
                self.refresh(None).await;
            }
            // Seats-left counts go to show lists only for announced shows.
            if !shows.is_empty() {
                self.refresh(Some(&shows)).await;
                // Measured while someone watches: otherwise nothing was broadcast.
                if let Some(since) = since
                    && self.subscribers() != (0, 0)
                {
                    crate::metrics::live_feed_lag(since.elapsed());
                }
            }
        }
    }

    /// Re-reads what changed (None: every seat of every subscribed show) and sends the seats
    /// whose state differs from what subscribers last got.
    async fn refresh(&self, changes: Option<&ShowChanges>) {
        // Watched shows only: whole, or the seats named.
        let (open, whole, named) = {
            let mut open = lock(&self.inner.shows);
            open.retain(|_, channel| channel.watched());
            let (mut whole, mut named) = (vec![], vec![]);
            match changes {
                None => whole.extend(open.keys().copied()),
                Some(changes) => {
                    for (show_id, changed) in changes.iter().filter(|(id, _)| open.contains_key(id)) {
                        match changed {
                            Changed::Any => whole.push(show_id),
                            Changed::Seats(seats) => named.extend(seats.iter().map(|&seat| (show_id, seat))),
                        }
                    }
                }
            }
            (open.clone(), whole, named)
        };
        let fresh = async {
            let mut fresh = load_seats(&self.inner.own, &whole).await?;
            for (show_id, seats) in load_named_seats(&self.inner.own, &named).await? {
                fresh.entry(show_id).or_default().extend(seats);
            }
            Ok::<_, ServiceError>(fresh)
        };
        match fresh.await {
            Ok(fresh) => {
                for (show_id, seats) in fresh {
                    if let Some(channel) = open.get(&show_id) {
                        channel.apply(seats);
                    }
                }
            }
            Err(error) => tracing::warn!(error = %error, "seat feed could not re-read seats"),
        }
        if let Some(changes) = changes
            && self.inner.availability.receiver_count() > 0
        {
            match load_availability(&self.inner.own, &changes.show_ids()).await {
                Ok(counts) if !counts.is_empty() => {
                    let _ = self.inner.availability.send(Arc::new(counts));
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "seat feed could not count seats"),
            }
        }
    }
}
