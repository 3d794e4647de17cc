//! Rate limits at the server's doors: register and log-in attempts per IP, log-in attempts per
//! account, event streams open per IP (`event_streams`). A limit of 0 is off.
//!
//! The client's IP is axum's `ConnectInfo`: the TCP peer, or, when the peer is a trusted proxy,
//! the client it names in X-Forwarded-For (`client_address`). Limits are kept per instance, so
//! a deployment behind a load balancer limits per client there as well (HAProxy stick tables).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::config::RateLimitSettings;
use super::event_streams::{EventStreams, StreamPermit};
use crate::domain::user::Email;
use crate::error::AppError;
use crate::service::rate_limit::RateLimit;

/// The limits at the doors that attract guessing: register and log-in attempts per IP, log-in
/// attempts per account. Cheap to clone (shared). The per-customer booking limit belongs to
/// the booking service.
#[derive(Clone)]
pub struct RateLimits {
    auth_per_ip: RateLimit<IpAddr>,
    login_per_account: RateLimit<Email>,
    /// Server-Sent Events streams open per client.
    event_streams: EventStreams,
    waiting_room_joins_per_ip: RateLimit<IpAddr>,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            auth_per_ip: RateLimit::per_minute("auth_per_ip", settings.auth_per_minute),
            login_per_account: RateLimit::per_minute("login_per_account", settings.login_per_minute),
            event_streams: EventStreams::new(settings.event_streams_per_ip),
            waiting_room_joins_per_ip: RateLimit::per_minute(
                "waiting_room_joins_per_ip",
                settings.waiting_room_joins_per_minute,
            ),
        }
    }

    /// A register or log-in attempt from `ip` (an IPv6 client by its /64 network: one host
    /// holds a whole /64 and could use a new address for every attempt).
    pub fn check_auth(&self, ip: IpAddr) -> Result<(), AppError> {
        self.auth_per_ip.check(&client_key(ip))
    }

    /// A place for one more event stream from `ip` (an IPv6 client by its /64), held until the
    /// permit is dropped; 429 while the client holds as many as it may.
    pub fn open_event_stream(&self, ip: IpAddr) -> Result<StreamPermit, AppError> {
        let opened = self.event_streams.open(client_key(ip));
        opened.inspect_err(|_| crate::metrics::rate_limited("event_streams_per_ip"))
    }

    /// A waiting-room join from `ip` (an IPv6 client by its /64): one client cannot flood the
    /// line with accounts.
    pub fn check_waiting_room_join(&self, ip: IpAddr) -> Result<(), AppError> {
        self.waiting_room_joins_per_ip.check(&client_key(ip))
    }

    /// A log-in attempt for the account with this email, in the canonical form the database
    /// matches (so spellings of one account share a limit, and a key is at most 254 bytes).
    pub fn check_login(&self, email: &Email) -> Result<(), AppError> {
        self.login_per_account.check(email)
    }
}

/// What limits count by: an IPv4 address, or an IPv6 client's /64 network (an IPv4 address
/// written as IPv6 counts as itself).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
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
/// The browser's waiting-room join.
const RPC_WAITING_ROOM_JOIN_PATH: &str = "/rpc/join_waiting_room";

/// Middleware for the whole app: limits POSTs to the browser's register, log-in and
/// waiting-room join server functions per IP. The refusal is encoded as a server-function error, so the form shows it.
pub async fn limit_rpc_auth(State(limits): State<RateLimits>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let path = request.uri().path();
        let ip = client_ip(request.extensions());
        let checked = if RPC_AUTH_PATHS.contains(&path) {
            limits.check_auth(ip)
        } else if path == RPC_WAITING_ROOM_JOIN_PATH {
            limits.check_waiting_room_join(ip)
        } else {
            Ok(())
        };
        if let Err(error) = checked {
            return super::error_response::server_fn_error(&error);
        }
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
            ..RateLimitSettings::OFF
        });
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(limits.check_auth(ip).is_ok());
        assert!(limits.check_auth(ip).is_ok());
        assert!(matches!(limits.check_auth(ip), Err(AppError::TooManyRequests { .. })));
        let email = |text: &str| Email::parse(text).unwrap();
        assert!(limits.check_login(&email("Ann@Example.com")).is_ok());
        assert!(limits.check_login(&email(" ann@example.com")).is_err(), "the same account, spelled differently");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_network() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), client_key(ip("2001:db8:1:2:ffff:1:2:3")));
        assert_ne!(client_key(ip("2001:db8:1:2::1")), client_key(ip("2001:db8:1:3::1")));
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_key(ip("192.0.2.7")), ip("192.0.2.7"));
    }

    #[tokio::test]
    async fn addresses_of_one_ipv6_network_share_a_limit() {
        let limits = RateLimits::new(&RateLimitSettings { auth_per_minute: 1, ..RateLimitSettings::OFF });
        assert!(limits.check_auth("2001:db8::1".parse().unwrap()).is_ok());
        assert!(limits.check_auth("2001:db8::2".parse().unwrap()).is_err(), "a new address of the same /64");
        assert!(limits.check_auth("2001:db8:0:1::1".parse().unwrap()).is_ok(), "another /64");
    }
}
