//! Keyed rate limits (governor's GCRA, in memory per instance), for the server's log-in limits
//! and the booking service's per-customer limit. A limit of 0 is off.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

/// One keyed limiter, or none when its setting is 0, with the name its refusals are counted
/// under (`crate::metrics`). Cheap to clone (shared).
pub struct RateLimit<K: Hash + Eq + Clone + Send + Sync + 'static> {
    limiter: Option<Arc<DefaultKeyedRateLimiter<K>>>,
    name: &'static str,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Clone for RateLimit<K> {
    fn clone(&self) -> Self {
        Self { limiter: self.limiter.clone(), name: self.name }
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> RateLimit<K> {
    /// `n` requests per second per key (0 = no limit); `name` labels its refusals.
    pub fn per_second(name: &'static str, n: u32) -> Self {
        Self::new(name, Quota::per_second, n)
    }

    /// `n` requests per minute per key (0 = no limit); `name` labels its refusals.
    pub fn per_minute(name: &'static str, n: u32) -> Self {
        Self::new(name, Quota::per_minute, n)
    }

    fn new(name: &'static str, quota: impl FnOnce(NonZeroU32) -> Quota, per_period: u32) -> Self {
        let limiter = NonZeroU32::new(per_period).map(|n| Arc::new(RateLimiter::keyed(quota(n))));
        if let Some(limiter) = &limiter {
            forget_idle_keys_continuously(Arc::downgrade(limiter));
        }
        Self { limiter, name }
    }

    /// Counts one request for `key`: refused with how long to wait when over the limit.
    pub fn check(&self, key: &K) -> Result<(), AppError> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        limiter.check_key(key).map_err(|not_until| {
            crate::metrics::rate_limited(self.name);
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Rounded up, so a client that waits as told is let through.
            AppError::TooManyRequests { retry_after_seconds: wait.as_secs() + 1 }
        })
    }
}

/// A keyed limiter remembers every key it saw; this drops the ones that are back to full, so
/// memory stays bounded. Stops when the limiter is dropped.
fn forget_idle_keys_continuously<K: Hash + Eq + Clone + Send + Sync + 'static>(
    limiter: std::sync::Weak<DefaultKeyedRateLimiter<K>>,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    runtime.spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(60));
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let Some(limiter) = limiter.upgrade() else { return };
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_limit_refuses_the_request_over_quota_with_a_wait() {
        let limit = RateLimit::per_minute("test", 2);
        assert_eq!(limit.check(&1), Ok(()));
        assert_eq!(limit.check(&1), Ok(()));
        match limit.check(&1) {
            Err(AppError::TooManyRequests { retry_after_seconds }) => {
                assert!((1..=31).contains(&retry_after_seconds), "{retry_after_seconds}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(limit.check(&2), Ok(()), "each key has its own quota");
        let off = RateLimit::per_second("test", 0);
        for _ in 0..100 {
            assert_eq!(off.check(&7), Ok(()), "0 is off");
        }
    }
}
