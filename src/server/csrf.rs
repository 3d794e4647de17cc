//! Cross-site request forgery protection: a browser tells where a request comes from
//! (`Sec-Fetch-Site`, `Origin`), so a state-changing request that another website made the
//! browser send is refused before it reaches a server function or API handler. Clients that
//! are not browsers (curl, apps) send neither header and carry no ambient cookies to abuse,
//! so they pass.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error_response::{json_error, server_fn_error};
use crate::error::AppError;

pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if is_safe(request.method()) || !is_cross_site(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(
        origin = ?request.headers().get(header::ORIGIN),
        uri = %request.uri(),
        "refused a cross-site request"
    );
    // Server functions decode their own error type; everyone else reads the API's error shape.
    if request.uri().path().starts_with("/rpc/") {
        server_fn_error(&AppError::CrossSiteRequest)
    } else {
        json_error(&AppError::CrossSiteRequest)
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none" is the user typing the address; "same-site" is another host of the same site,
        // which is still not us.
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return false };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, host)| host);
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn the_same_origin_and_non_browsers_pass() {
        assert!(!is_cross_site(&headers(&[])));
        assert!(!is_cross_site(&headers(&[("host", "shop.example:3000")])));
        assert!(!is_cross_site(&headers(&[
            ("host", "shop.example:3000"),
            ("origin", "http://shop.example:3000")
        ])));
        assert!(!is_cross_site(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://x.example")
        ])));
    }

    #[test]
    fn other_sites_are_refused() {
        assert!(is_cross_site(&headers(&[("host", "shop.example"), ("origin", "https://evil.example")])));
        assert!(is_cross_site(&headers(&[("host", "shop.example"), ("origin", "null")])));
        assert!(is_cross_site(&headers(&[("host", "shop.example:3000"), ("origin", "http://shop.example")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
    }
}
