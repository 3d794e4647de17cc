//! Unit tests of choosing seats: side by side, best category, nobody stranded, waiting parties.
use std::collections::HashSet;

use super::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn category(code: &str, rank: i16) -> SeatCategory {
    SeatCategory { code: code.into(), name: code.into(), price_cents: 100, rank }
}

/// Rows of seats in these statuses, side by side (grid column = position in the row); rows
/// < premium_rows are PREMIUM (rank 1), the rest STD (rank 2).
fn hall_of(statuses: &[Vec<SeatStatus>], premium_rows: usize) -> Vec<Seat> {
    let mut seats = Vec::new();
    for (r, row) in statuses.iter().enumerate() {
        for (c, &status) in row.iter().enumerate() {
            seats.push(Seat {
                seat_id: seats.len() as i32 + 1,
                row_label: format!("R{r}"),
                number: c as i32 + 1,
                label: format!("R{r}-{c}"),
                grid_row: r as i16,
                grid_col: c as i16,
                category: if r < premium_rows { "PREMIUM".into() } else { "STD".into() },
                status,
            });
        }
    }
    seats
}

/// [`hall_of`] where `taken[r][c]` marks seat (r, c) as booked, the rest available.
fn hall(taken: &[Vec<bool>], premium_rows: usize) -> Vec<Seat> {
    let status = |&t: &bool| if t { SeatStatus::Booked } else { SeatStatus::Available };
    hall_of(&taken.iter().map(|row| row.iter().map(status).collect()).collect::<Vec<_>>(), premium_rows)
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
    // Row 0 (seats 1-3) is PREMIUM, row 1 (seats 4-6) STD: two STD seats, the leftmost of
    // the two equally central pairs.
    let seats = hall(&[vec![false; 3], vec![false; 3]], 1);
    assert_eq!(choose(&seats, &cats(), 2, Some("STD"), 0), Ok(vec![4, 5]));
    assert_eq!(choose(&seats, &cats(), 2, None, 0), Ok(vec![1, 2]), "PREMIUM when any will do");
    assert_eq!(choose(&seats, &cats(), 4, Some("STD"), 0), Err(NotEnough { available: 3 }));
}

#[test]
fn held_and_blocked_seats_are_not_free() {
    use SeatStatus::{Available as A, Blocked as X, Held as H};
    let seats = hall_of(&[vec![A, H, A, A, X, A]], 1);
    assert_eq!(choose(&seats, &cats(), 2, None, 0), Ok(vec![3, 4]));
    assert_eq!(choose(&seats, &cats(), 5, None, 0), Err(NotEnough { available: 4 }));
}

#[test]
fn splits_the_party_only_when_no_row_can_seat_it() {
    // Free: row 0 seats (0,0) (0,1); row 1 seats (1,1) (1,2). No row has three side by
    // side, so the party is split: the whole first run, then the next run's first seat.
    let rows = vec![vec![false, false, true, true], vec![true, false, false, true]];
    assert_eq!(pick(&rows, 0, 3), vec![(0, 0), (0, 1), (1, 1)]);
    // With three side by side in the second row, they sit together there.
    let rows = vec![vec![false, false, true, true], vec![false, false, false, true]];
    assert_eq!(pick(&rows, 0, 3), vec![(1, 0), (1, 1), (1, 2)]);
}

#[test]
fn a_waiting_party_gets_exactly_its_size_and_strands_nobody() {
    // Row: X . . . X X X X: a party of 2 would leave one seat alone, so it does not fit;
    // a party of 1 takes the end seat nearer the middle of the row (leaving two together);
    // 3 take all three.
    let row = vec![vec![true, false, false, false, true, true, true, true]];
    let seats = hall(&row, 1);
    assert_eq!(choose_for_party(&seats, &cats(), 2, None), None);
    assert_eq!(choose_for_party(&seats, &cats(), 1, None), Some(vec![4]));
    assert_eq!(choose_for_party(&seats, &cats(), 3, None), Some(vec![2, 3, 4]));
    // A party of 3 is never offered 2 seats.
    let row = vec![vec![true, false, false, true, true]];
    assert_eq!(choose_for_party(&hall(&row, 1), &cats(), 3, None), None);
}

#[test]
fn a_waiting_party_tries_another_category_rather_than_strand_a_seat() {
    // PREMIUM row: three free (2 would strand one); STD row: exactly two free.
    let rows = vec![vec![true, false, false, false, true], vec![true, false, false, true, true]];
    let seats = hall(&rows, 1);
    assert_eq!(choose_for_party(&seats, &cats(), 2, None), Some(vec![7, 8]));
    assert_eq!(choose_for_party(&seats, &cats(), 2, Some("PREMIUM")), None);
}

/// The free seats with no free neighbour in their row, once `chosen` are taken.
fn stranded(seats: &[Seat], chosen: &[i32]) -> HashSet<i32> {
    let free = |s: &Seat| s.status == SeatStatus::Available && !chosen.contains(&s.seat_id);
    seats
        .iter()
        .filter(|s| free(s))
        .filter(|s| {
            !seats
                .iter()
                .any(|o| o.grid_row == s.grid_row && (o.grid_col - s.grid_col).abs() == 1 && free(o))
        })
        .map(|s| s.seat_id)
        .collect()
}

/// How many seats taking `chosen` leaves stranded that were not stranded before.
fn newly_stranded(seats: &[Seat], chosen: &[i32]) -> usize {
    stranded(seats, chosen).difference(&stranded(seats, &[])).count()
}

/// Every choice of `n` free seats side by side in one row, with its category's rank.
fn side_by_side_choices(seats: &[Seat], n: usize) -> Vec<(i16, Vec<i32>)> {
    let rank = |s: &Seat| if s.category == "PREMIUM" { 1 } else { 2 };
    seats
        .iter()
        .filter_map(|start| {
            let window: Vec<&Seat> = (0..n as i16)
                .map(|k| {
                    seats.iter().find(|s| {
                        s.grid_row == start.grid_row
                            && s.grid_col == start.grid_col + k
                            && s.status == SeatStatus::Available
                    })
                })
                .collect::<Option<_>>()?;
            Some((rank(start), window.iter().map(|s| s.seat_id).collect()))
        })
        .collect()
}

fn is_side_by_side(seats: &[Seat], ids: &[i32]) -> bool {
    let seat = |id: i32| &seats[id as usize - 1];
    ids.windows(2).all(|w| {
        seat(w[0]).grid_row == seat(w[1]).grid_row && seat(w[1]).grid_col == seat(w[0]).grid_col + 1
    })
}

fn status() -> impl Strategy<Value = SeatStatus> {
    prop_oneof![
        6 => Just(SeatStatus::Available),
        1 => Just(SeatStatus::Held),
        2 => Just(SeatStatus::Booked),
        1 => Just(SeatStatus::Blocked),
    ]
}

/// Halls of 1 to 5 rows of 1 to 11 seats in every status, with 0 to all rows PREMIUM.
fn hall_strategy() -> impl Strategy<Value = (Vec<Vec<SeatStatus>>, usize)> {
    (1usize..6, 1usize..12).prop_flat_map(|(rows, width)| {
        (prop::collection::vec(prop::collection::vec(status(), width), rows), 0..=rows)
    })
}

#[test]
fn the_generated_halls_have_seats_in_every_status() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = HashSet::new();
    for _ in 0..100 {
        let (rows, _) = hall_strategy().new_tree(&mut runner).unwrap().current();
        seen.extend(rows.into_iter().flatten());
    }
    let all = [SeatStatus::Available, SeatStatus::Held, SeatStatus::Booked, SeatStatus::Blocked];
    assert!(all.iter().all(|s| seen.contains(s)), "generated only {seen:?}");
}

proptest! {
    #[test]
    fn never_picks_a_seat_that_is_not_free_and_picks_exactly_n((statuses, premium) in hall_strategy(), n in 1usize..6, variant in 0usize..50) {
        let seats = hall_of(&statuses, premium);
        let free = seats.iter().filter(|s| s.status == SeatStatus::Available).count();
        match choose(&seats, &cats(), n, None, variant) {
            Ok(ids) => {
                prop_assert!(free >= n);
                prop_assert_eq!(ids.len(), n);
                prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending, no seat twice: {:?}", ids);
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
    fn seats_the_party_side_by_side_whenever_some_row_can((statuses, premium) in hall_strategy(), n in 1usize..6, variant in 0usize..50) {
        let seats = hall_of(&statuses, premium);
        let free = seats.iter().filter(|s| s.status == SeatStatus::Available).count();
        let some_row_fits = !side_by_side_choices(&seats, n).is_empty();
        match choose(&seats, &cats(), n, None, variant) {
            Ok(ids) => {
                prop_assert_eq!(ids.len(), n);
                prop_assert_eq!(is_side_by_side(&seats, &ids), some_row_fits, "chose {:?}", ids);
                if !some_row_fits {
                    // Split: the best category's free seats all go before any worse one.
                    let rank = |s: &Seat| if s.category == "PREMIUM" { 1 } else { 2 };
                    let worst = ids.iter().map(|&id| rank(&seats[id as usize - 1])).max().unwrap();
                    let better_left = seats.iter().any(|s| {
                        s.status == SeatStatus::Available && rank(s) < worst && !ids.contains(&s.seat_id)
                    });
                    prop_assert!(!better_left, "split into a worse category too early: {:?}", ids);
                }
            }
            Err(NotEnough { available }) => {
                prop_assert!(free < n && !some_row_fits);
                prop_assert_eq!(available as usize, free);
            }
        }
    }

    #[test]
    fn strands_as_few_seats_as_the_best_equal_choice((statuses, premium) in hall_strategy(), n in 1usize..5, variant in 0usize..50) {
        let seats = hall_of(&statuses, premium);
        let choices = side_by_side_choices(&seats, n);
        match (choose(&seats, &cats(), n, None, variant), choices.iter().map(|(rank, _)| *rank).min()) {
            (Ok(ids), Some(best_rank)) => {
                prop_assert!(is_side_by_side(&seats, &ids), "chose {:?} though seats side by side exist", ids);
                let rank = if seats[ids[0] as usize - 1].category == "PREMIUM" { 1 } else { 2 };
                prop_assert_eq!(rank, best_rank, "not the best category: {:?}", ids);
                let fewest = choices
                    .iter()
                    .filter(|(rank, _)| *rank == best_rank)
                    .map(|(_, window)| newly_stranded(&seats, window))
                    .min()
                    .unwrap();
                let ours = newly_stranded(&seats, &ids);
                prop_assert_eq!(ours, fewest, "chose {:?}, stranding {} seats though a choice stranding {} existed", ids, ours, fewest);
            }
            (Ok(ids), None) => prop_assert!(!is_side_by_side(&seats, &ids) && ids.len() == n, "chose {:?}", ids),
            (Err(NotEnough { available }), choices_best) => {
                prop_assert_eq!(choices_best, None);
                prop_assert!((available as usize) < n);
            }
        }
    }
}
