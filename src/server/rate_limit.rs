//! Rate limits at the server's doors: register and log-in attempts per IP, log-in attempts per
//! account. A limit of 0 is off.
//!
//! The client's IP is the TCP peer address (axum's `ConnectInfo`): behind a proxy that is the
//! proxy, so a deployment behind a load balancer should limit there as well.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::config::RateLimitSettings;
use crate::error::AppError;
use crate::service::rate_limit::RateLimit;

/// The limits at the doors that attract guessing: register and log-in attempts per IP, log-in
/// attempts per account. Cheap to clone (shared). The per-customer booking limit belongs to
/// the booking service.
#[derive(Clone)]
pub struct RateLimits {
    auth_per_ip: RateLimit<IpAddr>,
    login_per_account: RateLimit<String>,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            auth_per_ip: RateLimit::per_minute(settings.auth_per_minute),
            login_per_account: RateLimit::per_minute(settings.login_per_minute),
        }
    }

    /// A register or log-in attempt from `ip`.
    pub fn check_auth(&self, ip: IpAddr) -> Result<(), AppError> {
        self.auth_per_ip.check(&ip)
    }

    /// A log-in attempt for the account with this email, however it is spelled.
    pub fn check_login(&self, email: &str) -> Result<(), AppError> {
        self.login_per_account.check(&email.trim().to_lowercase())
    }
}

/// The client's IP: the peer address when the server was started with connect info.
pub fn client_ip(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
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
        return super::error_response::server_fn_error(&error);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn log_in_attempts_count_per_address_and_per_account_however_spelled() {
        let limits = RateLimits::new(&RateLimitSettings {
            auth_per_minute: 2,
            login_per_minute: 1,
            booking_per_second: 0,
        });
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(limits.check_auth(ip).is_ok());
        assert!(limits.check_auth(ip).is_ok());
        assert!(matches!(limits.check_auth(ip), Err(AppError::TooManyRequests { .. })));
        assert!(limits.check_login("Ann@Example.com").is_ok());
        assert!(limits.check_login(" ann@example.com").is_err(), "the same account, spelled differently");
    }
}
