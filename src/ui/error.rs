use leptos::prelude::*;

/// What an error boundary shows instead of a page that failed. The messages come from
/// `AppError`, which is written for people; server detail stays in the server log.
#[component]
pub fn ErrorNotice(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let messages = move || {
        let mut messages: Vec<String> = errors.read().iter().map(|(_, error)| error.to_string()).collect();
        messages.dedup();
        messages
    };

    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 p-4 text-red-900">
            <h2 class="font-semibold">"Sorry, this did not work"</h2>
            <ul class="mt-1 list-disc pl-5">
                {move || messages().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
            </ul>
        </div>
    }
}
