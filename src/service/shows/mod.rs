//! Shows and trips: what customers read (`catalog`) and what admins change (`admin`). The
//! `Shows` handle is what doors call; after every change it tells the live feed, so open seat
//! maps and lists on every instance see it.

mod admin;
mod sales;
pub mod catalog;

use std::sync::Arc;

use sqlx::PgPool;

pub use self::admin::create;
pub use self::catalog::{seat_map, summaries, summary};
use super::ServiceError;
use super::live::LiveFeed;
use super::live::show_cache::CachedShow;
use super::reads::ReadPool;
use crate::domain::{AdminShowDetail, CancellationPolicy, NewShow, ShowEdit, ShowSales, ShowSearch, ShowSummary};

/// This instance's show service: a cheap handle.
#[derive(Clone)]
pub struct Shows {
    pool: PgPool,
    /// For the list and the dashboard, which may lag a little: a standby when there is one.
    reads: ReadPool,
    feed: LiveFeed,
    /// How long seats put back on sale and offered to a waiting customer stay held for them.
    waitlist_offer_seconds: u32,
}

impl Shows {
    pub fn new(pool: PgPool, feed: LiveFeed, waitlist_offer_seconds: u32) -> Self {
        Self { reads: ReadPool::primary_only(pool.clone()), pool, feed, waitlist_offer_seconds }
    }

    /// The same service, reading its list and dashboard from `reads`.
    pub fn reading_from(self, reads: ReadPool) -> Self {
        Self { reads, ..self }
    }

    /// Shows and trips matching the search, soonest first (at most 200).
    pub async fn list(&self, search: &ShowSearch) -> Result<Vec<ShowSummary>, ServiceError> {
        catalog::list(&mut *self.reads.acquire().await?, search).await
    }

    /// A show with its seat map as customers see it: from this instance's memory while nothing
    /// changed it (the live feed keeps that correct).
    pub async fn for_customers(&self, show_id: i64) -> Result<Arc<CachedShow>, ServiceError> {
        self.feed.show(show_id).await
    }

    /// Creates a show with all its seats; returns its id.
    pub async fn create(&self, show: &NewShow) -> Result<i64, ServiceError> {
        let show_id = admin::create(&self.pool, show).await?;
        // Every instance forgets that this id did not exist.
        self.feed.show_created(show_id);
        Ok(show_id)
    }

    /// Changes the title and start time of a show that has sold nothing yet.
    pub async fn edit(&self, show_id: i64, edit: &ShowEdit) -> Result<(), ServiceError> {
        admin::edit(&self.pool, show_id, edit).await?;
        self.feed.changed(show_id);
        Ok(())
    }

    /// Cancels a show and every live booking on it; returns how many bookings were cancelled.
    pub async fn cancel(&self, show_id: i64) -> Result<u64, ServiceError> {
        let cancelled = admin::cancel(&self.pool, show_id).await?;
        self.feed.changed(show_id);
        Ok(cancelled)
    }

    /// Takes free seats off sale, or puts blocked seats back on sale.
    /// Seats put back on sale go to the show's waiting list first.
    pub async fn set_blocked(&self, show_id: i64, seat_ids: &[i32], blocked: bool) -> Result<(), ServiceError> {
        let offered = admin::set_blocked(&self.pool, show_id, seat_ids, blocked, self.waitlist_offer_seconds).await?;
        let mut changed = seat_ids.to_vec();
        changed.extend(offered);
        self.feed.seats_changed(show_id, &changed);
        Ok(())
    }

    /// Gives a show a new cancellation policy; bookings made before keep theirs.
    pub async fn set_cancellation_policy(&self, show_id: i64, policy: &CancellationPolicy) -> Result<(), ServiceError> {
        admin::set_cancellation_policy(&self.pool, show_id, policy).await?;
        self.feed.changed(show_id);
        Ok(())
    }

    /// Every show with how it sells: the admin dashboard.
    pub async fn sales_overview(&self) -> Result<Vec<ShowSales>, ServiceError> {
        sales::sales_overview(&mut *self.reads.acquire().await?).await
    }

    /// One show for its admin page: sales, seats by status, bookings.
    pub async fn admin_detail(&self, show_id: i64) -> Result<AdminShowDetail, ServiceError> {
        Ok(AdminShowDetail {
            sales: sales::sales(&self.pool, show_id).await?,
            seat_map: catalog::seat_map(&self.pool, show_id).await?,
            bookings: sales::bookings_of(&self.pool, show_id).await?,
        })
    }
}
