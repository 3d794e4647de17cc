//! Open seat maps, one channel per show. Each show has its own lock, so a large show's
//! snapshot is built (once per change, then shared by every subscriber) without holding up
//! subscribers of other shows or the re-reader.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast;

use super::seat_reads::as_changes;
use crate::domain::SeatStatus;
use crate::domain::live::{SeatChange, SeatChanges};

/// Updates a slow subscriber may fall behind before it is sent a fresh snapshot instead.
const SUBSCRIBER_BACKLOG: usize = 256;

/// JSON serialized once, however many subscribers receive it.
pub type ChangesJson = Arc<str>;

/// A batch of seat changes, numbered so that a subscriber skips the ones its snapshot holds.
#[derive(Clone, Debug)]
pub struct SeatBatch {
    pub version: u64,
    pub json: ChangesJson,
}

/// What a new subscriber starts from, and where the changes after it arrive: batches up to
/// `version` are in the snapshot already.
pub struct SeatSubscription {
    pub snapshot: ChangesJson,
    pub version: u64,
    pub changes: broadcast::Receiver<SeatBatch>,
}

/// A lock that a panic elsewhere cannot turn into a permanent failure: the data it guards is
/// consistent after every statement that can panic.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) struct ShowChannel {
    /// Outside the lock: subscribing is counted at once, so the map never drops a channel
    /// that someone is joining.
    sender: broadcast::Sender<SeatBatch>,
    seats: Mutex<Seats>,
}

struct Seats {
    states: HashMap<i32, SeatStatus>,
    /// Batches sent so far.
    version: u64,
    /// The snapshot at `version`, built when first asked for.
    snapshot: Option<ChangesJson>,
}

impl ShowChannel {
    pub(super) fn new(states: HashMap<i32, SeatStatus>) -> Arc<Self> {
        Arc::new(Self {
            sender: broadcast::channel(SUBSCRIBER_BACKLOG).0,
            seats: Mutex::new(Seats { states, version: 0, snapshot: None }),
        })
    }

    pub(super) fn watched(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Open streams of this show's seat map.
    pub(super) fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// A receiver: call under the map's lock, so the channel cannot be dropped as unwatched.
    pub(super) fn receiver(&self) -> broadcast::Receiver<SeatBatch> {
        self.sender.subscribe()
    }

    /// The snapshot now, for a subscriber whose receiver was taken before.
    pub(super) fn subscription(&self, changes: broadcast::Receiver<SeatBatch>) -> SeatSubscription {
        let mut seats = lock(&self.seats);
        let snapshot = match &seats.snapshot {
            Some(json) => json.clone(),
            None => {
                let json: ChangesJson = to_json(&as_changes(&seats.states)).into();
                seats.snapshot = Some(json.clone());
                json
            }
        };
        SeatSubscription { snapshot, version: seats.version, changes }
    }

    /// Applies fresh states and sends the seats that differ from what subscribers last got.
    pub(super) fn apply(&self, fresh: HashMap<i32, SeatStatus>) {
        let mut seats = lock(&self.seats);
        let changes: SeatChanges = fresh
            .into_iter()
            .filter(|&(seat_id, status)| seats.states.insert(seat_id, status) != Some(status))
            .map(|(seat_id, status)| SeatChange { seat_id, status })
            .collect();
        if changes.is_empty() {
            return;
        }
        seats.version += 1;
        seats.snapshot = None;
        let _ = self.sender.send(SeatBatch { version: seats.version, json: to_json(&changes).into() });
    }
}

fn to_json(changes: &SeatChanges) -> String {
    serde_json::to_string(changes).unwrap_or_else(|error| {
        tracing::error!(%error, "could not serialize seat changes");
        "{}".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(states: &[(i32, SeatStatus)]) -> HashMap<i32, SeatStatus> {
        states.iter().copied().collect()
    }

    #[test]
    fn a_subscriber_skips_the_batches_its_snapshot_holds_and_gets_the_rest() {
        let channel = ShowChannel::new(seats(&[(1, SeatStatus::Available), (2, SeatStatus::Available)]));
        // The receiver is taken first (under the map's lock), the snapshot after a change.
        let early = channel.receiver();
        channel.apply(seats(&[(1, SeatStatus::Booked)]));
        let subscription = channel.subscription(early);
        assert!(subscription.snapshot.contains("\"BOOKED\":[1]"), "{}", subscription.snapshot);
        channel.apply(seats(&[(2, SeatStatus::Held), (1, SeatStatus::Booked)]));
        let mut changes = subscription.changes;
        let first = changes.try_recv().unwrap();
        assert!(first.version <= subscription.version, "the snapshot holds it already");
        let second = changes.try_recv().unwrap();
        assert!(second.version > subscription.version);
        assert_eq!(&*second.json, r#"{"HELD":[2]}"#, "only what changed");
    }

    #[test]
    fn a_panic_while_a_channel_is_locked_leaves_it_working() {
        let channel = ShowChannel::new(seats(&[(1, SeatStatus::Available)]));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _held = lock(&channel.seats);
            panic!("while holding the lock");
        }));
        assert!(panicked.is_err() && channel.seats.is_poisoned());
        let subscription = channel.subscription(channel.receiver());
        assert!(subscription.snapshot.contains("\"AVAILABLE\":[1]"));
        channel.apply(seats(&[(1, SeatStatus::Blocked)]));
        let mut changes = subscription.changes;
        assert_eq!(&*changes.try_recv().unwrap().json, r#"{"BLOCKED":[1]}"#);
    }
}
