//! The admin area's doors. Every one starts with `require_admin()`: a guest gets 401 and a
//! customer 403, whatever the UI shows or hides.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::{NewShowSpec, ShowDetail, ShowSales};
use crate::error::AppError;

/// Every show and trip with its sold, held and free seats and its revenue.
#[server(prefix = "/rpc", endpoint = "admin/dashboard")]
pub async fn admin_dashboard() -> Result<Vec<ShowSales>, AppError> {
    use crate::server::context::{pool, reject, require_admin};

    require_admin().await?;
    crate::service::shows::sales_overview(&pool()?).await.map_err(|e| reject(e.into()))
}

/// One show: its sales, its seat map coloured by status, and its bookings.
#[server(prefix = "/rpc", endpoint = "admin/show")]
pub async fn admin_show(show_id: i64) -> Result<ShowDetail, AppError> {
    use crate::server::context::{pool, reject, require_admin};
    use crate::service::shows;

    require_admin().await?;
    let pool = pool()?;
    let detail = async {
        Ok::<_, crate::service::ServiceError>(ShowDetail {
            sales: shows::sales(&pool, show_id).await?,
            seat_map: shows::seat_map(&pool, show_id).await?,
            bookings: shows::bookings_of(&pool, show_id).await?,
        })
    };
    detail.await.map_err(|e| reject(e.into()))
}

/// Creates a show or trip; nothing is saved unless every field and the layout are valid.
/// Returns the new show's id.
#[server(prefix = "/rpc", endpoint = "admin/create_show", input = Json)]
pub async fn create_show(spec: NewShowSpec) -> Result<i64, AppError> {
    use crate::domain::NewShow;
    use crate::server::context::{pool, reject, require_admin};

    require_admin().await?;
    let show = NewShow::parse(&spec, chrono::Utc::now()).map_err(reject)?;
    crate::service::shows::create(&pool()?, &show).await.map_err(|e| reject(e.into()))
}

/// Changes the title and start time of a show that has sold nothing yet. `starts_at` is UTC,
/// as a `datetime-local` field sends it.
#[server(prefix = "/rpc", endpoint = "admin/edit_show")]
pub async fn edit_show(show_id: i64, title: String, starts_at: String) -> Result<(), AppError> {
    use crate::domain::ShowEdit;
    use crate::server::context::{pool, reject, require_admin};

    require_admin().await?;
    let edit = ShowEdit::parse(&title, &starts_at, chrono::Utc::now()).map_err(reject)?;
    crate::service::shows::edit(&pool()?, show_id, &edit).await.map_err(|e| reject(e.into()))?;
    crate::server::context::live_feed()?.changed(show_id);
    Ok(())
}

/// Cancels a show and every booking on it. Returns how many bookings were cancelled.
#[server(prefix = "/rpc", endpoint = "admin/cancel_show")]
pub async fn cancel_show(show_id: i64) -> Result<u64, AppError> {
    use crate::server::context::{pool, reject, require_admin};

    require_admin().await?;
    let cancelled = crate::service::shows::cancel(&pool()?, show_id).await.map_err(|e| reject(e.into()))?;
    crate::server::context::live_feed()?.changed(show_id);
    Ok(cancelled)
}

/// Takes free seats off sale, or puts blocked seats back on sale.
#[server(prefix = "/rpc", endpoint = "admin/block_seats", input = Json)]
pub async fn set_seats_blocked(show_id: i64, seat_ids: Vec<i32>, blocked: bool) -> Result<(), AppError> {
    use crate::server::context::{pool, reject, require_admin};

    require_admin().await?;
    crate::service::shows::set_blocked(&pool()?, show_id, &seat_ids, blocked)
        .await
        .map_err(|e| reject(e.into()))?;
    crate::server::context::live_feed()?.changed(show_id);
    Ok(())
}
