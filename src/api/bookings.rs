//! The customer's doors: a show's seat map, holding seats, confirming, releasing and
//! cancelling, and the customer's own bookings. Each one that changes seats tells the live
//! feed, so every open seat map sees it.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::{Booking, BookingView, SeatRequest, ShowPage};
use crate::error::AppError;

/// A show's page: open to guests.
#[server(prefix = "/rpc", endpoint = "show_page")]
pub async fn get_show_page(show_id: i64) -> Result<ShowPage, AppError> {
    use crate::server::context::{booking_rules, live_feed, reject};

    let view = live_feed()?.show(show_id).await.map_err(|e| reject(e.into()))?;
    Ok(ShowPage {
        show: view.show.clone(),
        seat_map: view.seat_map.clone(),
        max_seats_per_booking: booking_rules()?.max_seats_per_booking,
    })
}

/// Holds the chosen seats (or the best available ones) for the signed-in customer. The same
/// `idempotency_key` always gives the same answer, so a double click or a retry never holds
/// twice.
#[server(prefix = "/rpc", endpoint = "hold_seats", input = Json)]
pub async fn hold_seats(
    show_id: i64,
    seats: SeatRequest,
    idempotency_key: String,
) -> Result<Booking, AppError> {
    use crate::domain::{BookingStatus, IdempotencyKey};
    use crate::server::context::{booking_rules, claims, live_feed, reject, require_user};
    use crate::service::bookings::{Commitment, SeatOrder, order_seats};

    let user = require_user().await?;
    let order = SeatOrder {
        show_id,
        user_id: user.id,
        seats,
        commitment: Commitment::Hold,
        idempotency_key: Some(IdempotencyKey::parse(&idempotency_key).map_err(reject)?),
    };
    let booking = order_seats(&claims()?, &booking_rules()?, order).await.map_err(|e| reject(e.into()))?;
    if booking.status != BookingStatus::Failed {
        live_feed()?.seats_changed(show_id, &booking.seat_ids());
    }
    booking.succeeded().map_err(reject)
}

/// One of the customer's bookings with its show.
#[server(prefix = "/rpc", endpoint = "booking")]
pub async fn get_booking(booking_id: i64) -> Result<BookingView, AppError> {
    use crate::server::context::{pool, reject, require_user};

    let user = require_user().await?;
    let pool = pool()?;
    view_of(
        &pool,
        crate::service::bookings::get(&pool, booking_id, user.id).await.map_err(|e| reject(e.into()))?,
    )
    .await
}

/// Confirms a hold (payment is simulated). A hold that ran out answers `HoldExpired`.
#[server(prefix = "/rpc", endpoint = "confirm_booking")]
pub async fn confirm_booking(booking_id: i64) -> Result<Booking, AppError> {
    use crate::server::context::{live_feed, pool, reject, require_user};

    let user = require_user().await?;
    let pool = pool()?;
    let confirmed = crate::service::bookings::confirm(&pool, booking_id, user.id).await;
    // A late confirm releases the seats, so the feed hears of both outcomes.
    live_feed()?.booking_changed(booking_id).await;
    confirmed.map_err(|e| reject(e.into()))
}

/// Cancels a confirmed booking, or releases a hold, before the show starts.
#[server(prefix = "/rpc", endpoint = "cancel_booking")]
pub async fn cancel_booking(booking_id: i64) -> Result<Booking, AppError> {
    use crate::server::context::{live_feed, pool, reject, require_user};

    let user = require_user().await?;
    let pool = pool()?;
    let cancelled = crate::service::bookings::cancel(&pool, booking_id, user.id).await;
    live_feed()?.booking_changed(booking_id).await;
    cancelled.map_err(|e| reject(e.into()))
}

/// The customer's bookings, newest first, each with its show.
#[server(prefix = "/rpc", endpoint = "my_bookings")]
pub async fn my_bookings() -> Result<Vec<BookingView>, AppError> {
    use crate::server::context::{pool, reject, require_user};
    use crate::service::{bookings, shows};

    let user = require_user().await?;
    let pool = pool()?;
    let views = async {
        let list = bookings::list_for_user(&pool, user.id).await?;
        let mut show_ids: Vec<i64> = list.iter().map(|b| b.show_id).collect();
        show_ids.sort_unstable();
        show_ids.dedup();
        let shows = shows::summaries(&pool, &show_ids).await?;
        let now = chrono::Utc::now();
        Ok::<_, crate::service::ServiceError>(
            list.into_iter()
                .filter_map(|booking| {
                    let show = shows.iter().find(|s| s.id == booking.show_id)?.clone();
                    Some(BookingView { booking, show, now })
                })
                .collect(),
        )
    };
    views.await.map_err(|e| reject(e.into()))
}

#[cfg(feature = "ssr")]
async fn view_of(pool: &sqlx::PgPool, booking: Booking) -> Result<BookingView, AppError> {
    use crate::server::context::reject;
    let show = crate::service::shows::summary(pool, booking.show_id).await.map_err(|e| reject(e.into()))?;
    Ok(BookingView { booking, show, now: chrono::Utc::now() })
}
