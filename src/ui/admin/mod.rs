//! The admin area. The pages only draw; every door they call checks the admin role on the
//! server (`crate::api::admin`), so hiding a link is never the protection.

pub mod dashboard;
pub mod sale_panel;
pub mod show_detail;
pub mod show_form;

use leptos::prelude::*;

use crate::domain::show::format_price;

/// Sold, held, free and blocked seats as one bar, with the figures in words beside it.
#[component]
pub fn SalesBar(sold: i64, held: i64, free: i64, blocked: i64) -> impl IntoView {
    let total = (sold + held + free + blocked).max(1) as f64;
    let width = |n: i64| format!("width: {:.2}%", n as f64 * 100.0 / total);
    view! {
        <div class="min-w-40">
            <div class="flex h-3 overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
                <div class="bg-emerald-600" style=width(sold)></div>
                <div class="bg-amber-400" style=width(held)></div>
                <div class="bg-slate-200" style=width(free)></div>
                <div class="bg-slate-400" style=width(blocked)></div>
            </div>
            <p class="mt-1 text-xs text-slate-600" data-testid="sales-figures">
                {format!("{sold} sold · {held} held · {free} free")}
                {(blocked > 0).then(|| format!(" · {blocked} blocked"))}
            </p>
        </div>
    }
}

pub fn money(cents: i64) -> String {
    format_price(cents)
}
