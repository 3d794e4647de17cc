use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use super::session::login_url;
use crate::error::AppError;

/// What an error boundary shows instead of a page that failed. The messages come from
/// `AppError`, which is written for people; server detail stays in the server log. A guest
/// who reached a page that needs an account is sent to log in and brought back afterwards.
/// Rendered on the server, the page answers with the error's status (404, 403, ...).
#[component]
pub fn ErrorNotice(errors: ArcRwSignal<Errors>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let status = errors
            .read_untracked()
            .iter()
            .filter_map(|(_, error)| error.downcast_ref::<AppError>())
            .find(|error| !matches!(error, AppError::NotSignedIn))
            .map(AppError::status_code);
        if let Some(status) = status {
            response.set_status(status);
        }
    }
    let needs_login = {
        let errors = errors.clone();
        move || {
            errors
                .read()
                .iter()
                .any(|(_, error)| matches!(error.downcast_ref::<AppError>(), Some(AppError::NotSignedIn)))
        }
    };
    let messages = move || {
        let mut messages: Vec<String> = errors.read().iter().map(|(_, error)| error.to_string()).collect();
        messages.dedup();
        messages
    };
    let location = use_location();
    let here = move || {
        let search = location.search.get();
        let path = location.pathname.get();
        if search.is_empty() { path } else { format!("{path}?{search}") }
    };

    view! {
        <Show
            when=needs_login
            fallback=move || {
                let messages = messages.clone();
                view! {
                    <div role="alert" class="rounded-lg border border-red-200 bg-red-50 p-4 text-red-900">
                        <h2 class="font-semibold">"Sorry, this did not work"</h2>
                        <ul class="mt-1 list-disc pl-5">
                            {move || messages().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                        </ul>
                    </div>
                }
            }
        >
            <Redirect path=login_url(&here())/>
        </Show>
    }
}
