use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What is being sold: seats at a show (cinema, theatre) or seats on a trip (bus, train).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "show_kind", rename_all = "SCREAMING_SNAKE_CASE"))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ShowKind {
    Show,
    Trip,
}

impl ShowKind {
    pub fn label(self) -> &'static str {
        match self {
            ShowKind::Show => "Show",
            ShowKind::Trip => "Trip",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "show_status", rename_all = "SCREAMING_SNAKE_CASE"))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ShowStatus {
    OnSale,
    Cancelled,
}

/// Whether a show still sells seats at `now`: on sale and not started. This is the rule
/// everywhere in Rust; statements use the SQL function `show_is_selling`, its one copy in SQL
/// (an integration test checks that the two agree).
pub fn selling(status: ShowStatus, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), AppError> {
    match status {
        ShowStatus::OnSale if starts_at > now => Ok(()),
        status => Err(not_selling(status)),
    }
}

/// The refusal for a show that no longer sells: cancelled, or (still on sale) started.
pub fn not_selling(status: ShowStatus) -> AppError {
    match status {
        ShowStatus::Cancelled => AppError::ShowCancelled,
        ShowStatus::OnSale => AppError::ShowStarted,
    }
}

/// One line of the show list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShowSummary {
    pub id: i64,
    pub kind: ShowKind,
    pub title: String,
    pub venue: Option<String>,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub status: ShowStatus,
    /// Seats that can be sold at all (blocked seats excluded).
    pub total_seats: i64,
    pub available_seats: i64,
    /// The cheapest category; None for a show without seats.
    pub min_price_cents: Option<i64>,
}

impl ShowSummary {
    /// Where it happens: the venue of a show, the route of a trip.
    pub fn place(&self) -> String {
        place(self.kind, &self.venue, &self.origin, &self.destination)
    }

    /// Why its seats cannot be bought at `now`, if they cannot (see [`selling`]).
    pub fn selling(&self, now: DateTime<Utc>) -> Result<(), AppError> {
        selling(self.status, self.starts_at, now)
    }

    /// Nothing left to buy (also when every seat that exists is blocked).
    pub fn sold_out(&self) -> bool {
        self.available_seats == 0
    }

    /// "From 15.00 · 12 seats left", "Sold out", or nothing for a show without seats yet.
    pub fn availability_display(&self) -> Option<String> {
        let price = self.min_price_cents?;
        if self.sold_out() {
            return Some("Sold out".to_owned());
        }
        let seats = if self.available_seats == 1 {
            "1 seat left".to_owned()
        } else {
            format!("{} seats left", self.available_seats)
        };
        Some(format!("From {} · {seats}", format_price(price)))
    }

    pub fn starts_at_display(&self) -> String {
        format_time(self.starts_at)
    }
}

/// Where it happens: "Roxy Cinema" for a show, "Pune → Mumbai" for a trip.
pub fn place(
    kind: ShowKind,
    venue: &Option<String>,
    origin: &Option<String>,
    destination: &Option<String>,
) -> String {
    match (kind, venue, origin, destination) {
        (ShowKind::Trip, _, Some(from), Some(to)) => format!("{from} → {to}"),
        (_, Some(venue), _, _) => venue.clone(),
        _ => String::new(),
    }
}

/// A time as people read it, e.g. "Sat 5 Dec 2026, 19:30 UTC". Rendered identically on the
/// server and in the browser so hydration never sees two different strings.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.format("%a %-d %b %Y, %H:%M UTC").to_string()
}

/// Cents as a price: 150000 -> "1,500.00".
pub fn format_price(cents: i64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped}.{:02}", cents % 100)
}

/// A price as an admin types it ("350", "350.5", "1,500.00") in cents.
pub fn parse_price(field: &str, input: &str) -> Result<i64, AppError> {
    let bad =
        || AppError::invalid(field, format!("“{}” is not a price: write it like 350.00.", input.trim()));
    let text: String = input.trim().chars().filter(|&c| c != ',').collect();
    let (units, cents) = text.split_once('.').unwrap_or((&text, ""));
    if units.is_empty() || cents.len() > 2 || !units.chars().chain(cents.chars()).all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let units: i64 = units.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .filter(|&total| total <= 100_000_000)
        .ok_or_else(|| AppError::invalid(field, "A price can be at most 1,000,000.00."))
}

/// What a customer searches the show list for: a text (trimmed; empty means everything),
/// optionally a day (UTC, as every time on the site), and whether past and cancelled shows
/// count too. Both doors take the same three filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowSearch {
    text: Option<String>,
    date: Option<chrono::NaiveDate>,
    include_past: bool,
}

impl ShowSearch {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, AppError> {
        let text = input.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(AppError::invalid(
                "search",
                format!("Search text is too long: use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        // No one types these; a NUL would not even reach the database as text.
        if text.chars().any(char::is_control) {
            return Err(AppError::invalid("search", "Search text cannot contain control characters."));
        }
        Ok(Self { text: (!text.is_empty()).then(|| text.to_owned()), date: None, include_past: false })
    }

    /// Narrows the search to one day, given as a date field sends it ("2026-12-05"); empty
    /// means any day.
    pub fn on_date(self, date: &str) -> Result<Self, AppError> {
        let date = date.trim();
        if date.is_empty() {
            return Ok(self);
        }
        let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| AppError::invalid("date", "Give the date as year-month-day, e.g. 2026-12-05."))?;
        Ok(Self { date: Some(date), ..self })
    }

    /// Every show, past and cancelled ones too, not only those still selling.
    pub fn including_past(self, include_past: bool) -> Self {
        Self { include_past, ..self }
    }

    pub fn include_past(&self) -> bool {
        self.include_past
    }

    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    pub fn date(&self) -> Option<chrono::NaiveDate> {
        self.date
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn prices_parse_as_admins_type_them() {
        use super::parse_price;
        assert_eq!(parse_price("p", "350").unwrap(), 35_000);
        assert_eq!(parse_price("p", " 350.5 ").unwrap(), 35_050);
        assert_eq!(parse_price("p", "1,500.00").unwrap(), 150_000);
        assert_eq!(parse_price("p", "0").unwrap(), 0);
        for bad in ["", "-5", "1.234", "abc", "1.2.3", ".5", "99999999999"] {
            assert!(parse_price("p", bad).is_err(), "{bad}");
        }
    }

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn search_is_trimmed_and_empty_means_everything() {
        assert_eq!(ShowSearch::parse("  ").unwrap().text(), None);
        assert_eq!(ShowSearch::parse("  Hamlet ").unwrap().text(), Some("Hamlet"));
    }

    #[test]
    fn overlong_search_is_refused_with_the_field_named() {
        let err = ShowSearch::parse(&"x".repeat(ShowSearch::MAX_CHARS + 1)).unwrap_err();
        assert!(matches!(err, AppError::InvalidInput { ref field, .. } if field == "search"));
        assert!(ShowSearch::parse(&"é".repeat(ShowSearch::MAX_CHARS)).is_ok());
        for hostile in ["a\u{0}b", "tab\tinside", "line\nbreak"] {
            let err = ShowSearch::parse(hostile).unwrap_err();
            assert!(matches!(&err, AppError::InvalidInput { field, .. } if field == "search"), "{hostile:?}: {err:?}");
        }
        let dated = ShowSearch::parse("").unwrap().on_date("2026-12-05").unwrap();
        assert_eq!(dated.date(), chrono::NaiveDate::from_ymd_opt(2026, 12, 5));
        assert_eq!(ShowSearch::parse("").unwrap().on_date(" ").unwrap().date(), None);
        assert!(ShowSearch::parse("").unwrap().on_date("5/12/2026").is_err());
    }

    fn summary(kind: ShowKind) -> ShowSummary {
        ShowSummary {
            id: 1,
            kind,
            title: "t".into(),
            venue: Some("Grand Hall".into()),
            origin: Some("Pune".into()),
            destination: Some("Goa".into()),
            starts_at: Utc.with_ymd_and_hms(2026, 12, 5, 19, 30, 0).unwrap(),
            status: ShowStatus::OnSale,
            total_seats: 40,
            available_seats: 12,
            min_price_cents: Some(1500),
        }
    }

    #[test]
    fn a_trip_is_placed_by_its_route_and_a_show_by_its_venue() {
        assert_eq!(summary(ShowKind::Trip).place(), "Pune → Goa");
        assert_eq!(summary(ShowKind::Show).place(), "Grand Hall");
    }

    #[test]
    fn availability_reads_like_a_storefront() {
        let mut show = summary(ShowKind::Show);
        assert_eq!(show.availability_display().as_deref(), Some("From 15.00 · 12 seats left"));
        show.available_seats = 0;
        assert_eq!(show.availability_display().as_deref(), Some("Sold out"));
        show.min_price_cents = None;
        assert_eq!(show.availability_display(), None);
        assert_eq!(format_price(123456789), "1,234,567.89");
        assert_eq!(format_price(5), "0.05");
    }

    #[test]
    fn start_time_reads_like_a_ticket() {
        assert_eq!(summary(ShowKind::Show).starts_at_display(), "Sat 5 Dec 2026, 19:30 UTC");
    }
}
