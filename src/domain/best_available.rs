//! Choosing the best N free seats of a show: side by side in one row when possible, best
//! category first, and never leaving a single seat stranded when another choice of the same
//! quality exists. Pure: the caller claims the chosen seats and picks again if it loses a race.

use std::collections::{BTreeMap, HashMap};

use super::booking::{Seat, SeatStatus};
use super::layout::SeatCategory;

/// A run of free seats that sit side by side: same row, neighbouring grid columns, one category.
#[derive(Debug)]
struct Run<'a> {
    seats: Vec<&'a Seat>,
    rank: i16,
    grid_row: i16,
    /// Centre of the whole row, to prefer seats in the middle.
    row_centre: f32,
}

/// Not enough free seats in the allowed categories; `available` is how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotEnough {
    pub available: u32,
}

/// (category rank, stranded seats left, distance from the row's centre, row, first column)
type WindowScore = (i16, u8, f32, i16, i16);

/// Picks `count` free seats (status AVAILABLE, in `category` when given). Returns seat ids in
/// ascending order. `variant` 0 is the single best choice; other values pick among the choices
/// that are as good in category and stranding (used to retry after losing a race).
pub fn choose(
    seats: &[Seat],
    categories: &[SeatCategory],
    count: usize,
    category: Option<&str>,
    variant: usize,
) -> Result<Vec<i32>, NotEnough> {
    let rank_of: HashMap<&str, i16> = categories.iter().map(|c| (c.code.as_str(), c.rank)).collect();
    let allowed =
        |seat: &Seat| seat.status == SeatStatus::Available && category.is_none_or(|c| seat.category == c);

    let available = seats.iter().filter(|s| allowed(s)).count();
    if count == 0 || available < count {
        return Err(NotEnough { available: available as u32 });
    }

    let runs = free_runs(seats, &rank_of, allowed);

    // Side by side: every window of `count` seats inside a run, scored best-first.
    let mut windows: Vec<(WindowScore, &[&Seat])> = runs
        .iter()
        .filter(|run| run.seats.len() >= count)
        .flat_map(|run| {
            let len = run.seats.len();
            (0..=len - count).map(move |offset| {
                let left = offset;
                let right = len - count - offset;
                let strands = u8::from(left == 1) + u8::from(right == 1);
                let window = &run.seats[offset..offset + count];
                let centre = (f32::from(window[0].grid_col) + f32::from(window[count - 1].grid_col)) / 2.0;
                let off_centre = (centre - run.row_centre).abs();
                ((run.rank, strands, off_centre, run.grid_row, window[0].grid_col), window)
            })
        })
        .collect();
    if !windows.is_empty() {
        windows.sort_by(|a, b| a.0.partial_cmp(&b.0).expect("scores are finite"));
        // Windows as good as the best one in category and stranding; `variant` picks among
        // them so that customers who lost a race spread out instead of colliding again.
        let (best_rank, best_strands) = (windows[0].0.0, windows[0].0.1);
        let equally_good =
            windows.iter().take_while(|(score, _)| score.0 == best_rank && score.1 == best_strands).count();
        let (_, window) = windows[variant % equally_good];
        return Ok(sorted_ids(window.iter().copied()));
    }

    // No row can seat them together: fill from the best category and the longest runs, so
    // the party is split into as few groups as possible.
    let mut runs = runs;
    runs.sort_by_key(|a| (a.rank, std::cmp::Reverse(a.seats.len()), a.grid_row));
    Ok(sorted_ids(runs.iter().flat_map(|run| run.seats.iter().copied()).take(count)))
}

/// The seats to offer a waiting party of `count` (the waiting list): [`choose`]'s choice (side
/// by side when some row can seat them, the best category first), but only a choice that leaves
/// no free seat stranded alone in its row that was not alone before, and never fewer seats than
/// asked. When the best choice over all categories would strand a seat, each category is tried
/// on its own, best first. `None`: the party does not fit the free seats.
pub fn choose_for_party(
    seats: &[Seat],
    categories: &[SeatCategory],
    count: usize,
    category: Option<&str>,
) -> Option<Vec<i32>> {
    let mut ranked: Vec<&SeatCategory> = categories.iter().collect();
    ranked.sort_by_key(|c| c.rank);
    let tries: Vec<Option<&str>> = match category {
        Some(code) => vec![Some(code)],
        None => std::iter::once(None).chain(ranked.iter().map(|c| Some(c.code.as_str()))).collect(),
    };
    tries
        .into_iter()
        .filter_map(|within| choose(seats, categories, count, within, 0).ok())
        .find(|chosen| chosen.len() == count && newly_stranded(seats, chosen) == 0)
}

/// How many free seats taking `chosen` would leave with no free neighbour in their row that
/// had one before.
pub fn newly_stranded(seats: &[Seat], chosen: &[i32]) -> usize {
    use std::collections::HashSet;
    let free_before: HashSet<(i16, i16)> =
        seats.iter().filter(|s| s.status == SeatStatus::Available).map(|s| (s.grid_row, s.grid_col)).collect();
    let taken: HashSet<(i16, i16)> =
        seats.iter().filter(|s| chosen.contains(&s.seat_id)).map(|s| (s.grid_row, s.grid_col)).collect();
    let alone = |free: &dyn Fn(&(i16, i16)) -> bool, (row, col): (i16, i16)| {
        !free(&(row, col - 1)) && !free(&(row, col + 1))
    };
    let before = |p: &(i16, i16)| free_before.contains(p);
    let after = |p: &(i16, i16)| free_before.contains(p) && !taken.contains(p);
    free_before
        .iter()
        .filter(|p| !taken.contains(*p))
        .filter(|&&p| alone(&after, p) && !alone(&before, p))
        .count()
}

fn free_runs<'a>(
    seats: &'a [Seat],
    rank_of: &HashMap<&str, i16>,
    allowed: impl Fn(&Seat) -> bool,
) -> Vec<Run<'a>> {
    let mut rows: BTreeMap<i16, Vec<&Seat>> = BTreeMap::new();
    for seat in seats {
        rows.entry(seat.grid_row).or_default().push(seat);
    }
    let mut runs = Vec::new();
    for (grid_row, mut row) in rows {
        row.sort_by_key(|s| s.grid_col);
        let row_centre = (f32::from(row[0].grid_col) + f32::from(row[row.len() - 1].grid_col)) / 2.0;
        let mut current: Vec<&Seat> = Vec::new();
        for seat in row {
            let continues = current.last().is_some_and(|prev: &&Seat| {
                prev.grid_col + 1 == seat.grid_col && prev.category == seat.category
            });
            if !allowed(seat) || !continues {
                push_run(&mut runs, std::mem::take(&mut current), rank_of, grid_row, row_centre);
            }
            if allowed(seat) {
                current.push(seat);
            }
        }
        push_run(&mut runs, current, rank_of, grid_row, row_centre);
    }
    runs
}

fn push_run<'a>(
    runs: &mut Vec<Run<'a>>,
    seats: Vec<&'a Seat>,
    rank_of: &HashMap<&str, i16>,
    grid_row: i16,
    row_centre: f32,
) {
    if let Some(first) = seats.first() {
        let rank = rank_of.get(first.category.as_str()).copied().unwrap_or(i16::MAX);
        runs.push(Run { seats, rank, grid_row, row_centre });
    }
}

fn sorted_ids<'a>(seats: impl Iterator<Item = &'a Seat>) -> Vec<i32> {
    let mut ids: Vec<i32> = seats.map(|s| s.seat_id).collect();
    ids.sort_unstable();
    ids
}

#[cfg(test)]
mod tests;
