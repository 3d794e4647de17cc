//! Prometheus metrics, exposed: the recorder (one per process), `/metrics` on a listener of
//! its own (`BOXOFFICE_METRICS_ADDR`) or on the main port for allowed client addresses only
//! (`BOXOFFICE_METRICS_ALLOW`, others get 404), and the middleware that measures every HTTP
//! request. What is measured, under which names, is `crate::metrics` (the service layer records
//! there too, and cannot import the server).
//!
//! The recorder is global to the process: apps started in one process (the tests) share it, and
//! its counters are the process's. Gauges that describe one app (its pool, its streams) are
//! sampled from the app that is scraped, when it is scraped.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use ipnet::IpNet;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use super::Settings;
use super::rate_limit::client_ip;
use super::state::AppState;

/// Where Prometheus reads.
pub const PATH: &str = "/metrics";
/// How often histogram samples gathered between scrapes are folded in (bounded memory even
/// when nobody scrapes).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (every app calls this when it is built).
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = builder().install_recorder().unwrap_or_else(|error| {
            // Only another recorder installed first could cause this: then /metrics is empty.
            tracing::error!(%error, "could not install the metrics recorder");
            builder().build_recorder().handle()
        });
        crate::metrics::describe();
        let upkeep = handle.clone();
        // A thread, not a task: tests start and end runtimes, the recorder outlives them all.
        let started = std::thread::Builder::new().name("metrics upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
        if let Err(error) = started {
            tracing::warn!(%error, "could not start the metrics upkeep thread; scrapes still drain it");
        }
        handle
    })
}

fn builder() -> PrometheusBuilder {
    crate::metrics::HISTOGRAM_BUCKETS.iter().fold(PrometheusBuilder::new(), |builder, (name, buckets)| {
        builder
            .set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets)
            .expect("every histogram has buckets")
    })
}

/// `/metrics` on the main port: for clients in `allowed`, unless the metrics have a listener
/// of their own (then for nobody here). Others get 404, as if it did not exist.
fn main_port_route(own_listener: bool, allowed: &[IpNet]) -> MethodRouter<AppState> {
    let allowed: Arc<[IpNet]> = if own_listener { Arc::from([]) } else { allowed.into() };
    get(move |State(state): State<AppState>, request: Request| {
        let allowed = allowed.clone();
        async move {
            if is_allowed(&allowed, client_ip(request.extensions())) {
                render(&state).await
            } else {
                StatusCode::NOT_FOUND.into_response()
            }
        }
    })
}

/// Whether `ip` is in one of the ranges (an IPv4 client seen as IPv6 counts as itself).
fn is_allowed(allowed: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    allowed.iter().any(|range| range.contains(&ip))
}

/// The text Prometheus reads, with this app's readiness, pool and streams sampled now.
async fn render(state: &AppState) -> Response {
    let (readiness, _) =
        super::health::ready(State(state.pool.clone()), State(state.supervisor.clone())).await;
    crate::metrics::ready(readiness.is_success());
    let pool = &state.pool;
    crate::metrics::database_pool(
        "primary",
        pool.size(),
        pool.num_idle(),
        pool.options().get_max_connections(),
    );
    let (seat_maps, show_lists) = state.feed.subscribers();
    crate::metrics::sse_subscribers(seat_maps, show_lists);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], install().render()).into_response()
}

/// `/metrics` on a listener of its own (`BOXOFFICE_METRICS_ADDR`), for whoever can reach it
/// (bind it where only the monitoring can). Served from the start; stops when dropped.
pub struct OwnListener {
    addr: SocketAddr,
    serving: tokio::task::JoinHandle<()>,
}

impl OwnListener {
    async fn start(addr: SocketAddr, state: AppState) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(addr).await.with_context(|| format!("listening for metrics on {addr}"))?;
        let addr = listener.local_addr()?;
        let router = Router::new()
            .route(PATH, get(|State(state): State<AppState>| async move { render(&state).await }))
            .with_state(state);
        let serving = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the metrics listener stopped");
            }
        });
        Ok(Self { addr, serving })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for OwnListener {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

/// Everything an app needs to expose its metrics: the recorder installed, the listener of
/// their own when `BOXOFFICE_METRICS_ADDR` is set, and the main port's `/metrics` route.
pub async fn expose(
    settings: &Settings,
    state: &AppState,
) -> anyhow::Result<(Option<OwnListener>, MethodRouter<AppState>)> {
    install();
    let own = match settings.metrics_addr {
        Some(addr) => Some(OwnListener::start(addr, state.clone()).await?),
        None => None,
    };
    let route = main_port_route(own.is_some(), &settings.metrics_allow);
    Ok((own, route))
}

/// Middleware: counts and times every request by route pattern (never the raw path: ids would
/// make a series per show), method and status. What no route matched is "other".
pub async fn measure(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or("other", MatchedPath::as_str).to_owned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    crate::metrics::http_request(route, method, response.status().as_u16(), started.elapsed());
    response
}

/// The standard methods by name; anything else (a client may send any token) as "other".
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    const NAMES: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];
    KNOWN.iter().position(|known| known == method).map_or("other", |i| NAMES[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_allowed_by_default_and_others_are_not() {
        let allowed: Vec<IpNet> =
            "127.0.0.0/8,::1/128".split(',').map(|range| range.parse().unwrap()).collect();
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(is_allowed(&allowed, ip("127.0.0.1")));
        assert!(is_allowed(&allowed, ip("127.8.9.10")));
        assert!(is_allowed(&allowed, ip("::1")));
        assert!(is_allowed(&allowed, ip("::ffff:127.0.0.1")), "IPv4 loopback on an IPv6 socket");
        assert!(!is_allowed(&allowed, ip("10.0.0.1")));
        assert!(!is_allowed(&allowed, ip("::2")));
        assert!(!is_allowed(&[], ip("127.0.0.1")), "nobody when the metrics have a listener of their own");
    }

    #[test]
    fn methods_are_a_bounded_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
