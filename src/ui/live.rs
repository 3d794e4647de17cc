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
