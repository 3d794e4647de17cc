//! Every setting of the server, each a command-line flag with its environment variable (the
//! command line itself is `crate::cli`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use leptos::config::LeptosOptions;

use super::client_address::TrustedProxies;
use super::sessions::SessionSettings;
use crate::service::bookings::BookingRules;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// PostgreSQL to use, e.g. postgres://user:pass@host/db. Unset: the embedded default.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Where the embedded default keeps its PostgreSQL cluster (used only without DATABASE_URL).
    #[arg(long, env = "BOXOFFICE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000", global = true)]
    pub site_addr: SocketAddr,

    /// Folder with the built site (the pkg/ folder with WASM, JS and CSS, and public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site", global = true)]
    pub site_root: String,

    /// Most database connections this instance opens (the embedded default allows 300 in all).
    #[arg(long, env = "BOXOFFICE_DB_MAX_CONNECTIONS", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=250), global = true)]
    pub db_max_connections: u32,

    /// How long a hold keeps seats for a customer before they go back on sale, in seconds
    /// (a show may set its own).
    #[arg(long, env = "BOXOFFICE_HOLD_SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=3600), global = true)]
    pub hold_seconds: u32,

    /// Mark session cookies Secure: set this when the site is served over https.
    #[arg(long, env = "BOXOFFICE_SECURE_COOKIES", default_value_t = false, global = true)]
    pub secure_cookies: bool,

    /// Most seats one booking may take.
    #[arg(long, env = "BOXOFFICE_MAX_SEATS_PER_BOOKING", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100), global = true)]
    pub max_seats_per_booking: u16,

    /// Most seats one customer may hold on one show at a time, waiting for confirmation (a
    /// bound on hoarding). Default: the most seats of one booking.
    #[arg(long, env = "BOXOFFICE_MAX_HELD_SEATS_PER_CUSTOMER", value_parser = clap::value_parser!(u16).range(1..=1000), global = true)]
    pub max_held_seats_per_customer: Option<u16>,

    /// How long seats offered to a customer on a waiting list stay held for them to book.
    #[arg(long, env = "BOXOFFICE_WAITLIST_OFFER_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u32).range(30..=86400), global = true)]
    pub waitlist_offer_seconds: u32,

    /// Requests this instance answers at once; more are answered 503 at once (an event
    /// stream counts only until it starts).
    #[arg(long, env = "BOXOFFICE_MAX_REQUESTS_IN_FLIGHT", default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_requests_in_flight: u32,

    #[command(flatten)]
    pub rate_limits: RateLimitSettings,

    /// Proxies (CIDR ranges, comma-separated) whose X-Forwarded-For names the client, e.g.
    /// 10.0.0.0/8,fd00::/8. Empty: none, the client is the TCP peer.
    #[arg(long, env = "BOXOFFICE_TRUSTED_PROXIES", default_value = "", hide_default_value = true, global = true)]
    pub trusted_proxies: TrustedProxies,

    /// A PostgreSQL standby for reads that may lag a little (show lists and search, the admin
    /// dashboard), e.g. postgres://user:pass@standby/db. Unset: everything reads the primary.
    #[arg(long, env = "BOXOFFICE_REPLICA_URL", hide_env_values = true, global = true)]
    pub replica_url: Option<String>,

    /// Serve Prometheus metrics (/metrics) on a listener of its own at this address, e.g.
    /// 127.0.0.1:9101, to whoever can reach it. Unset: on the main port, to
    /// BOXOFFICE_METRICS_ALLOW only.
    #[arg(long, env = "BOXOFFICE_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// Who may read /metrics on the main port (CIDR ranges, comma-separated; others get 404).
    /// Default: loopback only. Not used with BOXOFFICE_METRICS_ADDR.
    #[arg(long, env = "BOXOFFICE_METRICS_ALLOW", value_delimiter = ',', default_value = "127.0.0.0/8,::1/128", global = true)]
    pub metrics_allow: Vec<ipnet::IpNet>,

    /// A session ends this long after its last request, in seconds (default 14 days).
    #[arg(long, env = "BOXOFFICE_SESSION_IDLE_SECONDS", default_value_t = 14 * 24 * 3600, value_parser = clap::value_parser!(u32).range(2..), global = true)]
    pub session_idle_seconds: u32,

    /// How long an instance serves a session from memory before reading it again, with its
    /// account's current role, in seconds. A session ended elsewhere is forgotten at once
    /// while the live feed's connection works; this bounds how long it might not be.
    #[arg(long, env = "BOXOFFICE_SESSION_TRUST_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3600), global = true)]
    pub session_trust_seconds: u32,
}

/// How often one client may knock on the doors that attract abuse. 0 turns a limit off (load
/// tests, benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct RateLimitSettings {
    /// Register and log-in attempts per minute from one IP address (REST API and the browser's
    /// forms together). 0 = no limit.
    #[arg(long, env = "BOXOFFICE_AUTH_RATE_PER_MINUTE", default_value_t = 30, global = true)]
    pub auth_per_minute: u32,

    /// Log-in attempts per minute for one account (by email), from anywhere. 0 = no limit.
    #[arg(long, env = "BOXOFFICE_LOGIN_RATE_PER_MINUTE", default_value_t = 10, global = true)]
    pub login_per_minute: u32,

    /// Hold, booking, confirm and cancel requests per second from one signed-in user (the
    /// browser and the REST API together). 0 = no limit.
    #[arg(long, env = "BOXOFFICE_BOOKING_RATE_PER_SECOND", default_value_t = 10, global = true)]
    pub booking_per_second: u32,

    /// Live-update streams (Server-Sent Events) one IP address may hold open at once, an IPv6
    /// client counted by its /64. Behind a proxy not in BOXOFFICE_TRUSTED_PROXIES every client
    /// shares the proxy's address, so raise it there. 0 = no limit.
    #[arg(long, env = "BOXOFFICE_EVENT_STREAMS_PER_IP", default_value_t = 20, global = true)]
    pub event_streams_per_ip: u32,

    /// Waiting-room joins per minute from one IP address (an IPv6 client by its /64), the REST
    /// API and the browser together. 0 = no limit.
    #[arg(long, env = "BOXOFFICE_WAITING_ROOM_JOINS_PER_MINUTE", default_value_t = 60, global = true)]
    pub waiting_room_joins_per_minute: u32,
}

impl RateLimitSettings {
    /// Every limit off.
    pub const OFF: Self =
        Self { auth_per_minute: 0, login_per_minute: 0, booking_per_second: 0, event_streams_per_ip: 0, waiting_room_joins_per_minute: 0 };
}

/// Where Leptos looks for the site's hashed file names (its default name, beside the binary).
fn hash_file_beside_binary() -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join("hash.txt"))
}

impl Settings {
    pub fn booking_rules(&self) -> BookingRules {
        BookingRules {
            hold_seconds: self.hold_seconds,
            max_seats_per_booking: self.max_seats_per_booking,
            max_held_seats: self.max_held_seats_per_customer.unwrap_or(self.max_seats_per_booking),
            requests_per_second: self.rate_limits.booking_per_second,
            waitlist_offer_seconds: self.waitlist_offer_seconds,
        }
    }

    /// How sessions behave: cookies, idle time, how long a cached session is trusted.
    pub fn sessions(&self) -> SessionSettings {
        SessionSettings {
            secure_cookies: self.secure_cookies,
            idle: std::time::Duration::from_secs(self.session_idle_seconds.into()),
            trust: std::time::Duration::from_secs(self.session_trust_seconds.into()),
        }
    }

    /// Leptos's own options, built from ours rather than read from a file, so the server runs
    /// the same under cargo-leptos, from the release binary, and inside tests.
    pub fn leptos_options(&self) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("boxoffice")
            .site_root(self.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(self.site_addr)
            // cargo-leptos writes the hashed names of the site's files beside the binary it
            // builds; a binary without that file (tests) uses the plain names.
            .hash_files(hash_file_beside_binary().is_some_and(|file| file.exists()))
            .build()
    }

    /// The embedded database's folder: the setting, else the user's data directory. As root it
    /// is /var/lib/boxoffice, because PostgreSQL runs as an unprivileged user that cannot reach
    /// into root's home.
    pub fn embedded_data_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        if nix::unistd::geteuid().is_root() {
            return Ok(PathBuf::from("/var/lib/boxoffice"));
        }
        dirs::data_dir()
            .map(|dir| dir.join("boxoffice"))
            .ok_or_else(|| anyhow::anyhow!("cannot tell this user's data directory: set BOXOFFICE_DATA_DIR"))
    }
}
