//! The customer's bookings, and the confirmation page of one.

use leptos::prelude::*;
use leptos_meta::Title;

use super::checkout::booking_resource;
use crate::api::bookings::{CancelBooking, my_bookings};
use crate::domain::show::format_price;
use crate::domain::{BookingStatus, BookingWithShow};
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
    let bookings = Resource::new(move || cancel.version().get(), |_| my_bookings());
    view! {
        <Title text="My bookings · Box Office"/>
        <section class="space-y-4">
            <h1 class="text-3xl font-bold tracking-tight">"My bookings"</h1>
            {move || cancel.value().get().and_then(Result::err).map(|e| view! {
                <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900">{e.to_string()}</p>
            })}
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                    {move || Suspend::new(async move {
                        let list = bookings.await?;
                        Ok::<_, AppError>(view! { <BookingList list cancel/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn BookingList(list: Vec<BookingWithShow>, cancel: ServerAction<CancelBooking>) -> impl IntoView {
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
                    let holding = booking.status == BookingStatus::Pending;
                    let ask = move |_| {
                        let sure = window()
                            .confirm_with_message("Cancel this booking? Your seats go back on sale.")
                            .unwrap_or(false);
                        if sure {
                            cancel.dispatch(CancelBooking { booking_id: id });
                        }
                    };
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
                            {cancellable.then(|| view! {
                                <button type="button" class="mt-2 text-sm font-medium text-red-700 hover:underline disabled:opacity-50"
                                    disabled=move || cancel.pending().get()
                                    on:click=ask>
                                    "Cancel booking"
                                </button>
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
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
