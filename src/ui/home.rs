use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

use crate::api::shows::list_shows;
use crate::domain::ShowSummary;
use crate::ui::error::ErrorNotice;

/// The list of what is on sale, with a search that works as a plain form without JavaScript
/// and filters as you type once the page is hydrated.
#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let search = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let shows = Resource::new(move || search.get(), list_shows);

    // What is typed lives in its own signal: the URL follows it (not the other way round), so
    // a slow navigation can never overwrite a newer keystroke.
    let typed = RwSignal::new(search.get_untracked());
    let navigate = use_navigate();
    Effect::watch(
        move || typed.get(),
        move |text, _, _| {
            let url = if text.trim().is_empty() {
                "/".to_owned()
            } else {
                format!("/?q={}", form_urlencoded::byte_serialize(text.trim().as_bytes()).collect::<String>())
            };
            navigate(&url, NavigateOptions { replace: true, scroll: false, ..Default::default() });
        },
        false,
    );

    view! {
        <Title text="What's on · Box Office"/>
        <section class="space-y-6">
            <div class="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
                <div>
                    <h1 class="text-3xl font-bold tracking-tight">"What's on"</h1>
                    <p class="text-slate-600">"Shows and trips with seats on sale."</p>
                </div>
                <form method="get" action="/" role="search" class="flex w-full gap-2 sm:w-auto">
                    <label for="show-search" class="sr-only">"Search shows and trips"</label>
                    <input
                        id="show-search"
                        type="search"
                        name="q"
                        bind:value=typed
                        maxlength="100"
                        placeholder="Title, venue or route"
                        class="w-full min-w-0 rounded-md border border-slate-300 bg-white px-3 py-2 sm:w-72"
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
                            view! { <ShowList shows search=search.get_untracked()/> },
                        )
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn ShowList(shows: Vec<ShowSummary>, search: String) -> impl IntoView {
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
                    view! {
                        <li class="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
                            <p class="text-xs font-semibold uppercase tracking-wide text-indigo-700">
                                {show.kind.label()}
                            </p>
                            <h2 class="mt-1 text-lg font-semibold">{show.title.clone()}</h2>
                            <p class="text-slate-600">{show.place()}</p>
                            <p class="mt-2 text-sm text-slate-500">
                                <time datetime=show.starts_at.to_rfc3339()>{show.starts_at_display()}</time>
                            </p>
                            {show.availability_display().map(|text| {
                                let tone = if show.sold_out() { "text-red-700" } else { "text-emerald-700" };
                                view! { <p class=format!("mt-1 text-sm font-medium {tone}")>{text}</p> }
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
