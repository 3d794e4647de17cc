//! Cancellation policies and refunds: what a customer gets back for cancelling, decided by the
//! policy their booking was made under and the time left before the start. The show page and
//! checkout describe a policy with [`CancellationPolicy::terms`]; the service refunds by
//! [`CancellationPolicy::refund_percent`], so what is shown is what is applied.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Most refund tiers one policy may have.
pub const MOST_TIERS: usize = 10;
/// The earliest a tier may start: a year before the show.
pub const MOST_HOURS_BEFORE: u32 = 24 * 366;

/// One step of a policy: cancelling at least `hours_before` hours before the start gives back
/// `refund_percent` of the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RefundTier {
    pub hours_before: u32,
    pub refund_percent: u8,
}

/// A show's rules for cancelling its bookings. Stored with each booking when its seats are held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CancellationPolicy {
    /// False: a confirmed booking cannot be cancelled at all (a hold can still be released).
    pub cancellable: bool,
    /// Whether some seats of a booking may be cancelled while the others are kept.
    pub partial: bool,
    /// Longest notice first. Cancelling with less notice than every tier asks gives no refund
    /// (the seats are still released).
    pub tiers: Vec<RefundTier>,
}

impl Default for CancellationPolicy {
    /// Cancel any time before the start, whole or in part, with a full refund: what Box Office
    /// did before policies existed.
    fn default() -> Self {
        Self { cancellable: true, partial: true, tiers: vec![RefundTier { hours_before: 0, refund_percent: 100 }] }
    }
}

impl CancellationPolicy {
    /// A policy as an admin wrote it: tiers sorted longest notice first; refused when two tiers
    /// have the same notice, a percentage is over 100, or more notice would give back less.
    pub fn new(cancellable: bool, partial: bool, mut tiers: Vec<RefundTier>) -> Result<Self, AppError> {
        let invalid = |message: &str| AppError::invalid("cancellation_policy", message);
        if !cancellable {
            return Ok(Self { cancellable: false, partial: false, tiers: Vec::new() });
        }
        if tiers.len() > MOST_TIERS {
            return Err(invalid(&format!("A policy can have at most {MOST_TIERS} refund steps.")));
        }
        if let Some(tier) = tiers.iter().find(|t| t.refund_percent > 100) {
            return Err(invalid(&format!("A refund of {}% is more than was paid: at most 100%.", tier.refund_percent)));
        }
        if tiers.iter().any(|t| t.hours_before > MOST_HOURS_BEFORE) {
            return Err(invalid(&format!("A refund step can start at most {MOST_HOURS_BEFORE} hours before the show.")));
        }
        tiers.sort_by(|a, b| b.hours_before.cmp(&a.hours_before));
        if tiers.windows(2).any(|pair| pair[0].hours_before == pair[1].hours_before) {
            return Err(invalid("Two refund steps start at the same time before the show."));
        }
        if tiers.windows(2).any(|pair| pair[0].refund_percent < pair[1].refund_percent) {
            return Err(invalid("Cancelling earlier must never give back less than cancelling later."));
        }
        Ok(Self { cancellable, partial, tiers })
    }

    /// The share of the price given back for cancelling at `now` a confirmed booking of a show
    /// that starts at `starts_at`: the first tier (longest notice first) whose notice is met.
    /// A tier of 48 hours is met at exactly 48 hours before the start.
    pub fn refund_percent(&self, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> u8 {
        let notice = starts_at - now;
        self.tiers
            .iter()
            .find(|tier| notice >= Duration::hours(i64::from(tier.hours_before)))
            .map_or(0, |tier| tier.refund_percent)
    }

    /// The policy in plain sentences, as the show page and checkout show it.
    pub fn terms(&self) -> Vec<String> {
        if !self.cancellable {
            return vec!["Bookings for this show cannot be cancelled or refunded.".to_owned()];
        }
        // Tiers of no refund say nothing a customer needs beyond where refunds end.
        let refunding: Vec<&RefundTier> = self.tiers.iter().filter(|tier| tier.refund_percent > 0).collect();
        let mut terms: Vec<String> = refunding
            .iter()
            .map(|tier| {
                let share = match tier.refund_percent {
                    100 => "a full refund".to_owned(),
                    percent => format!("a {percent}% refund"),
                };
                match tier.hours_before {
                    0 => format!("Cancel any time before the start for {share}."),
                    hours => format!("Cancel at least {} before the start for {share}.", notice(hours)),
                }
            })
            .collect();
        match refunding.last() {
            Some(last) if last.hours_before > 0 => terms.push(format!(
                "Less than {} before the start you can still cancel, with no refund.",
                notice(last.hours_before)
            )),
            None => terms.push("You can cancel any time before the start, with no refund.".to_owned()),
            Some(_) => {}
        }
        terms.push(if self.partial {
            "You may cancel some seats of a booking and keep the others.".to_owned()
        } else {
            "Only whole bookings can be cancelled.".to_owned()
        });
        terms
    }
}

/// "48 hours", "1 hour", "3 days".
fn notice(hours: u32) -> String {
    match hours {
        1 => "1 hour".to_owned(),
        h if h >= 48 && h % 24 == 0 => format!("{} days", h / 24),
        h => format!("{h} hours"),
    }
}

/// The refund for seats that cost `paid_cents`: whole cents, rounded down.
pub fn refund_cents(paid_cents: i64, percent: u8) -> i64 {
    paid_cents * i64::from(percent) / 100
}

/// Money given back for cancelled seats of a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Refund {
    /// Labels of the seats cancelled.
    pub seats: Vec<String>,
    /// What those seats cost.
    pub paid_cents: i64,
    pub refund_percent: u8,
    pub amount_cents: i64,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn tiered() -> CancellationPolicy {
        let tier = |hours_before, refund_percent| RefundTier { hours_before, refund_percent };
        CancellationPolicy::new(true, true, vec![tier(2, 50), tier(48, 100)]).unwrap()
    }

    #[test]
    fn refunds_follow_the_tier_whose_notice_is_met_at_its_exact_boundary() {
        let starts = Utc.with_ymd_and_hms(2027, 6, 1, 20, 0, 0).unwrap();
        let policy = tiered();
        let at = |before: Duration| policy.refund_percent(starts, starts - before);
        assert_eq!(at(Duration::hours(72)), 100);
        assert_eq!(at(Duration::hours(48)), 100, "exactly 48 hours before still gets the full refund");
        assert_eq!(at(Duration::hours(48) - Duration::seconds(1)), 50);
        assert_eq!(at(Duration::hours(2)), 50, "exactly 2 hours before still gets half");
        assert_eq!(at(Duration::hours(2) - Duration::seconds(1)), 0);
        assert_eq!(at(Duration::seconds(1)), 0);
    }

    #[test]
    fn the_default_refunds_everything_until_the_start() {
        let starts = Utc.with_ymd_and_hms(2027, 6, 1, 20, 0, 0).unwrap();
        let policy = CancellationPolicy::default();
        assert_eq!(policy.refund_percent(starts, starts - Duration::seconds(1)), 100);
        assert_eq!(policy.refund_percent(starts, starts), 100);
    }

    #[test]
    fn refunds_are_whole_cents_rounded_down() {
        assert_eq!(refund_cents(999, 50), 499);
        assert_eq!(refund_cents(1000, 100), 1000);
        assert_eq!(refund_cents(1000, 0), 0);
    }

    #[test]
    fn tiers_are_sorted_and_checked() {
        assert_eq!(tiered().tiers[0].hours_before, 48);
        let tier = |hours_before, refund_percent| RefundTier { hours_before, refund_percent };
        let refused = |tiers| CancellationPolicy::new(true, true, tiers).unwrap_err();
        assert!(matches!(refused(vec![tier(2, 101)]), AppError::InvalidInput { .. }));
        assert!(matches!(refused(vec![tier(2, 50), tier(2, 40)]), AppError::InvalidInput { .. }));
        // More notice giving back less would punish planning ahead.
        assert!(matches!(refused(vec![tier(48, 20), tier(2, 50)]), AppError::InvalidInput { .. }));
        assert!(matches!(refused(vec![tier(MOST_HOURS_BEFORE + 1, 50)]), AppError::InvalidInput { .. }));
        assert!(matches!(refused(vec![tier(1, 1); MOST_TIERS + 1]), AppError::InvalidInput { .. }));
        let closed = CancellationPolicy::new(false, true, vec![tier(48, 100)]).unwrap();
        assert_eq!(closed, CancellationPolicy { cancellable: false, partial: false, tiers: vec![] });
    }

    #[test]
    fn terms_read_as_sentences() {
        assert_eq!(
            tiered().terms(),
            [
                "Cancel at least 2 days before the start for a full refund.",
                "Cancel at least 2 hours before the start for a 50% refund.",
                "Less than 2 hours before the start you can still cancel, with no refund.",
                "You may cancel some seats of a booking and keep the others.",
            ]
        );
        assert_eq!(
            CancellationPolicy::default().terms(),
            ["Cancel any time before the start for a full refund.", "You may cancel some seats of a booking and keep the others."]
        );
        let closed = CancellationPolicy::new(false, false, vec![]).unwrap();
        assert_eq!(closed.terms(), ["Bookings for this show cannot be cancelled or refunded."]);
        // A step of no refund reads as where refunds end, not as a step of its own.
        let tier = |hours_before, refund_percent| RefundTier { hours_before, refund_percent };
        let ending = CancellationPolicy::new(true, false, vec![tier(24, 50), tier(2, 0)]).unwrap();
        assert_eq!(
            ending.terms(),
            [
                "Cancel at least 24 hours before the start for a 50% refund.",
                "Less than 24 hours before the start you can still cancel, with no refund.",
                "Only whole bookings can be cancelled.",
            ]
        );
        let nothing_back = CancellationPolicy::new(true, true, vec![tier(2, 0)]).unwrap();
        assert_eq!(nothing_back.terms()[0], "You can cancel any time before the start, with no refund.");
    }
}
