//! Small things the browser provides (and the server stands in for while rendering): its clock
//! and random numbers.

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

/// Runs `tick` every `period` in the browser for as long as the calling component lives. The
/// server has no timers (wasm-bindgen aborts the process there), so nothing happens on it.
pub fn every(period: std::time::Duration, tick: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::{on_cleanup, set_interval_with_handle};
        if let Ok(handle) = set_interval_with_handle(tick, period) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (period, tick);
}
