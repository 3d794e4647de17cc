//! Server-Sent Events in the browser: the live feed of seat changes and seats left.

/// Calls `on_event(name, data)` for every server-sent event named in `names` from `url`, for
/// as long as the calling component lives. The browser reconnects by itself after a network
/// failure, and the server then starts again with a full snapshot. Nothing happens on the
/// server.
pub fn use_server_events(
    url: String,
    names: &'static [&'static str],
    on_event: impl Fn(&str, String) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use std::rc::Rc;

        use leptos::wasm_bindgen::JsCast;
        use leptos::wasm_bindgen::closure::Closure;
        use web_sys::{EventSource, MessageEvent};

        let Ok(source) = EventSource::new(&url) else { return };
        let on_event = Rc::new(on_event);
        let listeners: Vec<Closure<dyn Fn(MessageEvent)>> = names
            .iter()
            .map(|&name| {
                let on_event = on_event.clone();
                let listener = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                    if let Some(data) = event.data().as_string() {
                        on_event(name, data);
                    }
                });
                let _ = source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
                listener
            })
            .collect();
        let open = send_wrapper::SendWrapper::new((source, listeners));
        leptos::prelude::on_cleanup(move || open.0.close());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, names, on_event);
}

/// Milliseconds since 1970 by the browser's clock (the server's on the server).
pub fn now_millis() -> f64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::now();
    #[cfg(not(feature = "hydrate"))]
    return std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or_default();
}

/// A random key for one checkout, so a retried hold is recognised as the same request.
pub fn checkout_key() -> String {
    format!("checkout-{:08x}{:08x}{:08x}", random_u32(), random_u32(), random_u32())
}

#[cfg(feature = "hydrate")]
fn random_u32() -> u32 {
    (js_sys::Math::random() * f64::from(u32::MAX)) as u32
}

#[cfg(all(feature = "ssr", not(feature = "hydrate")))]
fn random_u32() -> u32 {
    rand::random()
}
