//! Components. They render and call server functions; none knows SQL or HTTP details.

pub mod admin;
pub mod auth;
pub mod cancellation;
pub mod checkout;
pub mod error;
pub mod home;
pub mod layout;
pub mod browser;
pub mod live;
pub mod my_bookings;
pub mod not_found;
pub mod seat_map;
pub mod session;
pub mod show_page;
pub mod toast;
pub mod waiting_room;
pub mod waitlist;
