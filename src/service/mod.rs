//! The service layer: the only code that talks to PostgreSQL. Every SQL statement and every
//! transaction of Box Office lives under this module. Doors call the handles: `Bookings`,
//! `Shows`, and the account functions in `users`.

pub mod bookings;
pub mod claims;
pub mod databases;
pub mod demo;
pub mod error;
pub mod health;
pub mod live;
pub mod rate_limit;
pub mod reads;
pub mod shows;
pub mod supervisor;
pub mod users;
pub mod waiting_room;
pub mod waitlist;

pub use bookings::Bookings;
pub use error::ServiceError;
pub use shows::Shows;
