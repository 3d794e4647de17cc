//! Server-only plumbing under the doors, apart from SQL (that is `crate::service`): settings,
//! the app state, sessions, rate limits, error answers, the cross-site guard, health, the
//! embedded PostgreSQL and logging. Nothing here imports the doors or the pages.

pub mod caching;
pub mod client_address;
pub mod config;
pub mod context;
pub mod csrf;
pub mod database;
pub mod embedded_pg;
pub mod error_response;
pub mod event_streams;
pub mod health;
pub mod metrics;
pub mod rate_limit;
pub mod rpc_errors;
pub mod security_headers;
pub mod sessions;
pub mod state;
pub mod telemetry;

pub use config::Settings;
