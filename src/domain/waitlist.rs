//! The waiting list of a sold-out show, as the browser and the server exchange it: a
//! customer's entry, its place and the seats offered to them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::layout::SeatCategory;
use crate::error::AppError;

/// Where an entry stands. WAITING -> OFFERED -> BOOKED, DECLINED or LAPSED; WAITING or OFFERED
/// -> LEFT, or CLOSED when the show is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "waitlist_status", rename_all = "SCREAMING_SNAKE_CASE"))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum WaitlistStatus {
    /// In the queue, waiting for seats.
    Waiting,
    /// Seats are held for them until the offer's deadline.
    Offered,
    /// They booked the offered seats.
    Booked,
    /// They declined the offer.
    Declined,
    /// The offer ran out before they booked it.
    Lapsed,
    /// They left the list.
    Left,
    /// The show was cancelled.
    Closed,
}

impl WaitlistStatus {
    /// Still on the list: waiting, or with an offer out.
    pub fn is_live(self) -> bool {
        matches!(self, WaitlistStatus::Waiting | WaitlistStatus::Offered)
    }
}

/// Seats held for a customer from the waiting list: book them at `/checkout/{booking_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WaitlistOffer {
    /// The PENDING booking that holds the seats.
    pub booking_id: i64,
    pub seat_ids: Vec<i32>,
    /// Seat labels ("A5"), in seat order.
    pub seats: Vec<String>,
    pub total_cents: i64,
    /// Until when the seats are held for them.
    pub expires_at: DateTime<Utc>,
}

/// A customer's entry on a show's waiting list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WaitlistEntry {
    pub id: i64,
    pub show_id: i64,
    pub party_size: u16,
    /// Only seats of this category code, when given.
    pub category: Option<String>,
    pub status: WaitlistStatus,
    /// 1-based place among those still waiting (WAITING only).
    pub place: Option<u32>,
    pub joined_at: DateTime<Utc>,
    /// The seats held for them (OFFERED only).
    pub offer: Option<WaitlistOffer>,
}

/// What a customer asks for when joining: a valid party size and an optional category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistJoin {
    party_size: u16,
    category: Option<String>,
}

impl WaitlistJoin {
    /// A party of 1 to `max_party` (the per-booking maximum) and, when not blank, a category
    /// code (whether the show has it is for the service to say).
    pub fn parse(party_size: i64, category: Option<&str>, max_party: u16) -> Result<Self, AppError> {
        if party_size < 1 {
            return Err(AppError::invalid("party_size", "A party is at least one person."));
        }
        if party_size > i64::from(max_party) {
            return Err(AppError::invalid(
                "party_size",
                format!("A party on the waiting list is at most {max_party} people (the most one booking can seat)."),
            ));
        }
        let category = category.map(str::trim).filter(|c| !c.is_empty());
        if let Some(code) = category
            && (code.len() > 20 || !code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        {
            return Err(AppError::invalid(
                "category",
                "A seat category is a code like PREMIUM: capital letters, digits and _, at most 20.",
            ));
        }
        Ok(Self { party_size: party_size as u16, category: category.map(str::to_owned) })
    }

    pub fn party_size(&self) -> u16 {
        self.party_size
    }

    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }
}

/// What the show page's waiting-list panel needs: whether the show is (nearly) sold out, the
/// customer's entry if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistView {
    /// Seats on sale now and seats in all (not counting blocked ones).
    pub available_seats: i64,
    pub total_seats: i64,
    /// The largest party one can join with.
    pub max_party: u16,
    /// The show's seat categories, best first, to wait for one of them.
    pub categories: Vec<SeatCategory>,
    /// Whether the list is open: the show still sells and is sold out or nearly.
    pub open: bool,
    pub entry: Option<WaitlistEntry>,
    pub now: DateTime<Utc>,
}

/// Nearly sold out: under 5% of the seats are free.
pub fn nearly_sold_out(available: i64, total: i64) -> bool {
    available * 20 < total
}

/// Whether a party may join: fewer free seats than the party (in its category when it has
/// one), or the show (nearly) sold out.
pub fn may_join(party_size: u16, free_for_party: i64, available: i64, total: i64) -> bool {
    free_for_party < i64::from(party_size) || nearly_sold_out(available, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_sizes_and_categories_are_parsed() {
        assert!(WaitlistJoin::parse(0, None, 10).is_err());
        assert!(WaitlistJoin::parse(11, None, 10).is_err());
        let join = WaitlistJoin::parse(3, Some("  "), 10).unwrap();
        assert_eq!((join.party_size(), join.category()), (3, None));
        assert_eq!(WaitlistJoin::parse(2, Some("STD"), 10).unwrap().category(), Some("STD"));
        assert!(WaitlistJoin::parse(2, Some("no such; drop"), 10).is_err());
    }

    #[test]
    fn nearly_sold_out_is_under_five_percent_free() {
        assert!(nearly_sold_out(4, 100));
        assert!(!nearly_sold_out(5, 100));
        assert!(may_join(3, 2, 50, 100), "fewer free seats than the party");
        assert!(!may_join(2, 2, 50, 100));
    }
}
