use leptos::prelude::*;
use leptos_meta::Title;

/// The page for any address the router does not know; answered with HTTP 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }

    view! {
        <Title text="Page not found · Box Office"/>
        <section class="py-16 text-center">
            <p class="text-sm font-semibold text-indigo-700">"404"</p>
            <h1 class="mt-2 text-3xl font-bold">"Page not found"</h1>
            <p class="mt-3 text-slate-600">
                "There is no page at this address. It may have moved, or the link may be mistyped."
            </p>
            <a
                href="/"
                class="mt-6 inline-block rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800"
            >
                "See what's on"
            </a>
        </section>
    }
}
