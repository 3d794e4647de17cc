use leptos::prelude::*;
use leptos_router::components::A;

use super::session::use_session;

const NAV_LINK: &str =
    "text-sm font-medium text-slate-600 hover:text-slate-900 aria-[current=page]:text-indigo-700";

#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = use_session();
    view! {
        <header class="border-b border-slate-200 bg-white">
            <nav
                aria-label="Main"
                class="mx-auto flex w-full max-w-5xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3"
            >
                <a href="/" class="text-lg font-bold tracking-tight text-indigo-700">
                    "Box Office"
                </a>
                <A href="/" exact=true attr:class=NAV_LINK>
                    "What's on"
                </A>
                // Awaited in a Suspend rather than read with .get(): reading one resource with
                // .get() under several suspense boundaries can stall a streamed response
                // (leptos-rs/leptos#4578, #4851).
                <Transition>
                    {move || Suspend::new(async move {
                        match session.user.await.ok().flatten() {
                            Some(user) => {
                                let admin = (user.role == crate::domain::user::Role::Admin)
                                    .then(|| view! { <A href="/admin" attr:class=NAV_LINK>"Admin"</A> });
                                view! {
                                    <A href="/bookings" attr:class=NAV_LINK>"My bookings"</A>
                                    {admin}
                                    <span class="ml-auto text-sm text-slate-600" data-testid="signed-in-as">
                                        {user.name}
                                    </span>
                                    <ActionForm action=session.logout>
                                        <button type="submit" class="text-sm font-medium text-indigo-700 hover:underline">
                                            "Log out"
                                        </button>
                                    </ActionForm>
                                }
                                    .into_any()
                            }
                            None => {
                                view! {
                                    <span class="ml-auto"></span>
                                    <A href="/login" attr:class=NAV_LINK>"Log in"</A>
                                    <A href="/register" attr:class=NAV_LINK>"Register"</A>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}
