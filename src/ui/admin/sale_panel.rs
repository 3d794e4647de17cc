//! The admin's "Sale and waiting room" panel on a show's page (issue 19): when the sale opens
//! and whether a waiting room stands in front of it (its rate, burst and pass length), the
//! room's figures read again every second, and pausing, resuming or opening the sale now.

use leptos::prelude::*;

use crate::api::admin::{OpenSaleNow, PauseAdmissions, SetSale, get_sale};
use crate::domain::show::format_time;
use crate::domain::waiting_room::{SaleState, thousands};
use crate::ui::browser::every;

#[component]
pub fn SalePanel(show_id: i64) -> impl IntoView {
    let set = ServerAction::<SetSale>::new();
    let pause = ServerAction::<PauseAdmissions>::new();
    let open_now = ServerAction::<OpenSaleNow>::new();
    // The form is drawn from this (again after a save or an opening, never while typing).
    let settings = Resource::new(move || (set.version().get(), open_now.version().get()), move |_| get_sale(show_id));
    // The figures, read every second in the browser and after every action.
    let live = RwSignal::new(None::<SaleState>);
    // One read at a time: a slow answer is not overtaken by the next second's.
    let reading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    every(std::time::Duration::from_secs(1), move || {
        use std::sync::atomic::Ordering;
        if reading.swap(true, Ordering::AcqRel) {
            return;
        }
        let reading = reading.clone();
        leptos::task::spawn_local(async move {
            if let Ok(state) = get_sale(show_id).await {
                // The page may have gone meanwhile.
                let _ = live.try_set(Some(state));
            }
            reading.store(false, Ordering::Release);
        });
    });
    for action in [set.value(), pause.value(), open_now.value()] {
        Effect::new(move |_| {
            if let Some(Ok(state)) = action.get() {
                live.set(Some(state));
            }
        });
    }
    let error = move || {
        [set.value().get(), pause.value().get(), open_now.value().get()].into_iter().flatten().find_map(Result::err)
    };
    let saved = move || matches!(set.value().get(), Some(Ok(_)));
    let busy = move || set.pending().get() || pause.pending().get() || open_now.pending().get();

    view! {
        <div class="space-y-3 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200" data-testid="sale-panel">
            <h2 class="text-lg font-semibold">"Sale and waiting room"</h2>
            <p class="text-sm text-slate-600">
                "Nothing can be held or booked before the opening. With a waiting room, customers who join before it get a random place when it comes, and are let in at the rate set here."
            </p>
            {move || error().map(|e| view! { <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900" data-testid="form-error">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(state) => {
                            let form = state.clone();
                            let figures = Signal::derive(move || live.get().unwrap_or_else(|| state.clone()));
                            view! {
                                <SaleFigures show_id figures pause open_now busy/>
                                <SaleForm show_id state=form set saved/>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn SaleFigures(
    show_id: i64,
    figures: Signal<SaleState>,
    pause: ServerAction<PauseAdmissions>,
    open_now: ServerAction<OpenSaleNow>,
    busy: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let opens = move || {
        let state = figures.get();
        match state.sale_opens_at {
            Some(at) if at > state.now => format!("Opens {}", format_time(at)),
            Some(at) => format!("Opened {}", format_time(at)),
            None => "On sale (no opening time)".to_owned(),
        }
    };
    let not_open_yet = move || figures.with(|s| s.sale_opens_at.is_some_and(|at| at > s.now));
    let paused = move || figures.with(|s| s.waiting_room.as_ref().is_some_and(|r| r.paused));
    let has_room = move || figures.with(|s| s.waiting_room.is_some());
    let confirm_open = move |_| {
        let sure = window()
            .confirm_with_message("Open the sale now? Customers can book (or are let in from the waiting room) at once.")
            .unwrap_or(false);
        if sure {
            open_now.dispatch(OpenSaleNow { show_id });
        }
    };

    view! {
        <p class="font-medium" data-testid="sale-opens">{opens}</p>
        {move || figures.get().waiting_room.map(|room| view! {
            <dl class="grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-4" aria-live="off">
                <div><dt class="text-slate-500">"Waiting"</dt><dd class="text-xl font-semibold" data-testid="sale-waiting">{thousands(room.waiting)}</dd></div>
                <div><dt class="text-slate-500">"Admitted"</dt><dd class="text-xl font-semibold" data-testid="sale-admitted">{thousands(room.admitted)}</dd></div>
                <div><dt class="text-slate-500">"Passes in use"</dt><dd class="text-xl font-semibold" data-testid="sale-passes">{thousands(room.passes_in_use)}</dd></div>
                <div>
                    <dt class="text-slate-500">"Rate"</dt>
                    <dd class="font-semibold" data-testid="sale-rate">
                        {format!("{} a minute · burst {} · passes {} min", thousands(room.settings.admissions_per_minute.into()), room.settings.burst, room.settings.pass_minutes)}
                    </dd>
                </div>
            </dl>
            <p class="text-sm text-slate-600" data-testid="sale-room-state">
                {match (room.paused, room.opened_at) {
                    (true, _) => "Admissions are paused.".to_owned(),
                    (false, Some(at)) => format!("The line opened {}; admitting.", format_time(at)),
                    (false, None) => "The line opens with the sale.".to_owned(),
                }}
            </p>
        })}
        <div class="flex flex-wrap gap-2">
            {move || has_room().then(|| view! {
                <button type="button" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-50"
                    disabled=busy
                    on:click=move |_| { pause.dispatch(PauseAdmissions { show_id, paused: !paused() }); }>
                    {move || if paused() { "Resume admissions" } else { "Pause admissions" }}
                </button>
            })}
            {move || not_open_yet().then(|| view! {
                <button type="button" class="rounded-md bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 disabled:opacity-50"
                    disabled=busy
                    on:click=confirm_open>
                    "Open sale now"
                </button>
            })}
        </div>
    }
}

/// The settings, as a form that also works before the script loads.
#[component]
fn SaleForm(
    show_id: i64,
    state: SaleState,
    set: ServerAction<SetSale>,
    saved: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let room = state.waiting_room.as_ref().map(|r| r.settings);
    let with_room = RwSignal::new(room.is_some());
    let opens_at = state.sale_opens_at.map(|at| at.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default();
    let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let field = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 disabled:bg-slate-100";

    view! {
        <ActionForm action=set attr:class="grid gap-3 border-t border-slate-100 pt-3 sm:grid-cols-2 sm:items-end" attr:data-testid="sale-form">
            <input type="hidden" name="show_id" value=show_id/>
            <label class="block text-sm font-medium text-slate-700">"Sale opens (UTC; blank: at once)"
                <input name="sale_opens_at" type="datetime-local" value=opens_at class=field/>
            </label>
            <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                <input type="checkbox" name="waiting_room" value="true" prop:checked=with_room
                    on:change=move |e| with_room.set(event_target_checked(&e))/>
                "Waiting room in front of the sale"
            </label>
            <label class="block text-sm font-medium text-slate-700">"Admissions per minute"
                <input name="admissions_per_minute" type="number" min="1" inputmode="numeric" class=field
                    value=number(room.map(|r| r.admissions_per_minute)) disabled=move || !with_room.get()/>
            </label>
            <label class="block text-sm font-medium text-slate-700">"Burst (blank: five seconds' worth)"
                <input name="burst" type="number" min="1" inputmode="numeric" class=field
                    value=number(room.map(|r| r.burst)) disabled=move || !with_room.get()/>
            </label>
            <label class="block text-sm font-medium text-slate-700">"Pass length in minutes (blank: 10)"
                <input name="pass_minutes" type="number" min="1" inputmode="numeric" class=field
                    value=number(room.map(|r| r.pass_minutes)) disabled=move || !with_room.get()/>
            </label>
            <div class="flex items-center gap-3">
                <button type="submit" class="rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 disabled:opacity-50"
                    disabled=move || set.pending().get()>
                    "Save sale settings"
                </button>
                {move || saved().then(|| view! { <span role="status" class="text-sm text-emerald-800">"Saved."</span> })}
            </div>
        </ActionForm>
    }
}
