//! How shows sell, for the admin area: seat counts, revenue and refunds, and who booked what.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::types::Json;

use super::catalog::ShowColumns;
use crate::domain::{BookingStatus, CancellationPolicy, ShowBooking, ShowSales};
use crate::error::AppError;
use crate::service::ServiceError;

const SALES_SELECT: &str = r#"
    SELECT sh.id, sh.kind, sh.title, sh.venue, sh.origin, sh.destination, sh.starts_at, sh.status, sh.hold_seconds,
           counts.sold, counts.held, counts.free, counts.blocked,
           -- Confirmed bookings, plus what the show kept of seats cancelled with less than a
           -- full refund.
           (SELECT coalesce(sum(b.total_cents), 0)::bigint FROM bookings b
             WHERE b.show_id = sh.id AND b.status = 'CONFIRMED')
           + (SELECT coalesce(sum(r.paid_cents - r.amount_cents), 0)::bigint FROM refunds r
              WHERE r.show_id = sh.id) AS revenue_cents,
           (SELECT coalesce(sum(r.amount_cents), 0)::bigint FROM refunds r WHERE r.show_id = sh.id) AS refunded_cents,
           sh.cancellation_policy,
           NOT EXISTS (SELECT 1 FROM bookings b WHERE b.show_id = sh.id AND b.status <> 'FAILED') AS editable
    FROM shows sh
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE s.status = 'BOOKED') AS sold,
               count(*) FILTER (WHERE s.status = 'HELD' AND s.held_until >= now()) AS held,
               count(*) FILTER (WHERE s.status = 'AVAILABLE'
                                   OR (s.status = 'HELD' AND s.held_until < now())) AS free,
               count(*) FILTER (WHERE s.status = 'BLOCKED') AS blocked
        FROM seats s WHERE s.show_id = sh.id
    ) AS counts
"#;

/// Every show and trip with how it sells, the newest start first: the admin dashboard.
#[tracing::instrument(skip(db))]
pub(super) async fn sales_overview(db: impl sqlx::PgExecutor<'_>) -> Result<Vec<ShowSales>, ServiceError> {
    let sql = format!("{SALES_SELECT} ORDER BY sh.starts_at DESC, sh.id DESC LIMIT 500");
    let rows: Vec<SalesRow> = sqlx::query_as(&sql).fetch_all(db).await?;
    Ok(rows.into_iter().map(ShowSales::from).collect())
}

/// How one show sells.
#[tracing::instrument(skip(pool))]
pub(super) async fn sales(pool: &PgPool, show_id: i64) -> Result<ShowSales, ServiceError> {
    let sql = format!("{SALES_SELECT} WHERE sh.id = $1");
    let row: Option<SalesRow> = sqlx::query_as(&sql).bind(show_id).fetch_optional(pool).await?;
    row.map(ShowSales::from).ok_or(AppError::ShowNotFound.into())
}

/// Every booking of a show that got seats, newest first, with its customer.
#[tracing::instrument(skip(pool))]
pub(super) async fn bookings_of(pool: &PgPool, show_id: i64) -> Result<Vec<ShowBooking>, ServiceError> {
    let rows: Vec<ShowBookingRow> = sqlx::query_as(
        r#"
        SELECT b.id, u.name, u.email, b.total_cents, b.created_at,
               (SELECT coalesce(sum(r.amount_cents), 0)::bigint FROM refunds r WHERE r.show_id = b.show_id AND r.booking_id = b.id) AS refunded_cents,
               CASE WHEN b.status = 'PENDING' AND b.hold_expires_at < now() THEN 'EXPIRED' ELSE b.status END AS status,
               ARRAY(SELECT s.label FROM seats s WHERE s.show_id = b.show_id AND s.seat_id = ANY(b.seat_ids)
                     ORDER BY s.seat_id) AS seats
        FROM bookings b JOIN users u ON u.id = b.user_id
        WHERE b.show_id = $1 AND b.status <> 'FAILED'
        ORDER BY b.created_at DESC, b.id DESC
        LIMIT 1000
        "#,
    )
    .bind(show_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ShowBooking {
            id: row.id,
            customer_name: row.name,
            customer_email: row.email,
            status: row.status,
            seats: row.seats,
            total_cents: row.total_cents,
            refunded_cents: row.refunded_cents,
            created_at: row.created_at,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct SalesRow {
    #[sqlx(flatten)]
    show: ShowColumns,
    hold_seconds: Option<i32>,
    sold: i64,
    held: i64,
    free: i64,
    blocked: i64,
    revenue_cents: i64,
    refunded_cents: i64,
    cancellation_policy: Json<CancellationPolicy>,
    editable: bool,
}

impl From<SalesRow> for ShowSales {
    fn from(r: SalesRow) -> Self {
        Self {
            id: r.show.id,
            kind: r.show.kind,
            title: r.show.title,
            venue: r.show.venue,
            origin: r.show.origin,
            destination: r.show.destination,
            starts_at: r.show.starts_at,
            status: r.show.status,
            hold_seconds: r.hold_seconds,
            sold: r.sold,
            held: r.held,
            free: r.free,
            blocked: r.blocked,
            revenue_cents: r.revenue_cents,
            refunded_cents: r.refunded_cents,
            cancellation_policy: r.cancellation_policy.0,
            editable: r.editable,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ShowBookingRow {
    id: i64,
    name: String,
    email: String,
    total_cents: i64,
    refunded_cents: i64,
    created_at: DateTime<Utc>,
    status: BookingStatus,
    seats: Vec<String>,
}
