//! Short messages that appear for a few seconds ("Seat C7 was just taken"), announced to
//! screen readers.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Toasts(RwSignal<Vec<(u64, String)>>);

const SHOWN_FOR: std::time::Duration = std::time::Duration::from_secs(6);

impl Toasts {
    pub fn show(&self, message: impl Into<String>) {
        let list = self.0;
        let id = list.with_untracked(|l| l.last().map_or(0, |(id, _)| id + 1));
        list.update(|l| l.push((id, message.into())));
        set_timeout(move || list.update(|l| l.retain(|(i, _)| *i != id)), SHOWN_FOR);
    }
}

pub fn provide_toasts() {
    provide_context(Toasts(RwSignal::new(vec![])));
}

pub fn use_toasts() -> Toasts {
    expect_context()
}

#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div
            role="status"
            aria-live="polite"
            data-testid="toasts"
            class="pointer-events-none fixed inset-x-0 bottom-4 z-50 flex flex-col items-center gap-2 px-4"
        >
            <For each=move || toasts.0.get() key=|(id, _)| *id let:toast>
                <p class="pointer-events-auto max-w-md rounded-md bg-slate-900 px-4 py-2 text-sm text-white shadow-lg">
                    {toast.1}
                </p>
            </For>
        </div>
    }
}
