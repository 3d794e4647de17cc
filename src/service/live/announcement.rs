//! What instances tell each other over NOTIFY: which seats of which shows changed, so that each
//! re-reads those seats rather than whole shows (a flash sale changes a few hundred seats of a
//! 10,000-seat show between two announcements).
//!
//! A payload is entries separated by `;`, each a show id, with `:` and the seat ids when they
//! are known: `7:3,4;9` is seats 3 and 4 of show 7, and any seat of show 9.

use std::collections::{BTreeMap, BTreeSet};

/// Seats named per show at most; beyond that the show is re-read whole.
const MAX_SEATS_NAMED: usize = 500;
/// NOTIFY payloads must stay under 8000 bytes.
pub const MAX_PAYLOAD: usize = 7000;

/// What changed in one show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Seats(BTreeSet<i32>),
    /// Possibly any seat (admin actions, lapsed holds, too many seats to name).
    Any,
}

/// Changes of several shows, merged as they arrive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShowChanges(BTreeMap<i64, Changed>);

impl ShowChanges {
    /// Adds that `seats` of `show_id` changed (None: possibly any of them).
    pub fn add(&mut self, show_id: i64, seats: Option<&[i32]>) {
        let entry = self.0.entry(show_id).or_insert_with(|| Changed::Seats(BTreeSet::new()));
        match (seats, &mut *entry) {
            (_, Changed::Any) => {}
            (None, _) => *entry = Changed::Any,
            (Some(seats), Changed::Seats(known)) => {
                known.extend(seats);
                if known.len() > MAX_SEATS_NAMED {
                    *entry = Changed::Any;
                }
            }
        }
    }

    pub fn merge(&mut self, other: ShowChanges) {
        for (show_id, changed) in other.0 {
            match changed {
                Changed::Any => self.add(show_id, None),
                Changed::Seats(seats) => self.add(show_id, Some(&seats.into_iter().collect::<Vec<_>>())),
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn show_ids(&self) -> Vec<i64> {
        self.0.keys().copied().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (i64, &Changed)> {
        self.0.iter().map(|(&show_id, changed)| (show_id, changed))
    }

    /// The NOTIFY payloads that say all of this, each small enough to send.
    pub fn payloads(&self) -> Vec<String> {
        let mut payloads = vec![];
        let mut current = String::new();
        for (show_id, changed) in &self.0 {
            let entry = match changed {
                Changed::Any => show_id.to_string(),
                Changed::Seats(seats) => {
                    let seats: Vec<String> = seats.iter().map(i32::to_string).collect();
                    format!("{show_id}:{}", seats.join(","))
                }
            };
            if !current.is_empty() && current.len() + entry.len() + 1 > MAX_PAYLOAD {
                payloads.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(';');
            }
            current.push_str(&entry);
        }
        if !current.is_empty() {
            payloads.push(current);
        }
        payloads
    }

    /// Reads a payload; a seat list that does not parse counts as any seat of its show.
    pub fn parse(payload: &str) -> Self {
        let mut changes = Self::default();
        for entry in payload.split(';').filter(|entry| !entry.is_empty()) {
            let (show, seats) = match entry.split_once(':') {
                Some((show, seats)) => (show, Some(seats)),
                None => (entry, None),
            };
            let Ok(show_id) = show.parse() else { continue };
            let seats: Option<Vec<i32>> =
                seats.and_then(|seats| seats.split(',').map(|id| id.parse().ok()).collect());
            changes.add(show_id, seats.as_deref());
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_merge_and_travel_in_payloads() {
        let mut changes = ShowChanges::default();
        changes.add(7, Some(&[4, 3]));
        changes.add(7, Some(&[3, 5]));
        changes.add(9, Some(&[1]));
        changes.add(9, None);
        changes.add(9, Some(&[2]));
        assert_eq!(changes.payloads(), ["7:3,4,5;9"]);
        assert_eq!(ShowChanges::parse("7:3,4,5;9"), changes);
        assert_eq!(ShowChanges::parse("7:3,x;nonsense;;8"), ShowChanges::parse("7;8"));

        let mut more = ShowChanges::default();
        more.add(7, Some(&[6]));
        more.add(10, Some(&[1]));
        changes.merge(more);
        assert_eq!(changes.payloads(), ["7:3,4,5,6;9;10:1"]);
    }

    #[test]
    fn too_many_seats_make_the_show_whole_and_payloads_stay_under_the_limit() {
        let mut changes = ShowChanges::default();
        changes.add(1, Some(&(1..=MAX_SEATS_NAMED as i32 + 1).collect::<Vec<_>>()));
        assert_eq!(changes.iter().next(), Some((1, &Changed::Any)));

        let mut many = ShowChanges::default();
        for show_id in 1_000_000_000..1_000_000_100 {
            many.add(show_id, Some(&(10_000..10_000 + MAX_SEATS_NAMED as i32).collect::<Vec<_>>()));
        }
        let payloads = many.payloads();
        assert!(payloads.len() > 1 && payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let mut back = ShowChanges::default();
        payloads.iter().for_each(|p| back.merge(ShowChanges::parse(p)));
        assert_eq!(back, many);
        assert!(ShowChanges::default().payloads().is_empty());
    }
}
