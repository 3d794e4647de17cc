//! The waiting room's doors for the browser: the show page's view of it, joining and leaving.
//! The live place comes over the event stream `/shows/{id}/waiting-room/events` (`events`).
//! Joining is also limited per client address (`server::rate_limit`).

use leptos::prelude::*;

use crate::domain::waiting_room::WaitingRoomView;
use crate::error::AppError;

/// The show's waiting room as the visitor sees it (a guest sees it from outside).
#[server(prefix = "/rpc", endpoint = "waiting_room")]
pub async fn get_waiting_room(show_id: i64) -> Result<WaitingRoomView, AppError> {
    use crate::server::context::{app_state, current_user};

    let reader = current_user().await?;
    Ok(app_state()?.waiting_rooms.view(reader.as_ref(), show_id).await?)
}

/// Puts the signed-in customer in the show's waiting room, or keeps the place they have.
#[server(prefix = "/rpc", endpoint = "join_waiting_room")]
pub async fn join_waiting_room(show_id: i64) -> Result<WaitingRoomView, AppError> {
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    Ok(app_state()?.waiting_rooms.join(&customer, show_id).await?)
}

/// Gives up the signed-in customer's place in the show's waiting room.
#[server(prefix = "/rpc", endpoint = "leave_waiting_room")]
pub async fn leave_waiting_room(show_id: i64) -> Result<WaitingRoomView, AppError> {
    use crate::server::context::{app_state, require_user};

    let customer = require_user().await?;
    Ok(app_state()?.waiting_rooms.leave(&customer, show_id).await?)
}
