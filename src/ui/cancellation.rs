//! Cancellation policies on screen: the terms a customer reads before paying (show page,
//! checkout) and the form an admin sets them with. The words come from
//! `CancellationPolicy::terms`, the same policy the service refunds by.

use leptos::prelude::*;

use crate::api::admin::SetCancellationPolicy;
use crate::domain::{CancellationPolicy, RefundTier};

/// The policy as sentences, under a heading.
#[component]
pub fn PolicyTerms(policy: CancellationPolicy, #[prop(optional)] heading: Option<&'static str>) -> impl IntoView {
    view! {
        <div class="rounded-md bg-slate-100 p-3 text-sm text-slate-700" data-testid="cancellation-policy">
            <h2 class="font-semibold text-slate-900">{heading.unwrap_or("Cancellation policy")}</h2>
            <ul class="mt-1 list-disc space-y-0.5 pl-5">
                {policy.terms().into_iter().map(|term| view! { <li>{term}</li> }).collect_view()}
            </ul>
        </div>
    }
}

/// Refund steps an admin can fill in (more when the policy has more); empty rows are left out.
const EDITABLE_TIERS: usize = 4;

/// A step as typed: hours before the start and refund percent, either possibly blank.
fn parse_tiers(rows: &[(String, String)]) -> Result<Vec<RefundTier>, String> {
    rows.iter()
        .enumerate()
        .filter(|(_, (hours, percent))| !(hours.trim().is_empty() && percent.trim().is_empty()))
        .map(|(i, (hours, percent))| {
            let step = i + 1;
            let hours_before = hours
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("Step {step}: hours before the start must be a whole number, 0 or more."))?;
            let refund_percent = percent
                .trim()
                .parse::<u8>()
                .map_err(|_| format!("Step {step}: the refund must be a whole percentage from 0 to 100."))?;
            Ok(RefundTier { hours_before, refund_percent })
        })
        .collect()
}

/// The admin's form for a show's cancellation policy.
#[component]
pub fn PolicyEditor(show_id: i64, policy: CancellationPolicy, action: ServerAction<SetCancellationPolicy>) -> impl IntoView {
    let cancellable = RwSignal::new(policy.cancellable);
    let partial = RwSignal::new(policy.partial);
    let rows: Vec<RwSignal<(String, String)>> = (0..EDITABLE_TIERS.max(policy.tiers.len()))
        .map(|i| {
            let tier = policy.tiers.get(i);
            RwSignal::new((
                tier.map(|t| t.hours_before.to_string()).unwrap_or_default(),
                tier.map(|t| t.refund_percent.to_string()).unwrap_or_default(),
            ))
        })
        .collect();
    let typo = RwSignal::new(None::<String>);
    let rows_for_submit = rows.clone();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let typed: Vec<(String, String)> = rows_for_submit.iter().map(|row| row.get_untracked()).collect();
        match parse_tiers(&typed) {
            Ok(tiers) => {
                typo.set(None);
                action.dispatch(SetCancellationPolicy {
                    show_id,
                    cancellable: cancellable.get_untracked(),
                    partial: partial.get_untracked(),
                    tiers,
                });
            }
            Err(message) => typo.set(Some(message)),
        }
    };
    let saved = move || matches!(action.value().get(), Some(Ok(())));

    view! {
        <form class="mt-3 space-y-3" on:submit=submit data-testid="policy-form">
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" name="cancellable" prop:checked=cancellable
                    on:change=move |e| cancellable.set(event_target_checked(&e))/>
                "Customers may cancel confirmed bookings"
            </label>
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" name="partial" prop:checked=partial disabled=move || !cancellable.get()
                    on:change=move |e| partial.set(event_target_checked(&e))/>
                "Customers may cancel some seats of a booking and keep the others"
            </label>
            <fieldset class="space-y-2" disabled=move || !cancellable.get()>
                <legend class="text-sm font-medium text-slate-700">"Refund steps (longest notice first; less notice than every step: no refund)"</legend>
                {rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, row)| {
                        let step = i + 1;
                        view! {
                            <div class="flex flex-wrap items-end gap-2">
                                <label class="text-sm">{format!("Step {step}: at least ")}
                                    <input type="number" min="0" inputmode="numeric" class="w-24 rounded-md border border-slate-300 px-2 py-1"
                                        name=format!("hours_{step}") aria-label=format!("Step {step}: hours before the start")
                                        prop:value=move || row.get().0
                                        on:input=move |e| row.update(|r| r.0 = event_target_value(&e))/>
                                    " hours before"
                                </label>
                                <label class="text-sm">" refund "
                                    <input type="number" min="0" max="100" inputmode="numeric" class="w-20 rounded-md border border-slate-300 px-2 py-1"
                                        name=format!("percent_{step}") aria-label=format!("Step {step}: refund percent")
                                        prop:value=move || row.get().1
                                        on:input=move |e| row.update(|r| r.1 = event_target_value(&e))/>
                                    " %"
                                </label>
                            </div>
                        }
                    })
                    .collect_view()}
            </fieldset>
            {move || typo.get().map(|message| view! { <p role="alert" class="rounded-md bg-red-50 p-2 text-sm text-red-900">{message}</p> })}
            <div class="flex items-center gap-3">
                <button type="submit" class="rounded-md bg-indigo-700 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-800 disabled:opacity-50"
                    disabled=move || action.pending().get()>
                    "Save policy"
                </button>
                {move || saved().then(|| view! { <span role="status" class="text-sm text-emerald-800">"Saved. New bookings follow it; earlier ones keep theirs."</span> })}
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_rows_are_left_out_and_typos_name_their_step() {
        let rows = |r: &[(&str, &str)]| r.iter().map(|(h, p)| (h.to_string(), p.to_string())).collect::<Vec<_>>();
        assert_eq!(
            parse_tiers(&rows(&[("48", "100"), ("", ""), (" 2 ", "50")])).unwrap(),
            [RefundTier { hours_before: 48, refund_percent: 100 }, RefundTier { hours_before: 2, refund_percent: 50 }]
        );
        assert_eq!(
            parse_tiers(&rows(&[("48", "100"), ("two", "50")])).unwrap_err(),
            "Step 2: hours before the start must be a whole number, 0 or more."
        );
        assert!(parse_tiers(&rows(&[("1", "")])).unwrap_err().starts_with("Step 1: the refund"));
    }
}
