//! Log in and register. Both are plain forms that work before the page is interactive; once
//! hydrated, a success goes straight on to where the visitor was heading (`?next=`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::session::{safe_next, use_session};
use crate::domain::user::User;
use crate::error::AppError;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let next = next_path();
    follow_on_success(session.login.value(), next);
    let error = move || session.login.value().get().and_then(Result::err);

    view! {
        <Title text="Log in · Box Office"/>
        <AuthCard title="Log in">
            <AlreadySignedIn next/>
            <ActionForm action=session.login attr:class="space-y-4" attr:novalidate="">
                <Field label="Email" name="email" kind="email" autocomplete="username"/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password"/>
                <FormError error/>
                <SubmitButton pending=session.login.pending() label="Log in"/>
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600">
                "New here? "
                <a class="font-medium text-indigo-700 underline" href=move || register_href(next.get())>
                    "Create an account"
                </a>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let session = use_session();
    let next = next_path();
    follow_on_success(session.register.value(), next);
    let error = move || session.register.value().get().and_then(Result::err);

    view! {
        <Title text="Create an account · Box Office"/>
        <AuthCard title="Create an account">
            <AlreadySignedIn next/>
            <ActionForm action=session.register attr:class="space-y-4" attr:novalidate="">
                <Field label="Name" name="name" kind="text" autocomplete="name"/>
                <Field label="Email" name="email" kind="email" autocomplete="email"/>
                <Field label="Password (at least 10 characters)" name="password" kind="password" autocomplete="new-password"/>
                <FormError error/>
                <SubmitButton pending=session.register.pending() label="Create account"/>
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600">
                "Have an account? "
                <a class="font-medium text-indigo-700 underline" href=move || super::session::login_url(&next.get())>
                    "Log in"
                </a>
            </p>
        </AuthCard>
    }
}

fn next_path() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| safe_next(query.read().get("next")))
}

fn register_href(next: String) -> String {
    format!("/register?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>())
}

/// Goes on to `next` once the action signed someone in.
fn follow_on_success(
    value: impl Get<Value = Option<Result<User, AppError>>> + Send + Sync + 'static,
    next: Memo<String>,
) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = value.get() {
            navigate(&next.get_untracked(), Default::default());
        }
    });
}

/// Without JavaScript a successful form lands back here, signed in: say so and offer the way on.
#[component]
fn AlreadySignedIn(next: Memo<String>) -> impl IntoView {
    let session = use_session();
    view! {
        <Transition>
            {move || Suspend::new(async move {
                session.user.await.ok().flatten().map(|user| {
                    view! {
                        <p class="mb-4 rounded-md bg-emerald-50 p-3 text-emerald-900" role="status">
                            "You are logged in as " {user.name} ". "
                            <a class="font-medium underline" href=next.get()>"Continue"</a>
                        </p>
                    }
                })
            })}
        </Transition>
    }
}

#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="mx-auto max-w-md rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200">
            <h1 class="mb-4 text-2xl font-bold tracking-tight">{title}</h1>
            {children()}
        </section>
    }
}

#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required
                class="mt-1 w-full rounded-md border border-slate-300 bg-white px-3 py-2"
            />
        </div>
    }
}

/// The message of a failed submission, announced to screen readers.
#[component]
pub fn FormError(error: impl Fn() -> Option<AppError> + Send + Sync + 'static) -> impl IntoView {
    move || {
        error().map(|e| {
            view! {
                <p role="alert" class="rounded-md bg-red-50 p-3 text-sm text-red-900" data-testid="form-error">
                    {e.to_string()}
                </p>
            }
        })
    }
}

#[component]
pub fn SubmitButton(pending: Memo<bool>, label: &'static str) -> impl IntoView {
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            class="w-full rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 disabled:opacity-60"
        >
            {move || if pending.get() { "Please wait…" } else { label }}
        </button>
    }
}
