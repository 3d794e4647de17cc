//! A show's page: its seat map, live, and choosing seats to hold. Guests can look; holding
//! needs an account (the login comes back to the same seats).

use std::collections::{BTreeSet, HashMap};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::browser::checkout_key;
use super::live::use_server_events;
use super::cancellation::PolicyTerms;
use super::waitlist::WaitingList;
use super::waiting_room::{SaleCountdown, ServerClock, WaitingRoomGate};
use super::seat_map::{SeatGrid, SeatLegend, statuses_of};
use super::session::{login_url, use_session};
use super::toast::use_toasts;
use crate::api::bookings::{HoldSeats, get_show_page};
use crate::domain::live::SeatChanges;
use crate::domain::show::format_price;
use crate::domain::{SeatRequest, SeatStatus, ShowPage};
use crate::error::AppError;
use crate::ui::error::ErrorNotice;

#[component]
pub fn ShowPageView() -> impl IntoView {
    let params = use_params_map();
    let show_id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()));
    // Bumped to read the page again (the admin removed the show's waiting room, or a refusal
    // says the sale is not as the page was read).
    let version = RwSignal::new(0u32);
    let reload = Callback::new(move |()| version.update(|v| *v += 1));
    let page = Resource::new(
        move || (show_id.get(), version.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_show_page(id).await,
                None => Err(AppError::ShowNotFound),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading the seat map…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    let page = page.await?;
                    Ok::<_, AppError>(view! { <SeatPicker page reload/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn SeatPicker(page: ShowPage, reload: Callback<()>) -> impl IntoView {
    let ShowPage { show, seat_map, max_seats_per_booking, now } = page;
    let show_id = show.id;
    let max = usize::from(max_seats_per_booking);
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let query = use_query_map();

    let statuses = RwSignal::new(statuses_of(&seat_map.seats));
    // Seats carried over from before a login (`?seats=3,4`), if they are still free.
    let selected = RwSignal::new(
        query
            .read_untracked()
            .get("seats")
            .unwrap_or_default()
            .split(',')
            .filter_map(|id| id.parse::<i32>().ok())
            .filter(|id| statuses.with_untracked(|s| s.get(id) == Some(&SeatStatus::Available)))
            .take(max)
            .collect::<BTreeSet<i32>>(),
    );
    let labels: HashMap<i32, String> = seat_map.seats.iter().map(|s| (s.seat_id, s.label.clone())).collect();
    let prices: HashMap<i32, i64> = seat_map
        .seats
        .iter()
        .filter_map(|s| {
            let price = seat_map.categories.iter().find(|c| c.code == s.category)?.price_cents;
            Some((s.seat_id, price))
        })
        .collect();
    let labels = StoredValue::new(labels);

    // Others' holds and sales, live. A seat I had chosen that someone else took is dropped
    // from my selection, and I am told.
    use_server_events(format!("/shows/{show_id}/events"), &["snapshot", "seats"], move |_, data| {
        let Ok(changes) = serde_json::from_str::<SeatChanges>(&data) else { return };
        statuses.update(|s| s.extend(changes.iter().map(|c| (c.seat_id, c.status))));
        let lost: Vec<i32> = selected.with_untracked(|sel| {
            sel.iter()
                .copied()
                .filter(|id| statuses.with_untracked(|s| s.get(id) != Some(&SeatStatus::Available)))
                .collect()
        });
        if !lost.is_empty() {
            selected.update(|sel| {
                lost.iter().for_each(|id| {
                    sel.remove(id);
                })
            });
            let names: Vec<String> =
                labels.with_value(|l| lost.iter().filter_map(|id| l.get(id).cloned()).collect());
            toasts.show(AppError::SeatsTaken { seats: names, seat_ids: lost, booking_id: None }.to_string());
        }
    });

    // The sale's opening by the server's clock: before it the map can be looked at, not used.
    let clock = ServerClock::start(now);
    let opens_at = seat_map.sale_opens_at;
    let has_room = seat_map.waiting_room;
    // Behind a waiting room the seat map is drawn only for a customer admitted, so after the
    // opening (which this clock, a little behind the server's, may not have reached yet).
    let sale_open = Memo::new(move |_| has_room || opens_at.is_none_or(|at| clock.now() >= at));

    let toggle = Callback::new(move |seat: i32| {
        if !sale_open.get_untracked() {
            return;
        }
        let full = selected.with(|s| !s.contains(&seat) && s.len() >= max);
        if full {
            toasts.show(AppError::TooManySeats { max: max_seats_per_booking }.to_string());
            return;
        }
        selected.update(|s| {
            if !s.remove(&seat) {
                s.insert(seat);
            }
        });
    });
    let prices = StoredValue::new(prices);
    let total = move || prices.with_value(|p| selected.with(|s| s.iter().filter_map(|id| p.get(id)).sum::<i64>()));
    let chosen_labels = move || {
        labels.with_value(|l| {
            selected.with(|s| s.iter().filter_map(|id| l.get(id).cloned()).collect::<Vec<_>>())
        })
    };

    let hold = ServerAction::<HoldSeats>::new();
    // One key per checkout attempt: a double click or a retry after a lost answer reuses it.
    let key = StoredValue::new(None::<String>);
    let submit = move |seats: SeatRequest| {
        if session.signed_in().is_none() {
            let ids: Vec<String> = selected.with_untracked(|s| s.iter().map(i32::to_string).collect());
            navigate(&login_url(&format!("/shows/{show_id}?seats={}", ids.join(","))), Default::default());
            return;
        }
        if hold.pending().get_untracked() {
            return;
        }
        let idempotency_key = key.with_value(Clone::clone).unwrap_or_else(checkout_key);
        key.set_value(Some(idempotency_key.clone()));
        hold.dispatch(HoldSeats { show_id, seats, idempotency_key });
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        let Some(result) = hold.value().get() else { return };
        if !matches!(result, Err(AppError::Unreachable)) {
            key.set_value(None);
        }
        match result {
            Ok(booking) => navigate(&format!("/checkout/{}", booking.id), Default::default()),
            Err(taken @ AppError::SeatsTaken { .. }) => {
                // Mark the lost seats taken at once (the feed confirms shortly) and keep the rest.
                if let AppError::SeatsTaken { seat_ids, .. } = &taken {
                    statuses.update(|s| {
                        seat_ids.iter().for_each(|id| {
                            s.insert(*id, SeatStatus::Held);
                        })
                    });
                    selected.update(|sel| {
                        seat_ids.iter().for_each(|id| {
                            sel.remove(id);
                        })
                    });
                }
                toasts.show(taken.to_string());
            }
            Err(error @ (AppError::SaleNotOpen { .. } | AppError::NotAdmitted)) => {
                // The sale is not as this page was read: say so, and read the page again.
                toasts.show(error.to_string());
                reload.run(());
            }
            Err(error) => toasts.show(error.to_string()),
        }
    });

    let best_count = RwSignal::new(2usize.min(max));
    // The plain form's own key: one per page, so posting it twice holds once.
    let form_key = checkout_key();
    let best_category = RwSignal::new(String::new());
    // By the server's clock when the page was read, so server and browser render alike.
    let not_selling = show.selling(now).err().map(|refusal| refusal.to_string());
    let selling = not_selling.is_none();
    let categories = StoredValue::new(seat_map.categories);
    let seats = StoredValue::new(seat_map.seats);
    let policy = seat_map.cancellation_policy.clone();
    let title = show.title.clone();
    let front = if show.kind == crate::domain::ShowKind::Trip { "Front" } else { "Screen / stage" };

    // The seat map, and choosing seats once the sale is open. Behind a waiting room it is drawn
    // only while the customer's pass is valid, so it may be drawn more than once.
    let seat_area = move || {
        let submit = submit.clone();
        let form_key = form_key.clone();
        view! {
        <SeatLegend categories=categories.get_value()/>
        <div class="rounded-lg bg-white p-3 shadow-sm ring-1 ring-slate-200">
            <p class="mb-2 text-center text-xs uppercase tracking-widest text-slate-400" aria-hidden="true">{front}</p>
            <SeatGrid
                categories=categories.get_value()
                seats=seats.get_value()
                statuses=statuses
                selected=selected
                selectable=|status| status == SeatStatus::Available
                on_toggle=toggle
                label=format!("Seats of {}", title)
            />
        </div>
        {move || (selling && !sale_open.get()).then(|| view! {
            <p class="rounded-md bg-slate-100 p-3 text-slate-700">"Seats can be chosen when the sale opens."</p>
        })}
        {move || (selling && sale_open.get()).then(|| {
            let submit = submit.clone();
            let form_key = form_key.clone();
            view! {
            <div class="grid gap-4 md:grid-cols-2">
                <div class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200" aria-live="polite">
                    <h2 class="font-semibold">"Your seats"</h2>
                    <p class="text-slate-700" data-testid="selection">
                        {move || {
                            let chosen = chosen_labels();
                            if chosen.is_empty() { "None chosen yet: pick seats on the map.".to_owned() } else { chosen.join(", ") }
                        }}
                    </p>
                    <p class="mt-1 text-lg font-semibold" data-testid="total">"Total " {move || format_price(total())}</p>
                    <p class="text-xs text-slate-500">{format!("Up to {max} seats per booking.")}</p>
                    <button
                        type="button"
                        data-testid="hold-button"
                        class="mt-3 w-full rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 disabled:opacity-50"
                        disabled=move || selected.with(BTreeSet::is_empty) || hold.pending().get()
                        on:click={
                            let submit = submit.clone();
                            move |_| submit(SeatRequest::Seats(selected.get_untracked().into_iter().collect()))
                        }
                    >
                        {move || match selected.with(BTreeSet::len) {
                            _ if hold.pending().get() => "Holding…".to_owned(),
                            0 => "Hold seats".to_owned(),
                            1 => "Hold 1 seat".to_owned(),
                            n => format!("Hold {n} seats"),
                        }}
                    </button>
                </div>
                // A plain form, so it works before the script loads (or without it); once
                // the page is live, the same submit goes through the app instead.
                <form
                    method="post"
                    action="/rpc/hold_best_available"
                    class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        let category = Some(best_category.get_untracked()).filter(|c| !c.is_empty());
                        submit(SeatRequest::BestAvailable { count: best_count.get_untracked() as u16, category })
                    }
                >
                    <h2 class="font-semibold">"Or let us choose"</h2>
                    <input type="hidden" name="show_id" value=show_id/>
                    <input type="hidden" name="idempotency_key" value=form_key/>
                    <div class="mt-2 flex flex-wrap items-end gap-2">
                        <label class="text-sm">"Seats"
                            <select name="count" class="ml-1 rounded-md border border-slate-300 px-2 py-1" on:change=move |e| best_count.set(event_target_value(&e).parse().unwrap_or(1))>
                                {(1..=max).map(|n| view! { <option value=n selected=move || best_count.get() == n>{n}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="text-sm">"In"
                            <select name="category" class="ml-1 rounded-md border border-slate-300 px-2 py-1" on:change=move |e| best_category.set(event_target_value(&e))>
                                <option value="">"Any category"</option>
                                {categories.with_value(|cs| cs.iter().map(|c| view! { <option value=c.code.clone()>{c.name.clone()}</option> }).collect_view())}
                            </select>
                        </label>
                        <button
                            type="submit"
                            class="rounded-md border border-indigo-700 px-3 py-1.5 text-sm font-medium text-indigo-700 hover:bg-indigo-50 disabled:opacity-50"
                            disabled=move || hold.pending().get()
                        >
                            {move || format!("Best {} available", best_count.get())}
                        </button>
                    </div>
                </form>
            </div>
        }})}
        <WaitingList show_id=show_id/>
        }
    };

    view! {
        <Title text=format!("{} · Box Office", show.title)/>
        <section class="space-y-5">
            <div>
                <a href="/" class="text-sm text-indigo-700 hover:underline">"← What's on"</a>
                <p class="mt-1 text-xs font-semibold uppercase tracking-wide text-indigo-700">{show.kind.label()}</p>
                <h1 class="text-3xl font-bold tracking-tight">{show.title.clone()}</h1>
                <p class="text-slate-600">{show.place()} " · " <time datetime=show.starts_at.to_rfc3339()>{show.starts_at_display()}</time></p>
                {not_selling.map(|message| view! { <p role="alert" class="mt-2 rounded-md bg-red-50 p-3 text-red-900">{message}</p> })}
            </div>
            {if has_room && selling {
                view! { <WaitingRoomGate show_id clock opens_at reload>{seat_area()}</WaitingRoomGate> }.into_any()
            } else {
                view! {
                    {selling.then(|| opens_at.map(|opens_at| view! { <SaleCountdown clock opens_at/> }))}
                    {seat_area()}
                }
                .into_any()
            }}
            <PolicyTerms policy/>
        </section>
    }
}
