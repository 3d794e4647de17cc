//! The waiting room in front of an on-sale moment (issue 19), as the browser and the server
//! exchange it: how a show's sale opens, a customer's place in line, and the admin's view.
//!
//! Customers who join before the opening get a random place when it comes; later ones go to
//! the back in arrival order. They are admitted in order at the show's rate, and an admitted
//! customer holds a pass, valid for a while, without which nothing of the show can be held or
//! booked. The service keeps all of it in PostgreSQL; this module is the rules that turn a
//! place into what a customer reads ("You are number 1,234 · about 6 minutes").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Admissions per minute at most (the check in the schema says the same).
pub const MOST_ADMISSIONS_PER_MINUTE: u32 = 100_000;
/// How long a pass lasts unless the admin says otherwise.
pub const DEFAULT_PASS_MINUTES: u32 = 10;

/// A waiting room's settings: the admission rate, the burst and how long a pass lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WaitingRoomSettings {
    /// Customers admitted per minute.
    pub admissions_per_minute: u32,
    /// Customers who may be admitted at once (after the opening, or a pause).
    pub burst: u32,
    /// How long a pass lets its holder choose seats, in minutes.
    pub pass_minutes: u32,
}

impl WaitingRoomSettings {
    /// A rate of 1 to 100,000 a minute; a burst of 1 to 10,000 (default: five seconds'
    /// worth); a pass of 1 to 1,440 minutes (default 10).
    pub fn parse(admissions_per_minute: i64, burst: Option<i64>, pass_minutes: Option<i64>) -> Result<Self, AppError> {
        if !(1..=i64::from(MOST_ADMISSIONS_PER_MINUTE)).contains(&admissions_per_minute) {
            return Err(AppError::invalid(
                "admissions_per_minute",
                format!("Admit between 1 and {MOST_ADMISSIONS_PER_MINUTE} customers a minute."),
            ));
        }
        let rate = admissions_per_minute as u32;
        let burst = burst.unwrap_or_else(|| i64::from(rate.div_ceil(12)));
        if !(1..=10_000).contains(&burst) {
            return Err(AppError::invalid("burst", "A burst is between 1 and 10,000 customers."));
        }
        let pass_minutes = pass_minutes.unwrap_or(i64::from(DEFAULT_PASS_MINUTES));
        if !(1..=1440).contains(&pass_minutes) {
            return Err(AppError::invalid("pass_minutes", "A pass lasts between 1 minute and 24 hours."));
        }
        Ok(Self { admissions_per_minute: rate, burst: burst as u32, pass_minutes: pass_minutes as u32 })
    }
}

/// How a show's sale opens, as an admin sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleSettings {
    /// Nothing can be held or booked before this (None: on sale at once).
    pub sale_opens_at: Option<DateTime<Utc>>,
    /// Customers queue in a waiting room and are admitted at a rate (None: no waiting room).
    pub waiting_room: Option<WaitingRoomSettings>,
}

impl SaleSettings {
    /// From the admin's form: a blank opening is "at once" (UTC, as a `datetime-local` field
    /// sends it); blank burst and pass length take the defaults.
    pub fn parse_form(
        sale_opens_at: &str,
        waiting_room: bool,
        admissions_per_minute: &str,
        burst: &str,
        pass_minutes: &str,
    ) -> Result<Self, AppError> {
        let sale_opens_at = match sale_opens_at.trim() {
            "" => None,
            text => Some(
                super::new_show::parse_start_time(text)
                    .map_err(|_| AppError::invalid("sale_opens_at", "Give the opening as a date and time, e.g. 2026-12-05 10:00."))?,
            ),
        };
        let number = |field: &str, text: &str| -> Result<Option<i64>, AppError> {
            match text.trim() {
                "" => Ok(None),
                text => text.parse().map(Some).map_err(|_| AppError::invalid(field, "Give a whole number.")),
            }
        };
        let waiting_room = if waiting_room {
            let rate = number("admissions_per_minute", admissions_per_minute)?
                .ok_or_else(|| AppError::invalid("admissions_per_minute", "Say how many customers to admit a minute."))?;
            Some(WaitingRoomSettings::parse(rate, number("burst", burst)?, number("pass_minutes", pass_minutes)?)?)
        } else {
            None
        };
        Ok(Self { sale_opens_at, waiting_room })
    }
}

/// Where a customer stands in a show's waiting room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PlaceInLine {
    /// Not in the line (never joined, or left).
    Outside,
    /// In, before the opening: everyone in by then gets a random place when it comes.
    BeforeOpening,
    /// In line: number 1 is next. The wait is a guess from the rate (none while paused).
    Waiting { number: u64, eta_seconds: Option<u64> },
    /// Admitted: seats may be held and booked until the pass runs out.
    Admitted { admitted_at: DateTime<Utc>, pass_expires_at: DateTime<Utc> },
    /// The pass ran out; leaving and joining again goes to the back of the line.
    PassExpired { pass_expires_at: DateTime<Utc> },
}

impl PlaceInLine {
    /// Where a customer stands. `entry` is theirs, if they are in; `number` their 1-based
    /// position among those not yet admitted.
    pub fn of(entry: Option<&LineEntry>, number: u64, room: &RoomState, now: DateTime<Utc>) -> Self {
        let Some(entry) = entry else { return PlaceInLine::Outside };
        match (entry.placed, entry.admitted_at, entry.pass_expires_at) {
            (_, Some(admitted_at), Some(pass_expires_at)) if pass_expires_at > now => {
                PlaceInLine::Admitted { admitted_at, pass_expires_at }
            }
            (_, Some(_), Some(pass_expires_at)) => PlaceInLine::PassExpired { pass_expires_at },
            (true, _, _) if room.open => PlaceInLine::Waiting { number, eta_seconds: room.wait_seconds(number) },
            _ => PlaceInLine::BeforeOpening,
        }
    }

    pub fn is_admitted(&self) -> bool {
        matches!(self, PlaceInLine::Admitted { .. })
    }
}

/// A customer's row in the line, as the service read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineEntry {
    /// Has a place (the line has opened for them).
    pub placed: bool,
    pub admitted_at: Option<DateTime<Utc>>,
    pub pass_expires_at: Option<DateTime<Utc>>,
}

/// A waiting room's state as its customers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoomState {
    /// The line has opened: places are given, admissions run.
    pub open: bool,
    /// The admin paused admissions.
    pub paused: bool,
    pub admissions_per_minute: u32,
}

impl RoomState {
    /// About how long number `number` waits at this rate (None while paused).
    pub fn wait_seconds(&self, number: u64) -> Option<u64> {
        if self.paused {
            return None;
        }
        Some((number.saturating_mul(60)).div_ceil(u64::from(self.admissions_per_minute.max(1))))
    }
}

/// What a customer sees of a show's waiting room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WaitingRoomView {
    pub show_id: i64,
    /// When the sale opens (None: it is open).
    pub sale_opens_at: Option<DateTime<Utc>>,
    /// The server's clock as this was read: countdowns run from it, not the device's clock.
    pub now: DateTime<Utc>,
    pub room: RoomState,
    /// Customers in line and not yet admitted.
    pub waiting: u64,
    pub place: PlaceInLine,
}

impl WaitingRoomView {
    /// The same for the customer, whatever the clock: an update is sent only when this changes.
    pub fn same_for_customer(&self, other: &Self) -> bool {
        (self.sale_opens_at, self.room, self.waiting, self.place) == (other.sale_opens_at, other.room, other.waiting, other.place)
    }
}

/// A show's sale as its admin sees it: the opening and the waiting room, live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SaleState {
    pub show_id: i64,
    pub sale_opens_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    pub waiting_room: Option<WaitingRoomStats>,
}

/// A waiting room's figures for its admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WaitingRoomStats {
    pub settings: WaitingRoomSettings,
    pub paused: bool,
    /// When the line opened (places given); None before.
    pub opened_at: Option<DateTime<Utc>>,
    /// In line, not yet admitted.
    pub waiting: u64,
    /// Admitted so far.
    pub admitted: u64,
    /// Admitted with a pass still valid.
    pub passes_in_use: u64,
}

/// "1,234": a count as people read it.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// "about 6 minutes", "less than a minute".
pub fn wait_phrase(seconds: u64) -> String {
    match seconds {
        0..60 => "less than a minute".to_owned(),
        60..120 => "about 1 minute".to_owned(),
        _ if seconds < 2 * 3600 => format!("about {} minutes", seconds.div_ceil(60)),
        _ => format!("about {} hours", seconds.div_ceil(3600)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    const OPEN: RoomState = RoomState { open: true, paused: false, admissions_per_minute: 200 };

    #[test]
    fn settings_are_parsed_with_defaults_and_clear_limits() {
        let settings = WaitingRoomSettings::parse(120, None, None).unwrap();
        assert_eq!(settings, WaitingRoomSettings { admissions_per_minute: 120, burst: 10, pass_minutes: 10 });
        assert_eq!(WaitingRoomSettings::parse(1, None, None).unwrap().burst, 1);
        for (rate, burst, pass, field) in [
            (0, None, None, "admissions_per_minute"),
            (100_001, None, None, "admissions_per_minute"),
            (60, Some(0), None, "burst"),
            (60, Some(10_001), None, "burst"),
            (60, None, Some(0), "pass_minutes"),
            (60, None, Some(1441), "pass_minutes"),
        ] {
            let error = WaitingRoomSettings::parse(rate, burst, pass).unwrap_err();
            assert!(matches!(&error, AppError::InvalidInput { field: f, .. } if f == field), "{error:?}");
        }
    }

    #[test]
    fn the_admins_form_is_parsed_naming_the_field_at_fault() {
        let settings = SaleSettings::parse_form("2026-12-05T10:00", true, "120", "", "15").unwrap();
        assert_eq!(settings.sale_opens_at, Some(DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z").unwrap().to_utc()));
        assert_eq!(settings.waiting_room, Some(WaitingRoomSettings { admissions_per_minute: 120, burst: 10, pass_minutes: 15 }));
        assert_eq!(SaleSettings::parse_form(" ", false, "junk", "", "").unwrap(), SaleSettings { sale_opens_at: None, waiting_room: None });
        for (opens, rate, field) in [("soon", "60", "sale_opens_at"), ("", "", "admissions_per_minute"), ("", "ten", "admissions_per_minute")] {
            let error = SaleSettings::parse_form(opens, true, rate, "", "").unwrap_err();
            assert!(matches!(&error, AppError::InvalidInput { field: f, .. } if f == field), "{error:?}");
        }
    }

    #[test]
    fn a_place_reads_as_the_customer_stands() {
        let waiting = LineEntry { placed: true, admitted_at: None, pass_expires_at: None };
        assert_eq!(PlaceInLine::of(None, 0, &OPEN, at(0)), PlaceInLine::Outside);
        let unplaced = LineEntry { placed: false, ..waiting };
        assert_eq!(PlaceInLine::of(Some(&unplaced), 0, &OPEN, at(0)), PlaceInLine::BeforeOpening);
        let closed = RoomState { open: false, ..OPEN };
        assert_eq!(PlaceInLine::of(Some(&waiting), 3, &closed, at(0)), PlaceInLine::BeforeOpening);
        assert_eq!(
            PlaceInLine::of(Some(&waiting), 1234, &OPEN, at(0)),
            PlaceInLine::Waiting { number: 1234, eta_seconds: Some(371) }
        );
        let paused = RoomState { paused: true, ..OPEN };
        assert_eq!(PlaceInLine::of(Some(&waiting), 5, &paused, at(0)), PlaceInLine::Waiting { number: 5, eta_seconds: None });
        let admitted = LineEntry { placed: true, admitted_at: Some(at(0)), pass_expires_at: Some(at(600)) };
        assert!(PlaceInLine::of(Some(&admitted), 0, &OPEN, at(599)).is_admitted());
        assert_eq!(PlaceInLine::of(Some(&admitted), 0, &OPEN, at(600)), PlaceInLine::PassExpired { pass_expires_at: at(600) });
    }

    #[test]
    fn counts_and_waits_read_as_people_say_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(wait_phrase(30), "less than a minute");
        assert_eq!(wait_phrase(90), "about 1 minute");
        assert_eq!(wait_phrase(371), "about 7 minutes");
        assert_eq!(wait_phrase(5 * 3600), "about 5 hours");
    }
}
