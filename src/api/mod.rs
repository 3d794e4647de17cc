//! Server functions: the doors the browser knocks on. Each one parses its input, calls the
//! service layer and maps errors; no business rule lives here.

pub mod accounts;
pub mod admin;
pub mod bookings;
/// The REST JSON API under /api/v1 (server only): the same doors for other programs.
#[cfg(feature = "ssr")]
pub mod rest;
pub mod shows;
