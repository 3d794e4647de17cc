//! What every answer carries for the browser's protection, and the session cookie over https.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn pages_api_answers_and_errors_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let answers = [
        app.get("/").await,
        app.get("/api/v1/shows").await,
        app.get("/api/v1/no/such/thing").await,
        app.client.post(format!("{}/rpc/list_shows", app.address)).form(&[("search", "")]).send().await.unwrap(),
    ];
    for answer in answers {
        let headers = answer.headers();
        let url = answer.url().to_string();
        let csp = headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        for directive in ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "'wasm-unsafe-eval'"] {
            assert!(csp.contains(directive), "{url}: the policy {csp:?} lacks {directive}");
        }
        assert_eq!(headers.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]), "{url}");
        assert_eq!(headers.get("x-frame-options").map(|v| v.as_bytes()), Some(&b"DENY"[..]), "{url}");
        assert!(headers.contains_key("referrer-policy"), "{url}");
    }
}

#[tokio::test]
async fn over_https_the_session_cookie_is_bound_to_this_host() {
    let app = TestApp::spawn_with(|settings| settings.secure_cookies = true).await;
    let response = app
        .client
        .post(format!("{}/api/v1/auth/register", app.address))
        .json(&json!({"email": "ann@example.com", "name": "Ann", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-boxoffice_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");

    let plain = TestApp::spawn().await;
    let response = plain
        .client
        .post(format!("{}/api/v1/auth/register", plain.address))
        .json(&json!({"email": "bo@example.com", "name": "Bo", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("boxoffice_session=") && !cookie.contains("Secure"), "over http: {cookie}");
}

/// A reload of the checkout page renders it on the server: nothing there may need the browser
/// (a timer from the server once aborted the whole process).
#[tokio::test]
async fn the_checkout_of_a_live_hold_renders_on_the_server() {
    let app = TestApp::spawn().await;
    let show = crate::booking_world::create_show(&app.pool, &crate::booking_world::hall(1, 4)).await;
    let browser = crate::helpers::Browser::new(&app);
    browser.sign_up("Cora").await;
    let (status, hold) = browser
        .call_json("hold_seats", &json!({"show_id": show, "seats": {"Seats": [1, 2]}, "idempotency_key": "cora-1"}))
        .await;
    assert_eq!(status, 200, "{hold}");
    let (status, _, html) = browser.page(&format!("/checkout/{}", hold["id"])).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"countdown\"") && html.contains("A1, A2"), "{html}");
    assert_eq!(app.get("/healthz").await.status(), 200, "the server still serves");
}
