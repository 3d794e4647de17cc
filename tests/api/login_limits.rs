//! The log-in doors under abuse: odd bytes, huge values and many spellings of one account.

use serde_json::json;

use crate::helpers::{Browser, TestApp};

#[tokio::test]
async fn a_nul_byte_in_an_email_or_name_is_a_clear_400_on_both_doors() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let (status, body, _) =
        browser.call("login", &[("email", "ann\0@example.com"), ("password", "whatever it is")]).await;
    assert_eq!((status, &body["InvalidInput"]["field"]), (400, &json!("email")), "{body}");
    let (status, body, _) = browser
        .call("register", &[("email", "ann@example.com"), ("name", "Ann\0"), ("password", "long enough pw")])
        .await;
    assert_eq!((status, &body["InvalidInput"]["field"]), (400, &json!("name")), "{body}");

    let response = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&json!({"email": "ann\u{0}@example.com", "password": "whatever it is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!((body["code"].as_str(), body["field"].as_str()), (Some("invalid_input"), Some("email")));
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 0, "nothing was created");
}

#[tokio::test]
async fn a_huge_email_is_refused_as_invalid_not_tried() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let huge = format!("{}@example.com", "a".repeat(1024 * 1024));
    let (status, body, _) = browser.call("login", &[("email", &huge), ("password", "whatever it is")]).await;
    assert_eq!((status, &body["InvalidInput"]["field"]), (400, &json!("email")));
}

#[tokio::test]
async fn spellings_of_one_account_share_its_log_in_limit_across_both_doors() {
    let app = TestApp::spawn_with(|settings| settings.rate_limits.login_per_minute = 2).await;
    let browser = Browser::new(&app);
    let rest_login = |email: &'static str| {
        app.client
            .post(format!("{}/api/v1/auth/login", app.address))
            .json(&json!({"email": email, "password": "not the password"}))
            .send()
    };
    assert_eq!(rest_login("ann@example.com").await.unwrap().status(), 401);
    let (status, _, _) =
        browser.call("login", &[("email", " ANN@Example.COM "), ("password", "not the password")]).await;
    assert_eq!(status, 401);
    let third = rest_login("Ann@EXAMPLE.com").await.unwrap();
    assert_eq!(third.status(), 429, "the third attempt on one account, however spelled");
    assert!(third.headers().contains_key("retry-after"));
    let (status, body, _) =
        browser.call("login", &[("email", "ann@example.com"), ("password", "not the password")]).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.get("TooManyRequests").is_some(), "{body}");
}
