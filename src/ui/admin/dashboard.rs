use leptos::prelude::*;
use leptos_meta::Title;

use super::{SalesBar, money};
use crate::api::admin::admin_dashboard;
use crate::domain::show::format_time;
use crate::domain::{ShowSales, ShowStatus};
use crate::ui::error::ErrorNotice;

/// Every show and trip with how it sells.
#[component]
pub fn AdminDashboard() -> impl IntoView {
    let shows = Resource::new(|| (), |_| admin_dashboard());
    view! {
        <Title text="Admin · Box Office"/>
        <section class="space-y-6">
            <div class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    <h1 class="text-3xl font-bold tracking-tight">"Dashboard"</h1>
                    <p class="text-slate-600">"Every show and trip, and how it sells."</p>
                </div>
                <a
                    href="/admin/shows/new"
                    class="rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800"
                >
                    "New show or trip"
                </a>
            </div>
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                    {move || Suspend::new(async move {
                        let shows = shows.await?;
                        Ok::<_, crate::error::AppError>(view! { <SalesTable shows/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn SalesTable(shows: Vec<ShowSales>) -> impl IntoView {
    if shows.is_empty() {
        return view! { <p class="rounded-lg bg-white p-6 text-slate-600 shadow-sm">"No shows yet."</p> }
            .into_any();
    }
    let revenue: i64 = shows.iter().map(|s| s.revenue_cents).sum();
    view! {
        <p class="text-lg">"Revenue from confirmed bookings: " <strong data-testid="total-revenue">{money(revenue)}</strong></p>
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
            <table class="w-full text-left text-sm" data-testid="sales-table">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Show or trip"</th>
                        <th scope="col" class="px-4 py-3">"Starts"</th>
                        <th scope="col" class="px-4 py-3">"Seats"</th>
                        <th scope="col" class="px-4 py-3 text-right">"Revenue"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {shows
                        .into_iter()
                        .map(|show| {
                            let cancelled = show.status == ShowStatus::Cancelled;
                            view! {
                                <tr data-show=show.title.clone()>
                                    <td class="px-4 py-3">
                                        <a class="font-medium text-indigo-700 hover:underline" href=format!("/admin/shows/{}", show.id)>
                                            {show.title.clone()}
                                        </a>
                                        <p class="text-xs text-slate-500">
                                            {show.kind.label()} " · " {show.place()}
                                            {cancelled.then(|| view! { <span class="ml-2 rounded bg-red-100 px-1.5 py-0.5 font-semibold text-red-800">"Cancelled"</span> })}
                                        </p>
                                    </td>
                                    <td class="whitespace-nowrap px-4 py-3 text-slate-600">{format_time(show.starts_at)}</td>
                                    <td class="px-4 py-3">
                                        <SalesBar sold=show.sold held=show.held free=show.free blocked=show.blocked/>
                                    </td>
                                    <td class="px-4 py-3 text-right font-medium" data-testid="revenue">{money(show.revenue_cents)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
