//! Accounts through the server functions, over HTTP with real session cookies.

use serde_json::Value;

use crate::helpers::{Browser, TestApp};

#[tokio::test]
async fn register_signs_in_and_logout_signs_out() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    assert_eq!(browser.call("me", &[]).await.1, Value::Null, "a guest");

    let form = [("email", "ada@example.com"), ("name", "Ada"), ("password", "analytical engine")];
    let (status, user, cookie) = browser.call("register", &form).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["role"], "CUSTOMER");
    assert!(user.get("password_hash").is_none(), "no hash leaves the server");
    let cookie = cookie.expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "not Secure unless configured for https");

    assert_eq!(browser.call("me", &[]).await.1["email"], "ada@example.com");
    assert_eq!(browser.call("logout", &[]).await.0, 200);
    assert_eq!(browser.call("me", &[]).await.1, Value::Null, "signed out");
}

#[tokio::test]
async fn login_cycles_the_session_id_and_the_old_one_is_worthless() {
    let app = TestApp::spawn().await;
    let first = Browser::new(&app);
    let form = [("email", "grace@example.com"), ("name", "Grace"), ("password", "compilers rock")];
    let (_, _, first_cookie) = first.call("register", &form).await;
    let old = first_cookie.unwrap().split(';').next().unwrap().to_owned();

    let (status, _, second_cookie) =
        first.call("login", &[("email", "grace@example.com"), ("password", "compilers rock")]).await;
    assert_eq!(status, 200);
    let new = second_cookie.expect("login sets a new cookie").split(';').next().unwrap().to_owned();
    assert_ne!(old, new, "the session id changes at login");

    // Someone holding the old id gets nothing.
    let stale = reqwest::Client::new()
        .post(format!("{}/rpc/me", app.address))
        .header("cookie", old)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.text().await.unwrap(), "null");
}

#[tokio::test]
async fn bad_credentials_and_bad_input_get_clear_4xx_answers() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let form = [("email", "alan@example.com"), ("name", "Alan"), ("password", "enigma machine")];
    browser.call("register", &form).await;

    let (status, body, _) = browser.call("register", &form).await;
    // The typed error; the browser decodes it and shows its message.
    assert_eq!((status, body), (409, Value::String("EmailTaken".into())));

    let (status, body, _) =
        Browser::new(&app).call("login", &[("email", "alan@example.com"), ("password", "wrong one!")]).await;
    assert_eq!((status, body), (401, Value::String("WrongCredentials".into())));

    let (status, body, _) = browser
        .call("register", &[("email", "not-an-email"), ("name", "X"), ("password", "long enough pw")])
        .await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("email"), "{body}");
    let (status, body, _) =
        browser.call("register", &[("email", "x@example.com"), ("name", "X"), ("password", "short")]).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("at least 10 characters"), "{body}");
}
