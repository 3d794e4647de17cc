//! Following a show's live seat feed (`/api/v1/shows/{id}/events`) the way an open seat map does.

use std::collections::HashMap;

use anyhow::Context;
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use reqwest::Client;

use crate::domain::SeatStatus;
use crate::domain::live::SeatChanges;

/// One message of the feed: every seat (`snapshot`) or the seats that changed (`seats`).
pub enum FeedMessage {
    Snapshot(SeatChanges),
    Changes(SeatChanges),
}

/// Opens the feed of `show_id`. The stream ends when the server closes it.
pub async fn subscribe(
    http: &Client,
    events_url: &str,
) -> anyhow::Result<impl Stream<Item = anyhow::Result<FeedMessage>> + use<>> {
    let response = http.get(events_url).send().await.context("opening the seat feed")?;
    anyhow::ensure!(response.status().is_success(), "the seat feed answered {}", response.status());
    Ok(response.bytes_stream().eventsource().filter_map(|event| async move {
        let event = match event {
            Ok(event) => event,
            Err(error) => return Some(Err(anyhow::anyhow!("reading the seat feed: {error}"))),
        };
        let parse = || serde_json::from_str::<SeatChanges>(&event.data).context("a seat feed message");
        match event.event.as_str() {
            "snapshot" => Some(parse().map(FeedMessage::Snapshot)),
            "seats" => Some(parse().map(FeedMessage::Changes)),
            _ => None,
        }
    }))
}

/// The seats an open seat map shows as free, kept so that a random one is picked in O(1).
#[derive(Default)]
pub struct FreeSeats {
    free: Vec<i32>,
    /// Where each free seat sits in `free`.
    position: HashMap<i32, usize>,
}

impl FreeSeats {
    pub fn len(&self) -> usize {
        self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.free.is_empty()
    }

    pub fn contains(&self, seat_id: i32) -> bool {
        self.position.contains_key(&seat_id)
    }

    pub fn get(&self, index: usize) -> i32 {
        self.free[index]
    }

    /// Applies what the feed said.
    pub fn apply(&mut self, message: &FeedMessage) {
        let changes = match message {
            FeedMessage::Snapshot(seats) => {
                *self = Self::default();
                seats
            }
            FeedMessage::Changes(changes) => changes,
        };
        for change in changes {
            if change.status == SeatStatus::Available {
                self.insert(change.seat_id);
            } else {
                self.remove(change.seat_id);
            }
        }
    }

    fn insert(&mut self, seat_id: i32) {
        if !self.position.contains_key(&seat_id) {
            self.position.insert(seat_id, self.free.len());
            self.free.push(seat_id);
        }
    }

    fn remove(&mut self, seat_id: i32) {
        if let Some(index) = self.position.remove(&seat_id) {
            self.free.swap_remove(index);
            if let Some(&moved) = self.free.get(index) {
                self.position.insert(moved, index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::live::SeatChange;

    fn changes(seats: &[(i32, SeatStatus)]) -> SeatChanges {
        seats.iter().map(|&(seat_id, status)| SeatChange { seat_id, status }).collect()
    }

    #[test]
    fn free_seats_follow_snapshots_and_changes() {
        let mut seats = FreeSeats::default();
        seats.apply(&FeedMessage::Snapshot(changes(&[
            (1, SeatStatus::Available),
            (2, SeatStatus::Booked),
            (3, SeatStatus::Available),
            (4, SeatStatus::Available),
        ])));
        assert_eq!(seats.len(), 3);
        seats.apply(&FeedMessage::Changes(changes(&[(1, SeatStatus::Held), (2, SeatStatus::Available)])));
        assert!(!seats.contains(1) && seats.contains(2) && seats.contains(3) && seats.contains(4));
        let mut listed: Vec<i32> = (0..seats.len()).map(|i| seats.get(i)).collect();
        listed.sort();
        assert_eq!(listed, vec![2, 3, 4]);
        seats.apply(&FeedMessage::Snapshot(changes(&[(9, SeatStatus::Available)])));
        assert_eq!((seats.len(), seats.get(0)), (1, 9));
    }
}
