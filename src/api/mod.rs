//! The doors: the browser's server functions (`accounts`, `admin`, `bookings`, `shows`,
//! `waiting_room`, `waitlist`), its
//! live event streams (`events`) and the REST API (`rest`). Each door authenticates, parses,
//! calls one service method and renders the answer; no business rule lives here.

pub mod accounts;
pub mod admin;
pub mod bookings;
/// Server only: Server-Sent Events of the live feed.
#[cfg(feature = "ssr")]
pub mod events;
/// Server only: the REST JSON API under /api/v1, the same doors for other programs.
#[cfg(feature = "ssr")]
pub mod rest;
pub mod shows;
pub mod waiting_room;
pub mod waitlist;
