use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::ui::admin::{dashboard::AdminDashboard, show_detail::AdminShowPage, show_form::NewShowPage};
use crate::ui::auth::{LoginPage, RegisterPage};
use crate::ui::checkout::CheckoutPage;
use crate::ui::my_bookings::{BookingPage, MyBookingsPage};
use crate::ui::session::provide_session;
use crate::ui::show_page::ShowPageView;
use crate::ui::toast::{ToastRegion, provide_toasts};
use crate::ui::{home::HomePage, layout::SiteHeader, not_found::NotFound};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // Both read the hashed file names of the release build (see Settings::leptos_options).
                <HashedStylesheet id="leptos" options=options.clone()/>
                <HydrationScripts options/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_session();
    provide_toasts();

    // Effects run only in the browser, so this attribute appears once the WASM app has taken
    // over the server's HTML: end-to-end tests wait for it before they interact.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title text="Box Office"/>
        <Router>
            <SiteHeader/>
            <main class="mx-auto w-full max-w-5xl px-4 py-6">
                <Routes fallback=NotFound>
                    // Async: the server waits for the data and sends complete HTML, so the page
                    // reads right without JavaScript and errors can still set the status code.
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/shows/:id") view=ShowPageView ssr=SsrMode::Async/>
                    <Route path=path!("/checkout/:id") view=CheckoutPage ssr=SsrMode::Async/>
                    <Route path=path!("/bookings") view=MyBookingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/bookings/:id") view=BookingPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=AdminDashboard ssr=SsrMode::Async/>
                    <Route path=path!("/admin/shows/new") view=NewShowPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/shows/:id") view=AdminShowPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <ToastRegion/>
        </Router>
    }
}
