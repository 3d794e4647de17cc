//! Shows and trips over REST: the list, one show with its seat map, and creating one (admins).

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Admin;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, BadRequest, ErrorBody, Guest, body_error};
use crate::domain::layout::{CategorySpec, RowSpec};
use crate::domain::{
    CancellationPolicy, LayoutSpec, NewShow, RefundTier, NewShowSpec, SeatCategory, SeatStatus, ShowKind, ShowSearch, ShowSummary,
};
use crate::error::AppError;
use crate::server::state::AppState;
use crate::service::Shows;
use crate::service::live::show_cache::CachedShow;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_shows))
        .routes(routes!(get_show))
        .routes(routes!(create_show))
        .routes(routes!(set_cancellation_policy))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: every show, past and cancelled ones too. Default: upcoming shows on sale.
    all: Option<bool>,
    /// Only shows whose title, venue, origin or destination contain this text.
    q: Option<String>,
    /// Only shows starting on this day (UTC), e.g. `2026-12-05`.
    date: Option<String>,
}

/// A show with its price bands and every seat.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiShow {
    #[serde(flatten)]
    pub show: ShowSummary,
    /// The policy bookings made now are made under (shown before paying).
    pub cancellation_policy: CancellationPolicy,
    /// Nothing can be held or booked before this (`sale_not_open`); null: on sale.
    pub sale_opens_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Holding and booking need a pass from the show's waiting room (`/shows/{id}/waiting-room`).
    pub waiting_room: bool,
    pub categories: Vec<SeatCategory>,
    pub seats: Vec<ApiSeat>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiSeat {
    /// The id to hold or book the seat by (unique within the show).
    pub id: i32,
    pub row: String,
    pub number: i32,
    /// Row and number, e.g. "C7".
    pub label: String,
    /// The category code.
    pub category: String,
    pub price_cents: i64,
    pub status: SeatStatus,
    /// Position on the seat map's grid (aisles leave gaps).
    pub grid_row: i16,
    pub grid_col: i16,
}

impl ApiShow {
    fn new(CachedShow { show, seat_map: map }: &CachedShow) -> Self {
        let prices: HashMap<&str, i64> =
            map.categories.iter().map(|c| (c.code.as_str(), c.price_cents)).collect();
        let seats = map
            .seats
            .iter()
            .map(|seat| ApiSeat {
                id: seat.seat_id,
                row: seat.row_label.clone(),
                number: seat.number,
                label: seat.label.clone(),
                category: seat.category.clone(),
                price_cents: prices.get(seat.category.as_str()).copied().unwrap_or_default(),
                status: seat.status,
                grid_row: seat.grid_row,
                grid_col: seat.grid_col,
            })
            .collect();
        Self {
            show: show.clone(),
            cancellation_policy: map.cancellation_policy.clone(),
            sale_opens_at: map.sale_opens_at,
            waiting_room: map.waiting_room,
            categories: map.categories.clone(),
            seats,
        }
    }

    /// From the instance's show cache, which the live feed keeps correct.
    async fn load(shows: &Shows, show_id: i64) -> Result<Self, ApiError> {
        Ok(Self::new(&*shows.for_customers(show_id).await?))
    }
}

/// Shows and trips, soonest first (at most 200): upcoming ones on sale unless `all=true`,
/// narrowed by `q` and `date` (the same filters as the browser's list).
#[utoipa::path(get, path = "/shows", tag = "shows", params(ListQuery),
    responses((status = 200, description = "Shows, soonest first", body = Vec<ShowSummary>),
        (status = 400, description = "An unknown or invalid query parameter", body = ErrorBody)))]
async fn list_shows(
    State(shows): State<Shows>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ShowSummary>>, ApiError> {
    let search = ShowSearch::parse(query.q.as_deref().unwrap_or(""))?
        .on_date(query.date.as_deref().unwrap_or(""))?
        .including_past(query.all.unwrap_or(false));
    Ok(Json(shows.list(&search).await?))
}

/// One show or trip with its categories and every seat's status.
#[utoipa::path(get, path = "/shows/{id}", tag = "shows", params(("id" = i64, Path, description = "Show id")),
    responses((status = 200, description = "The show and its seats", body = ApiShow),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such show", body = ErrorBody)))]
async fn get_show(State(shows): State<Shows>, ApiPath(id): ApiPath<i64>) -> Result<Json<ApiShow>, ApiError> {
    Ok(Json(ApiShow::load(&shows, id).await?))
}

/// A new show in full: its place, price bands and seat rows.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FullShowBody {
    kind: ShowKind,
    title: String,
    /// Required for a SHOW.
    #[serde(default)]
    venue: Option<String>,
    /// Required for a TRIP.
    #[serde(default)]
    origin: Option<String>,
    /// Required for a TRIP.
    #[serde(default)]
    destination: Option<String>,
    starts_at: DateTime<Utc>,
    /// How long a hold lasts for this show (10 to 3600 seconds); default: the server's setting.
    #[serde(default)]
    hold_seconds: Option<i32>,
    /// Nothing can be held or booked before this (before `starts_at`); default: on sale at once.
    #[serde(default)]
    sale_opens_at: Option<DateTime<Utc>>,
    /// Price bands, best first.
    categories: Vec<CategoryBody>,
    rows: Vec<RowBody>,
    /// Labels of seats that are not for sale, e.g. "C7".
    #[serde(default)]
    blocked: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    #[schema(example = "PREMIUM")]
    code: String,
    #[schema(example = "Premium")]
    name: String,
    price_cents: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RowBody {
    #[schema(example = "A")]
    label: String,
    /// Seats in the row, numbered from 1.
    seats: u16,
    /// A category code.
    category: String,
    /// An aisle follows each of these seat numbers.
    #[serde(default)]
    aisles_after: Vec<u16>,
}

/// The seeds' short form: one category and rows of up to 10 seats (A, B, ...).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortShowBody {
    #[schema(example = "Avengers: Endgame")]
    name: String,
    start_time: DateTime<Utc>,
    /// 1 to 2000.
    total_seats: u32,
    /// Default: "To be announced".
    #[serde(default)]
    venue: Option<String>,
    /// The price of every seat; default 0.
    #[serde(default)]
    price_cents: Option<i64>,
}

/// Either form of a new show (for the document: `parse_new_show` tells them apart).
#[allow(dead_code, reason = "describes the body for the OpenAPI document")]
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CreateShowBody {
    Full(FullShowBody),
    Short(ShortShowBody),
}

impl ShortShowBody {
    fn into_spec(self) -> Result<NewShowSpec, AppError> {
        Ok(NewShowSpec {
            kind: ShowKind::Show,
            title: self.name,
            venue: Some(self.venue.unwrap_or_else(|| "To be announced".into())),
            origin: None,
            destination: None,
            starts_at: self.start_time,
            hold_seconds: None,
            sale_opens_at: None,
            layout: LayoutSpec::rows_of_ten(self.total_seats, self.price_cents.unwrap_or(0))?,
        })
    }
}

impl FullShowBody {
    fn into_spec(self) -> NewShowSpec {
        NewShowSpec {
            kind: self.kind,
            title: self.title,
            venue: self.venue,
            origin: self.origin,
            destination: self.destination,
            starts_at: self.starts_at,
            hold_seconds: self.hold_seconds,
            sale_opens_at: self.sale_opens_at,
            layout: LayoutSpec {
                categories: self
                    .categories
                    .into_iter()
                    .map(|c| CategorySpec { code: c.code, name: c.name, price_cents: c.price_cents })
                    .collect(),
                rows: self
                    .rows
                    .into_iter()
                    .map(|r| RowSpec {
                        label: r.label,
                        seats: r.seats,
                        category: r.category,
                        aisles_after: r.aisles_after,
                    })
                    .collect(),
                blocked: self.blocked,
            },
        }
    }
}

/// Parses either form (the short form's field names never occur in the full form). Errors
/// name the fields as the client sent them.
fn parse_new_show(body: serde_json::Value) -> Result<NewShow, AppError> {
    let short = body.as_object().is_some_and(|fields| {
        ["name", "start_time", "total_seats"].iter().any(|name| fields.contains_key(*name))
    });
    if !short {
        let body: FullShowBody = serde_path_to_error::deserialize(body).map_err(|e| body_error(&e))?;
        return NewShow::parse(&body.into_spec(), Utc::now());
    }
    let body: ShortShowBody = serde_path_to_error::deserialize(body).map_err(|e| body_error(&e))?;
    NewShow::parse(&body.into_spec()?, Utc::now()).map_err(|error| match error {
        AppError::InvalidInput { field, message } => {
            let field = match field.as_str() {
                "title" => "name",
                "starts_at" => "start_time",
                "venue" => "venue",
                "categories" | "price_cents" => "price_cents",
                _ if field.starts_with("categories") => "price_cents",
                _ => "total_seats",
            };
            AppError::invalid(field, message)
        }
        other => other,
    })
}

/// Creates a show or trip with all its seats (admins only). Invalid input names the field at
/// fault, e.g. `rows[2].aisles_after`.
#[utoipa::path(post, path = "/admin/shows", tag = "shows", request_body = CreateShowBody,
    security(("session" = [])),
    responses((status = 201, description = "The new show", body = ApiShow),
        (status = 403, description = "Admins only", body = ErrorBody),
        BadRequest, Guest))]
async fn create_show(
    Admin(admin): Admin,
    State(shows): State<Shows>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<ApiShow>), ApiError> {
    let show = parse_new_show(body)?;
    let id = shows.create(&show).await?;
    tracing::info!(show_id = id, admin_id = admin.id, "show created through the API");
    Ok((StatusCode::CREATED, Json(ApiShow::load(&shows, id).await?)))
}

/// A show's cancellation policy as an admin sets it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancellationPolicyBody {
    /// False: confirmed bookings cannot be cancelled at all.
    cancellable: bool,
    /// Whether some seats of a booking may be cancelled and the others kept (default: yes).
    #[serde(default = "allowed")]
    partial: bool,
    /// Refund steps, e.g. 100% at least 48 hours before the start, 50% at least 2 hours
    /// before; with less notice than every step asks, no refund.
    #[serde(default)]
    tiers: Vec<RefundTier>,
}

fn allowed() -> bool {
    true
}

/// Gives a show a new cancellation policy (admins only). Bookings made before keep the policy
/// they were made under.
#[utoipa::path(put, path = "/admin/shows/{id}/cancellation-policy", tag = "shows",
    request_body = CancellationPolicyBody, params(("id" = i64, Path, description = "Show id")),
    security(("session" = [])),
    responses((status = 200, description = "The show with its new policy", body = ApiShow),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such show", body = ErrorBody),
        BadRequest, Guest))]
async fn set_cancellation_policy(
    Admin(admin): Admin,
    State(shows): State<Shows>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CancellationPolicyBody>,
) -> Result<Json<ApiShow>, ApiError> {
    let policy = CancellationPolicy::new(body.cancellable, body.partial, body.tiers)?;
    shows.set_cancellation_policy(id, &policy).await?;
    tracing::info!(show_id = id, admin_id = admin.id, "cancellation policy set through the API");
    Ok(Json(ApiShow::load(&shows, id).await?))
}
