//! The waiting list on a show's page: on a sold-out (or nearly sold-out) show a signed-in
//! customer joins with a party size and, if they like, a category; then sees their place, or
//! the seats held for them with "Book them" (the checkout) and "Decline". The panel reads
//! again when the live seat feed reports changes, so an offer appears without reloading.

use leptos::prelude::*;

use super::live::use_server_events;
use super::session::{login_url, use_session};
use super::toast::use_toasts;
use crate::api::waitlist::{DeclineWaitlistOffer, JoinWaitlist, LeaveWaitlist, get_waitlist};
use crate::domain::show::format_price;
use crate::domain::waitlist::{WaitlistEntry, WaitlistStatus, WaitlistView};
use crate::error::AppError;

#[component]
pub fn WaitingList(show_id: i64) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    // Bumped to read the panel again: after an action, or when seats of the show change while
    // the customer is on the list.
    let version = RwSignal::new(0u32);
    let panel = Resource::new(move || version.get(), move |_| get_waitlist(show_id));
    let on_list = RwSignal::new(false);
    use_server_events(format!("/shows/{show_id}/events"), &["seats"], move |_, _| {
        if on_list.get_untracked() {
            version.update(|v| *v += 1);
        }
    });

    let join = ServerAction::<JoinWaitlist>::new();
    let leave = ServerAction::<LeaveWaitlist>::new();
    let decline = ServerAction::<DeclineWaitlistOffer>::new();
    let after = move |result: Option<Result<WaitlistEntry, AppError>>| {
        let Some(result) = result else { return };
        if let Err(error) = result {
            toasts.show(error.to_string());
        }
        version.update(|v| *v += 1);
    };
    Effect::new(move |_| after(join.value().get()));
    Effect::new(move |_| after(leave.value().get()));
    Effect::new(move |_| after(decline.value().get()));
    let busy = move || join.pending().get() || leave.pending().get() || decline.pending().get();

    let party = RwSignal::new(1u16);
    let category = RwSignal::new(String::new());

    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let view = match panel.await {
                    Ok(view) => view,
                    // The seat map above already says what is wrong with the show.
                    Err(_) => return ().into_any(),
                };
                let entry = view.entry.clone().filter(|e| e.status.is_live());
                on_list.set(entry.is_some());
                match entry {
                    Some(entry) => view! { <OnTheList entry leave decline busy/> }.into_any(),
                    None if !view.open => ().into_any(),
                    None if session.signed_in().is_none() => view! {
                        <section class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200" aria-labelledby="waitlist-heading">
                            <h2 id="waitlist-heading" class="font-semibold">"Waiting list"</h2>
                            <p class="text-slate-700">
                                "This show is sold out or nearly. "
                                <a class="text-indigo-700 underline" href=login_url(&format!("/shows/{show_id}"))>"Log in"</a>
                                " to join the waiting list: when seats come back, we hold them for you."
                            </p>
                        </section>
                    }.into_any(),
                    None => view! { <JoinForm view show_id join party category busy/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// "You were …" for an entry that has ended, above the form to join again.
fn ended_note(entry: Option<&WaitlistEntry>) -> Option<&'static str> {
    match entry?.status {
        WaitlistStatus::Lapsed => Some("The seats held for you were not booked in time, so they went to the next customer."),
        WaitlistStatus::Declined => Some("You declined the seats held for you."),
        WaitlistStatus::Booked => Some("You booked the seats the waiting list held for you."),
        WaitlistStatus::Left => Some("You left the waiting list."),
        WaitlistStatus::Closed => Some("The show was cancelled, so its waiting list is closed."),
        WaitlistStatus::Waiting | WaitlistStatus::Offered => None,
    }
}

#[component]
fn JoinForm(
    view: WaitlistView,
    show_id: i64,
    join: ServerAction<JoinWaitlist>,
    party: RwSignal<u16>,
    category: RwSignal<String>,
    busy: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let note = ended_note(view.entry.as_ref());
    let max = view.max_party.max(1);
    let left = view.available_seats;
    view! {
        <form
            class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200"
            aria-labelledby="waitlist-heading"
            data-testid="waitlist-join"
            on:submit=move |ev| {
                ev.prevent_default();
                if busy() {
                    return;
                }
                join.dispatch(JoinWaitlist {
                    show_id,
                    party_size: i64::from(party.get_untracked()),
                    category: category.get_untracked(),
                });
            }
        >
            <h2 id="waitlist-heading" class="font-semibold">"Waiting list"</h2>
            {note.map(|note| view! { <p class="text-sm text-slate-600">{note}</p> })}
            <p class="text-slate-700">
                {match left {
                    0 => "This show is sold out.".to_owned(),
                    1 => "Only 1 seat is left.".to_owned(),
                    n => format!("Only {n} seats are left."),
                }}
                " Join the waiting list: when seats come back, we hold them for the first party they fit, side by side when possible."
            </p>
            <div class="mt-2 flex flex-wrap items-end gap-2">
                <label class="text-sm">"Party of"
                    <select name="party_size" class="ml-1 rounded-md border border-slate-300 px-2 py-1"
                        on:change=move |e| party.set(event_target_value(&e).parse().unwrap_or(1))>
                        {(1..=max).map(|n| view! { <option value=n selected=move || party.get() == n>{n}</option> }).collect_view()}
                    </select>
                </label>
                <label class="text-sm">"In"
                    <select name="category" class="ml-1 rounded-md border border-slate-300 px-2 py-1"
                        on:change=move |e| category.set(event_target_value(&e))>
                        <option value="">"Any category"</option>
                        {view.categories.iter().map(|c| view! { <option value=c.code.clone()>{c.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <button
                    type="submit"
                    data-testid="waitlist-join-button"
                    class="rounded-md bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 disabled:opacity-50"
                    disabled=busy
                >
                    "Join the waiting list"
                </button>
            </div>
        </form>
    }
}

#[component]
fn OnTheList(
    entry: WaitlistEntry,
    leave: ServerAction<LeaveWaitlist>,
    decline: ServerAction<DeclineWaitlistOffer>,
    busy: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let show_id = entry.show_id;
    let party = match entry.party_size {
        1 => "1 person".to_owned(),
        n => format!("{n} people"),
    };
    let status = match &entry.offer {
        Some(offer) => view! {
            <p class="text-lg font-semibold text-emerald-800" data-testid="waitlist-offer">
                {format!(
                    "{} {} held for you until {}",
                    if offer.seats.len() == 1 { "Seat" } else { "Seats" },
                    offer.seats.join(", "),
                    offer.expires_at.format("%H:%M UTC"),
                )}
            </p>
            <p class="text-sm text-slate-600">{format!("Total {}. Book them before then, or decline so the next customer gets them.", format_price(offer.total_cents))}</p>
            <div class="mt-3 flex flex-wrap gap-2">
                <a
                    href=format!("/checkout/{}", offer.booking_id)
                    data-testid="waitlist-book"
                    class="rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800"
                >
                    "Book them"
                </a>
                <button
                    type="button"
                    data-testid="waitlist-decline"
                    class="rounded-md border border-slate-300 px-4 py-2 font-medium text-slate-700 hover:bg-slate-50 disabled:opacity-50"
                    disabled=busy
                    on:click=move |_| { decline.dispatch(DeclineWaitlistOffer { show_id }); }
                >
                    "Decline"
                </button>
            </div>
        }
        .into_any(),
        None => view! {
            <p class="text-lg font-semibold" data-testid="waitlist-place">
                {match entry.place {
                    Some(place) => format!("You are number {place} on the waiting list"),
                    None => "You are on the waiting list".to_owned(),
                }}
            </p>
            <p class="text-sm text-slate-600">
                {format!("For a party of {party}{}.", entry.category.as_deref().map(|c| format!(" in {c}")).unwrap_or_default())}
                " We hold seats for you as soon as some come back that fit your party."
            </p>
            <button
                type="button"
                data-testid="waitlist-leave"
                class="mt-3 rounded-md border border-slate-300 px-4 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50 disabled:opacity-50"
                disabled=busy
                on:click=move |_| { leave.dispatch(LeaveWaitlist { show_id }); }
            >
                "Leave the waiting list"
            </button>
        }
        .into_any(),
    };
    view! {
        <section class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200" aria-labelledby="waitlist-heading">
            <h2 id="waitlist-heading" class="font-semibold">"Waiting list"</h2>
            <div role="status" aria-live="polite">{status}</div>
        </section>
    }
}
