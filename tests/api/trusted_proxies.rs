//! Client addresses behind a proxy (issue 17, item 4): from a trusted proxy, X-Forwarded-For
//! names the client, so each client behind HAProxy has its own per-IP limits; from anyone
//! else the header is ignored, so it cannot buy a fresh budget. (The header walking itself is
//! unit-tested in `server::client_address`.)

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_boxoffice");

/// A REST log-in attempt with a wrong password, forwarded for `client` (None: no header).
async fn rest_log_in(app: &TestApp, client: Option<&str>) -> StatusCode {
    let mut request = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&json!({"email": "x@example.com", "password": "long enough password"}));
    if let Some(client) = client {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await.unwrap().status()
}

/// The browser's log-in server function, forwarded for `client`.
async fn rpc_log_in(app: &TestApp, client: &str) -> StatusCode {
    let form = [("email", "x@example.com"), ("password", "long enough password")];
    let request = app.client.post(format!("{}/rpc/login", app.address)).header("x-forwarded-for", client);
    request.form(&form).send().await.unwrap().status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = TestApp::spawn_with(|settings| {
        settings.rate_limits.auth_per_minute = 2;
        settings.trusted_proxies = "127.0.0.0/8".parse().unwrap();
    })
    .await;
    assert_eq!(rest_log_in(&app, Some("203.0.113.1")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(rest_log_in(&app, Some("203.0.113.1")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        rest_log_in(&app, Some("203.0.113.1")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the same client, limited"
    );

    assert_eq!(
        rest_log_in(&app, Some("203.0.113.2")).await,
        StatusCode::UNAUTHORIZED,
        "another client, its own budget"
    );
    // A made-up first hop and a trusted hop after the client change nothing: still client 1.
    let chain = "198.51.100.77, 203.0.113.1, 127.0.0.5";
    assert_eq!(rest_log_in(&app, Some(chain)).await, StatusCode::TOO_MANY_REQUESTS);
    // The browser's doors are limited by the same client address.
    assert_eq!(rpc_log_in(&app, "203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(rpc_log_in(&app, "203.0.113.2").await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        rest_log_in(&app, Some("203.0.113.2")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "both doors share it"
    );

    // Without the header, or with one that does not parse, the client is the proxy itself.
    assert_eq!(rest_log_in(&app, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(rest_log_in(&app, Some("203.0.113.1, not-an-address")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        rest_log_in(&app, Some("garbage")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the proxy's own budget"
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_does_not_escape_the_limit() {
    let app = TestApp::spawn_with(|settings| settings.rate_limits.auth_per_minute = 2).await;
    assert_eq!(rest_log_in(&app, Some("203.0.113.1")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(rest_log_in(&app, Some("203.0.113.2")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(rest_log_in(&app, Some("203.0.113.3")).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(rpc_log_in(&app, "203.0.113.4").await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_peer_must_itself_be_trusted() {
    // Trusting some other network, not the loopback the test connects from.
    let app = TestApp::spawn_with(|settings| {
        settings.rate_limits.auth_per_minute = 1;
        settings.trusted_proxies = "10.0.0.0/8, fd00::/8".parse().unwrap();
    })
    .await;
    assert_eq!(rest_log_in(&app, Some("203.0.113.1")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(rest_log_in(&app, Some("203.0.113.2")).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_bad_trusted_proxies_setting_is_a_clear_error_and_empty_trusts_none() {
    // `migrate` with a URL it refuses: only a setting that parses gets as far as the URL.
    let run = |proxies: &'static str| {
        tokio::process::Command::new(BIN)
            .arg("migrate")
            .env("DATABASE_URL", "mysql://nope")
            .env("BOXOFFICE_TRUSTED_PROXIES", proxies)
            .output()
    };
    let output = run("10.0.0.0/8, proxy.example").await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("trusted-proxies") && stderr.contains("`proxy.example`"), "{stderr}");
    assert!(!stderr.contains("DATABASE_URL"), "{stderr}");

    for accepted in ["", "10.0.0.0/8, fd00::/8,192.0.2.1"] {
        let output = run(accepted).await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("DATABASE_URL is not a valid PostgreSQL URL"), "{accepted:?}: {stderr}");
    }
}
