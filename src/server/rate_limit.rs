//! Rate limits (governor's GCRA, in memory per instance): register and log-in attempts per IP,
//! log-in attempts per account, and booking requests per user. A limit of 0 is off.
//!
//! The client's IP is the TCP peer address (axum's `ConnectInfo`): behind a proxy that is the
//! proxy, so a deployment behind a load balancer should limit there as well.

use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use leptos::server_fn::error::FromServerFnError;

use super::config::RateLimitSettings;
use crate::error::AppError;

/// One keyed limiter, or none when its setting is 0.
struct Limit<K: Hash + Eq + Clone>(Option<DefaultKeyedRateLimiter<K>>);

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(quota: impl FnOnce(NonZeroU32) -> Quota, per_period: u32) -> Self {
        Self(NonZeroU32::new(per_period).map(|n| RateLimiter::keyed(quota(n))))
    }

    fn check(&self, key: &K) -> Result<(), AppError> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Rounded up, so a client that waits as told is let through.
            AppError::TooManyRequests { retry_after_seconds: wait.as_secs() + 1 }
        })
    }

    fn forget_idle(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Every limiter of this instance. Cheap to clone (shared).
#[derive(Clone)]
pub struct RateLimits(Arc<Limits>);

struct Limits {
    auth_per_ip: Limit<IpAddr>,
    login_per_account: Limit<String>,
    booking_per_user: Limit<i64>,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let limits = Limits {
            auth_per_ip: Limit::new(Quota::per_minute, settings.auth_per_minute),
            login_per_account: Limit::new(Quota::per_minute, settings.login_per_minute),
            booking_per_user: Limit::new(Quota::per_second, settings.booking_per_second),
        };
        let this = Self(Arc::new(limits));
        this.forget_idle_keys_continuously();
        this
    }

    /// A register or log-in attempt from `ip`.
    pub fn check_auth(&self, ip: IpAddr) -> Result<(), AppError> {
        self.0.auth_per_ip.check(&ip)
    }

    /// A log-in attempt for the account with this email, however it is spelled.
    pub fn check_login(&self, email: &str) -> Result<(), AppError> {
        self.0.login_per_account.check(&email.trim().to_lowercase())
    }

    /// A request that holds, books, confirms or cancels seats for `user_id`.
    pub fn check_booking(&self, user_id: i64) -> Result<(), AppError> {
        self.0.booking_per_user.check(&user_id)
    }

    /// Keyed limiters remember every key they saw; this drops the ones that are back to full,
    /// so memory stays bounded. Stops when the limits are dropped.
    fn forget_idle_keys_continuously(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let weak = Arc::downgrade(&self.0);
        runtime.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(60));
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(limits) = weak.upgrade() else { return };
                limits.auth_per_ip.forget_idle();
                limits.login_per_account.forget_idle();
                limits.booking_per_user.forget_idle();
            }
        });
    }
}

/// The client's IP: the peer address when the server was started with connect info.
pub fn client_ip(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Adds `Retry-After` to a 429 answer for `error`.
pub fn with_retry_after(error: &AppError, mut response: Response) -> Response {
    if let AppError::TooManyRequests { retry_after_seconds } = error {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
    }
    response
}

/// The browser's register and log-in server functions.
const RPC_AUTH_PATHS: [&str; 2] = ["/rpc/register", "/rpc/login"];

/// Middleware for the whole app: limits POSTs to the browser's register and log-in server
/// functions per IP. The refusal is encoded as a server-function error, so the form shows it.
pub async fn limit_rpc_auth(State(limits): State<RateLimits>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST
        && RPC_AUTH_PATHS.contains(&request.uri().path())
        && let Err(error) = limits.check_auth(client_ip(request.extensions()))
    {
        let mut response = (error.status_code(), Body::from(error.ser())).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return with_retry_after(&error, response);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_limit_refuses_the_request_over_quota_with_a_wait() {
        let limits = RateLimits::new(&RateLimitSettings {
            auth_per_minute: 2,
            login_per_minute: 1,
            booking_per_second: 0,
        });
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(limits.check_auth(ip).is_ok());
        assert!(limits.check_auth(ip).is_ok());
        match limits.check_auth(ip) {
            Err(AppError::TooManyRequests { retry_after_seconds }) => {
                assert!((1..=31).contains(&retry_after_seconds), "{retry_after_seconds}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(limits.check_login("Ann@Example.com").is_ok());
        assert!(limits.check_login(" ann@example.com").is_err(), "the same account, spelled differently");
        for _ in 0..100 {
            assert!(limits.check_booking(7).is_ok(), "0 is off");
        }
    }
}
