//! Headers every answer carries so a browser limits what a page of ours may do: run scripts
//! and WebAssembly only from this site, talk only to this site, never be framed by another
//! site (clickjacking), never guess a content type, and send only the origin to other sites.

use axum::http::{HeaderName, HeaderValue, header};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::set_header::SetResponseHeaderLayer;

/// The pages' script is the module Leptos writes inline to load our WASM ('unsafe-inline':
/// Leptos 0.8 can nonce it, which would be the next step), the WASM needs
/// 'wasm-unsafe-eval', and the seat maps' bars use inline styles.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; \
     connect-src 'self'; \
     object-src 'none'; \
     base-uri 'self'; \
     form-action 'self'; \
     frame-ancestors 'none'";

type Layer = SetResponseHeaderLayer<HeaderValue>;

/// The layer that adds them, unless a handler set its own.
pub fn layer() -> ServiceBuilder<Stack<Layer, Stack<Layer, Stack<Layer, Stack<Layer, Identity>>>>> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    ServiceBuilder::new()
        .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
}
