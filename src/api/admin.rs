//! The admin area's doors. Every one starts with `require_admin()`: a guest gets 401 and a
//! customer 403, whatever the UI shows or hides.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::waiting_room::SaleState;
use crate::domain::{AdminShowDetail, NewShowSpec, RefundTier, ShowSales};
use crate::error::AppError;

/// Every show and trip with its sold, held and free seats and its revenue.
#[server(prefix = "/rpc", endpoint = "admin/dashboard")]
pub async fn admin_dashboard() -> Result<Vec<ShowSales>, AppError> {
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    Ok(app_state()?.shows.sales_overview().await?)
}

/// One show: its sales, its seat map coloured by status, and its bookings.
#[server(prefix = "/rpc", endpoint = "admin/show")]
pub async fn admin_show(show_id: i64) -> Result<AdminShowDetail, AppError> {
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    Ok(app_state()?.shows.admin_detail(show_id).await?)
}

/// Creates a show or trip; nothing is saved unless every field and the layout are valid.
/// Returns the new show's id.
#[server(prefix = "/rpc", endpoint = "admin/create_show", input = Json)]
pub async fn create_show(spec: NewShowSpec) -> Result<i64, AppError> {
    use crate::domain::NewShow;
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    let show = NewShow::parse(&spec, chrono::Utc::now())?;
    Ok(app_state()?.shows.create(&show).await?)
}

/// Changes the title and start time of a show that has sold nothing yet. `starts_at` is UTC,
/// as a `datetime-local` field sends it.
#[server(prefix = "/rpc", endpoint = "admin/edit_show")]
pub async fn edit_show(show_id: i64, title: String, starts_at: String) -> Result<(), AppError> {
    use crate::domain::ShowEdit;
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    let edit = ShowEdit::parse(&title, &starts_at, chrono::Utc::now())?;
    Ok(app_state()?.shows.edit(show_id, &edit).await?)
}

/// Cancels a show and every booking on it. Returns how many bookings were cancelled.
#[server(prefix = "/rpc", endpoint = "admin/cancel_show")]
pub async fn cancel_show(show_id: i64) -> Result<u64, AppError> {
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    Ok(app_state()?.shows.cancel(show_id).await?)
}

/// Takes free seats off sale, or puts blocked seats back on sale.
#[server(prefix = "/rpc", endpoint = "admin/block_seats", input = Json)]
pub async fn set_seats_blocked(show_id: i64, seat_ids: Vec<i32>, blocked: bool) -> Result<(), AppError> {
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    Ok(app_state()?.shows.set_blocked(show_id, &seat_ids, blocked).await?)
}

/// Gives a show a new cancellation policy; bookings made before keep theirs.
#[server(prefix = "/rpc", endpoint = "admin/cancellation_policy", input = Json)]
pub async fn set_cancellation_policy(
    show_id: i64,
    cancellable: bool,
    partial: bool,
    tiers: Vec<RefundTier>,
) -> Result<(), AppError> {
    use crate::domain::CancellationPolicy;
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    let policy = CancellationPolicy::new(cancellable, partial, tiers)?;
    Ok(app_state()?.shows.set_cancellation_policy(show_id, &policy).await?)
}

/// The show's sale: when it opens, and its waiting room's figures.
#[server(prefix = "/rpc", endpoint = "admin/sale")]
pub async fn get_sale(show_id: i64) -> Result<SaleState, AppError> {
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    Ok(app_state()?.waiting_rooms.sale(show_id).await?)
}

/// Sets when the show's sale opens (blank: at once, UTC as a `datetime-local` field sends it)
/// and its waiting room (off, or a rate per minute, a burst and a pass length in minutes; blank
/// burst and pass take the defaults).
#[server(prefix = "/rpc", endpoint = "admin/set_sale")]
pub async fn set_sale(
    show_id: i64,
    #[server(default)] sale_opens_at: String,
    #[server(default)] waiting_room: bool,
    #[server(default)] admissions_per_minute: String,
    #[server(default)] burst: String,
    #[server(default)] pass_minutes: String,
) -> Result<SaleState, AppError> {
    use crate::domain::waiting_room::SaleSettings;
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    let settings = SaleSettings::parse_form(&sale_opens_at, waiting_room, &admissions_per_minute, &burst, &pass_minutes)?;
    Ok(app_state()?.waiting_rooms.set_sale(show_id, &settings).await?)
}

/// Pauses or resumes the admissions of the show's waiting room.
#[server(prefix = "/rpc", endpoint = "admin/pause_admissions")]
pub async fn pause_admissions(show_id: i64, paused: bool) -> Result<SaleState, AppError> {
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    Ok(app_state()?.waiting_rooms.set_paused(show_id, paused).await?)
}

/// Opens the show's sale now.
#[server(prefix = "/rpc", endpoint = "admin/open_sale_now")]
pub async fn open_sale_now(show_id: i64) -> Result<SaleState, AppError> {
    use crate::server::context::{app_state, require_admin};

    require_admin().await?;
    Ok(app_state()?.waiting_rooms.open_now(show_id).await?)
}
