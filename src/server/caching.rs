//! How long browsers and proxies may keep what we send. Files whose names carry a hash of
//! their content (cargo-leptos's `hash-files`: `boxoffice.<22 characters>.wasm`) never change
//! under that name, so they are kept for a year without asking again; other static files are
//! asked about again each time (answered 304 while unchanged); pages and API answers depend
//! on who asks and on live seats, so they are private and revalidated.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The hashed files of the site's pkg folder.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Static files without a hash in their name.
const REVALIDATE: &str = "no-cache";
/// Everything else, unless the handler said otherwise (event streams do).
const PRIVATE: &str = "private, no-cache";

/// Adds `Cache-Control` to every answer that has none.
pub async fn cache_control(request: Request, next: Next) -> Response {
    let policy = match request.uri().path().strip_prefix("/pkg/") {
        Some(file) if has_content_hash(file) => IMMUTABLE,
        Some(_) => REVALIDATE,
        None => PRIVATE,
    };
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().is_redirection() {
        response.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static(policy));
    }
    response
}

/// Whether a file name has a content hash as cargo-leptos writes it: a dot-separated part of
/// 22 URL-safe base64 characters (an MD5) before the extension.
fn has_content_hash(file: &str) -> bool {
    let mut parts = file.rsplit('.');
    let (Some(_extension), Some(hash)) = (parts.next(), parts.next()) else { return false };
    // "boxoffice_bg.wasm.br" style names: the compressed variants are served by the same path.
    parts.next().is_some()
        && hash.len() == 22
        && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::has_content_hash;

    #[test]
    fn only_names_with_a_content_hash_are_immutable() {
        assert!(has_content_hash("boxoffice.Xk3f9_aB-cD4eF5gH6iJ7k.wasm"));
        assert!(has_content_hash("boxoffice.Xk3f9_aB-cD4eF5gH6iJ7k.css"));
        for plain in ["boxoffice.wasm", "boxoffice_bg.wasm", "boxoffice.css", "a.b", "short.abc.js", ""] {
            assert!(!has_content_hash(plain), "{plain}");
        }
        assert!(!has_content_hash("boxoffice.Xk3f9_aB-cD4eF5gH6iJ7!.js"), "not base64");
    }
}
