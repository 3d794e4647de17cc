use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::layout::{Layout, LayoutSpec};
use super::show::ShowKind;
use crate::error::AppError;

/// A show or trip as typed into the admin form or sent to the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewShowSpec {
    pub kind: ShowKind,
    pub title: String,
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub destination: Option<String>,
    pub starts_at: DateTime<Utc>,
    /// Overrides the server's hold time for this show.
    #[serde(default)]
    pub hold_seconds: Option<i32>,
    pub layout: LayoutSpec,
}

/// Where a show happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Place {
    Venue(String),
    Route { origin: String, destination: String },
}

/// A show that can be created: every field checked, the layout valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewShow {
    pub kind: ShowKind,
    pub title: String,
    pub place: Place,
    pub starts_at: DateTime<Utc>,
    pub hold_seconds: Option<i32>,
    pub layout: Layout,
}

impl NewShow {
    pub fn parse(spec: &NewShowSpec, now: DateTime<Utc>) -> Result<Self, AppError> {
        let title = text("title", "A title", &spec.title)?;
        let place = match spec.kind {
            ShowKind::Show => Place::Venue(text("venue", "A venue", spec.venue.as_deref().unwrap_or(""))?),
            ShowKind::Trip => Place::Route {
                origin: text("origin", "Where the trip starts", spec.origin.as_deref().unwrap_or(""))?,
                destination: text(
                    "destination",
                    "Where the trip ends",
                    spec.destination.as_deref().unwrap_or(""),
                )?,
            },
        };
        if spec.starts_at <= now {
            return Err(AppError::invalid("starts_at", "The start time must be in the future."));
        }
        if let Some(seconds) = spec.hold_seconds
            && !(10..=3600).contains(&seconds)
        {
            return Err(AppError::invalid("hold_seconds", "A hold lasts between 10 seconds and one hour."));
        }
        Ok(Self {
            kind: spec.kind,
            title,
            place,
            starts_at: spec.starts_at,
            hold_seconds: spec.hold_seconds,
            layout: Layout::parse(&spec.layout)?,
        })
    }
}

/// A required line of text: trimmed, 1 to 200 characters.
fn text(field: &str, what: &str, value: &str) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, format!("{what} is required.")));
    }
    if value.chars().count() > 200 {
        return Err(AppError::invalid(field, format!("{what} can be at most 200 characters.")));
    }
    Ok(value.to_owned())
}
