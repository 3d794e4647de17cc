//! Checkout: the held seats, the total, a live countdown to the end of the hold, and Confirm
//! (payment is simulated) or Release.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::browser::now_millis;
use crate::api::bookings::{CancelBooking, ConfirmBooking, get_booking};
use crate::domain::show::format_price;
use crate::domain::{BookingStatus, BookingWithShow};
use crate::error::AppError;
use crate::ui::cancellation::PolicyTerms;
use crate::ui::error::ErrorNotice;

fn booking_id_param() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()))
}

/// The booking named in the URL, for the checkout and confirmation pages.
pub fn booking_resource() -> Resource<Result<BookingWithShow, AppError>> {
    let id = booking_id_param();
    Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_booking(id).await,
                None => Err(AppError::BookingNotFound),
            }
        },
    )
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let booking = booking_resource();
    view! {
        <Title text="Checkout · Box Office"/>
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading your hold…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    let view = booking.await?;
                    Ok::<_, AppError>(match view.booking.status {
                        BookingStatus::Pending => view! { <Checkout view/> }.into_any(),
                        _ => view! { <Redirect path=format!("/bookings/{}", view.booking.id)/> }.into_any(),
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// "1:59", "0:05".
fn countdown(millis: f64) -> String {
    let seconds = (millis / 1000.0).ceil().max(0.0) as i64;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[component]
fn Checkout(view: BookingWithShow) -> impl IntoView {
    let BookingWithShow { booking, show, now } = view;
    let booking_id = booking.id;
    let show_id = show.id;
    // The deadline on this browser's clock, from the server's own view of the time left.
    let left_at_load =
        booking.hold_expires_at.map(|until| (until - now).num_milliseconds() as f64).unwrap_or_default();
    let loaded_at = now_millis();
    let clock = RwSignal::new(loaded_at);
    // The clock ticks in the browser only: the server has no timers (wasm-bindgen aborts the
    // process there) and renders the time left as of the read.
    #[cfg(feature = "hydrate")]
    {
        let ticker =
            set_interval_with_handle(move || clock.set(now_millis()), std::time::Duration::from_millis(250))
                .ok();
        on_cleanup(move || {
            if let Some(ticker) = ticker {
                ticker.clear();
            }
        });
    }
    let left = move || left_at_load - (clock.get() - loaded_at);

    let confirm = ServerAction::<ConfirmBooking>::new();
    let release = ServerAction::<CancelBooking>::new();
    let expired = move || left() <= 0.0 || matches!(confirm.value().get(), Some(Err(AppError::HoldExpired)));
    let navigate = use_navigate();
    Effect::new(move |_| match (confirm.value().get(), release.value().get()) {
        (Some(Ok(_)), _) => navigate(&format!("/bookings/{booking_id}"), Default::default()),
        (_, Some(Ok(_))) => navigate(&format!("/shows/{show_id}"), Default::default()),
        _ => {}
    });
    let error = move || {
        [confirm.value().get(), release.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
            .filter(|e| *e != AppError::HoldExpired)
    };
    let seats = booking.seats.iter().map(|s| s.label.clone()).collect::<Vec<_>>().join(", ");

    view! {
        <section class="mx-auto max-w-lg space-y-4 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200">
            <h1 class="text-2xl font-bold tracking-tight">"Checkout"</h1>
            <div>
                <p class="font-semibold">{show.title.clone()}</p>
                <p class="text-sm text-slate-600">{show.place()} " · " {show.starts_at_display()}</p>
            </div>
            <dl class="grid grid-cols-2 gap-2 text-sm">
                <dt class="text-slate-500">"Seats"</dt>
                <dd class="font-medium" data-testid="checkout-seats">{seats}</dd>
                <dt class="text-slate-500">"Total"</dt>
                <dd class="font-medium" data-testid="checkout-total">{format_price(booking.total_cents)}</dd>
            </dl>
            // The policy stored with this hold: what confirming agrees to, and what a later
            // cancellation refunds by.
            <PolicyTerms policy=booking.cancellation_policy.clone() heading="If you cancel"/>
            <Show
                when=move || !expired()
                fallback=move || view! {
                    <div role="alert" class="rounded-md bg-amber-50 p-4 text-amber-900" data-testid="hold-expired">
                        <p class="font-semibold">"Your hold ran out"</p>
                        <p>"The seats are back on sale. You can pick seats again."</p>
                        <a class="mt-2 inline-block font-medium underline" href=format!("/shows/{show_id}")>"Pick seats again"</a>
                    </div>
                }
            >
                <p class="rounded-md bg-indigo-50 p-3 text-indigo-900">
                    "We hold these seats for you for "
                    <strong role="timer" aria-live="off" data-testid="countdown">{move || countdown(left())}</strong>
                    " more."
                </p>
                {move || error().map(|e| view! { <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900">{e.to_string()}</p> })}
                <div class="flex gap-3">
                    <button
                        type="button"
                        class="flex-1 rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 disabled:opacity-50"
                        disabled=move || confirm.pending().get() || release.pending().get()
                        on:click=move |_| { confirm.dispatch(ConfirmBooking { booking_id }); }
                    >
                        {move || if confirm.pending().get() { "Paying…" } else { "Confirm and pay" }}
                    </button>
                    <button
                        type="button"
                        class="rounded-md border border-slate-300 px-4 py-2 font-medium hover:bg-slate-50 disabled:opacity-50"
                        disabled=move || confirm.pending().get() || release.pending().get()
                        on:click=move |_| { release.dispatch(CancelBooking { booking_id, promised_refund_percent: None }); }
                    >
                        "Release seats"
                    </button>
                </div>
                <p class="text-xs text-slate-500">"Payment is simulated: no card is charged."</p>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn countdowns_read_as_minutes_and_seconds() {
        assert_eq!(super::countdown(120_000.0), "2:00");
        assert_eq!(super::countdown(4_100.0), "0:05");
        assert_eq!(super::countdown(-3.0), "0:00");
    }
}
