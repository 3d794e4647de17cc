//! What the live feed sends to open seat maps and show lists (as Server-Sent Events).

use serde::{Deserialize, Serialize};

use super::SeatStatus;

/// A seat's new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatChange {
    pub seat_id: i32,
    pub status: SeatStatus,
}

/// How many seats a show has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowAvailability {
    pub show_id: i64,
    pub available_seats: i64,
}
