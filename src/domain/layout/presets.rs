//! Ready-made layouts: the admin's layout builder starts from them, the demo data uses them,
//! and the REST API's short form of a show (the seeds' `total_seats`) is one.

use super::{CategorySpec, LayoutSpec, MAX_ROWS, RowSpec, row_label};
use crate::error::AppError;

/// Ready-made layouts: a start for the admin's layout builder and the demo data.
impl LayoutSpec {
    /// 8 rows of 12 with a centre aisle; the back three rows are Premium.
    pub fn small_cinema() -> Self {
        let rows = (0..8u8)
            .map(|i| RowSpec {
                label: char::from(b'A' + i).to_string(),
                seats: 12,
                category: if i >= 5 { "PREMIUM" } else { "STD" }.into(),
                aisles_after: vec![6],
            })
            .collect();
        Self {
            categories: vec![category("PREMIUM", "Premium", 35_000), category("STD", "Standard", 22_000)],
            rows,
            blocked: vec![],
        }
    }

    /// The seeds' short form of a show: `total_seats` (1 to 2,000) in rows A, B, ... of ten,
    /// one Standard category at `price_cents`.
    pub fn rows_of_ten(total_seats: u32, price_cents: i64) -> Result<Self, AppError> {
        const ROW: u32 = 10;
        let most = MAX_ROWS as u32 * ROW;
        if !(1..=most).contains(&total_seats) {
            return Err(AppError::invalid("total_seats", format!("A show has 1 to {most} seats.")));
        }
        Ok(Self {
            categories: vec![category("STD", "Standard", price_cents)],
            rows: (0..total_seats.div_ceil(ROW))
                .map(|i| RowSpec {
                    label: row_label(i as usize),
                    seats: (total_seats - i * ROW).min(ROW) as u16,
                    category: "STD".into(),
                    aisles_after: vec![],
                })
                .collect(),
            blocked: vec![],
        })
    }

    /// A 2+2 coach of 10 rows; the front two rows are Premium (more legroom).
    pub fn bus_2_plus_2() -> Self {
        Self::coach(10, 4, vec![2], ("PREMIUM", "Premium", 1_500), ("STD", "Seat", 1_100))
    }

    /// A 2+1 sleeper of 6 rows of berths: rows A-C are lower berths (dearer), D-F upper.
    pub fn sleeper_2_plus_1() -> Self {
        Self::coach(6, 3, vec![2], ("LOWER", "Lower berth", 2_400), ("UPPER", "Upper berth", 2_000))
    }

    fn coach(
        rows: u8,
        seats: u16,
        aisles_after: Vec<u16>,
        front: (&str, &str, i64),
        rest: (&str, &str, i64),
    ) -> Self {
        let front_rows = rows.min(if seats == 3 { 3 } else { 2 });
        Self {
            categories: vec![category(front.0, front.1, front.2), category(rest.0, rest.1, rest.2)],
            rows: (0..rows)
                .map(|i| RowSpec {
                    label: char::from(b'A' + i).to_string(),
                    seats,
                    category: if i < front_rows { front.0 } else { rest.0 }.into(),
                    aisles_after: aisles_after.clone(),
                })
                .collect(),
            blocked: vec![],
        }
    }
}

pub(super) fn category(code: &str, name: &str, price_cents: i64) -> CategorySpec {
    CategorySpec { code: code.into(), name: name.into(), price_cents }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_form_makes_rows_of_ten() {
        let spec = LayoutSpec::rows_of_ten(25, 0).unwrap();
        let rows: Vec<(String, u16)> = spec.rows.iter().map(|r| (r.label.clone(), r.seats)).collect();
        assert_eq!(rows, vec![("A".into(), 10), ("B".into(), 10), ("C".into(), 5)]);
        assert!(LayoutSpec::rows_of_ten(0, 0).is_err());
        assert!(LayoutSpec::rows_of_ten(2001, 0).is_err());
        assert_eq!(row_label(26), "AA");
        assert_eq!(row_label(199), "GR");
    }

}
