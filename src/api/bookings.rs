//! The customer's doors: a show's seat map, holding seats, confirming, releasing and
//! cancelling, and the customer's own bookings. Each calls one method of the booking service,
//! which applies every rule and tells the live feed.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::{Booking, BookingWithShow, SeatRequest, ShowPage};
use crate::error::AppError;

/// A show's page: open to guests.
#[server(prefix = "/rpc", endpoint = "show_page")]
pub async fn get_show_page(show_id: i64) -> Result<ShowPage, AppError> {
    let state = crate::server::context::app_state()?;
    let cached = state.shows.for_customers(show_id).await?;
    Ok(ShowPage {
        show: cached.show.clone(),
        seat_map: cached.seat_map.clone(),
        max_seats_per_booking: state.bookings.rules().max_seats_per_booking,
        now: chrono::Utc::now(),
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
    use crate::domain::IdempotencyKey;
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    let key = IdempotencyKey::parse(&idempotency_key)?;
    Ok(app_state()?.bookings.hold(&customer, show_id, seats, Some(key)).await?)
}

/// Holds the best available seats from the show page's plain form, so a customer can hold
/// seats before the page's script has loaded, or without it: a browser's form post then goes
/// on to the checkout. Otherwise the same as `hold_seats`.
#[server(prefix = "/rpc", endpoint = "hold_best_available")]
pub async fn hold_best_available(
    show_id: i64,
    count: u16,
    #[server(default)] category: String,
    idempotency_key: String,
) -> Result<Booking, AppError> {
    use crate::domain::IdempotencyKey;
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    let key = IdempotencyKey::parse(&idempotency_key)?;
    let category = Some(category).filter(|c| !c.trim().is_empty());
    let seats = SeatRequest::BestAvailable { count, category };
    let booking = app_state()?.bookings.hold(&customer, show_id, seats, Some(key)).await?;
    // A page asked (a form posted without script): show it the checkout, not the answer.
    let headers = leptos_axum::extract::<http::HeaderMap>().await.unwrap_or_default();
    let accepts_html = headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if accepts_html {
        leptos_axum::redirect(&format!("/checkout/{}", booking.id));
    }
    Ok(booking)
}

/// One booking with its show: the customer's own (an admin may read any).
#[server(prefix = "/rpc", endpoint = "booking")]
pub async fn get_booking(booking_id: i64) -> Result<BookingWithShow, AppError> {
    use crate::server::context::{app_state, require_user};

    let reader = require_user().await?;
    Ok(app_state()?.bookings.get_with_show(&reader, booking_id).await?)
}

/// Confirms a hold (payment is simulated). A hold that ran out answers `HoldExpired`.
#[server(prefix = "/rpc", endpoint = "confirm_booking")]
pub async fn confirm_booking(booking_id: i64) -> Result<Booking, AppError> {
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    Ok(app_state()?.bookings.confirm(&customer, booking_id).await?)
}

/// Cancels a confirmed booking (refunded as its policy says), or releases a hold, before the
/// show starts.
#[server(prefix = "/rpc", endpoint = "cancel_booking")]
/// `promised_refund_percent`: the refund the customer was shown; a smaller one is refused.
pub async fn cancel_booking(booking_id: i64, promised_refund_percent: Option<u8>) -> Result<Booking, AppError> {
    use crate::server::context::{app_state, require_user};
    use crate::service::bookings::Cancelling;

    let customer = require_user().await?;
    let bookings = app_state()?.bookings;
    Ok(bookings.cancel_as_shown(&customer, booking_id, Cancelling::Whole, promised_refund_percent).await?)
}

/// Cancels some seats of a confirmed booking, when its policy allows; the rest stays booked.
#[server(prefix = "/rpc", endpoint = "cancel_seats")]
pub async fn cancel_seats(
    booking_id: i64,
    seat_ids: Vec<i32>,
    promised_refund_percent: Option<u8>,
) -> Result<Booking, AppError> {
    use crate::server::context::{app_state, require_user};
    use crate::service::bookings::Cancelling;

    let customer = require_user().await?;
    let bookings = app_state()?.bookings;
    Ok(bookings.cancel_as_shown(&customer, booking_id, Cancelling::Seats(seat_ids), promised_refund_percent).await?)
}

/// The customer's bookings, newest first, each with its show.
#[server(prefix = "/rpc", endpoint = "my_bookings")]
pub async fn my_bookings() -> Result<Vec<BookingWithShow>, AppError> {
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    Ok(app_state()?.bookings.list_with_shows(&customer).await?)
}
