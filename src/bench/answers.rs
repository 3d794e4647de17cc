//! `--answers-log`: every booking a customer was answered, one JSON line each, so that a chaos
//! run can check the database against what customers were told. Only answers are facts: an
//! order whose answer was lost may or may not have booked, and is not logged.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::client::BookingBody;

/// The log file, shared by every customer; buffered, flushed by `flush` (and when dropped).
#[derive(Clone)]
pub struct AnswersLog {
    path: PathBuf,
    file: Arc<Mutex<BufWriter<File>>>,
}

/// One line: `{"booking_id":1,"status":"CONFIRMED","seats":[3,4],"at":"…Z","show_id":7}`.
#[derive(Debug, Serialize)]
struct Line<'a> {
    booking_id: i64,
    /// HELD (the API's PENDING), CONFIRMED or CANCELLED.
    status: &'a str,
    /// Seat ids, as the API gives them.
    seats: Vec<i32>,
    /// When the answer arrived (RFC 3339, UTC).
    at: String,
    show_id: i64,
}

impl AnswersLog {
    /// Creates (or empties) the file.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let file =
            File::create(path).with_context(|| format!("creating the answers log {}", path.display()))?;
        Ok(Self { path: path.to_owned(), file: Arc::new(Mutex::new(BufWriter::new(file))) })
    }

    /// Logs a booking an answer stated, if its status is one the log keeps.
    pub fn record(&self, booking: &BookingBody, at: DateTime<Utc>) -> anyhow::Result<()> {
        let Some(line) = line(booking, at) else { return Ok(()) };
        let mut file = self.file.lock().expect("answers log lock");
        writeln!(file, "{line}").with_context(|| format!("writing to {}", self.path.display()))
    }

    pub fn flush(&self) -> anyhow::Result<()> {
        self.file
            .lock()
            .expect("answers log lock")
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// The log's line for a booking, or none for a status that is not an answered fact to check
/// (FAILED, EXPIRED).
fn line(booking: &BookingBody, at: DateTime<Utc>) -> Option<String> {
    let status = match booking.status.as_str() {
        "PENDING" => "HELD",
        "CONFIRMED" => "CONFIRMED",
        "CANCELLED" => "CANCELLED",
        _ => return None,
    };
    let line = Line {
        booking_id: booking.id,
        status,
        seats: booking.seats.iter().map(|seat| seat.id).collect(),
        at: at.to_rfc3339_opts(SecondsFormat::Micros, true),
        show_id: booking.show_id,
    };
    Some(serde_json::to_string(&line).expect("a line serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::client::BookedSeatBody;

    fn booking(status: &str) -> BookingBody {
        BookingBody {
            id: 42,
            show_id: 7,
            status: status.to_owned(),
            seats: vec![BookedSeatBody { id: 3 }, BookedSeatBody { id: 4 }],
            hold_expires_at: None,
        }
    }

    #[test]
    fn a_line_is_one_json_object_with_the_booking_its_status_seats_and_time() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z").unwrap().with_timezone(&Utc);
        assert_eq!(
            line(&booking("CONFIRMED"), at).unwrap(),
            r#"{"booking_id":42,"status":"CONFIRMED","seats":[3,4],"at":"2026-01-02T03:04:05.123456Z","show_id":7}"#
        );
        let held: serde_json::Value = serde_json::from_str(&line(&booking("PENDING"), at).unwrap()).unwrap();
        assert_eq!(held["status"], "HELD");
        assert!(line(&booking("CANCELLED"), at).unwrap().contains(r#""status":"CANCELLED""#));
        assert_eq!(line(&booking("FAILED"), at), None);
        assert_eq!(line(&booking("EXPIRED"), at), None);
    }

    #[test]
    fn the_file_holds_every_line_once_flushed() {
        let path = std::env::temp_dir().join(format!("boxoffice-answers-{}.jsonl", std::process::id()));
        let log = AnswersLog::create(&path).unwrap();
        let at = Utc::now();
        for status in ["PENDING", "FAILED", "CONFIRMED"] {
            log.clone().record(&booking(status), at).unwrap();
        }
        log.flush().unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let statuses: Vec<String> = written
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line).unwrap()["status"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(statuses, ["HELD", "CONFIRMED"]);
    }
}
