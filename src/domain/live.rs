//! What the live feed sends to open seat maps and show lists (as Server-Sent Events).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SeatStatus;

/// Seats as the live feed sends them: the ids of the seats in each state, e.g.
/// `{"HELD":[3,4],"AVAILABLE":[9]}`. A fifth of the bytes of one object per seat, which counts
/// when thousands of open seat maps receive every change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatChanges(BTreeMap<SeatStatus, Vec<i32>>);

impl SeatChanges {
    /// Every seat's new state, by state, then by seat id.
    pub fn iter(&self) -> impl Iterator<Item = SeatChange> + '_ {
        self.0
            .iter()
            .flat_map(|(&status, ids)| ids.iter().map(move |&seat_id| SeatChange { seat_id, status }))
    }

    pub fn len(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(Vec::is_empty)
    }
}

impl FromIterator<SeatChange> for SeatChanges {
    fn from_iter<I: IntoIterator<Item = SeatChange>>(changes: I) -> Self {
        let mut by_status: BTreeMap<SeatStatus, Vec<i32>> = BTreeMap::new();
        for SeatChange { seat_id, status } in changes {
            by_status.entry(status).or_default().push(seat_id);
        }
        by_status.values_mut().for_each(|ids| ids.sort_unstable());
        Self(by_status)
    }
}

impl<'a> IntoIterator for &'a SeatChanges {
    type Item = SeatChange;
    type IntoIter = Box<dyn Iterator<Item = SeatChange> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// A seat's new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatChange {
    pub seat_id: i32,
    pub status: SeatStatus,
}

/// How many seats a show has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowAvailability {
    pub show_id: i64,
    pub available_seats: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_changes_travel_as_ids_per_state() {
        let changes: SeatChanges = [(4, SeatStatus::Held), (9, SeatStatus::Available), (3, SeatStatus::Held)]
            .into_iter()
            .map(|(seat_id, status)| SeatChange { seat_id, status })
            .collect();
        let json = serde_json::to_string(&changes).unwrap();
        assert_eq!(json, r#"{"AVAILABLE":[9],"HELD":[3,4]}"#);
        let back: SeatChanges = serde_json::from_str(&json).unwrap();
        assert_eq!(back, changes);
        assert_eq!(back.len(), 3);
        let seen: Vec<(i32, SeatStatus)> = back.iter().map(|c| (c.seat_id, c.status)).collect();
        assert_eq!(seen, [(9, SeatStatus::Available), (3, SeatStatus::Held), (4, SeatStatus::Held)]);
        assert!(SeatChanges::default().is_empty());
    }
}
