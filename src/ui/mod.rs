//! Components. They render and call server functions; none knows SQL or HTTP details.

pub mod error;
pub mod home;
pub mod layout;
pub mod not_found;
