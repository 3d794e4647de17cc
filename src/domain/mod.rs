//! Types shared by the server and the browser, and the parsing of user input into them.
//! A value of these types is valid by construction: parse, don't validate.

pub mod show;

pub use show::{ShowKind, ShowSearch, ShowStatus, ShowSummary};
