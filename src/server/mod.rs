//! Everything that runs only on the server, apart from SQL (that is `crate::service`).

pub mod config;
pub mod context;
pub mod csrf;
pub mod database;
pub mod embedded_pg;
pub mod events;
pub mod health;
pub mod rate_limit;
pub mod rpc_errors;
pub mod sessions;
pub mod startup;
pub mod telemetry;

pub use config::{Cli, Command, Settings};
pub use startup::{Application, run};
