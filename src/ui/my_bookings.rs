//! The customer's bookings, and the confirmation page of one.

use leptos::prelude::*;
use leptos_meta::Title;

use super::checkout::booking_resource;
use crate::api::bookings::{CancelBooking, CancelSeats, my_bookings};
use crate::domain::show::format_price;
use crate::domain::{Booking, BookingStatus, BookingWithShow};
use crate::error::AppError;
use crate::ui::error::ErrorNotice;

/// A booking's reference as customers quote it.
pub fn reference(booking_id: i64) -> String {
    format!("BX-{booking_id:06}")
}

fn status_badge(status: BookingStatus) -> impl IntoView {
    let tone = match status {
        BookingStatus::Confirmed => "bg-emerald-100 text-emerald-900",
        BookingStatus::Pending => "bg-indigo-100 text-indigo-900",
        BookingStatus::Cancelled | BookingStatus::Failed => "bg-red-100 text-red-900",
        BookingStatus::Expired => "bg-slate-200 text-slate-800",
    };
    view! { <span class=format!("rounded px-2 py-0.5 text-xs font-semibold {tone}") data-testid="booking-status">{status.label()}</span> }
}

#[component]
pub fn MyBookingsPage() -> impl IntoView {
    let cancel = ServerAction::<CancelBooking>::new();
    let cancel_seats = ServerAction::<CancelSeats>::new();
    let bookings =
        Resource::new(move || (cancel.version().get(), cancel_seats.version().get()), |_| my_bookings());
    let refused = move || {
        [cancel.value().get(), cancel_seats.value().get()].into_iter().flatten().find_map(Result::err)
    };
    view! {
        <Title text="My bookings · Box Office"/>
        <section class="space-y-4">
            <h1 class="text-3xl font-bold tracking-tight">"My bookings"</h1>
            {move || refused().map(|e| view! {
                <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900">{e.to_string()}</p>
            })}
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                    {move || Suspend::new(async move {
                        let list = bookings.await?;
                        Ok::<_, AppError>(view! { <BookingList list cancel cancel_seats/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn BookingList(
    list: Vec<BookingWithShow>,
    cancel: ServerAction<CancelBooking>,
    cancel_seats: ServerAction<CancelSeats>,
) -> impl IntoView {
    let list: Vec<BookingWithShow> =
        list.into_iter().filter(|v| v.booking.status != BookingStatus::Failed).collect();
    if list.is_empty() {
        return view! {
            <p class="rounded-lg bg-white p-6 text-slate-600 shadow-sm">
                "No bookings yet. " <a class="text-indigo-700 underline" href="/">"See what's on"</a>
            </p>
        }
        .into_any();
    }
    view! {
        <ul class="space-y-3" data-testid="my-bookings">
            {list
                .into_iter()
                .map(|BookingWithShow { booking, show, now }| {
                    let id = booking.id;
                    let seats = booking.seats.iter().map(|s| s.label.clone()).collect::<Vec<_>>().join(", ");
                    // The service's own rule, so the button shows exactly when cancelling works.
                    let cancellable = booking.can_cancel(show.starts_at, now);
                    let some_cancellable = booking.can_cancel_some(show.starts_at, now);
                    let holding = booking.status == BookingStatus::Pending;
                    let refund_percent = booking.refund_percent_now(show.starts_at, now);
                    let question = cancel_question(&booking, refund_percent);
                    let ask = move |_| {
                        let sure = window().confirm_with_message(&question).unwrap_or(false);
                        if sure {
                            // What they were told is what they get, or nothing is cancelled.
                            cancel.dispatch(CancelBooking { booking_id: id, promised_refund_percent: Some(refund_percent) });
                        }
                    };
                    let refunds = booking.refunds.clone();
                    let seats_of_booking = booking.seats.clone();
                    view! {
                        <li class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200" data-booking=reference(id)>
                            <div class="flex flex-wrap items-start justify-between gap-2">
                                <div>
                                    <p class="font-semibold"><a class="hover:underline" href=format!("/bookings/{id}")>{show.title.clone()}</a></p>
                                    <p class="text-sm text-slate-600">{show.place()} " · " {show.starts_at_display()}</p>
                                    <p class="text-sm">"Seats " <span data-testid="booking-seats">{seats}</span> " · " {format_price(booking.total_cents)}</p>
                                    <p class="text-xs text-slate-500">{reference(id)}</p>
                                </div>
                                {status_badge(booking.status)}
                            </div>
                            {holding.then(|| view! {
                                <a class="mt-2 inline-block text-sm font-medium text-indigo-700 underline" href=format!("/checkout/{id}")>"Continue to checkout"</a>
                            })}
                            {(!refunds.is_empty()).then(|| view! {
                                <ul class="mt-2 space-y-0.5 text-sm text-slate-700" data-testid="refunds">
                                    {refunds.into_iter().map(|refund| view! {
                                        <li>
                                            "Refunded " <strong>{format_price(refund.amount_cents)}</strong>
                                            {format!(" ({}% of {}) for seats {}", refund.refund_percent, format_price(refund.paid_cents), refund.seats.join(", "))}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            })}
                            {cancellable.then(|| view! {
                                <button type="button" class="mt-2 text-sm font-medium text-red-700 hover:underline disabled:opacity-50"
                                    disabled=move || cancel.pending().get()
                                    on:click=ask>
                                    {if holding { "Release seats" } else { "Cancel booking" }}
                                </button>
                            })}
                            {some_cancellable.then(|| view! {
                                <CancelSomeSeats booking_id=id seats=seats_of_booking refund_percent action=cancel_seats/>
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// What the customer is asked before cancelling: what they get back.
fn cancel_question(booking: &Booking, refund_percent: u8) -> String {
    match booking.status {
        BookingStatus::Pending => "Release these seats? They go back on sale.".to_owned(),
        _ => format!(
            "Cancel this booking? You get back {} ({refund_percent}% of {}) under its cancellation policy.",
            format_price(crate::domain::cancellation::refund_cents(booking.total_cents, refund_percent)),
            format_price(booking.total_cents)
        ),
    }
}

/// Choosing some seats of a confirmed booking to cancel; the rest stay booked.
#[component]
fn CancelSomeSeats(
    booking_id: i64,
    seats: Vec<crate::domain::BookedSeat>,
    refund_percent: u8,
    action: ServerAction<CancelSeats>,
) -> impl IntoView {
    let chosen = RwSignal::new(Vec::<i32>::new());
    let toggle = move |seat_id: i32, on: bool| {
        chosen.update(|c| {
            c.retain(|&s| s != seat_id);
            if on {
                c.push(seat_id);
            }
        })
    };
    let total = seats.len();
    view! {
        <details class="mt-2 text-sm">
            <summary class="cursor-pointer font-medium text-red-700">"Cancel some seats"</summary>
            <fieldset class="mt-2 space-y-2" data-testid="cancel-some-seats">
                <legend class="text-slate-600">{format!("Choose seats to give up: you get back {refund_percent}% of their price. The other seats stay booked.")}</legend>
                <div class="flex flex-wrap gap-3">
                    {seats.into_iter().map(|seat| {
                        let seat_id = seat.seat_id;
                        view! {
                            <label class="flex items-center gap-1">
                                <input type="checkbox" on:change=move |e| toggle(seat_id, event_target_checked(&e))/>
                                {seat.label}
                            </label>
                        }
                    }).collect_view()}
                </div>
                <button type="button" class="rounded-md border border-red-300 px-3 py-1 font-medium text-red-800 hover:bg-red-50 disabled:opacity-50"
                    disabled=move || { let n = chosen.with(Vec::len); n == 0 || n == total || action.pending().get() }
                    on:click=move |_| {
                        let seat_ids = chosen.get_untracked();
                        let question = format!(
                            "Cancel {} of your seats? You get back {refund_percent}% of their price; the other seats stay booked.",
                            seat_ids.len()
                        );
                        if window().confirm_with_message(&question).unwrap_or(false) {
                            action.dispatch(CancelSeats { booking_id, seat_ids, promised_refund_percent: Some(refund_percent) });
                        }
                    }>
                    {move || format!("Cancel {} selected", chosen.with(Vec::len))}
                </button>
            </fieldset>
        </details>
    }
}

/// The page a confirmed booking lands on, with its reference.
#[component]
pub fn BookingPage() -> impl IntoView {
    let booking = booking_resource();
    view! {
        <Title text="Your booking · Box Office"/>
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    let BookingWithShow { booking, show, .. } = booking.await?;
                    let seats = booking.seats.iter().map(|s| s.label.clone()).collect::<Vec<_>>().join(", ");
                    let confirmed = booking.status == BookingStatus::Confirmed;
                    Ok::<_, AppError>(view! {
                        <section class="mx-auto max-w-lg space-y-4 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200">
                            {if confirmed {
                                view! { <h1 class="text-2xl font-bold tracking-tight text-emerald-800">"You're booked!"</h1> }.into_any()
                            } else {
                                view! { <h1 class="text-2xl font-bold tracking-tight">"Booking"</h1> }.into_any()
                            }}
                            <p>"Reference " <strong class="font-mono" data-testid="booking-reference">{reference(booking.id)}</strong></p>
                            <div>
                                <p class="font-semibold">{show.title.clone()}</p>
                                <p class="text-sm text-slate-600">{show.place()} " · " {show.starts_at_display()}</p>
                            </div>
                            <dl class="grid grid-cols-2 gap-2 text-sm">
                                <dt class="text-slate-500">"Seats"</dt><dd class="font-medium" data-testid="booking-seats">{seats}</dd>
                                <dt class="text-slate-500">"Total"</dt><dd class="font-medium">{format_price(booking.total_cents)}</dd>
                                <dt class="text-slate-500">"Status"</dt><dd>{status_badge(booking.status)}</dd>
                            </dl>
                            <a class="inline-block font-medium text-indigo-700 underline" href="/bookings">"All my bookings"</a>
                        </section>
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
