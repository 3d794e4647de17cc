use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="border-b border-slate-200 bg-white">
            <nav
                aria-label="Main"
                class="mx-auto flex w-full max-w-5xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3"
            >
                <a href="/" class="text-lg font-bold tracking-tight text-indigo-700">
                    "Box Office"
                </a>
                <A
                    href="/"
                    exact=true
                    attr:class="text-sm font-medium text-slate-600 hover:text-slate-900 aria-[current=page]:text-indigo-700"
                >
                    "What's on"
                </A>
            </nav>
        </header>
    }
}
