//! Box Office: book numbered seats for shows and trips on a live seat map.
//!
//! The crate compiles twice: with `ssr` for the server (axum, sqlx, the service layer) and with
//! `hydrate` for the browser (the same components, hydrated from the server's HTML).
//! Data flows one way: component -> server function -> service -> PostgreSQL.

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod domain;
pub mod error;
pub mod ui;

/// Server only: `boxoffice bench`, the load generator.
#[cfg(feature = "ssr")]
pub mod bench;
/// Server only: configuration, start-up, the embedded database, HTTP plumbing.
#[cfg(feature = "ssr")]
pub mod server;
/// Server only: the one layer that owns SQL and transactions.
#[cfg(feature = "ssr")]
pub mod service;

/// Entry point of the WASM bundle: attaches the app to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
