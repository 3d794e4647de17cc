//! The waiting list's doors for the browser: the show page's panel, joining, leaving and
//! declining an offer. Each calls one method of the waiting-list service; accepting an offer is
//! confirming its booking at the checkout (`confirm_booking`).

use leptos::prelude::*;

use crate::domain::waitlist::{WaitlistEntry, WaitlistView};
use crate::error::AppError;

/// The show's waiting-list panel: whether the list is open and, for a signed-in customer,
/// their entry. Open to guests (without an entry).
#[server(prefix = "/rpc", endpoint = "waitlist")]
pub async fn get_waitlist(show_id: i64) -> Result<WaitlistView, AppError> {
    use crate::server::context::{app_state, current_user};

    let reader = current_user().await?;
    Ok(app_state()?.waitlist.view(reader.as_ref(), show_id).await?)
}

/// Puts the signed-in customer on the show's waiting list with a party (and optionally a seat
/// category; blank for any).
#[server(prefix = "/rpc", endpoint = "join_waitlist")]
pub async fn join_waitlist(
    show_id: i64,
    party_size: i64,
    #[server(default)] category: String,
) -> Result<WaitlistEntry, AppError> {
    use crate::domain::waitlist::WaitlistJoin;
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    let state = app_state()?;
    let join = WaitlistJoin::parse(party_size, Some(&category), state.waitlist.max_party())?;
    Ok(state.waitlist.join(&customer, show_id, join).await?)
}

/// Takes the signed-in customer off the show's waiting list (declining an outstanding offer).
#[server(prefix = "/rpc", endpoint = "leave_waitlist")]
pub async fn leave_waitlist(show_id: i64) -> Result<WaitlistEntry, AppError> {
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    Ok(app_state()?.waitlist.leave(&customer, show_id).await?)
}

/// Declines the seats the waiting list holds for the signed-in customer.
#[server(prefix = "/rpc", endpoint = "decline_waitlist_offer")]
pub async fn decline_waitlist_offer(show_id: i64) -> Result<WaitlistEntry, AppError> {
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    Ok(app_state()?.waitlist.decline(&customer, show_id).await?)
}
