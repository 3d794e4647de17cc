use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

use super::live::use_server_events;
use crate::api::shows::list_shows;
use crate::domain::ShowSummary;
use crate::domain::live::ShowAvailability;
use crate::ui::error::ErrorNotice;

/// The list of what is on sale, with a search (text and day) that works as a plain form
/// without JavaScript and filters as you type once the page is hydrated. Seats left follow
/// the live feed.
#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let search = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let date = Memo::new(move |_| query.read().get("date").unwrap_or_default());
    let shows = Resource::new(move || (search.get(), date.get()), |(search, date)| list_shows(search, date, false));

    // What is typed lives in its own signal: the URL follows it (not the other way round), so
    // a slow navigation can never overwrite a newer keystroke.
    let typed = RwSignal::new(search.get_untracked());
    let picked_date = RwSignal::new(date.get_untracked());
    let navigate = use_navigate();
    Effect::watch(
        move || (typed.get(), picked_date.get()),
        move |(text, day), _, _| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            if !text.trim().is_empty() {
                query.append_pair("q", text.trim());
            }
            if !day.is_empty() {
                query.append_pair("date", day);
            }
            let query = query.finish();
            let url = if query.is_empty() { "/".to_owned() } else { format!("/?{query}") };
            navigate(&url, NavigateOptions { replace: true, scroll: false, ..Default::default() });
        },
        false,
    );

    let seats_left = RwSignal::new(HashMap::<i64, i64>::new());
    use_server_events("/events/availability".into(), &["availability"], move |_, data| {
        if let Ok(counts) = serde_json::from_str::<Vec<ShowAvailability>>(&data) {
            seats_left.update(|left| left.extend(counts.iter().map(|c| (c.show_id, c.available_seats))));
        }
    });

    view! {
        <Title text="What's on · Box Office"/>
        <section class="space-y-6">
            <div class="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
                <div>
                    <h1 class="text-3xl font-bold tracking-tight">"What's on"</h1>
                    <p class="text-slate-600">"Shows and trips with seats on sale."</p>
                </div>
                <form method="get" action="/" role="search" class="flex w-full flex-wrap gap-2 sm:w-auto">
                    <label for="show-search" class="sr-only">"Search shows and trips"</label>
                    <input
                        id="show-search"
                        type="search"
                        name="q"
                        bind:value=typed
                        maxlength="100"
                        placeholder="Title, venue or route"
                        class="min-w-0 flex-1 rounded-md border border-slate-300 bg-white px-3 py-2 sm:w-64"
                    />
                    <label for="show-date" class="sr-only">"Date"</label>
                    <input
                        id="show-date"
                        type="date"
                        name="date"
                        bind:value=picked_date
                        class="rounded-md border border-slate-300 bg-white px-3 py-2"
                    />
                    <button
                        type="submit"
                        class="rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800"
                    >
                        "Search"
                    </button>
                </form>
            </div>
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading shows…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                    {move || Suspend::new(async move {
                        let shows = shows.await?;
                        Ok::<_, crate::error::AppError>(
                            view! { <ShowList shows search=search.get_untracked() seats_left/> },
                        )
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn ShowList(
    shows: Vec<ShowSummary>,
    search: String,
    seats_left: RwSignal<HashMap<i64, i64>>,
) -> impl IntoView {
    if shows.is_empty() {
        let message = if search.trim().is_empty() {
            "Nothing is on sale right now. Check back soon.".to_owned()
        } else {
            format!("No shows or trips match “{}”.", search.trim())
        };
        return view! { <p class="rounded-lg bg-white p-6 text-slate-600 shadow-sm" data-testid="show-list-empty">{message}</p> }
            .into_any();
    }

    view! {
        <ul class="grid gap-4 sm:grid-cols-2" data-testid="show-list">
            {shows
                .into_iter()
                .map(|show| {
                    let id = show.id;
                    let availability = {
                        let show = show.clone();
                        move || {
                            let mut show = show.clone();
                            if let Some(left) = seats_left.with(|l| l.get(&id).copied()) {
                                show.available_seats = left;
                            }
                            show.availability_display().map(|text| (text, show.sold_out()))
                        }
                    };
                    view! {
                        <li class="relative rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 hover:ring-indigo-300">
                            <p class="text-xs font-semibold uppercase tracking-wide text-indigo-700">
                                {show.kind.label()}
                            </p>
                            <h2 class="mt-1 text-lg font-semibold">
                                <a href=format!("/shows/{id}") class="after:absolute after:inset-0">{show.title.clone()}</a>
                            </h2>
                            <p class="text-slate-600">{show.place()}</p>
                            <p class="mt-2 text-sm text-slate-500">
                                <time datetime=show.starts_at.to_rfc3339()>{show.starts_at_display()}</time>
                            </p>
                            {move || availability().map(|(text, sold_out)| {
                                let tone = if sold_out { "bg-red-100 text-red-800 px-2 py-0.5 rounded" } else { "text-emerald-700" };
                                view! { <p class=format!("mt-1 inline-block text-sm font-medium {tone}") data-testid="availability">{text}</p> }
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
