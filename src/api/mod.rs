//! Server functions: the doors the browser knocks on. Each one parses its input, calls the
//! service layer and maps errors; no business rule lives here.

pub mod accounts;
pub mod admin;
pub mod bookings;
pub mod shows;
