//! The seat map: every seat where the layout puts it, its category in colour, its state told
//! apart by colour *and* a mark, and an accessible name like "Row C, seat 7, Premium, 350.00,
//! available". Arrow keys move between seats, Enter or Space toggles one (a seat is a button).
//! The customer's show page and the admin's show detail both draw it; what a toggle means is
//! theirs to decide.

use std::collections::{BTreeSet, HashMap};

use leptos::prelude::*;

use crate::domain::show::format_price;
use crate::domain::{Seat, SeatCategory, SeatStatus};

/// How many category colours there are (`.seat.c0` to `.seat.c5` in style/tailwind.css, and
/// the legend's swatches), best first; more categories take them again.
const CATEGORY_COLOURS: usize = 6;
const SWATCHES: [&str; CATEGORY_COLOURS] = [
    "bg-amber-100 border-amber-500",
    "bg-sky-100 border-sky-500",
    "bg-emerald-100 border-emerald-500",
    "bg-violet-100 border-violet-500",
    "bg-rose-100 border-rose-500",
    "bg-lime-100 border-lime-500",
];

/// The seat's class: `seat` and its category's colour. Its state is styled from the
/// attributes it has anyway (`data-status`, `aria-pressed`, `aria-disabled`), so the markup of
/// a thousand seats carries no long class lists and changes no class when a seat changes.
fn seat_class(categories: &[SeatCategory], code: &str) -> String {
    let index = categories.iter().position(|c| c.code == code).unwrap_or(0);
    format!("seat c{}", index % CATEGORY_COLOURS)
}

/// What a seat looks like and is called in each state.
fn state_mark(status: SeatStatus, selected: bool) -> (&'static str, &'static str) {
    match (status, selected) {
        (_, true) => ("✓", "selected"),
        (SeatStatus::Available, false) => ("", "available"),
        (SeatStatus::Held, false) => ("◔", "held"),
        (SeatStatus::Booked, false) => ("✕", "booked"),
        (SeatStatus::Blocked, false) => ("–", "blocked"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Left,
    Right,
    Up,
    Down,
}

/// The seat an arrow key moves to from `from`: along the row, or to the nearest seat of the
/// next row that has seats.
fn neighbour(seats: &[Seat], from: i32, direction: Direction) -> Option<i32> {
    let here = seats.iter().find(|s| s.seat_id == from)?;
    let (row, col) = (here.grid_row, here.grid_col);
    let candidates = seats.iter().filter(|s| match direction {
        Direction::Left => s.grid_row == row && s.grid_col < col,
        Direction::Right => s.grid_row == row && s.grid_col > col,
        Direction::Up => s.grid_row < row,
        Direction::Down => s.grid_row > row,
    });
    match direction {
        Direction::Left => candidates.max_by_key(|s| s.grid_col),
        Direction::Right => candidates.min_by_key(|s| s.grid_col),
        Direction::Up => candidates.min_by_key(|s| (row - s.grid_row, (s.grid_col - col).abs())),
        Direction::Down => candidates.min_by_key(|s| (s.grid_row - row, (s.grid_col - col).abs())),
    }
    .map(|s| s.seat_id)
}

fn focus_seat(seat_id: i32) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(element) = document()
        .get_element_by_id(&format!("seat-{seat_id}"))
        .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

#[component]
pub fn SeatGrid(
    categories: Vec<SeatCategory>,
    seats: Vec<Seat>,
    /// The live state of each seat (seats missing here keep the state they were drawn with).
    #[prop(into)]
    statuses: Signal<HashMap<i32, SeatStatus>>,
    #[prop(into)] selected: Signal<BTreeSet<i32>>,
    /// Whether a seat in this state can be toggled.
    selectable: fn(SeatStatus) -> bool,
    on_toggle: Callback<i32>,
    /// Names the map for screen readers, e.g. "Seats of The Midnight Reel".
    label: String,
) -> impl IntoView {
    let columns = seats.iter().map(|s| s.grid_col).max().unwrap_or(0) + 1;
    let focused = RwSignal::new(seats.first().map(|s| s.seat_id).unwrap_or(0));
    let seats = StoredValue::new(seats);
    let categories = StoredValue::new(categories);

    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        let direction = match event.key().as_str() {
            "ArrowLeft" => Direction::Left,
            "ArrowRight" => Direction::Right,
            "ArrowUp" => Direction::Up,
            "ArrowDown" => Direction::Down,
            _ => return,
        };
        event.prevent_default();
        let next = seats.with_value(|seats| neighbour(seats, focused.get_untracked(), direction));
        if let Some(next) = next {
            focused.set(next);
            focus_seat(next);
        }
    };

    let row_labels = seats.with_value(|seats| {
        let mut rows: Vec<(i16, String)> = seats.iter().map(|s| (s.grid_row, s.row_label.clone())).collect();
        rows.dedup();
        rows
    });

    view! {
        <div class="overflow-x-auto pb-2">
            <div
                role="group"
                aria-label=label
                data-testid="seat-map"
                class="grid w-fit max-w-full gap-0.5 p-1 sm:gap-1"
                // Seats shrink to fit a phone screen before the map has to scroll sideways.
                style=format!("grid-template-columns: 1.5rem repeat({columns}, minmax(1.25rem, 2rem));")
                on:keydown=on_keydown
            >
                {row_labels
                    .into_iter()
                    .map(|(row, label)| {
                        view! {
                            <span
                                aria-hidden="true"
                                class="flex items-center justify-center text-xs font-semibold text-slate-500"
                                style=format!("grid-row: {}; grid-column: 1;", row + 1)
                            >
                                {label}
                            </span>
                        }
                    })
                    .collect_view()}
                {seats
                    .get_value()
                    .into_iter()
                    .map(|seat| {
                        let id = seat.seat_id;
                        let initial = seat.status;
                        let status = move || statuses.with(|s| s.get(&id).copied().unwrap_or(initial));
                        let is_selected = move || selected.with(|s| s.contains(&id));
                        let (category_name, price) = categories.with_value(|cs| {
                            cs.iter()
                                .find(|c| c.code == seat.category)
                                .map(|c| (c.name.clone(), format_price(c.price_cents)))
                                .unwrap_or_default()
                        });
                        let colours = categories.with_value(|cs| seat_class(cs, &seat.category));
                        let name = format!("Row {}, seat {}, {category_name}, {price}", seat.row_label, seat.number);
                        let number = seat.number;
                        view! {
                            <button
                                type="button"
                                id=format!("seat-{id}")
                                data-seat=seat.label.clone()
                                data-status=move || state_mark(status(), false).1
                                tabindex=move || if focused.get() == id { "0" } else { "-1" }
                                aria-pressed=move || is_selected().to_string()
                                aria-disabled=move || (!selectable(status()) && !is_selected()).to_string()
                                aria-label=move || format!("{name}, {}", state_mark(status(), is_selected()).1)
                                style=format!("grid-row: {}; grid-column: {};", seat.grid_row + 1, seat.grid_col + 2)
                                class=colours
                                on:focus=move |_| focused.set(id)
                                on:click=move |_| {
                                    focused.set(id);
                                    if selectable(status()) || is_selected() {
                                        on_toggle.run(id);
                                    }
                                }
                            >
                                {move || match state_mark(status(), is_selected()).0 {
                                    "" => number.to_string(),
                                    mark => mark.to_owned(),
                                }}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

/// What the colours and marks mean, with each category's price.
#[component]
pub fn SeatLegend(categories: Vec<SeatCategory>) -> impl IntoView {
    let states = [
        ("bg-indigo-700 border-indigo-900 text-white", "✓", "Selected"),
        ("bg-slate-200 border-slate-400 text-slate-600", "◔", "Held"),
        ("bg-slate-400 border-slate-500 text-white", "✕", "Booked"),
        ("bg-white border-dashed border-slate-300 text-slate-400", "–", "Not for sale"),
    ];
    view! {
        <ul class="flex flex-wrap gap-x-4 gap-y-2 text-sm text-slate-700" aria-label="Seat map legend">
            {categories
                .into_iter()
                .enumerate()
                .map(|(i, category)| {
                    view! {
                        <li class="flex items-center gap-2">
                            <span aria-hidden="true" class=format!("inline-block h-4 w-4 rounded-t border-2 {}", SWATCHES[i % SWATCHES.len()])></span>
                            {category.name} " · " {format_price(category.price_cents)}
                        </li>
                    }
                })
                .collect_view()}
            {states
                .into_iter()
                .map(|(style, mark, name)| {
                    view! {
                        <li class="flex items-center gap-2">
                            <span aria-hidden="true" class=format!("inline-flex h-4 w-4 items-center justify-center rounded-t border-2 text-[10px] {style}")>{mark}</span>
                            {name}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The statuses of a freshly loaded seat map, for `SeatGrid::statuses`.
pub fn statuses_of(seats: &[Seat]) -> HashMap<i32, SeatStatus> {
    seats.iter().map(|s| (s.seat_id, s.status)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(seat_id: i32, grid_row: i16, grid_col: i16) -> Seat {
        Seat {
            seat_id,
            row_label: String::new(),
            number: seat_id,
            label: seat_id.to_string(),
            grid_row,
            grid_col,
            category: "STD".into(),
            status: SeatStatus::Available,
        }
    }

    #[test]
    fn arrows_move_along_rows_across_aisles_and_to_the_nearest_seat_of_the_next_row() {
        // Row 0: seats 1 2 | aisle | 3 ; row 1 (shorter, shifted): 4 5 ; row 2 empty; row 3: 6
        let seats =
            vec![seat(1, 0, 0), seat(2, 0, 1), seat(3, 0, 3), seat(4, 1, 1), seat(5, 1, 2), seat(6, 3, 0)];
        assert_eq!(neighbour(&seats, 2, Direction::Right), Some(3), "across the aisle");
        assert_eq!(neighbour(&seats, 3, Direction::Right), None, "end of the row");
        assert_eq!(neighbour(&seats, 1, Direction::Left), None);
        assert_eq!(neighbour(&seats, 3, Direction::Down), Some(5), "nearest column in the next row");
        assert_eq!(neighbour(&seats, 4, Direction::Down), Some(6), "skips rows without seats");
        assert_eq!(neighbour(&seats, 4, Direction::Up), Some(2));
        assert_eq!(neighbour(&seats, 1, Direction::Up), None);
    }
}
