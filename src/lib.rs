//! Box Office: book numbered seats for shows and trips on a live seat map.
//!
//! The crate compiles twice: with `ssr` for the server (axum, sqlx, the service layer) and with
//! `hydrate` for the browser (the same components, hydrated from the server's HTML).
//! Data flows one way: component -> server function (or REST handler) -> service -> PostgreSQL.
//! Modules depend downwards only: cli -> startup -> app/ui -> api -> server -> service ->
//! domain/error/metrics (and bench -> server/service); `tests/api/architecture.rs` checks no cycle.

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod domain;
pub mod error;
pub mod ui;

/// `boxoffice bench`, the load generator (feature `bench`, server only).
#[cfg(feature = "bench")]
pub mod bench;
/// Server only: the command line.
#[cfg(feature = "ssr")]
pub mod cli;
/// Server only: what is measured for Prometheus (names and recording; exposed by `server`).
#[cfg(feature = "ssr")]
pub mod metrics;
/// Server only: settings, the app state, sessions, HTTP plumbing, the embedded database.
#[cfg(feature = "ssr")]
pub mod server;
/// Server only: the one layer that owns SQL and transactions.
#[cfg(feature = "ssr")]
pub mod service;
/// Server only: the app assembled and served.
#[cfg(feature = "ssr")]
pub mod startup;

/// Entry point of the WASM bundle: attaches the app to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
