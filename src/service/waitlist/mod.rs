//! The waiting list of a sold-out show (issue 22): customers wait in the order they joined, and
//! seats that come back are held for the first customer whose party fits.
//!
//! - `offering`: choosing and holding seats for waiting customers ([`offer_freed_seats`]),
//!   called in the transaction that freed the seats: a cancel, a decline, the expiry worker.
//! - `entries`: joining, leaving, declining and reading one's entry (the [`Waitlist`] handle).
//!
//! An offer is a PENDING booking of the customer's: accepting it is confirming that booking at
//! the checkout like any hold. An entry's status follows its offer booking through the
//! `waitlist_follows_booking` trigger (see the migration), so confirm, cancel, expiry and show
//! cancellation need not know about waiting lists.

mod entries;
mod offering;

use std::sync::Arc;

use sqlx::{PgConnection, PgPool};

use super::ServiceError;
use super::bookings::BookingRules;
use super::live::LiveFeed;
use super::rate_limit::RateLimit;
use crate::domain::user::User;
use crate::domain::waitlist::{WaitlistEntry, WaitlistJoin, WaitlistView};

/// Offers the seats of `show_id` that are free now to the customers waiting for it. Called
/// inside the transaction that freed seats, so nobody else can take them in between. Returns
/// the seats it held for offers (the live feed is told about them).
pub async fn offer_freed_seats(conn: &mut PgConnection, show_id: i64, offer_seconds: u32) -> Result<Vec<i32>, sqlx::Error> {
    offering::offer(conn, show_id, offer_seconds).await
}

/// Offers free seats of each of `show_ids` (in show order, so two callers never wait for each
/// other's offering locks in a cycle) to their waiting lists, in the caller's transaction.
/// Returns the seats offered, by show.
pub async fn offer_freed_seats_of_shows(
    conn: &mut PgConnection,
    show_ids: &[i64],
    offer_seconds: u32,
) -> Result<Vec<(i64, Vec<i32>)>, sqlx::Error> {
    let mut shows = show_ids.to_vec();
    shows.sort_unstable();
    shows.dedup();
    let mut offered = Vec::new();
    for show_id in shows {
        let seats = offering::offer(conn, show_id, offer_seconds).await?;
        if !seats.is_empty() {
            offered.push((show_id, seats));
        }
    }
    Ok(offered)
}

/// This instance's waiting-list service: a cheap handle.
#[derive(Clone)]
pub struct Waitlist {
    pool: PgPool,
    feed: LiveFeed,
    rules: BookingRules,
    requests_per_customer: Arc<RateLimit<i64>>,
}

impl Waitlist {
    pub fn new(pool: PgPool, feed: LiveFeed, rules: BookingRules) -> Self {
        let requests_per_customer =
            Arc::new(RateLimit::per_second("waitlist_per_customer", rules.requests_per_second));
        Self { pool, feed, rules, requests_per_customer }
    }

    /// The largest party that may join (the per-booking maximum).
    pub fn max_party(&self) -> u16 {
        self.rules.max_seats_per_booking
    }

    /// Puts `customer` on the show's waiting list. Refused when the show still has seats for
    /// the party and is not nearly sold out (`SeatsAvailable`), when they are on it already
    /// (`AlreadyWaiting`), or when the show no longer sells.
    #[tracing::instrument(skip(self, customer), fields(user_id = customer.id))]
    pub async fn join(&self, customer: &User, show_id: i64, join: WaitlistJoin) -> Result<WaitlistEntry, ServiceError> {
        self.requests_per_customer.check(&customer.id)?;
        entries::join(&self.pool, show_id, customer.id, &join).await?;
        entries::latest(&self.pool, show_id, customer.id).await
    }

    /// The customer's entry on the show's list (the latest, whatever its status), with their
    /// place while waiting and the seats held for them while an offer is out.
    pub async fn my_entry(&self, customer: &User, show_id: i64) -> Result<WaitlistEntry, ServiceError> {
        entries::latest(&self.pool, show_id, customer.id).await
    }

    /// What the show page's panel shows: whether the list is open, the customer's entry.
    pub async fn view(&self, customer: Option<&User>, show_id: i64) -> Result<WaitlistView, ServiceError> {
        let cached = self.feed.show(show_id).await?;
        entries::view(&self.pool, &cached, customer.map(|c| c.id), self.max_party()).await
    }

    /// Takes the customer off the list, declining an outstanding offer first (its seats go to
    /// the next customer whose party fits, or back on sale).
    #[tracing::instrument(skip(self, customer), fields(user_id = customer.id))]
    pub async fn leave(&self, customer: &User, show_id: i64) -> Result<WaitlistEntry, ServiceError> {
        self.requests_per_customer.check(&customer.id)?;
        let touched = entries::leave(&self.pool, show_id, customer.id, self.rules.waitlist_offer_seconds).await?;
        self.feed.seats_changed(show_id, &touched);
        entries::latest(&self.pool, show_id, customer.id).await
    }

    /// Declines the seats offered to the customer: they go to the next customer whose party
    /// fits, or back on sale, in the same transaction.
    #[tracing::instrument(skip(self, customer), fields(user_id = customer.id))]
    pub async fn decline(&self, customer: &User, show_id: i64) -> Result<WaitlistEntry, ServiceError> {
        self.requests_per_customer.check(&customer.id)?;
        let touched = entries::decline(&self.pool, show_id, customer.id, self.rules.waitlist_offer_seconds).await?;
        self.feed.seats_changed(show_id, &touched);
        entries::latest(&self.pool, show_id, customer.id).await
    }
}
