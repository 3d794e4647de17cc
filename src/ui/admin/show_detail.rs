//! One show for its admin: how it sells, its seat map coloured by status (free seats can be
//! blocked and blocked ones freed), its bookings, and editing or cancelling it.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::sale_panel::SalePanel;
use super::{SalesBar, money};
use crate::api::admin::{CancelShow, EditShow, SetCancellationPolicy, SetSeatsBlocked, admin_show};
use crate::domain::show::format_time;
use crate::domain::{SeatStatus, AdminShowDetail, ShowStatus};
use crate::error::AppError;
use crate::ui::cancellation::{PolicyEditor, PolicyTerms};
use crate::ui::error::ErrorNotice;
use crate::ui::seat_map::{SeatGrid, SeatLegend, statuses_of};

#[component]
pub fn AdminShowPage() -> impl IntoView {
    let params = use_params_map();
    let show_id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()));
    let edit = ServerAction::<EditShow>::new();
    let cancel = ServerAction::<CancelShow>::new();
    let block = ServerAction::<SetSeatsBlocked>::new();
    let policy = ServerAction::<SetCancellationPolicy>::new();
    let detail = Resource::new(
        move || (show_id.get(), edit.version().get(), cancel.version().get(), block.version().get(), policy.version().get()),
        |(id, ..)| async move {
            match id {
                Some(id) => admin_show(id).await,
                None => Err(AppError::ShowNotFound),
            }
        },
    );

    view! {
        <Title text="Show · Admin · Box Office"/>
        <a href="/admin" class="text-sm text-indigo-700 hover:underline">"← Dashboard"</a>
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    let detail = detail.await?;
                    Ok::<_, AppError>(view! { <ShowAdmin detail edit cancel block policy/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ShowAdmin(
    detail: AdminShowDetail,
    edit: ServerAction<EditShow>,
    cancel: ServerAction<CancelShow>,
    block: ServerAction<SetSeatsBlocked>,
    policy: ServerAction<SetCancellationPolicy>,
) -> impl IntoView {
    let AdminShowDetail { sales, seat_map, bookings } = detail;
    let show_id = sales.id;
    let on_sale = sales.status == ShowStatus::OnSale;
    let statuses = RwSignal::new(statuses_of(&seat_map.seats));
    let selected = RwSignal::new(BTreeSet::<i32>::new());
    let toggle = Callback::new(move |seat: i32| {
        selected.update(|s| {
            if !s.remove(&seat) {
                s.insert(seat);
            }
        })
    });
    let selected_with = move |status: SeatStatus| {
        selected.with(|s| {
            s.iter().filter(|id| statuses.with(|m| m.get(id) == Some(&status))).copied().collect::<Vec<_>>()
        })
    };
    let block_selected = move |blocked: bool| {
        let seat_ids = selected_with(if blocked { SeatStatus::Available } else { SeatStatus::Blocked });
        if !seat_ids.is_empty() {
            block.dispatch(SetSeatsBlocked { show_id, seat_ids, blocked });
        }
    };
    let action_error = move || {
        [
            edit.value().get().and_then(Result::err),
            cancel.value().get().and_then(Result::err),
            block.value().get().and_then(Result::err),
            policy.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    let confirm_cancel = move |_| {
        let sure = window()
            .confirm_with_message(
                "Cancel this show? Every booking on it will be cancelled, and this cannot be undone.",
            )
            .unwrap_or(false);
        if sure {
            cancel.dispatch(CancelShow { show_id });
        }
    };
    let title = sales.title.clone();

    view! {
        <Title text=format!("{} · Admin · Box Office", sales.title)/>
        <section class="mt-2 space-y-6">
            <div class="flex flex-wrap items-start justify-between gap-4">
                <div>
                    <p class="text-xs font-semibold uppercase tracking-wide text-indigo-700">{sales.kind.label()}</p>
                    <h1 class="text-3xl font-bold tracking-tight" data-testid="show-title">{sales.title.clone()}</h1>
                    <p class="text-slate-600">{sales.place()} " · " {format_time(sales.starts_at)}</p>
                    {(!on_sale).then(|| view! { <p class="mt-1 inline-block rounded bg-red-100 px-2 py-0.5 text-sm font-semibold text-red-800" data-testid="show-cancelled">"Cancelled"</p> })}
                </div>
                <div class="text-right">
                    <p class="text-sm text-slate-500">"Revenue"</p>
                    <p class="text-2xl font-bold" data-testid="revenue">{money(sales.revenue_cents)}</p>
                    <p class="text-sm text-slate-500">"Refunded " <span data-testid="refunded">{money(sales.refunded_cents)}</span></p>
                </div>
            </div>
            <SalesBar sold=sales.sold held=sales.held free=sales.free blocked=sales.blocked/>
            {move || action_error().map(|e| view! { <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900" data-testid="form-error">{e.to_string()}</p> })}

            <div class="space-y-3 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
                <h2 class="text-lg font-semibold">"Seats"</h2>
                <SeatLegend categories=seat_map.categories.clone()/>
                <SeatGrid
                    categories=seat_map.categories
                    seats=seat_map.seats
                    statuses=statuses
                    selected=selected
                    selectable=|status| matches!(status, SeatStatus::Available | SeatStatus::Blocked)
                    on_toggle=toggle
                    label=format!("Seats of {title}")
                />
                {on_sale.then(|| view! {
                    <div class="flex flex-wrap gap-2">
                        <button type="button" class="rounded-md bg-slate-700 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50"
                            disabled=move || selected_with(SeatStatus::Available).is_empty() || block.pending().get()
                            on:click=move |_| block_selected(true)>
                            {move || format!("Block {} selected", selected_with(SeatStatus::Available).len())}
                        </button>
                        <button type="button" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium disabled:opacity-50"
                            disabled=move || selected_with(SeatStatus::Blocked).is_empty() || block.pending().get()
                            on:click=move |_| block_selected(false)>
                            {move || format!("Unblock {} selected", selected_with(SeatStatus::Blocked).len())}
                        </button>
                    </div>
                })}
            </div>

            <div class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
                <h2 class="text-lg font-semibold">"Bookings"</h2>
                {if bookings.is_empty() {
                    view! { <p class="mt-2 text-slate-600">"No bookings yet."</p> }.into_any()
                } else {
                    view! {
                        <div class="mt-2 overflow-x-auto">
                            <table class="w-full text-left text-sm" data-testid="bookings-table">
                                <thead class="text-xs uppercase text-slate-500">
                                    <tr>
                                        <th scope="col" class="py-2 pr-3">"Ref"</th>
                                        <th scope="col" class="py-2 pr-3">"Customer"</th>
                                        <th scope="col" class="py-2 pr-3">"Seats"</th>
                                        <th scope="col" class="py-2 pr-3">"Status"</th>
                                        <th scope="col" class="py-2 pr-3">"Booked"</th>
                                        <th scope="col" class="py-2 pr-3 text-right">"Total"</th>
                                        <th scope="col" class="py-2 text-right">"Refunded"</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {bookings.into_iter().map(|b| view! {
                                        <tr>
                                            <td class="py-2 pr-3 font-mono">{format!("#{}", b.id)}</td>
                                            <td class="py-2 pr-3">{b.customer_name} <span class="block text-xs text-slate-500">{b.customer_email}</span></td>
                                            <td class="py-2 pr-3">{b.seats.join(", ")}</td>
                                            <td class="py-2 pr-3">{b.status.label()}</td>
                                            <td class="whitespace-nowrap py-2 pr-3">{format_time(b.created_at)}</td>
                                            <td class="py-2 pr-3 text-right">{money(b.total_cents)}</td>
                                            <td class="py-2 text-right" data-testid="booking-refunded">{money(b.refunded_cents)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </div>

            {on_sale.then(|| view! { <SalePanel show_id/> })}

            <div class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
                <h2 class="text-lg font-semibold">"Cancellation policy"</h2>
                <p class="text-sm text-slate-600">"Customers read it on the show page and at checkout. Bookings keep the policy they were made under."</p>
                <div class="mt-2"><PolicyTerms policy=sales.cancellation_policy.clone() heading="Now"/></div>
                {on_sale.then(|| view! { <PolicyEditor show_id policy=sales.cancellation_policy.clone() action=policy/> })}
            </div>

            {(on_sale && sales.editable).then(|| view! {
                <div class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
                    <h2 class="text-lg font-semibold">"Edit"</h2>
                    <p class="text-sm text-slate-600">"Title and start time can change until the first sale."</p>
                    <ActionForm action=edit attr:class="mt-3 grid gap-3 sm:grid-cols-3 sm:items-end">
                        <input type="hidden" name="show_id" value=show_id/>
                        <label class="block text-sm font-medium text-slate-700">"Title"
                            <input name="title" value=sales.title.clone() class="mt-1 w-full rounded-md border border-slate-300 px-3 py-2"/>
                        </label>
                        <label class="block text-sm font-medium text-slate-700">"Starts (UTC)"
                            <input name="starts_at" type="datetime-local" value=sales.starts_at.format("%Y-%m-%dT%H:%M").to_string() class="mt-1 w-full rounded-md border border-slate-300 px-3 py-2"/>
                        </label>
                        <button type="submit" class="rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800">"Save changes"</button>
                    </ActionForm>
                </div>
            })}

            {on_sale.then(|| view! {
                <div class="rounded-lg border border-red-200 bg-red-50 p-4">
                    <h2 class="text-lg font-semibold text-red-900">"Cancel this show"</h2>
                    <p class="text-sm text-red-900">"Every booking becomes cancelled and customers see it in My bookings."</p>
                    <button type="button" class="mt-3 rounded-md bg-red-700 px-4 py-2 font-medium text-white hover:bg-red-800 disabled:opacity-60"
                        disabled=move || cancel.pending().get()
                        on:click=confirm_cancel>
                        "Cancel show"
                    </button>
                </div>
            })}
        </section>
    }
}
