//! The service layer: the only code that talks to PostgreSQL. Every SQL statement and every
//! transaction of Box Office lives under this module.

pub mod admin;
pub mod bookings;
pub mod claims;
pub mod demo;
pub mod error;
pub mod health;
pub mod live;
pub mod show_cache;
pub mod shows;
pub mod users;

pub use error::ServiceError;
