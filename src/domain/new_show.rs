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
    /// Nothing can be held or booked before this (None: on sale at once).
    #[serde(default)]
    pub sale_opens_at: Option<DateTime<Utc>>,
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
    pub sale_opens_at: Option<DateTime<Utc>>,
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
        if spec.sale_opens_at.is_some_and(|opening| opening >= spec.starts_at) {
            return Err(AppError::invalid("sale_opens_at", "The sale must open before the show starts."));
        }
        Ok(Self {
            kind: spec.kind,
            title,
            place,
            starts_at: spec.starts_at,
            hold_seconds: spec.hold_seconds,
            sale_opens_at: spec.sale_opens_at,
            layout: Layout::parse(&spec.layout)?,
        })
    }
}

/// An admin's change to a show that has not sold anything yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowEdit {
    pub title: String,
    pub starts_at: DateTime<Utc>,
}

impl ShowEdit {
    pub fn parse(title: &str, starts_at: &str, now: DateTime<Utc>) -> Result<Self, AppError> {
        let title = text("title", "A title", title)?;
        let starts_at = parse_start_time(starts_at)?;
        if starts_at <= now {
            return Err(AppError::invalid("starts_at", "The start time must be in the future."));
        }
        Ok(Self { title, starts_at })
    }
}

/// A start time as a form sends it: "2026-12-05T19:30" (UTC, as every time on the site), or
/// RFC 3339 with an offset.
pub fn parse_start_time(input: &str) -> Result<DateTime<Utc>, AppError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(AppError::invalid("starts_at", "A start time is required."));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(input) {
        return Ok(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(input, format).ok())
        .map(|at| at.and_utc())
        .ok_or_else(|| {
            AppError::invalid("starts_at", "Give the start time as a date and time, e.g. 2026-12-05 19:30.")
        })
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
    // A NUL cannot even be stored as text; tabs and line breaks have no place in a title.
    if value.chars().any(char::is_control) {
        return Err(AppError::invalid(field, format!("{what} cannot contain control characters.")));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_text_refuses_control_characters() {
        for hostile in ["Ham\u{0}let", "Ham\tlet", "Ham\nlet"] {
            let err = text("title", "The title", hostile).unwrap_err();
            assert!(matches!(&err, AppError::InvalidInput { field, .. } if field == "title"), "{hostile:?}");
        }
        assert_eq!(text("title", "The title", "  Hamlet ").unwrap(), "Hamlet");
    }

    #[test]
    fn start_times_parse_from_forms_and_rfc3339() {
        let expected = DateTime::parse_from_rfc3339("2026-12-05T19:30:00Z").unwrap().with_timezone(&Utc);
        for input in
            ["2026-12-05T19:30", "2026-12-05 19:30", "2026-12-05T21:30:00+02:00", " 2026-12-05T19:30:00 "]
        {
            assert_eq!(parse_start_time(input).unwrap(), expected, "{input}");
        }
        for input in ["", "tomorrow", "2026-13-05T19:30"] {
            let error = parse_start_time(input).unwrap_err();
            assert!(
                matches!(error, AppError::InvalidInput { ref field, .. } if field == "starts_at"),
                "{input}"
            );
        }
    }

    #[test]
    fn an_edit_needs_a_title_and_a_future_start() {
        let now = Utc::now();
        let later = (now + chrono::Duration::days(1)).to_rfc3339();
        assert!(ShowEdit::parse("New title", &later, now).is_ok());
        assert!(
            matches!(ShowEdit::parse("  ", &later, now), Err(AppError::InvalidInput { field, .. }) if field == "title")
        );
        let earlier = (now - chrono::Duration::hours(1)).to_rfc3339();
        assert!(
            matches!(ShowEdit::parse("T", &earlier, now), Err(AppError::InvalidInput { field, .. }) if field == "starts_at")
        );
    }
}
