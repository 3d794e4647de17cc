//! Bookings: the one service that both doors (the browser's server functions and the REST API)
//! call to hold, book, confirm, cancel and read bookings. Every rule about them lives here or
//! below: the per-customer request limit, who may read which booking, and telling the live feed
//! which seats changed. A door authenticates, parses, calls one method and renders the answer.
//!
//! - `ordering`: holding and booking seats (chosen or best available), with idempotency keys.
//! - `changes`: confirming and cancelling.
//! - `reads`: one booking, a customer's list.
//! - `expiry`: releasing holds that ran out.

mod changes;
pub mod expiry;
mod ordering;
mod reads;

use std::sync::Arc;

use sqlx::PgPool;

use super::ServiceError;
use super::claims::Claims;
use super::live::LiveFeed;
use super::rate_limit::RateLimit;
use super::shows;
use crate::domain::user::{Role, User};
use crate::domain::{Booking, BookingWithShow, IdempotencyKey, SeatRequest};
use crate::error::AppError;

pub use changes::Cancelling;
pub use ordering::Commitment;

/// The booking rules an instance runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingRules {
    /// How long a hold lasts unless the show sets its own.
    pub hold_seconds: u32,
    pub max_seats_per_booking: u16,
    /// Most seats one customer may hold on one show at a time (holds waiting for confirmation).
    pub max_held_seats: u16,
    /// Hold, book, confirm and cancel requests per second from one customer; 0 = no limit.
    pub requests_per_second: u32,
    /// How long seats offered to a customer on a waiting list stay held for them.
    pub waitlist_offer_seconds: u32,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self { hold_seconds: 120, max_seats_per_booking: 10, max_held_seats: 10, requests_per_second: 10, waitlist_offer_seconds: 900 }
    }
}

/// What a refused hold or booking is counted as: the refusal's code, or the code of what the
/// customer is told when the database failed.
fn refusal_reason(error: &ServiceError) -> &'static str {
    match error {
        ServiceError::Refused(refusal) => refusal.code(),
        error if error.is_unreachable() => "unavailable",
        ServiceError::Database(_) => "internal",
    }
}

/// This instance's booking service: a cheap handle.
#[derive(Clone)]
pub struct Bookings {
    pool: PgPool,
    claims: Claims,
    feed: LiveFeed,
    rules: BookingRules,
    policy: Arc<Policy>,
}

/// Who may do what, and how often.
struct Policy {
    requests_per_customer: RateLimit<i64>,
}

impl Policy {
    /// A customer asking to change bookings: counted against their request limit.
    fn admit(&self, customer: &User) -> Result<(), AppError> {
        self.requests_per_customer.check(&customer.id)
    }

    /// The bookings `reader` may see: admins every booking, customers their own. Someone
    /// else's booking is "not found", never "forbidden", so ids reveal nothing.
    fn owner_filter(reader: &User) -> Option<i64> {
        match reader.role {
            Role::Admin => None,
            Role::Customer => Some(reader.id),
        }
    }
}

impl Bookings {
    pub fn new(claims: Claims, feed: LiveFeed, rules: BookingRules) -> Self {
        let requests_per_customer = RateLimit::per_second("booking_per_customer", rules.requests_per_second);
        let policy = Policy { requests_per_customer };
        Self { pool: claims.pool().clone(), claims, feed, rules, policy: Arc::new(policy) }
    }

    pub fn rules(&self) -> BookingRules {
        self.rules
    }

    /// Holds seats for `customer` until the hold expires. The same idempotency key always
    /// gives the same answer; seats someone else has are refused as `SeatsTaken` (recorded as
    /// a FAILED booking).
    #[tracing::instrument(skip(self, customer, key), fields(user_id = customer.id))]
    pub async fn hold(
        &self,
        customer: &User,
        show_id: i64,
        seats: SeatRequest,
        key: Option<IdempotencyKey>,
    ) -> Result<Booking, ServiceError> {
        self.order(customer, show_id, seats, key, Commitment::Hold).await
    }

    /// Books seats at once: a hold and its confirmation in one statement.
    #[tracing::instrument(skip(self, customer, key), fields(user_id = customer.id))]
    pub async fn book_now(
        &self,
        customer: &User,
        show_id: i64,
        seats: SeatRequest,
        key: Option<IdempotencyKey>,
    ) -> Result<Booking, ServiceError> {
        self.order(customer, show_id, seats, key, Commitment::BookNow).await
    }

    async fn order(
        &self,
        customer: &User,
        show_id: i64,
        seats: SeatRequest,
        key: Option<IdempotencyKey>,
        commitment: Commitment,
    ) -> Result<Booking, ServiceError> {
        let ordered = async {
            self.policy.admit(customer)?;
            let user_id = customer.id;
            let order = ordering::SeatOrder { show_id, user_id, seats, commitment, idempotency_key: key };
            let booking = ordering::order_seats(&self.claims, &self.feed, &self.rules, order).await?;
            match booking.failure.clone() {
                Some(failure) => Err(failure.refusal(&booking).into()),
                None => {
                    self.feed.seats_changed(show_id, &booking.seat_ids());
                    Ok(booking)
                }
            }
        }
        .await;
        ordered.inspect_err(|error| crate::metrics::booking_refused(refusal_reason(error)))
    }

    /// Confirms a hold of `customer`'s while it lasts (payment is simulated). A hold that ran
    /// out becomes EXPIRED, its seats go back on sale, and the answer is `HoldExpired`.
    #[tracing::instrument(skip(self, customer), fields(user_id = customer.id))]
    pub async fn confirm(&self, customer: &User, booking_id: i64) -> Result<Booking, ServiceError> {
        self.policy.admit(customer)?;
        let outcome = changes::confirm(&self.pool, booking_id, customer.id).await?;
        self.tell_feed(&outcome.touched);
        // Changed by this confirm (not a replay): confirmed, or too late and expired.
        if outcome.touched.is_some() {
            crate::metrics::booking(if outcome.result.is_ok() { "confirmed" } else { "expired" });
        }
        outcome.result?;
        reads::get(&self.pool, booking_id, Some(customer.id)).await
    }

    /// Cancels a confirmed booking of `customer`'s, or some of its seats, or releases a live
    /// hold, before the show starts and as the booking's policy allows (see
    /// [`Booking::can_cancel`]). A confirmed booking gets the refund its policy gives now. The
    /// seats go to the show's waiting list, or back on sale.
    #[tracing::instrument(skip(self, customer), fields(user_id = customer.id))]
    pub async fn cancel(&self, customer: &User, booking_id: i64, which: Cancelling) -> Result<Booking, ServiceError> {
        self.cancel_as_shown(customer, booking_id, which, None).await
    }

    /// As [`Bookings::cancel`], refused with `RefundChanged` (changing nothing) when the
    /// refund is now less than `promised_refund_percent`, the share the customer was shown.
    #[tracing::instrument(skip(self, customer), fields(user_id = customer.id))]
    pub async fn cancel_as_shown(
        &self,
        customer: &User,
        booking_id: i64,
        which: Cancelling,
        promised_refund_percent: Option<u8>,
    ) -> Result<Booking, ServiceError> {
        self.policy.admit(customer)?;
        let offer_seconds = self.rules.waitlist_offer_seconds;
        let outcome =
            changes::cancel(&self.pool, booking_id, customer.id, &which, promised_refund_percent, offer_seconds).await?;
        self.tell_feed(&outcome.touched);
        outcome.result?;
        crate::metrics::booking("cancelled");
        reads::get(&self.pool, booking_id, Some(customer.id)).await
    }

    /// One booking, as `reader` may see it.
    pub async fn get(&self, reader: &User, booking_id: i64) -> Result<Booking, ServiceError> {
        reads::get(&self.pool, booking_id, Policy::owner_filter(reader)).await
    }

    /// One booking with its show, as `reader` may see it.
    pub async fn get_with_show(&self, reader: &User, booking_id: i64) -> Result<BookingWithShow, ServiceError> {
        let booking = self.get(reader, booking_id).await?;
        let show = shows::summary(&self.pool, booking.show_id).await?;
        Ok(BookingWithShow { booking, show, now: chrono::Utc::now() })
    }

    /// The customer's own bookings, newest first (at most 200).
    pub async fn list(&self, customer: &User) -> Result<Vec<Booking>, ServiceError> {
        reads::list_for_user(&self.pool, customer.id).await
    }

    /// The customer's own bookings, newest first, each with its show.
    pub async fn list_with_shows(&self, customer: &User) -> Result<Vec<BookingWithShow>, ServiceError> {
        let list = self.list(customer).await?;
        let mut show_ids: Vec<i64> = list.iter().map(|b| b.show_id).collect();
        show_ids.sort_unstable();
        show_ids.dedup();
        let shows = shows::summaries(&self.pool, &show_ids).await?;
        let now = chrono::Utc::now();
        Ok(list
            .into_iter()
            .filter_map(|booking| {
                let show = shows.iter().find(|s| s.id == booking.show_id)?.clone();
                Some(BookingWithShow { booking, show, now })
            })
            .collect())
    }

    fn tell_feed(&self, touched: &Option<changes::Touched>) {
        if let Some(touched) = touched {
            self.feed.seats_changed(touched.show_id, &touched.seat_ids);
        }
    }
}
