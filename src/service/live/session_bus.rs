//! The session-ended bus: when a session ends (log-out, its id cycled at log-in, or its row
//! deleted in SQL) the session table's trigger NOTIFYs, in the deleting transaction, and every
//! instance hears of it over the live feed's LISTEN connection and forgets the session from
//! its cache (`server::sessions`).

use std::sync::Arc;

use tokio::sync::broadcast;

/// Sessions ended, one id per notification (the channel of `server::sessions`'s trigger).
pub const CHANNEL: &str = "boxoffice_sessions_ended";
/// Endings a slow subscriber may fall behind by.
const BACKLOG: usize = 256;

/// What the session cache must forget.
#[derive(Debug, Clone)]
pub enum EndedSessions {
    One(Arc<str>),
    /// The connection dropped: endings may have been missed.
    Unknown,
}

pub(super) struct SessionBus {
    sender: broadcast::Sender<EndedSessions>,
}

impl SessionBus {
    pub(super) fn new() -> Self {
        Self { sender: broadcast::channel(BACKLOG).0 }
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<EndedSessions> {
        self.sender.subscribe()
    }

    /// A notification heard on the channel.
    pub(super) fn deliver(&self, session_id: &str) {
        let _ = self.sender.send(EndedSessions::One(session_id.into()));
    }

    /// The connection dropped: anything may have ended meanwhile.
    pub(super) fn missed(&self) {
        let _ = self.sender.send(EndedSessions::Unknown);
    }
}
