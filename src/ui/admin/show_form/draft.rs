//! The new-show form's model: what the admin has typed so far, and how it becomes the same
//! `NewShowSpec` the server parses.

use crate::domain::layout::{CategorySpec, RowSpec, next_row_label};
use crate::domain::new_show::parse_start_time;
use crate::domain::show::{format_price, parse_price};
use crate::domain::{LayoutSpec, NewShowSpec, ShowKind};
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct RowDraft {
    pub(super) key: usize,
    pub(super) label: String,
    pub(super) seats: String,
    pub(super) category: String,
    pub(super) aisles: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct CategoryDraft {
    pub(super) key: usize,
    pub(super) code: String,
    pub(super) name: String,
    pub(super) price: String,
}

/// What the admin has typed so far.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Draft {
    pub(super) kind: ShowKind,
    pub(super) title: String,
    pub(super) venue: String,
    pub(super) origin: String,
    pub(super) destination: String,
    pub(super) starts_at: String,
    /// Blank: on sale as soon as it is created.
    pub(super) sale_opens_at: String,
    pub(super) categories: Vec<CategoryDraft>,
    pub(super) rows: Vec<RowDraft>,
    pub(super) blocked: String,
    pub(super) next_key: usize,
}

impl Draft {
    pub(super) fn new() -> Self {
        let mut draft = Self {
            kind: ShowKind::Show,
            title: String::new(),
            venue: String::new(),
            origin: String::new(),
            destination: String::new(),
            starts_at: String::new(),
            sale_opens_at: String::new(),
            categories: vec![],
            rows: vec![],
            blocked: String::new(),
            next_key: 0,
        };
        draft.apply_preset(&LayoutSpec::small_cinema());
        draft
    }

    pub(super) fn key(&mut self) -> usize {
        self.next_key += 1;
        self.next_key
    }

    pub(super) fn apply_preset(&mut self, preset: &LayoutSpec) {
        self.categories = preset
            .categories
            .iter()
            .map(|c| CategoryDraft {
                key: self.key(),
                code: c.code.clone(),
                name: c.name.clone(),
                price: format_price(c.price_cents).replace(',', ""),
            })
            .collect();
        self.rows = preset
            .rows
            .iter()
            .map(|r| RowDraft {
                key: self.key(),
                label: r.label.clone(),
                seats: r.seats.to_string(),
                category: r.category.clone(),
                aisles: r.aisles_after.iter().map(u16::to_string).collect::<Vec<_>>().join(", "),
            })
            .collect();
        self.blocked = preset.blocked.join(", ");
    }

    pub(super) fn add_row(&mut self) {
        let template = self.rows.last().cloned();
        let label = next_row_label(self.rows.last().map(|r| r.label.as_str()));
        let key = self.key();
        self.rows.push(match template {
            Some(last) => RowDraft { key, label, ..last },
            None => RowDraft {
                key,
                label,
                seats: "10".into(),
                category: self.categories.first().map(|c| c.code.clone()).unwrap_or_default(),
                aisles: String::new(),
            },
        });
    }

    pub(super) fn add_category(&mut self) {
        let key = self.key();
        let code = format!("CAT{}", self.categories.len() + 1);
        self.categories.push(CategoryDraft { key, code, name: String::new(), price: String::new() });
    }

    /// The layout as the parser takes it; a number that is not a number names its field.
    pub(super) fn layout_spec(&self) -> Result<LayoutSpec, AppError> {
        let categories = self
            .categories
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(CategorySpec {
                    code: c.code.trim().to_ascii_uppercase(),
                    name: c.name.trim().to_owned(),
                    price_cents: parse_price(&format!("categories[{i}].price_cents"), &c.price)?,
                })
            })
            .collect::<Result<_, AppError>>()?;
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let seats = r.seats.trim().parse::<u16>().map_err(|_| {
                    AppError::invalid(format!("rows[{i}].seats"), "Seats per row must be a whole number.")
                })?;
                let aisles_after = r
                    .aisles
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse::<u16>().map_err(|_| {
                            AppError::invalid(
                                format!("rows[{i}].aisles_after"),
                                "Aisles are seat numbers separated by commas, like 2, 6.",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok(RowSpec {
                    label: r.label.trim().to_owned(),
                    seats,
                    category: r.category.clone(),
                    aisles_after,
                })
            })
            .collect::<Result<_, AppError>>()?;
        let blocked = self
            .blocked
            .split([',', ' '])
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(LayoutSpec { categories, rows, blocked })
    }

    pub(super) fn spec(&self) -> Result<NewShowSpec, AppError> {
        let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        let (venue, origin, destination) = match self.kind {
            ShowKind::Show => (text(&self.venue), None, None),
            ShowKind::Trip => (None, text(&self.origin), text(&self.destination)),
        };
        Ok(NewShowSpec {
            kind: self.kind,
            title: self.title.clone(),
            venue,
            origin,
            destination,
            starts_at: parse_start_time(&self.starts_at)?,
            hold_seconds: None,
            sale_opens_at: match self.sale_opens_at.trim() {
                "" => None,
                opening => Some(parse_start_time(opening).map_err(|_| {
                    AppError::invalid("sale_opens_at", "Give the opening as a date and time, e.g. 2026-12-05 10:00, or leave it blank.")
                })?),
            },
            layout: self.layout_spec()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_survive_the_round_trip_through_the_builder() {
        for preset in [LayoutSpec::small_cinema(), LayoutSpec::bus_2_plus_2(), LayoutSpec::sleeper_2_plus_1()]
        {
            let mut draft = Draft::new();
            draft.apply_preset(&preset);
            assert_eq!(draft.layout_spec().unwrap(), preset);
        }
    }

    #[test]
    fn typing_mistakes_name_their_field() {
        let mut draft = Draft::new();
        draft.rows[2].seats = "ten".into();
        assert!(
            matches!(draft.layout_spec(), Err(AppError::InvalidInput { field, .. }) if field == "rows[2].seats")
        );
        let mut draft = Draft::new();
        draft.rows[0].aisles = "2, x".into();
        assert!(
            matches!(draft.layout_spec(), Err(AppError::InvalidInput { field, .. }) if field == "rows[0].aisles_after")
        );
        let mut draft = Draft::new();
        draft.categories[1].price = "cheap".into();
        assert!(
            matches!(draft.layout_spec(), Err(AppError::InvalidInput { field, .. }) if field == "categories[1].price_cents")
        );
    }
}
