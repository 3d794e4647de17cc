//! Demo data for the embedded default, so a first run has something to click.

use chrono::{Duration, Utc};
use sqlx::PgPool;

use super::{ServiceError, shows};
use crate::domain::{LayoutSpec, NewShow, NewShowSpec, ShowKind};
use crate::error::AppError;

/// The demo admin the embedded default creates on its first start.
pub const ADMIN_EMAIL: &str = "admin@boxoffice.local";

/// 20 random letters and digits (about 119 bits).
pub fn random_password() -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng().sample_iter(Alphanumeric).take(20).map(char::from).collect()
}

/// Creates a few shows and trips when the database has none at all; returns how many.
pub async fn seed_if_empty(pool: &PgPool) -> Result<usize, ServiceError> {
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM shows)").fetch_one(pool).await?;
    if any {
        return Ok(0);
    }
    let today = Utc::now().date_naive();
    let at = |days: i64, hour: u32| {
        (today + Duration::days(days)).and_hms_opt(hour, 30, 0).expect("a valid time").and_utc()
    };
    let show = |title: &str, venue: &str, starts_at, layout| NewShowSpec {
        kind: ShowKind::Show,
        title: title.into(),
        venue: Some(venue.into()),
        origin: None,
        destination: None,
        starts_at,
        hold_seconds: None,
        sale_opens_at: None,
        layout,
    };
    let trip = |title: &str, from: &str, to: &str, starts_at, layout| NewShowSpec {
        kind: ShowKind::Trip,
        title: title.into(),
        venue: None,
        origin: Some(from.into()),
        destination: Some(to.into()),
        starts_at,
        hold_seconds: None,
        sale_opens_at: None,
        layout,
    };
    let demo = [
        show("The Midnight Reel", "Roxy Cinema, Screen 2", at(1, 19), LayoutSpec::small_cinema()),
        show("Hamlet", "Old Vic Studio", at(3, 18), LayoutSpec::small_cinema()),
        trip("Morning Express", "Pune", "Mumbai", at(2, 6), LayoutSpec::bus_2_plus_2()),
        trip("Night Sleeper", "Bengaluru", "Goa", at(4, 21), LayoutSpec::sleeper_2_plus_1()),
    ];
    for spec in &demo {
        let show = NewShow::parse(spec, Utc::now()).map_err(|e: AppError| {
            tracing::error!(error = %e, "a demo show is invalid");
            ServiceError::Refused(AppError::Internal)
        })?;
        shows::create(pool, &show).await?;
    }
    Ok(demo.len())
}
