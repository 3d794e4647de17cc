//! Types shared by the server and the browser, and the parsing of user input into them.
//! A value of these types is valid by construction: parse, don't validate.

pub mod best_available;
pub mod booking;
pub mod cancellation;
pub mod layout;
pub mod live;
pub mod new_show;
pub mod sales;
pub mod show;
pub mod user;
pub mod waiting_room;
pub mod waitlist;

pub use booking::{
    BookedSeat, Booking, BookingFailure, BookingStatus, BookingWithShow, IdempotencyKey, Seat, SeatMap,
    SeatRequest, SeatStatus, ShowPage,
};
pub use cancellation::{CancellationPolicy, Refund, RefundTier};
pub use layout::{Layout, LayoutSpec, SeatCategory};
pub use new_show::{NewShow, NewShowSpec, ShowEdit};
pub use sales::{AdminShowDetail, ShowBooking, ShowSales};
pub use show::{ShowKind, ShowSearch, ShowStatus, ShowSummary};
