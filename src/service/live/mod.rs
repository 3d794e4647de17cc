//! The live seat feed. Doors report which shows they changed; each instance gathers those and
//! publishes them as one `NOTIFY` per short window (never inside a booking's transaction, so
//! the notification queue's lock never throttles bookings). Every instance `LISTEN`s, re-reads
//! the seat states of the shows named, and broadcasts what changed to its subscribers (the SSE
//! streams of open seat maps and show lists). Several instances behind a load balancer thus
//! show every customer the same seats. A periodic resync covers a lost connection and holds
//! that lapse without the expiry worker. The same signals keep the instance's show cache
//! (`show_cache`) correct, and the same connection carries the session-ended bus
//! (`session_bus`, for `server::sessions`). The feed's reads are in `seat_reads`.

mod announcement;
mod seat_reads;
mod session_bus;
pub mod show_cache;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::{Notify, broadcast};

use self::announcement::{Changed, ShowChanges};
use self::seat_reads::{as_changes, load_availability, load_named_seats, load_seats};
use self::session_bus::SessionBus;
pub use self::session_bus::EndedSessions;
use self::show_cache::{CachedShow, ShowCache};
use super::ServiceError;
use super::supervisor::Supervisor;
use crate::domain::SeatStatus;
use crate::domain::live::{SeatChange, SeatChanges, ShowAvailability};

const CHANNEL: &str = "boxoffice_seats";
/// Changes gathered before one NOTIFY goes out.
const BATCH_WINDOW: Duration = Duration::from_millis(50);
/// How often subscribed shows are re-read whatever was notified.
const RESYNC_INTERVAL: Duration = Duration::from_secs(5);
/// Updates a slow subscriber may fall behind before it is sent a fresh snapshot instead.
const SUBSCRIBER_BACKLOG: usize = 256;
/// Connections of the feed's own pool: one publishes while another re-reads seats.
const OWN_CONNECTIONS: u32 = 2;
/// The feed's connections as `pg_stat_activity` names them (its LISTEN connection among them).
pub const APPLICATION_NAME: &str = "boxoffice live feed";

/// A cheap handle to this instance's feed.
#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

struct Inner {
    /// The requests' pool: its closing stops the feed.
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
    /// Open seat maps, by show: the last known state and the channel of changes to it.
    shows: Mutex<HashMap<i64, ShowChannel>>,
    /// Seats left per show, for open show lists.
    availability: broadcast::Sender<Arc<Vec<ShowAvailability>>>,
    /// Shows as customers read them.
    cache: ShowCache,
    /// Sessions ended anywhere, for the session cache.
    ended_sessions: SessionBus,
}

/// What the re-reader has to catch up on. Announcements that arrive while it reads are merged
/// here, so a slow read never builds a queue of reads: the feed's lag stays one read long.
#[derive(Default)]
struct Stale {
    shows: ShowChanges,
    /// Every subscribed show (after a reconnect, and periodically).
    all: bool,
}

struct ShowChannel {
    seats: HashMap<i32, SeatStatus>,
    sender: broadcast::Sender<ChangesJson>,
}

/// What a new subscriber starts from, and where the changes after it arrive.
pub struct SeatSubscription {
    pub snapshot: SeatChanges,
    pub changes: broadcast::Receiver<ChangesJson>,
}

/// A batch of seat changes as JSON: serialized once, however many subscribers receive it.
pub type ChangesJson = Arc<str>;

impl std::fmt::Debug for LiveFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFeed").finish_non_exhaustive()
    }
}

impl LiveFeed {
    /// Starts publishing and listening on `pool`'s database, until the pool is closed.
    pub fn start(pool: PgPool, supervisor: &Supervisor) -> Self {
        let (availability, _) = broadcast::channel(SUBSCRIBER_BACKLOG);
        let own = PgPoolOptions::new()
            .max_connections(OWN_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(pool.connect_options().as_ref().clone().application_name(APPLICATION_NAME));
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
            }),
        };
        supervisor.spawn("live feed publisher", { let feed = feed.clone(); move || feed.clone().publish() });
        supervisor.spawn("live feed listener", { let feed = feed.clone(); move || feed.clone().listen() });
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

    fn report(&self, show_id: i64, seats: Option<&[i32]>) {
        // Here at once, so whoever made the change reads it back; elsewhere after the NOTIFY.
        self.inner.cache.invalidate(show_id);
        self.inner.pending.lock().expect("feed lock").add(show_id, seats);
        self.inner.wake.notify_one();
    }

    /// A show and its seat map for customers: from memory while nothing changed it.
    pub async fn show(&self, show_id: i64) -> Result<Arc<CachedShow>, ServiceError> {
        self.inner.cache.get(&self.inner.pool, show_id).await
    }

    /// Every seat's state now, then every change to it.
    pub async fn subscribe(&self, show_id: i64) -> Result<SeatSubscription, ServiceError> {
        // The first subscriber loads the show; later ones share its state.
        if !self.inner.shows.lock().expect("feed lock").contains_key(&show_id) {
            let seats = load_seats(&self.inner.own, &[show_id]).await?.remove(&show_id).unwrap_or_default();
            if seats.is_empty() {
                // Every show has seats, so this one does not exist.
                return Err(crate::error::AppError::ShowNotFound.into());
            }
            let mut shows = self.inner.shows.lock().expect("feed lock");
            shows
                .entry(show_id)
                .or_insert_with(|| ShowChannel { seats, sender: broadcast::channel(SUBSCRIBER_BACKLOG).0 });
        }
        // Snapshot and receiver under one lock: no change can fall between them.
        let shows = self.inner.shows.lock().expect("feed lock");
        let channel = shows.get(&show_id).expect("inserted above");
        Ok(SeatSubscription { snapshot: as_changes(&channel.seats), changes: channel.sender.subscribe() })
    }

    /// Tells every instance (this one too) that a session ended, so none serves it from memory.
    pub async fn session_ended(&self, session_id: &str) -> Result<(), ServiceError> {
        self.inner.ended_sessions.announce(&self.inner.pool, session_id).await
    }

    /// Sessions ended anywhere, from now on.
    pub fn subscribe_ended_sessions(&self) -> broadcast::Receiver<EndedSessions> {
        self.inner.ended_sessions.subscribe()
    }

    /// Seats left of every show whose seats change.
    pub fn subscribe_availability(&self) -> broadcast::Receiver<Arc<Vec<ShowAvailability>>> {
        self.inner.availability.subscribe()
    }

    async fn publish(self) {
        while !self.inner.pool.is_closed() {
            self.inner.wake.notified().await;
            tokio::time::sleep(BATCH_WINDOW).await;
            let changes = std::mem::take(&mut *self.inner.pending.lock().expect("feed lock"));
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

    async fn listen(self) {
        let mut resync = tokio::time::interval(RESYNC_INTERVAL);
        while !self.inner.pool.is_closed() {
            let mut listener = match PgListener::connect_with(&self.inner.own).await {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "seat feed cannot connect; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(error) = listener.listen_all([CHANNEL, session_bus::CHANNEL]).await {
                tracing::warn!(%error, "seat feed cannot listen; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            // Whatever happened while we were not listening.
            self.missed_notifications();
            loop {
                tokio::select! {
                    notification = listener.try_recv() => match notification {
                        Ok(Some(notification)) if notification.channel() == session_bus::CHANNEL => {
                            self.inner.ended_sessions.deliver(notification.payload());
                        }
                        Ok(Some(notification)) => {
                            self.mark_stale(Some(ShowChanges::parse(notification.payload())));
                        }
                        // The connection dropped; the next try_recv reconnects, and notifications
                        // sent meanwhile are lost.
                        Ok(None) => self.missed_notifications(),
                        Err(error) if self.inner.pool.is_closed() => {
                            tracing::debug!(%error, "seat feed stopping");
                            break;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "seat feed lost its connection");
                            break;
                        }
                    },
                    _ = resync.tick() => self.mark_stale(None),
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
        let mut stale = self.inner.stale.lock().expect("feed lock");
        match changes {
            Some(changes) => {
                changes.show_ids().into_iter().for_each(|show| self.inner.cache.invalidate(show));
                stale.shows.merge(changes);
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
            let Stale { shows, all } = std::mem::take(&mut *self.inner.stale.lock().expect("feed lock"));
            if all {
                self.refresh(None).await;
            }
            // Seats-left counts go to show lists only for announced shows.
            if !shows.is_empty() {
                self.refresh(Some(&shows)).await;
            }
        }
    }

    /// Re-reads what changed (None: every seat of every subscribed show) and sends the seats
    /// whose state differs from what subscribers last got.
    async fn refresh(&self, changes: Option<&ShowChanges>) {
        // Watched shows only: whole, or the seats named.
        let (whole, named): (Vec<i64>, Vec<(i64, i32)>) = {
            let mut open = self.inner.shows.lock().expect("feed lock");
            open.retain(|_, channel| channel.sender.receiver_count() > 0);
            match changes {
                None => (open.keys().copied().collect(), vec![]),
                Some(changes) => {
                    let (mut whole, mut named) = (vec![], vec![]);
                    for (show_id, changed) in changes.iter().filter(|(id, _)| open.contains_key(id)) {
                        match changed {
                            Changed::Any => whole.push(show_id),
                            Changed::Seats(seats) => named.extend(seats.iter().map(|&seat| (show_id, seat))),
                        }
                    }
                    (whole, named)
                }
            }
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
                let mut open = self.inner.shows.lock().expect("feed lock");
                for (show_id, seats) in fresh {
                    let Some(channel) = open.get_mut(&show_id) else { continue };
                    let changes: SeatChanges = seats
                        .into_iter()
                        .filter(|&(seat_id, status)| channel.seats.insert(seat_id, status) != Some(status))
                        .map(|(seat_id, status)| SeatChange { seat_id, status })
                        .collect();
                    if !changes.is_empty() {
                        match serde_json::to_string(&changes) {
                            Ok(json) => {
                                let _ = channel.sender.send(json.into());
                            }
                            Err(error) => tracing::error!(%error, "could not serialize seat changes"),
                        }
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
