//! Seats, bookings and what a customer asks for, as the browser and the server exchange them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::cancellation::{CancellationPolicy, Refund};
use super::layout::SeatCategory;
use super::show::{ShowKind, ShowStatus, ShowSummary};
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "seat_status", rename_all = "SCREAMING_SNAKE_CASE"))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SeatStatus {
    Available,
    Held,
    Booked,
    Blocked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "booking_status", rename_all = "SCREAMING_SNAKE_CASE"))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum BookingStatus {
    /// Holding its seats until `hold_expires_at`.
    Pending,
    Confirmed,
    /// The hold ran out before it was confirmed.
    Expired,
    /// It could not get its seats; `failure_reason` says why.
    Failed,
    Cancelled,
}

impl BookingStatus {
    /// As a customer reads it.
    pub fn label(self) -> &'static str {
        match self {
            BookingStatus::Pending => "Held",
            BookingStatus::Confirmed => "Confirmed",
            BookingStatus::Expired => "Expired",
            BookingStatus::Failed => "Failed",
            BookingStatus::Cancelled => "Cancelled",
        }
    }
}

/// One seat on the seat map, with its status as a customer should read it (an expired hold
/// reads as available).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub seat_id: i32,
    pub row_label: String,
    pub number: i32,
    pub label: String,
    pub grid_row: i16,
    pub grid_col: i16,
    pub category: String,
    pub status: SeatStatus,
}

/// A show with everything needed to draw and price its seat map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatMap {
    pub show_id: i64,
    pub kind: ShowKind,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub status: ShowStatus,
    /// The policy bookings made now are made under.
    pub cancellation_policy: CancellationPolicy,
    /// Nothing can be held or booked before this (None: on sale).
    pub sale_opens_at: Option<DateTime<Utc>>,
    /// Customers queue in a waiting room and need a pass to hold or book.
    pub waiting_room: bool,
    pub categories: Vec<SeatCategory>,
    pub seats: Vec<Seat>,
}

/// A seat as a booking refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedSeat {
    pub seat_id: i32,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub id: i64,
    pub show_id: i64,
    pub user_id: i64,
    pub status: BookingStatus,
    pub seats: Vec<BookedSeat>,
    pub total_cents: i64,
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// Set when the status is FAILED.
    pub failure: Option<BookingFailure>,
    pub created_at: DateTime<Utc>,
    /// The policy it was made under (its show's when its seats were held).
    pub cancellation_policy: CancellationPolicy,
    /// Money given back for seats cancelled, oldest first.
    pub refunds: Vec<Refund>,
}

impl Booking {
    pub fn seat_ids(&self) -> Vec<i32> {
        self.seats.iter().map(|seat| seat.seat_id).collect()
    }

    /// Whether its customer may cancel it now (a confirmed booking, or a hold that still
    /// lasts, before the show starts). The seat pages offer the button by this rule and the
    /// service refuses by it.
    pub fn can_cancel(&self, show_starts_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        cancellation(self.status, self.hold_expires_at, &self.cancellation_policy, show_starts_at, now).is_ok()
    }

    /// Whether some of its seats may be cancelled now and the others kept.
    pub fn can_cancel_some(&self, show_starts_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.status == BookingStatus::Confirmed
            && self.seats.len() > 1
            && self.cancellation_policy.partial
            && self.can_cancel(show_starts_at, now)
    }

    /// What cancelling seats of it now would give back, in percent of their price
    /// (0 for a hold, which was never paid).
    pub fn refund_percent_now(&self, show_starts_at: DateTime<Utc>, now: DateTime<Utc>) -> u8 {
        match self.status {
            BookingStatus::Confirmed => self.cancellation_policy.refund_percent(show_starts_at, now),
            _ => 0,
        }
    }

    /// Money given back for it so far.
    pub fn refunded_cents(&self) -> i64 {
        self.refunds.iter().map(|refund| refund.amount_cents).sum()
    }
}

/// Why a booking in this state cannot be cancelled at `now`, or Ok when it can. A hold that
/// ran out is EXPIRED (by the expiry worker), never CANCELLED.
pub fn cancellation(
    status: BookingStatus,
    hold_expires_at: Option<DateTime<Utc>>,
    policy: &CancellationPolicy,
    show_starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let lapsed = hold_expires_at.is_none_or(|until| until <= now);
    match status {
        BookingStatus::Pending if lapsed => Err(AppError::HoldExpired),
        BookingStatus::Expired => Err(AppError::HoldExpired),
        BookingStatus::Cancelled => Err(AppError::AlreadyCancelled),
        BookingStatus::Failed => Err(AppError::NothingToCancel),
        BookingStatus::Pending | BookingStatus::Confirmed if show_starts_at <= now => Err(AppError::ShowStarted),
        // Releasing a hold is always allowed: nothing was paid.
        BookingStatus::Confirmed if !policy.cancellable => Err(AppError::NotCancellable),
        BookingStatus::Pending | BookingStatus::Confirmed => Ok(()),
    }
}

/// Why a booking could not get its seats. Stored with the FAILED booking (as JSON that only
/// the SQL function `booking_failure_json` builds), so replaying the request gives the same
/// answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BookingFailure {
    /// Labels of the seats that were taken, in seat-id order.
    SeatsTaken { seats: Vec<String> },
    NotEnoughSeats { requested: u16, available: u32 },
}

impl BookingFailure {
    /// The refusal a customer sees for the FAILED booking `booking`, naming the taken seats by
    /// id as well as by label.
    pub fn refusal(self, booking: &Booking) -> AppError {
        match self {
            BookingFailure::SeatsTaken { seats } => AppError::SeatsTaken {
                seat_ids: booking.seats.iter().filter(|s| seats.contains(&s.label)).map(|s| s.seat_id).collect(),
                seats,
                booking_id: Some(booking.id),
            },
            BookingFailure::NotEnoughSeats { requested, available } => {
                AppError::NotEnoughSeats { requested, available, booking_id: Some(booking.id) }
            }
        }
    }
}

/// Which seats a customer wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeatRequest {
    /// These seats, all or nothing.
    Seats(Vec<i32>),
    /// The best `count` seats the show has, optionally in one category.
    BestAvailable { count: u16, category: Option<String> },
}

impl SeatRequest {
    /// Checks the request against the per-booking limit; seat ids come back sorted and unique.
    pub fn parse(self, max_seats: u16) -> Result<Self, AppError> {
        let count = match &self {
            SeatRequest::Seats(ids) => ids.len(),
            SeatRequest::BestAvailable { count, .. } => usize::from(*count),
        };
        if count == 0 {
            return Err(AppError::invalid("seats", "Choose at least one seat."));
        }
        if count > usize::from(max_seats) {
            return Err(AppError::TooManySeats { max: max_seats });
        }
        match self {
            SeatRequest::Seats(mut ids) => {
                ids.sort_unstable();
                let before = ids.len();
                ids.dedup();
                if ids.len() != before {
                    return Err(AppError::invalid("seats", "The same seat was chosen twice."));
                }
                if ids.iter().any(|&id| id < 1) {
                    return Err(AppError::invalid("seats", "A seat id is a positive number."));
                }
                Ok(SeatRequest::Seats(ids))
            }
            SeatRequest::BestAvailable { count, category } => Ok(SeatRequest::BestAvailable {
                count,
                category: category.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
            }),
        }
    }
}

/// Names one attempt at a booking, so retrying it never books twice. The browser makes one
/// per checkout; REST clients send `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(key: &str) -> Result<Self, AppError> {
        let key = key.trim();
        if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(AppError::invalid(
                "idempotency_key",
                "An idempotency key is 1 to 200 visible ASCII characters.",
            ));
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_requests_are_sorted_and_limited() {
        assert_eq!(SeatRequest::Seats(vec![5, 2]).parse(10).unwrap(), SeatRequest::Seats(vec![2, 5]));
        assert_eq!(
            SeatRequest::Seats(vec![1; 11]).parse(10).unwrap_err(),
            AppError::TooManySeats { max: 10 }
        );
        assert!(matches!(SeatRequest::Seats(vec![3, 3]).parse(10), Err(AppError::InvalidInput { .. })));
        assert!(matches!(SeatRequest::Seats(vec![]).parse(10), Err(AppError::InvalidInput { .. })));
        assert!(matches!(
            SeatRequest::BestAvailable { count: 0, category: None }.parse(10),
            Err(AppError::InvalidInput { .. })
        ));
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("checkout-7f3a").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(201)).is_err());
    }
}

/// A show's page: what it is, its seat map, and the rules for choosing seats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowPage {
    pub show: ShowSummary,
    pub seat_map: SeatMap,
    pub max_seats_per_booking: u16,
    /// The server's clock when this was read: whether the show still sells is decided by it.
    pub now: DateTime<Utc>,
}

/// A booking with the show it is for, as its customer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingWithShow {
    pub booking: Booking,
    pub show: ShowSummary,
    /// The server's clock when this was read, so a countdown does not trust the browser's.
    pub now: DateTime<Utc>,
}
