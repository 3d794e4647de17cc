//! Who the client is behind a proxy. A request whose TCP peer is a trusted proxy
//! (`BOXOFFICE_TRUSTED_PROXIES`) and that carries `X-Forwarded-For` gets the client's address
//! in place of the peer's, in the same `ConnectInfo` extension every door reads (rate limits
//! per IP, event streams, the metrics allow-list), so none of them needs to know about proxies.
//!
//! The client is the rightmost address of `X-Forwarded-For` that is not itself a trusted proxy:
//! each proxy appends the address it heard from, so everything left of the first untrusted
//! address (reading from the right) may have been written by the client and is not believed.
//! An untrusted peer's header is ignored entirely, and so is a header that does not parse.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::http::header::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The address ranges of the proxies allowed to say who the client is; empty trusts none.
/// Parsed from a comma-separated list of CIDR ranges (a bare address is its own range).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let ranges = list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{item}` is not an address range such as 10.0.0.0/8 or fd00::/8"))
            })
            .collect::<Result<Arc<[IpNet]>, _>>()?;
        Ok(Self(ranges))
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies (an IPv4 address written as IPv6 counts as
    /// itself, as a dual-stack listener reports IPv4 peers).
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|range| range.contains(&ip))
    }

    /// The client's address for a request from `peer` with these headers: the peer itself
    /// unless it is trusted and the request carries a well-formed `X-Forwarded-For`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let Some(hops) = forwarded_for(headers) else {
            return peer;
        };
        // Walk from the nearest hop outwards, past our own proxies; if every hop is trusted the
        // request began inside them, and the farthest hop is the client.
        hops.iter().rev().find(|hop| !self.trusts(**hop)).or(hops.first()).copied().unwrap_or(peer)
    }
}

/// Every address of the `X-Forwarded-For` headers, farthest first (several header lines read
/// as one list, in order); `None` without the header or when any entry is not an address.
fn forwarded_for(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all(X_FORWARDED_FOR) {
        for entry in value.to_str().ok()?.split(',') {
            let entry = entry.trim();
            // Some proxies write a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
            let ip = entry.parse::<IpAddr>().or_else(|_| entry.parse::<SocketAddr>().map(|a| a.ip())).ok()?;
            hops.push(ip.to_canonical());
        }
    }
    (!hops.is_empty()).then_some(hops)
}

/// Middleware for the whole app: replaces the peer address with the client's when a trusted
/// proxy says who it is. Port 0: the client's port is not known.
pub async fn from_trusted_proxy(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    if !trusted.is_empty()
        && let Some(&ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
    {
        let client = trusted.client(peer.ip(), request.headers());
        if client != peer.ip() {
            request.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, 0)));
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy() {
        let trusted = proxies("10.0.0.0/8, 192.168.1.7");
        let peer = ip("10.0.0.2");
        assert_eq!(trusted.client(peer, &headers(&["203.0.113.9"])), ip("203.0.113.9"));
        // The client wrote a false first hop; our proxies appended what they saw.
        let spoofed = headers(&["1.2.3.4, 203.0.113.9, 192.168.1.7, 10.1.2.3"]);
        assert_eq!(trusted.client(peer, &spoofed), ip("203.0.113.9"));
        // Several header lines are one list, in order.
        assert_eq!(
            trusted.client(peer, &headers(&["1.2.3.4", "198.51.100.1 , 10.9.9.9"])),
            ip("198.51.100.1")
        );
        // Every hop trusted: the request began inside, at the farthest one.
        assert_eq!(trusted.client(peer, &headers(&["10.5.5.5, 10.6.6.6"])), ip("10.5.5.5"));
        // No header: the peer.
        assert_eq!(trusted.client(peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(trusted.client(ip("198.51.100.7"), &headers(&["203.0.113.9"])), ip("198.51.100.7"));
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.2"), &headers(&["203.0.113.9"])),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ipv6_hops_and_peers_and_ports() {
        let trusted = proxies("fd00::/8,127.0.0.0/8");
        assert_eq!(trusted.client(ip("fd00::1"), &headers(&["2001:db8::5, fd12::9"])), ip("2001:db8::5"));
        assert_eq!(trusted.client(ip("fd00::1"), &headers(&["[2001:db8::5]:4711"])), ip("2001:db8::5"));
        assert_eq!(trusted.client(ip("fd00::1"), &headers(&["192.0.2.1:4711"])), ip("192.0.2.1"));
        // A dual-stack listener reports an IPv4 proxy as ::ffff:127.0.0.1.
        assert_eq!(trusted.client(ip("::ffff:127.0.0.1"), &headers(&["2001:db8::5"])), ip("2001:db8::5"));
        assert_eq!(
            trusted.client(ip("fd00::1"), &headers(&["::ffff:127.0.0.1"])),
            ip("127.0.0.1"),
            "all hops trusted"
        );
    }

    #[test]
    fn a_header_that_does_not_parse_is_ignored() {
        let trusted = proxies("10.0.0.0/8");
        let peer = ip("10.0.0.2");
        for garbage in [
            "",
            " , ",
            "unknown",
            "203.0.113.9, nonsense",
            "203.0.113.9,,10.0.0.3",
            "300.1.1.1",
            "203.0.113.9;proto=http",
        ] {
            assert_eq!(trusted.client(peer, &headers(&[garbage])), peer, "{garbage:?}");
        }
        let mut not_text = HeaderMap::new();
        not_text.append(X_FORWARDED_FOR, HeaderValue::from_bytes(b"203.0.113.9\xff").unwrap());
        assert_eq!(trusted.client(peer, &not_text), peer);
    }

    #[test]
    fn the_setting_names_what_it_cannot_read() {
        assert_eq!(proxies(""), TrustedProxies::default());
        assert!(proxies(" 10.0.0.0/8 ,fd00::/8, 192.0.2.1 ").trusts(ip("192.0.2.1")));
        let error = "10.0.0.0/8,10.0.0.0/33".parse::<TrustedProxies>().unwrap_err();
        assert!(error.contains("`10.0.0.0/33`"), "{error}");
        assert!("proxy.example".parse::<TrustedProxies>().unwrap_err().contains("`proxy.example`"));
    }
}
