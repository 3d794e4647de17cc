//! What the admin area shows about a show: how it is selling and who booked what.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::booking::{BookingStatus, SeatMap};
use super::cancellation::CancellationPolicy;
use super::show::{ShowKind, ShowStatus};

/// One show on the admin dashboard. Seat counts add up to the seats the show has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowSales {
    pub id: i64,
    pub kind: ShowKind,
    pub title: String,
    pub venue: Option<String>,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub status: ShowStatus,
    pub hold_seconds: Option<i32>,
    pub sold: i64,
    /// Held by an unexpired hold.
    pub held: i64,
    pub free: i64,
    pub blocked: i64,
    /// Confirmed bookings, plus what was kept of seats cancelled with less than a full refund.
    pub revenue_cents: i64,
    /// Money given back for cancelled seats.
    pub refunded_cents: i64,
    /// The policy new bookings are made under.
    pub cancellation_policy: CancellationPolicy,
    /// No booking was ever made, so the title and start time may still change.
    pub editable: bool,
}

impl ShowSales {
    pub fn total_seats(&self) -> i64 {
        self.sold + self.held + self.free + self.blocked
    }

    /// The venue of a show, the route of a trip.
    pub fn place(&self) -> String {
        super::show::place(self.kind, &self.venue, &self.origin, &self.destination)
    }
}

/// One booking of a show, as the admin's show detail lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowBooking {
    pub id: i64,
    pub customer_name: String,
    pub customer_email: String,
    pub status: BookingStatus,
    pub seats: Vec<String>,
    pub total_cents: i64,
    /// Money given back for seats cancelled from it.
    pub refunded_cents: i64,
    pub created_at: DateTime<Utc>,
}

/// Everything the admin's page for one show needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminShowDetail {
    pub sales: ShowSales,
    pub seat_map: SeatMap,
    pub bookings: Vec<ShowBooking>,
}
