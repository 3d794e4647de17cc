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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn category(code: &str, rank: i16) -> SeatCategory {
        SeatCategory { code: code.into(), name: code.into(), price_cents: 100, rank }
    }

    /// Rows of `width` seats; `taken[r][c]` marks seat (r, c) as booked; rows < premium_rows
    /// are PREMIUM (rank 1), the rest STD.
    fn hall(taken: &[Vec<bool>], premium_rows: usize) -> Vec<Seat> {
        let mut seats = Vec::new();
        for (r, row) in taken.iter().enumerate() {
            for (c, &is_taken) in row.iter().enumerate() {
                seats.push(Seat {
                    seat_id: seats.len() as i32 + 1,
                    row_label: format!("R{r}"),
                    number: c as i32 + 1,
                    label: format!("R{r}-{c}"),
                    grid_row: r as i16,
                    grid_col: c as i16,
                    category: if r < premium_rows { "PREMIUM".into() } else { "STD".into() },
                    status: if is_taken { SeatStatus::Booked } else { SeatStatus::Available },
                });
            }
        }
        seats
    }

    fn cats() -> Vec<SeatCategory> {
        vec![category("PREMIUM", 1), category("STD", 2)]
    }

    fn pick(taken: &[Vec<bool>], premium_rows: usize, n: usize) -> Vec<(i16, i16)> {
        let seats = hall(taken, premium_rows);
        let ids = choose(&seats, &cats(), n, None, 0).unwrap();
        ids.iter()
            .map(|id| {
                let s = &seats[*id as usize - 1];
                (s.grid_row, s.grid_col)
            })
            .collect()
    }

    #[test]
    fn prefers_the_best_category_then_the_middle_of_the_row() {
        let free = vec![vec![false; 8]; 3];
        assert_eq!(pick(&free, 1, 2), vec![(0, 3), (0, 4)]);
    }

    #[test]
    fn does_not_strand_a_single_seat_when_it_can_avoid_it() {
        // Row: X . . . X — taking 2 must not leave one seat alone between X and the pair.
        let row = vec![vec![true, false, false, false, true, false, false, true]];
        let chosen = pick(&row, 1, 2);
        assert_eq!(
            chosen,
            vec![(0, 5), (0, 6)],
            "the exact gap of two is the only choice that strands nobody"
        );
    }

    #[test]
    fn an_aisle_breaks_side_by_side() {
        let mut seats = hall(&[vec![false; 4]], 1);
        for seat in seats.iter_mut().skip(2) {
            seat.grid_col += 1; // aisle after the second seat
        }
        seats[0].status = SeatStatus::Booked;
        let ids = choose(&seats, &cats(), 2, None, 0).unwrap();
        assert_eq!(ids, vec![3, 4]);
    }

    #[test]
    fn a_requested_category_is_respected_and_shortage_is_reported() {
        let seats = hall(&[vec![false; 3], vec![false; 3]], 1);
        let ids = choose(&seats, &cats(), 2, Some("STD"), 0).unwrap();
        assert!(ids.iter().all(|id| seats[*id as usize - 1].category == "STD"));
        assert_eq!(choose(&seats, &cats(), 4, Some("STD"), 0), Err(NotEnough { available: 3 }));
    }

    #[test]
    fn splits_the_party_only_when_no_row_can_seat_it() {
        let rows = vec![vec![false, false, true, true], vec![true, false, false, true]];
        let chosen = pick(&rows, 0, 3);
        assert_eq!(chosen.len(), 3);
    }

    fn strands_after(seats: &[Seat], chosen: &[i32]) -> usize {
        let mut after: Vec<Seat> = seats.to_vec();
        for id in chosen {
            after[*id as usize - 1].status = SeatStatus::Booked;
        }
        // A stranded seat: free, with no free neighbour on either side in its row.
        after
            .iter()
            .filter(|s| s.status == SeatStatus::Available)
            .filter(|s| {
                !after.iter().any(|o| {
                    o.grid_row == s.grid_row
                        && (o.grid_col - s.grid_col).abs() == 1
                        && o.status == SeatStatus::Available
                })
            })
            .count()
    }

    fn hall_strategy() -> impl Strategy<Value = (Vec<Vec<bool>>, usize)> {
        (1usize..6, 1usize..12).prop_flat_map(|(rows, width)| {
            (prop::collection::vec(prop::collection::vec(prop::bool::weighted(0.35), width), rows), 0..=rows)
        })
    }

    proptest! {
        #[test]
        fn never_picks_a_taken_seat_and_picks_exactly_n((taken, premium) in hall_strategy(), n in 1usize..6, variant in 0usize..50) {
            let seats = hall(&taken, premium);
            let free = seats.iter().filter(|s| s.status == SeatStatus::Available).count();
            match choose(&seats, &cats(), n, None, variant) {
                Ok(ids) => {
                    prop_assert_eq!(ids.len(), n);
                    let mut unique = ids.clone();
                    unique.dedup();
                    prop_assert_eq!(unique.len(), n);
                    for id in ids {
                        prop_assert_eq!(seats[id as usize - 1].status, SeatStatus::Available);
                    }
                }
                Err(NotEnough { available }) => {
                    prop_assert!(free < n);
                    prop_assert_eq!(available as usize, free);
                }
            }
        }

        #[test]
        fn picks_adjacent_seats_when_some_row_can_hold_them((taken, premium) in hall_strategy(), n in 1usize..6, variant in 0usize..50) {
            let seats = hall(&taken, premium);
            let some_row_fits = taken.iter().any(|row| row.windows(n).any(|w| w.iter().all(|t| !t)));
            prop_assume!(some_row_fits);
            let ids = choose(&seats, &cats(), n, None, variant).unwrap();
            let picked: Vec<&Seat> = ids.iter().map(|id| &seats[*id as usize - 1]).collect();
            prop_assert!(picked.iter().all(|s| s.grid_row == picked[0].grid_row));
            prop_assert!(picked.windows(2).all(|p| p[1].grid_col == p[0].grid_col + 1));
        }

        #[test]
        fn leaves_no_stranded_seat_when_an_equal_choice_avoids_it((taken, premium) in hall_strategy(), n in 1usize..5, variant in 0usize..50) {
            let seats = hall(&taken, premium);
            let Ok(ids) = choose(&seats, &cats(), n, None, variant) else { return Ok(()) };
            let rank = |id: i32| if seats[id as usize - 1].category == "PREMIUM" { 1 } else { 2 };
            let chosen_rank = ids.iter().map(|&id| rank(id)).max().unwrap();
            let contiguous = ids.windows(2).all(|w| seats[w[0] as usize - 1].grid_row == seats[w[1] as usize - 1].grid_row && seats[w[1] as usize - 1].grid_col == seats[w[0] as usize - 1].grid_col + 1);
            prop_assume!(contiguous);
            // Every same-category window of n free seats side by side, and the strands it leaves.
            let before = strands_after(&seats, &[]);
            let best_possible = seats
                .iter()
                .filter(|s| rank(s.seat_id) == chosen_rank)
                .filter_map(|start| {
                    let window: Vec<i32> = (0..n as i16)
                        .map(|k| seats.iter().find(|s| s.grid_row == start.grid_row && s.grid_col == start.grid_col + k && s.status == SeatStatus::Available && rank(s.seat_id) == chosen_rank).map(|s| s.seat_id))
                        .collect::<Option<Vec<_>>>()?;
                    Some(strands_after(&seats, &window))
                })
                .min()
                .unwrap();
            let ours = strands_after(&seats, &ids);
            if best_possible <= before {
                prop_assert!(ours <= before, "chose {:?}, stranding {} seats though a choice stranding {} existed", ids, ours, best_possible);
            }
        }
    }
}
