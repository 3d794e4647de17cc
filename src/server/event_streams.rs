//! How many Server-Sent Events streams each client holds open. A stream costs the server a
//! connection, memory and a share of every broadcast for as long as it lasts, so one client
//! may hold only so many; a stream counts from its start until its response is dropped (the
//! client went, or the server stops). Clients are keyed as the rate limits key them (an IPv6
//! client by its /64): see `RateLimits::open_event_stream`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::AppError;

/// What a client refused a stream is told to wait: streams end when their pages close.
const RETRY_SECONDS: u64 = 5;

/// Open streams per client. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct EventStreams {
    /// 0: no limit.
    per_client: u32,
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// One open stream, counted until dropped.
pub struct StreamPermit {
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
    key: IpAddr,
}

impl EventStreams {
    pub fn new(per_client: u32) -> Self {
        Self { per_client, open: Arc::default() }
    }

    /// A permit for one more stream from the client `key`, or 429 when it holds as many as it may.
    pub fn open(&self, key: IpAddr) -> Result<StreamPermit, AppError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_default();
        if self.per_client > 0 && *count >= self.per_client {
            return Err(AppError::TooManyRequests { retry_after_seconds: RETRY_SECONDS });
        }
        *count += 1;
        Ok(StreamPermit { open: self.open.clone(), key })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::RateLimitSettings;
    use crate::server::rate_limit::RateLimits;

    #[test]
    fn a_client_holds_at_most_its_share_and_a_closed_stream_frees_a_place() {
        let limits = RateLimits::new(&RateLimitSettings { event_streams_per_ip: 2, ..RateLimitSettings::OFF });
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let first = limits.open_event_stream(ip("2001:db8::1")).unwrap();
        let _second = limits.open_event_stream(ip("2001:db8::2")).unwrap();
        assert!(limits.open_event_stream(ip("2001:db8::3")).is_err(), "a third address of the same /64");
        assert!(limits.open_event_stream(ip("192.0.2.1")).is_ok(), "another client");
        drop(first);
        assert!(limits.open_event_stream(ip("2001:db8::3")).is_ok(), "a place freed");
        assert!(EventStreams::new(0).open(ip("192.0.2.1")).is_ok(), "0 is no limit");
    }
}
