use tracing_subscriber::EnvFilter;

/// Structured logs to stderr (stdout carries only the start-up banner), filtered by `RUST_LOG` (default `info`, with sqlx's per-query
/// logs kept at warn so a busy server does not drown in them).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
