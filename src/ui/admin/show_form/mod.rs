//! Creating a show or trip: the details, and a layout builder (rows of seats, aisles, a
//! category per row with its price, blocked seats) with a live preview drawn by the same
//! parser the server uses, so the preview and what gets saved can never disagree.

use std::collections::{BTreeSet, HashMap};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::admin::CreateShow;
use crate::domain::{Layout, LayoutSpec, Seat, SeatStatus, ShowKind};
use crate::error::AppError;
use crate::ui::seat_map::{SeatGrid, SeatLegend};

mod draft;

use self::draft::{CategoryDraft, Draft, RowDraft};

/// The preview's seats: what the server would create.
fn preview_seats(layout: &Layout) -> Vec<Seat> {
    layout
        .seats()
        .iter()
        .map(|s| Seat {
            seat_id: s.seat_id,
            row_label: s.row_label.clone(),
            number: s.number,
            label: s.label.clone(),
            grid_row: s.grid_row,
            grid_col: s.grid_col,
            category: s.category.clone(),
            status: if s.blocked { SeatStatus::Blocked } else { SeatStatus::Available },
        })
        .collect()
}

const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 bg-white px-3 py-2";
const SMALL_INPUT: &str = "w-full rounded-md border border-slate-300 bg-white px-2 py-1";
const BUTTON: &str =
    "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50";

#[component]
pub fn NewShowPage() -> impl IntoView {
    let draft = RwSignal::new(Draft::new());
    let create = ServerAction::<CreateShow>::new();
    // The error shown: from the last save, or from checking the draft before sending it.
    let error = RwSignal::new(None::<AppError>);
    let navigate = use_navigate();
    Effect::new(move |_| match create.value().get() {
        Some(Ok(id)) => navigate(&format!("/admin/shows/{id}"), Default::default()),
        Some(Err(e)) => error.set(Some(e)),
        None => {}
    });
    let preview = Memo::new(move |_| draft.with(|d| d.layout_spec().and_then(|spec| Layout::parse(&spec))));

    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        match draft.with_untracked(Draft::spec) {
            Ok(spec) => {
                error.set(None);
                create.dispatch(CreateShow { spec });
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let field_error = move |field: &'static str| {
        move || {
            error.with(|e| match e {
                Some(AppError::InvalidInput { field: f, message }) if f == field => Some(message.clone()),
                _ => None,
            })
        }
    };
    let set = move |apply: fn(&mut Draft, String)| {
        move |event: leptos::ev::Event| {
            let value = event_target_value(&event);
            draft.update(|d| apply(d, value));
        }
    };

    view! {
        <Title text="New show or trip · Admin · Box Office"/>
        <form class="space-y-8" on:submit=save novalidate>
            <div>
                <a href="/admin" class="text-sm text-indigo-700 hover:underline">"← Dashboard"</a>
                <h1 class="text-3xl font-bold tracking-tight">"New show or trip"</h1>
            </div>
            <fieldset class="grid gap-4 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 sm:grid-cols-2">
                <legend class="sr-only">"Details"</legend>
                <label class="block text-sm font-medium text-slate-700">
                    "Kind"
                    <select
                        name="kind"
                        class=INPUT
                        on:change=move |e| {
                            let kind = if event_target_value(&e) == "TRIP" { ShowKind::Trip } else { ShowKind::Show };
                            draft.update(|d| d.kind = kind);
                        }
                    >
                        <option value="SHOW" selected=move || draft.with(|d| d.kind == ShowKind::Show)>"Show (venue)"</option>
                        <option value="TRIP" selected=move || draft.with(|d| d.kind == ShowKind::Trip)>"Trip (route)"</option>
                    </select>
                </label>
                <label class="block text-sm font-medium text-slate-700">
                    "Title"
                    <input name="title" class=INPUT prop:value=move || draft.with(|d| d.title.clone()) on:input=set(|d, v| d.title = v)/>
                    <InlineError message=field_error("title")/>
                </label>
                <Show
                    when=move || draft.with(|d| d.kind == ShowKind::Trip)
                    fallback=move || view! {
                        <label class="block text-sm font-medium text-slate-700">
                            "Venue"
                            <input name="venue" class=INPUT prop:value=move || draft.with(|d| d.venue.clone()) on:input=set(|d, v| d.venue = v)/>
                            <InlineError message=field_error("venue")/>
                        </label>
                    }
                >
                    <label class="block text-sm font-medium text-slate-700">
                        "From"
                        <input name="origin" class=INPUT prop:value=move || draft.with(|d| d.origin.clone()) on:input=set(|d, v| d.origin = v)/>
                        <InlineError message=field_error("origin")/>
                    </label>
                    <label class="block text-sm font-medium text-slate-700">
                        "To"
                        <input name="destination" class=INPUT prop:value=move || draft.with(|d| d.destination.clone()) on:input=set(|d, v| d.destination = v)/>
                        <InlineError message=field_error("destination")/>
                    </label>
                </Show>
                <label class="block text-sm font-medium text-slate-700">
                    "Starts (UTC)"
                    <input name="starts_at" type="datetime-local" class=INPUT prop:value=move || draft.with(|d| d.starts_at.clone()) on:input=set(|d, v| d.starts_at = v)/>
                    <InlineError message=field_error("starts_at")/>
                </label>
                <label class="block text-sm font-medium text-slate-700">
                    "Sale opens (UTC, optional: blank sells at once)"
                    <input name="sale_opens_at" type="datetime-local" class=INPUT prop:value=move || draft.with(|d| d.sale_opens_at.clone()) on:input=set(|d, v| d.sale_opens_at = v)/>
                    <InlineError message=field_error("sale_opens_at")/>
                </label>
            </fieldset>

            <fieldset class="space-y-4 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
                <legend class="text-lg font-semibold">"Seat layout"</legend>
                <div class="flex flex-wrap items-center gap-2">
                    <span class="text-sm text-slate-600">"Start from a preset:"</span>
                    <button type="button" class=BUTTON on:click=move |_| draft.update(|d| d.apply_preset(&LayoutSpec::small_cinema()))>"Small cinema"</button>
                    <button type="button" class=BUTTON on:click=move |_| draft.update(|d| d.apply_preset(&LayoutSpec::bus_2_plus_2()))>"2+2 bus"</button>
                    <button type="button" class=BUTTON on:click=move |_| draft.update(|d| d.apply_preset(&LayoutSpec::sleeper_2_plus_1()))>"2+1 sleeper"</button>
                </div>

                <div>
                    <h2 class="font-semibold">"Categories" <span class="font-normal text-slate-500">" (best first)"</span></h2>
                    <table class="mt-2 w-full text-sm">
                        <thead class="text-left text-xs uppercase text-slate-500">
                            <tr><th class="pr-2">"Code"</th><th class="pr-2">"Name"</th><th class="pr-2">"Price"</th><th><span class="sr-only">"Remove"</span></th></tr>
                        </thead>
                        <tbody>
                            <For each=move || draft.with(|d| d.categories.iter().map(|c| c.key).collect::<Vec<_>>()) key=|key| *key let:key>
                                <CategoryEditor draft key/>
                            </For>
                        </tbody>
                    </table>
                    <button type="button" class=format!("mt-2 {BUTTON}") on:click=move |_| draft.update(Draft::add_category)>"Add category"</button>
                </div>

                <div>
                    <h2 class="font-semibold">"Rows"</h2>
                    <table class="mt-2 w-full text-sm">
                        <thead class="text-left text-xs uppercase text-slate-500">
                            <tr><th class="pr-2">"Row"</th><th class="pr-2">"Seats"</th><th class="pr-2">"Category"</th><th class="pr-2">"Aisle after seats"</th><th><span class="sr-only">"Remove"</span></th></tr>
                        </thead>
                        <tbody>
                            <For each=move || draft.with(|d| d.rows.iter().map(|r| r.key).collect::<Vec<_>>()) key=|key| *key let:key>
                                <RowEditor draft key/>
                            </For>
                        </tbody>
                    </table>
                    <button type="button" class=format!("mt-2 {BUTTON}") on:click=move |_| draft.update(Draft::add_row)>"Add row"</button>
                </div>

                <label class="block text-sm font-medium text-slate-700">
                    "Blocked seats (not for sale), e.g. A1, C7"
                    <input name="blocked" class=INPUT prop:value=move || draft.with(|d| d.blocked.clone()) on:input=set(|d, v| d.blocked = v)/>
                </label>

                <div class="space-y-3 rounded-md bg-slate-50 p-3">
                    <h2 class="font-semibold">"Preview"</h2>
                    {move || match preview.get() {
                        Ok(layout) => {
                            let seats = preview_seats(&layout);
                            let count = seats.iter().filter(|s| s.status == SeatStatus::Available).count();
                            view! {
                                <p class="text-sm text-slate-600" data-testid="preview-count">{format!("{count} seats for sale")}</p>
                                <SeatLegend categories=layout.categories().to_vec()/>
                                <SeatGrid
                                    categories=layout.categories().to_vec()
                                    seats
                                    statuses=Signal::derive(HashMap::new)
                                    selected=Signal::derive(BTreeSet::new)
                                    selectable=|_| false
                                    on_toggle=Callback::new(|_| {})
                                    label="Preview of the seat map".into()
                                />
                            }
                                .into_any()
                        }
                        Err(e) => view! {
                            <p role="alert" class="rounded-md bg-amber-50 p-3 text-sm text-amber-900" data-testid="layout-error">
                                {e.to_string()}
                            </p>
                        }
                            .into_any(),
                    }}
                </div>
            </fieldset>

            {move || error.get().map(|e| view! {
                <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900" data-testid="form-error">{e.to_string()}</p>
            })}
            <button
                type="submit"
                disabled=move || create.pending().get()
                class="rounded-md bg-indigo-700 px-6 py-2 font-medium text-white hover:bg-indigo-800 disabled:opacity-60"
            >
                {move || if create.pending().get() { "Saving…" } else { "Create" }}
            </button>
        </form>
    }
}

#[component]
fn InlineError(message: impl Fn() -> Option<String> + Send + Sync + 'static) -> impl IntoView {
    move || message().map(|m| view! { <span class="mt-1 block text-sm font-normal text-red-700">{m}</span> })
}

#[component]
fn RowEditor(draft: RwSignal<Draft>, key: usize) -> impl IntoView {
    let get = move |read: fn(&RowDraft) -> String| {
        move || draft.with(|d| d.rows.iter().find(|r| r.key == key).map(read).unwrap_or_default())
    };
    let set = move |apply: fn(&mut RowDraft, String)| {
        move |event: leptos::ev::Event| {
            let value = event_target_value(&event);
            draft.update(|d| {
                if let Some(row) = d.rows.iter_mut().find(|r| r.key == key) {
                    apply(row, value);
                }
            });
        }
    };
    let label = get(|r| r.label.clone());
    view! {
        <tr>
            <td class="py-1 pr-2"><input aria-label=move || format!("Row {} label", label()) class=SMALL_INPUT size="3" prop:value=get(|r| r.label.clone()) on:input=set(|r, v| r.label = v)/></td>
            <td class="py-1 pr-2"><input aria-label=move || format!("Row {} seats", label()) class=SMALL_INPUT inputmode="numeric" size="3" prop:value=get(|r| r.seats.clone()) on:input=set(|r, v| r.seats = v)/></td>
            <td class="py-1 pr-2">
                <select aria-label=move || format!("Row {} category", label()) class=SMALL_INPUT on:change=set(|r, v| r.category = v)>
                    {move || {
                        let current = get(|r| r.category.clone())();
                        draft.with(|d| d.categories.iter().map(|c| {
                            let code = c.code.trim().to_ascii_uppercase();
                            let selected = code == current;
                            let name = if c.name.trim().is_empty() { code.clone() } else { c.name.clone() };
                            view! { <option value=code selected=selected>{name}</option> }
                        }).collect_view())
                    }}
                </select>
            </td>
            <td class="py-1 pr-2"><input aria-label=move || format!("Row {} aisles", label()) class=SMALL_INPUT placeholder="e.g. 2, 6" prop:value=get(|r| r.aisles.clone()) on:input=set(|r, v| r.aisles = v)/></td>
            <td class="py-1">
                <button type="button" class="text-sm text-red-700 hover:underline" aria-label=move || format!("Remove row {}", label())
                    on:click=move |_| draft.update(|d| d.rows.retain(|r| r.key != key))>"Remove"</button>
            </td>
        </tr>
    }
}

#[component]
fn CategoryEditor(draft: RwSignal<Draft>, key: usize) -> impl IntoView {
    let get = move |read: fn(&CategoryDraft) -> String| {
        move || draft.with(|d| d.categories.iter().find(|c| c.key == key).map(read).unwrap_or_default())
    };
    let set = move |apply: fn(&mut CategoryDraft, String)| {
        move |event: leptos::ev::Event| {
            let value = event_target_value(&event);
            draft.update(|d| {
                if let Some(category) = d.categories.iter_mut().find(|c| c.key == key) {
                    apply(category, value);
                }
            });
        }
    };
    view! {
        <tr>
            <td class="py-1 pr-2"><input aria-label="Category code" class=SMALL_INPUT size="8" prop:value=get(|c| c.code.clone()) on:input=set(|c, v| c.code = v.trim().to_ascii_uppercase())/></td>
            <td class="py-1 pr-2"><input aria-label="Category name" class=SMALL_INPUT prop:value=get(|c| c.name.clone()) on:input=set(|c, v| c.name = v)/></td>
            <td class="py-1 pr-2"><input aria-label="Category price" class=SMALL_INPUT inputmode="decimal" size="8" prop:value=get(|c| c.price.clone()) on:input=set(|c, v| c.price = v)/></td>
            <td class="py-1">
                <button type="button" class="text-sm text-red-700 hover:underline" on:click=move |_| draft.update(|d| d.categories.retain(|c| c.key != key))>"Remove"</button>
            </td>
        </tr>
    }
}
