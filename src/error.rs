//! The one error type that crosses from the server to the browser.
//!
//! Its messages are written for people: nothing from the database or the server internals ever
//! reaches a screen. The server logs the detail and sends one of these.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request was understood but a value in it is not acceptable.
    #[error("{message}")]
    InvalidInput { field: String, message: String },
    #[error("There is no such show or trip.")]
    ShowNotFound,
    #[error("There is no such booking.")]
    BookingNotFound,
    /// Someone else holds or bought these seats: by label ("C7") and by id, with the FAILED
    /// booking that recorded the attempt (none while best-available is still choosing again).
    #[error("Sorry, {} just taken by someone else.", seats_phrase(seats))]
    SeatsTaken { seats: Vec<String>, seat_ids: Vec<i32>, booking_id: Option<i64> },
    #[error("Your hold on these seats ran out before it was confirmed. Please choose seats again.")]
    HoldExpired,
    #[error("There are not {requested} seats left together for this show ({available} available).")]
    NotEnoughSeats { requested: u16, available: u32, booking_id: Option<i64> },
    #[error("This show has already started, so its seats can no longer be booked or changed.")]
    ShowStarted,
    #[error("This show was cancelled.")]
    ShowCancelled,
    /// The seats stayed locked by another request for longer than a claim waits for them (a
    /// stuck transaction, or an admin changing the show): nothing was booked.
    #[error("Those seats are being changed by someone else right now, so nothing was booked. Please try again in a moment.")]
    SeatsBusy,
    #[error("You can book at most {max} seats at a time.")]
    TooManySeats { max: u16 },
    /// A hold past the cap on seats one customer may hold on one show at a time.
    #[error("You already hold {held} seats for this show, and one customer may hold at most {limit} at a time. Book or release them first, or wait {retry_after_seconds} seconds for a hold to end.")]
    TooManyHeldSeats { limit: u16, held: u16, retry_after_seconds: u64 },
    /// Confirming or cancelling a booking that was cancelled already.
    #[error("This booking is already cancelled.")]
    AlreadyCancelled,
    /// Confirming a booking that never got its seats.
    #[error("This booking did not get its seats, so there is nothing to confirm.")]
    NothingToConfirm,
    /// Cancelling a booking that never got its seats.
    #[error("This booking did not get its seats, so there is nothing to cancel.")]
    NothingToCancel,
    /// Cancelling a confirmed booking of a show whose policy forbids it.
    #[error("The cancellation policy of this show does not allow cancelling bookings.")]
    NotCancellable,
    /// Cancelling when the refund has fallen below what the customer was shown (a step of
    /// the policy passed while the page was open).
    #[error("Cancelling now gives back {percent}%, not the {promised}% you were shown: a refund step has passed. Nothing was cancelled; please look again and decide.")]
    RefundChanged { percent: u8, promised: u8 },
    /// Cancelling some seats of a booking of a show whose policy allows whole bookings only.
    #[error("The cancellation policy of this show allows cancelling whole bookings only.")]
    WholeBookingsOnly,
    /// Editing a show whose seats have started to sell.
    #[error("This show has bookings already, so its title and start time can no longer change.")]
    ShowHasBookings,
    #[error("An account with this email already exists. Log in instead, or use another email.")]
    EmailTaken,
    #[error("That email and password do not match an account.")]
    WrongCredentials,
    /// A guest asked for something that needs an account.
    #[error("Please log in first.")]
    NotSignedIn,
    /// Signed in, but this is for admins only.
    #[error("Only admins can do that.")]
    Forbidden,
    /// Too many attempts from one address or for one account in a short time.
    #[error("Too many attempts. Please wait {retry_after_seconds} seconds and try again.")]
    TooManyRequests { retry_after_seconds: u64 },
    /// The server is too busy for this right now (e.g. too many log-ins waiting for a password
    /// check): nothing was done; try again after the wait.
    #[error("Box Office is very busy right now. Please try again in {retry_after_seconds} seconds.")]
    Unavailable { retry_after_seconds: u64 },
    /// A state-changing request came from another site (cross-site request forgery).
    #[error("This request came from another website and was refused.")]
    CrossSiteRequest,
    /// Joining the waiting list of a show one is on already.
    #[error("You are already on the waiting list for this show.")]
    AlreadyWaiting,
    /// Joining the waiting list of a show that still has seats for the party.
    #[error("This show still has {available} seats free for a party of {party_size}: book them instead of joining the waiting list.")]
    SeatsAvailable { party_size: u16, available: u32 },
    /// Leaving, reading or declining an entry one does not have.
    #[error("You are not on the waiting list for this show.")]
    NotWaiting,
    /// Declining an offer when no seats are held for one.
    #[error("No seats are held for you from the waiting list of this show right now.")]
    NoOffer,
    /// Holding or booking before the show's sale opens.
    #[error("Sales for this show open at {}.", opens_at.format("%Y-%m-%d %H:%M UTC"))]
    SaleNotOpen { opens_at: chrono::DateTime<chrono::Utc> },
    /// Holding or booking on a show behind a waiting room without a valid pass for it.
    #[error("This sale has a waiting room: join it on the show's page, and choose seats when it is your turn.")]
    NotAdmitted,
    /// A waiting-room action on a show that has none.
    #[error("This show has no waiting room: its seats can be booked directly.")]
    NoWaitingRoom,
    /// Leaving or reading a place one does not have.
    #[error("You are not in the waiting room for this show.")]
    NotInWaitingRoom,
    /// Moving the opening of a sale whose waiting room has opened already.
    #[error("The sale has opened already, so its opening time can no longer change.")]
    SaleAlreadyOpen,
    /// Something failed on the server; the detail is in the server log, not here.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The browser could not talk to the server (offline, timed out, ...).
    #[error("Could not reach Box Office. Check your connection and try again.")]
    Unreachable,
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput { field: field.into(), message: message.into() }
    }

    /// The HTTP status this refusal answers with, wherever it is rendered (server functions,
    /// pages, REST, event streams).
    pub fn status_code(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::InvalidInput { .. } | AppError::TooManySeats { .. } => StatusCode::BAD_REQUEST,
            AppError::ShowNotFound | AppError::BookingNotFound => StatusCode::NOT_FOUND,
            AppError::SeatsTaken { .. }
            | AppError::HoldExpired
            | AppError::NotEnoughSeats { .. }
            | AppError::ShowStarted
            | AppError::ShowCancelled
            | AppError::SeatsBusy
            | AppError::AlreadyCancelled
            | AppError::NothingToConfirm
            | AppError::NothingToCancel
            | AppError::NotCancellable
            | AppError::RefundChanged { .. }
            | AppError::WholeBookingsOnly
            | AppError::ShowHasBookings
            | AppError::SaleNotOpen { .. }
            | AppError::SaleAlreadyOpen
            | AppError::EmailTaken => StatusCode::CONFLICT,
            AppError::WrongCredentials | AppError::NotSignedIn => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CrossSiteRequest | AppError::NotAdmitted => StatusCode::FORBIDDEN,
            AppError::NoWaitingRoom | AppError::NotInWaitingRoom => StatusCode::NOT_FOUND,
            AppError::TooManyRequests { .. } | AppError::TooManyHeldSeats { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::AlreadyWaiting | AppError::SeatsAvailable { .. } | AppError::NoOffer => StatusCode::CONFLICT,
            AppError::NotWaiting => StatusCode::NOT_FOUND,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unreachable => StatusCode::BAD_GATEWAY,
        }
    }

    /// How long to wait before trying again, for refusals that pass with time (429 and 503).
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests { retry_after_seconds }
            | AppError::Unavailable { retry_after_seconds }
            | AppError::TooManyHeldSeats { retry_after_seconds, .. } => Some(*retry_after_seconds),
            _ => None,
        }
    }

    /// A stable machine-readable name for the error, for API clients to branch on. Refusals
    /// about a booking's state share one code; the message says which.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::InvalidInput { .. } => "invalid_input",
            AppError::ShowNotFound => "show_not_found",
            AppError::BookingNotFound => "booking_not_found",
            AppError::SeatsTaken { .. } => "seats_taken",
            AppError::HoldExpired => "hold_expired",
            AppError::NotEnoughSeats { .. } => "not_enough_seats",
            AppError::ShowStarted => "show_started",
            AppError::ShowCancelled => "show_cancelled",
            AppError::SeatsBusy => "seats_busy",
            AppError::TooManySeats { .. } => "too_many_seats",
            AppError::TooManyHeldSeats { .. } => "too_many_held_seats",
            AppError::AlreadyCancelled | AppError::NothingToConfirm | AppError::NothingToCancel => {
                "wrong_booking_state"
            }
            AppError::NotCancellable => "not_cancellable",
            AppError::RefundChanged { .. } => "refund_changed",
            AppError::WholeBookingsOnly => "whole_bookings_only",
            AppError::ShowHasBookings => "show_has_bookings",
            AppError::EmailTaken => "email_taken",
            AppError::WrongCredentials => "wrong_credentials",
            AppError::NotSignedIn => "not_signed_in",
            AppError::Forbidden => "forbidden",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::Unavailable { .. } => "unavailable",
            AppError::CrossSiteRequest => "cross_site_request",
            AppError::AlreadyWaiting => "already_waiting",
            AppError::SeatsAvailable { .. } => "seats_available",
            AppError::NotWaiting => "not_waiting",
            AppError::NoOffer => "no_offer",
            AppError::SaleNotOpen { .. } => "sale_not_open",
            AppError::NotAdmitted => "not_admitted",
            AppError::NoWaitingRoom => "no_waiting_room",
            AppError::NotInWaitingRoom => "not_in_waiting_room",
            AppError::SaleAlreadyOpen => "sale_already_open",
            AppError::Internal => "internal",
            AppError::Unreachable => "unreachable",
        }
    }
}

/// "seat C7 was" / "seats C7 and C8 were" / "seats C7, C8 and C9 were".
fn seats_phrase(seats: &[String]) -> String {
    match seats {
        [] => "those seats were".to_owned(),
        [one] => format!("seat {one} was"),
        [init @ .., last] => format!("seats {} and {last} were", init.join(", ")),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Raised in the browser when the request never got an answer.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unreachable,
            // The server could not read the arguments: the caller sent something malformed.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                AppError::invalid("request", format!("The request was malformed: {detail}"))
            }
            // On the server, only a request body can fail to deserialize (JSON arguments).
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(detail) => {
                AppError::invalid("request", format!("The request was malformed: {detail}"))
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failed outside its body");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn taken_seats_are_named_in_plain_english() {
        let taken = |seats: &[&str]| {
            let seats = seats.iter().map(|s| s.to_string()).collect();
            AppError::SeatsTaken { seats, seat_ids: vec![], booking_id: None }.to_string()
        };
        assert_eq!(taken(&["C7"]), "Sorry, seat C7 was just taken by someone else.");
        assert_eq!(taken(&["C7", "C8", "C9"]), "Sorry, seats C7, C8 and C9 were just taken by someone else.");
    }

    #[test]
    fn codes_are_snake_case_words() {
        for error in [AppError::HoldExpired, AppError::TooManyRequests { retry_after_seconds: 3 }] {
            assert!(error.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", error.code());
        }
        assert_eq!(AppError::NotEnoughSeats { requested: 3, available: 1, booking_id: None }.code(), "not_enough_seats");
    }
}
