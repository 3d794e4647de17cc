//! What every door can reach: the services and this instance's plumbing. REST handlers take
//! parts of it as axum state; server functions and pages take it whole from Leptos's context.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use super::rate_limit::RateLimits;
use crate::service::live::LiveFeed;
use crate::service::reads::ReadPool;
use crate::service::supervisor::Supervisor;
use crate::service::waiting_room::WaitingRooms;
use crate::service::waitlist::Waitlist;
use crate::service::{Bookings, Shows};

#[derive(Clone, FromRef)]
pub struct AppState {
    /// Shared, not copied: handlers and middleware clone the state on every request.
    #[from_ref(skip)]
    pub leptos_options: Arc<LeptosOptions>,
    /// For what has no service handle yet: accounts, health.
    pub pool: PgPool,
    /// For reads that may lag a little (lists, reports): the standby, else the primary.
    pub reads: ReadPool,
    pub bookings: Bookings,
    pub shows: Shows,
    pub waitlist: Waitlist,
    pub waiting_rooms: WaitingRooms,
    pub feed: LiveFeed,
    pub rate_limits: RateLimits,
    /// The background tasks, for `/readyz`.
    pub supervisor: Supervisor,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos_options).clone()
    }
}
