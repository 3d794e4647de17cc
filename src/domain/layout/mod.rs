//! A seat layout as an admin describes it, parsed into something that can only be valid:
//! rows with labels, seats per row, aisles, a category (with its price) per row, blocked seats.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const MAX_ROWS: usize = 200;
pub const MAX_SEATS_PER_ROW: u16 = 200;
pub const MAX_SEATS: usize = 20_000;
pub const MAX_CATEGORIES: usize = 20;

mod presets;

/// The label of the `index`-th row (from 0) in the usual sequence: A, B, ..., Z, AA, AB, ...
/// (enough for [`MAX_ROWS`]).
pub fn row_label(index: usize) -> String {
    let letter = |n: usize| char::from(b'A' + n as u8);
    if index < 26 {
        letter(index).to_string()
    } else {
        format!("{}{}", letter(index / 26 - 1), letter(index % 26))
    }
}

/// "A" -> "B", "Z" -> "AA", "9" -> "10".
pub fn next_row_label(last: Option<&str>) -> String {
    let Some(last) = last.map(str::trim).filter(|l| !l.is_empty()) else { return "A".into() };
    if let Ok(n) = last.parse::<u32>() {
        return (n + 1).to_string();
    }
    let mut chars: Vec<u8> = last.to_ascii_uppercase().into_bytes();
    for c in chars.iter_mut().rev() {
        if *c == b'Z' {
            *c = b'A';
        } else if c.is_ascii_uppercase() {
            *c += 1;
            return String::from_utf8(chars).unwrap_or_default();
        } else {
            return format!("{last}1");
        }
    }
    format!("A{}", String::from_utf8(chars).unwrap_or_default())
}

/// A price band, e.g. Premium at 350.00. `rank` 1 is the best.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::FromRow))]
pub struct SeatCategory {
    pub code: String,
    pub name: String,
    pub price_cents: i64,
    pub rank: i16,
}

/// A row as typed: `seats` seats numbered 1.., an aisle after each seat number in
/// `aisles_after`, all in one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSpec {
    pub label: String,
    pub seats: u16,
    pub category: String,
    #[serde(default)]
    pub aisles_after: Vec<u16>,
}

/// Input for a layout; [`Layout::parse`] turns it into a [`Layout`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutSpec {
    /// In order of preference; rank comes from the position (first = best).
    pub categories: Vec<CategorySpec>,
    pub rows: Vec<RowSpec>,
    /// Seat labels such as "C7".
    #[serde(default)]
    pub blocked: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategorySpec {
    pub code: String,
    pub name: String,
    pub price_cents: i64,
}

/// One seat of a layout, before the show exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutSeat {
    /// Stable within the show: 1.. in reading order.
    pub seat_id: i32,
    pub row_label: String,
    pub number: i32,
    pub label: String,
    pub grid_row: i16,
    pub grid_col: i16,
    pub category: String,
    pub blocked: bool,
}

/// A valid layout: at least one seat, unique labels, known categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    categories: Vec<SeatCategory>,
    seats: Vec<LayoutSeat>,
}

impl Layout {
    pub fn parse(spec: &LayoutSpec) -> Result<Self, AppError> {
        let categories = parse_categories(&spec.categories)?;
        let codes: HashSet<&str> = categories.iter().map(|c| c.code.as_str()).collect();

        if spec.rows.is_empty() {
            return Err(AppError::invalid("rows", "A layout needs at least one row of seats."));
        }
        if spec.rows.len() > MAX_ROWS {
            return Err(AppError::invalid("rows", format!("A layout can have at most {MAX_ROWS} rows.")));
        }

        let mut seats = Vec::new();
        let mut row_labels = HashSet::new();
        for (row_index, row) in spec.rows.iter().enumerate() {
            let field = |name: &str| format!("rows[{row_index}].{name}");
            let label = row.label.trim();
            if label.is_empty()
                || label.chars().count() > 4
                || !label.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(AppError::invalid(
                    field("label"),
                    "A row label is 1 to 4 letters or digits, like A or AA.",
                ));
            }
            if !row_labels.insert(label.to_ascii_uppercase()) {
                return Err(AppError::invalid(field("label"), format!("Row {label} appears twice.")));
            }
            if row.seats == 0 || row.seats > MAX_SEATS_PER_ROW {
                return Err(AppError::invalid(
                    field("seats"),
                    format!("A row has 1 to {MAX_SEATS_PER_ROW} seats."),
                ));
            }
            if !codes.contains(row.category.as_str()) {
                return Err(AppError::invalid(
                    field("category"),
                    format!("Row {label} uses an unknown category “{}”.", row.category),
                ));
            }
            let mut aisles: Vec<u16> = row.aisles_after.clone();
            aisles.sort_unstable();
            aisles.dedup();
            if let Some(bad) = aisles.iter().find(|&&after| after == 0 || after >= row.seats) {
                return Err(AppError::invalid(
                    field("aisles_after"),
                    format!("An aisle after seat {bad} is not between two seats of row {label}."),
                ));
            }

            let mut col: i16 = 0;
            for number in 1..=row.seats {
                seats.push(LayoutSeat {
                    seat_id: seats.len() as i32 + 1,
                    row_label: label.to_ascii_uppercase(),
                    number: number as i32,
                    label: format!("{}{}", label.to_ascii_uppercase(), number),
                    grid_row: row_index as i16,
                    grid_col: col,
                    category: row.category.clone(),
                    blocked: false,
                });
                // An aisle is an empty grid column, so seats across it are not side by side.
                col += if aisles.binary_search(&number).is_ok() { 2 } else { 1 };
            }
            if seats.len() > MAX_SEATS {
                return Err(AppError::invalid(
                    "rows",
                    format!("A layout can have at most {MAX_SEATS} seats."),
                ));
            }
        }

        // Row "A" seat 11 and row "A1" seat 1 would both be "A11".
        let mut labels = HashSet::new();
        if let Some(clash) = seats.iter().find(|s| !labels.insert(s.label.as_str())) {
            return Err(AppError::invalid(
                "rows",
                format!(
                    "Two seats would both be called {}: choose row labels that cannot run into seat numbers.",
                    clash.label
                ),
            ));
        }

        for (i, wanted) in spec.blocked.iter().enumerate() {
            let wanted = wanted.trim().to_ascii_uppercase();
            let Some(seat) = seats.iter_mut().find(|s| s.label == wanted) else {
                return Err(AppError::invalid(
                    format!("blocked[{i}]"),
                    format!("There is no seat {wanted} to block."),
                ));
            };
            seat.blocked = true;
        }
        if seats.iter().all(|s| s.blocked) {
            return Err(AppError::invalid("blocked", "Every seat is blocked: nothing could be sold."));
        }

        Ok(Self { categories, seats })
    }

    pub fn categories(&self) -> &[SeatCategory] {
        &self.categories
    }

    pub fn seats(&self) -> &[LayoutSeat] {
        &self.seats
    }
}

fn parse_categories(specs: &[CategorySpec]) -> Result<Vec<SeatCategory>, AppError> {
    if specs.is_empty() {
        return Err(AppError::invalid(
            "categories",
            "A layout needs at least one seat category with a price.",
        ));
    }
    if specs.len() > MAX_CATEGORIES {
        return Err(AppError::invalid(
            "categories",
            format!("A layout can have at most {MAX_CATEGORIES} seat categories."),
        ));
    }
    let mut seen = HashSet::new();
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let field = |name: &str| format!("categories[{i}].{name}");
            let code = spec.code.trim().to_owned();
            if code.is_empty()
                || code.len() > 20
                || !code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(AppError::invalid(
                    field("code"),
                    "A category code is 1 to 20 capital letters, digits or _, like PREMIUM.",
                ));
            }
            if !seen.insert(code.clone()) {
                return Err(AppError::invalid(field("code"), format!("Category {code} appears twice.")));
            }
            let name = spec.name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 60 {
                return Err(AppError::invalid(field("name"), "A category name is 1 to 60 characters."));
            }
            if !(0..=100_000_000).contains(&spec.price_cents) {
                return Err(AppError::invalid(
                    field("price_cents"),
                    "A price is between 0 and 1,000,000.00.",
                ));
            }
            Ok(SeatCategory { code, name, price_cents: spec.price_cents, rank: i as i16 + 1 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn row_labels_continue_the_sequence() {
        assert_eq!(next_row_label(None), "A");
        assert_eq!(next_row_label(Some("B")), "C");
        assert_eq!(next_row_label(Some("Z")), "AA");
        assert_eq!(next_row_label(Some("AZ")), "BA");
        assert_eq!(next_row_label(Some("9")), "10");
    }

    use super::*;

    pub fn bus_2_plus_2(rows: usize) -> LayoutSpec {
        LayoutSpec {
            categories: vec![CategorySpec { code: "STD".into(), name: "Standard".into(), price_cents: 1500 }],
            rows: (0..rows)
                .map(|i| RowSpec {
                    label: ((b'A' + i as u8) as char).to_string(),
                    seats: 4,
                    category: "STD".into(),
                    aisles_after: vec![2],
                })
                .collect(),
            blocked: vec![],
        }
    }

    #[test]
    fn seats_get_stable_ids_labels_and_an_aisle_gap() {
        let layout = Layout::parse(&bus_2_plus_2(2)).unwrap();
        let seats = layout.seats();
        assert_eq!(seats.len(), 8);
        assert_eq!((seats[0].seat_id, seats[0].label.as_str()), (1, "A1"));
        assert_eq!(seats.iter().map(|s| s.grid_col).take(4).collect::<Vec<_>>(), vec![0, 1, 3, 4]);
        assert_eq!((seats[4].label.as_str(), seats[4].grid_row), ("B1", 1));
    }

    #[test]
    fn presets_are_valid_layouts() {
        for (preset, seats) in [
            (LayoutSpec::small_cinema(), 96),
            (LayoutSpec::bus_2_plus_2(), 40),
            (LayoutSpec::sleeper_2_plus_1(), 18),
        ] {
            assert_eq!(Layout::parse(&preset).unwrap().seats().len(), seats);
        }
    }

    #[test]
    fn blocked_labels_must_exist() {
        let mut spec = bus_2_plus_2(1);
        spec.blocked = vec!["a2".into()];
        assert!(Layout::parse(&spec).unwrap().seats()[1].blocked);
        spec.blocked = vec!["Z9".into()];
        let err = Layout::parse(&spec).unwrap_err();
        assert!(matches!(err, AppError::InvalidInput { ref field, .. } if field == "blocked[0]"), "{err:?}");
    }

    #[test]
    fn invalid_layouts_name_the_field_at_fault() {
        type Breakage = Box<dyn Fn(&mut LayoutSpec)>;
        let cases: Vec<(Breakage, &str)> = vec![
            (Box::new(|s| s.rows.clear()), "rows"),
            (Box::new(|s| s.rows[0].seats = 0), "rows[0].seats"),
            (Box::new(|s| s.rows[0].category = "VIP".into()), "rows[0].category"),
            (Box::new(|s| s.rows[0].aisles_after = vec![4]), "rows[0].aisles_after"),
            (Box::new(|s| s.rows[1].label = "a".into()), "rows[1].label"),
            (Box::new(|s| s.categories[0].price_cents = -1), "categories[0].price_cents"),
            (Box::new(|s| s.categories.clear()), "categories"),
            (
                Box::new(|s| {
                    s.rows[0].label = "A".into();
                    s.rows[0].seats = 11;
                    s.rows[1].label = "A1".into();
                }),
                "rows",
            ),
        ];
        for (break_it, field_at_fault) in cases {
            let mut spec = bus_2_plus_2(2);
            break_it(&mut spec);
            match Layout::parse(&spec) {
                Err(AppError::InvalidInput { field, .. }) => assert_eq!(field, field_at_fault),
                other => panic!("expected an error on {field_at_fault}, got {other:?}"),
            }
        }
    }
}
