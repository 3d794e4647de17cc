//! The REST API v1: accounts, shows, admin show creation, errors, rate limits, the OpenAPI
//! document. Bookings are in `rest_bookings.rs`. Real app, real PostgreSQL, real HTTP.

use boxoffice::domain::user::{Email, NewPassword, PersonName};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::booking_world::{create_show, hall};
use crate::helpers::TestApp;

/// A REST client with its own cookie jar.
pub struct Api {
    pub client: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(crate::helpers::REQUEST_TIMEOUT)
            .build()
            .unwrap();
        Self { client, base: format!("{}/api/v1", app.address) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Status and JSON body (Null for an empty body); panics when the body is not JSON.
    pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
        };
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        Self::read(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        Self::read(self.client.post(self.url(path)).json(&body).send().await.unwrap()).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        Self::read(self.client.put(self.url(path)).json(&body).send().await.unwrap()).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let request = self.client.post(self.url(path)).header("content-type", content_type).body(body);
        Self::read(request.send().await.unwrap()).await
    }

    /// A new customer, signed in on this client.
    pub async fn customer(app: &TestApp, email: &str) -> Self {
        let api = Self::new(app);
        let (status, body) = api
            .post(
                "/auth/register",
                json!({"email": email, "name": "Test Customer", "password": "long enough password"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        api
    }

    /// A new admin, signed in on this client.
    pub async fn admin(app: &TestApp) -> Self {
        let password = "admin password 1";
        boxoffice::service::users::create_or_promote_admin(
            &app.pool,
            &Email::parse("boss@example.com").unwrap(),
            &PersonName::parse("Boss").unwrap(),
            &NewPassword::parse(password).unwrap(),
        )
        .await
        .unwrap();
        let api = Self::new(app);
        let (status, body) =
            api.post("/auth/login", json!({"email": "boss@example.com", "password": password})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        api
    }
}

/// An error answer: the status, a sentence, and the machine code.
#[track_caller]
pub fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (actual, body) = answer;
    assert_eq!(*actual, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    let sentence = body["error"].as_str().unwrap_or_else(|| panic!("no error sentence: {body}"));
    assert!(sentence.ends_with('.') && sentence.len() > 10, "not a sentence: {sentence}");
    assert!(!sentence.to_lowercase().contains("sqlx"), "internals leaked: {sentence}");
}

// --- accounts ---------------------------------------------------------------------------------

#[tokio::test]
async fn register_creates_a_signed_in_customer() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let (status, user) = api
        .post(
            "/auth/register",
            json!({"email": "Ann@Example.com", "name": "Ann", "password": "long enough password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["name"], "Ann");
    assert_eq!(user["role"], "CUSTOMER");
    assert!(user["id"].as_i64().unwrap() > 0);
    assert!(user.get("password_hash").is_none());
    let (status, me) = api.get("/me").await;
    assert_eq!((status, &me["id"]), (StatusCode::OK, &user["id"]));
}

#[tokio::test]
async fn register_refuses_a_taken_email_and_invalid_fields() {
    let app = TestApp::spawn().await;
    let api = Api::customer(&app, "ann@example.com").await;
    let again = json!({"email": "ANN@example.com", "name": "Ann", "password": "long enough password"});
    assert_error(&api.post("/auth/register", again).await, StatusCode::CONFLICT, "email_taken");

    for (body, field) in [
        (json!({"email": "not an email", "name": "Ann", "password": "long enough password"}), "email"),
        (json!({"email": "b@example.com", "name": "", "password": "long enough password"}), "name"),
        (json!({"email": "b@example.com", "name": "Ann", "password": "short"}), "password"),
        (json!({"email": "b@example.com", "name": "Ann"}), "password"),
        (json!({"email": 7, "name": "Ann", "password": "long enough password"}), "email"),
        (
            json!({"email": "b@example.com", "name": "Ann", "password": "long enough password", "admin": true}),
            "admin",
        ),
    ] {
        let answer = api.post("/auth/register", body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(answer.1["field"], field, "{body} -> {}", answer.1);
    }
}

#[tokio::test]
async fn login_logout_and_me() {
    let app = TestApp::spawn().await;
    Api::customer(&app, "cy@example.com").await;
    let api = Api::new(&app);
    assert_error(&api.get("/me").await, StatusCode::UNAUTHORIZED, "not_signed_in");

    let wrong = json!({"email": "cy@example.com", "password": "not the password"});
    assert_error(&api.post("/auth/login", wrong).await, StatusCode::UNAUTHORIZED, "wrong_credentials");
    let nobody = json!({"email": "nobody@example.com", "password": "long enough password"});
    assert_error(&api.post("/auth/login", nobody).await, StatusCode::UNAUTHORIZED, "wrong_credentials");

    let response = api
        .client
        .post(api.url("/auth/login"))
        .json(&json!({"email": "cy@example.com", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("boxoffice_session=") && cookie.contains("HttpOnly"), "{cookie}");
    let (status, user) = Api::read(response).await;
    assert_eq!((status, user["email"].as_str()), (StatusCode::OK, Some("cy@example.com")));
    assert_eq!(api.get("/me").await.1["email"], "cy@example.com");

    let response = api.client.post(api.url("/auth/logout")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(&api.get("/me").await, StatusCode::UNAUTHORIZED, "not_signed_in");
    let response = api.client.post(api.url("/auth/logout")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "signing out twice is fine");
}

#[tokio::test]
async fn a_log_out_ends_the_session_on_every_instance_at_once() {
    let app = TestApp::spawn().await;
    let other_instance = format!("{}/api/v1", app.second_instance().await);
    Api::customer(&app, "eve@example.com").await;
    let api = Api::new(&app);
    let login = json!({"email": "eve@example.com", "password": "long enough password"});
    let response = api.client.post(api.url("/auth/login")).json(&login).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    // Sent by hand from a client without a cookie jar, so the cookie outlives the log-out as a
    // stolen copy would.
    let plain = reqwest::Client::builder().timeout(crate::helpers::REQUEST_TIMEOUT).build().unwrap();
    let me = |base: String| {
        let (client, cookie) = (plain.clone(), cookie.clone());
        async move {
            let request = client.get(format!("{base}/me")).header("cookie", cookie);
            Api::read(request.send().await.unwrap()).await
        }
    };
    // Both instances have now read the session (and keep it in memory).
    assert_eq!(me(api.url("")).await.1["email"], "eve@example.com");
    assert_eq!(me(other_instance.clone()).await.1["email"], "eve@example.com");

    let response = api.client.post(api.url("/auth/logout")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(&me(api.url("")).await, StatusCode::UNAUTHORIZED, "not_signed_in");
    // The other instance hears of it over LISTEN/NOTIFY, within moments.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut answer = me(other_instance.clone()).await;
    while answer.0 == StatusCode::OK && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        answer = me(other_instance.clone()).await;
    }
    assert_error(&answer, StatusCode::UNAUTHORIZED, "not_signed_in");
}

#[tokio::test]
async fn a_browser_login_works_for_the_api() {
    let app = TestApp::spawn().await;
    Api::customer(&app, "dee@example.com").await;
    let api = Api::new(&app);
    let form = [("email", "dee@example.com"), ("password", "long enough password")];
    let response = api.client.post(format!("{}/rpc/login", app.address)).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api.get("/me").await.1["email"], "dee@example.com");
}

// --- shows ------------------------------------------------------------------------------------

#[tokio::test]
async fn shows_lists_upcoming_shows_unless_all_is_asked_for() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let upcoming = create_show(&app.pool, &hall(2, 5)).await;
    let past = app.insert_show("Yesterday", "Old Hall", chrono::Duration::days(-1)).await;

    let (status, list) = api.get("/shows").await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let show = &list[0];
    assert_eq!(show["id"], upcoming);
    assert_eq!(show["kind"], "SHOW");
    assert_eq!(show["title"], "Test Night");
    assert_eq!(show["venue"], "Test Hall");
    assert_eq!(show["origin"], Value::Null);
    assert_eq!(show["destination"], Value::Null);
    assert_eq!((show["total_seats"].as_i64(), show["available_seats"].as_i64()), (Some(10), Some(10)));
    assert_eq!(show["min_price_cents"], 1000);
    let starts_at = show["starts_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(starts_at).is_ok(), "RFC 3339: {starts_at}");

    let (status, all) = api.get("/shows?all=true").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = all.as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![past, upcoming]);
    assert_eq!(api.get("/shows?all=false").await.1.as_array().unwrap().len(), 1);
    assert_eq!(api.get("/shows?q=nothing%20like%20this").await.1, json!([]));
    // A NUL byte cannot reach PostgreSQL as text: a clear 400, not a 500 (found by schemathesis).
    for query in ["?q=a%00b", "?q=tab%09inside", "?all=true&q=%C3%8C%01"] {
        let answer = api.get(&format!("/shows{query}")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(answer.1["field"], "search", "{query}");
    }

    for query in ["?all=maybe", "?all=", "?colour=blue", "?all=true&all=false"] {
        let answer = api.get(&format!("/shows{query}")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(answer.1["field"], "query", "{query}");
    }
}

#[tokio::test]
async fn a_show_comes_with_its_categories_and_seats() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let id = create_show(&app.pool, &hall(2, 3)).await;
    let (status, show) = api.get(&format!("/shows/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{show}");
    assert_eq!(show["id"], id);
    assert_eq!(show["title"], "Test Night");
    assert_eq!(show["total_seats"], 6);
    assert_eq!(show["categories"][0]["code"], "STD");
    assert_eq!(show["categories"][0]["name"], "Standard");
    assert_eq!(show["categories"][0]["price_cents"], 1000);
    let seats = show["seats"].as_array().unwrap();
    assert_eq!(seats.len(), 6);
    let b2 = &seats[4];
    assert_eq!(b2["id"], 5);
    assert_eq!(b2["row"], "B");
    assert_eq!(b2["number"], 2);
    assert_eq!(b2["label"], "B2");
    assert_eq!(b2["category"], "STD");
    assert_eq!(b2["price_cents"], 1000);
    assert_eq!(b2["status"], "AVAILABLE");
}

#[tokio::test]
async fn an_unknown_show_is_404_and_an_id_that_is_not_an_id_is_400() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    assert_error(&api.get("/shows/424242").await, StatusCode::NOT_FOUND, "show_not_found");
    for id in ["abc", "1.5", "99999999999999999999", "%20"] {
        let answer = api.get(&format!("/shows/{id}")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
    }
}

// --- admin: creating shows --------------------------------------------------------------------

fn full_show() -> Value {
    json!({
        "kind": "TRIP",
        "title": "Night bus",
        "origin": "Lyon",
        "destination": "Paris",
        "starts_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339(),
        "categories": [{"code": "FRONT", "name": "Front", "price_cents": 2500},
                       {"code": "STD", "name": "Seat", "price_cents": 1500}],
        "rows": [{"label": "A", "seats": 4, "category": "FRONT", "aisles_after": [2]},
                 {"label": "B", "seats": 4, "category": "STD", "aisles_after": [2]}],
        "blocked": ["B4"]
    })
}

#[tokio::test]
async fn an_admin_creates_a_show_in_full() {
    let app = TestApp::spawn().await;
    let admin = Api::admin(&app).await;
    let (status, show) = admin.post("/admin/shows", full_show()).await;
    assert_eq!(status, StatusCode::CREATED, "{show}");
    assert_eq!(show["kind"], "TRIP");
    assert_eq!((show["origin"].as_str(), show["destination"].as_str()), (Some("Lyon"), Some("Paris")));
    assert_eq!(show["total_seats"], 7, "one of eight is blocked");
    assert_eq!(show["min_price_cents"], 1500);
    let seats = show["seats"].as_array().unwrap();
    assert_eq!(seats.len(), 8);
    assert_eq!((seats[0]["label"].as_str(), seats[0]["price_cents"].as_i64()), (Some("A1"), Some(2500)));
    assert_eq!(seats[7]["status"], "BLOCKED");
    assert_eq!(seats[2]["grid_col"], 3, "an aisle after seat 2");
    let (status, again) = admin.get(&format!("/shows/{}", show["id"])).await;
    assert_eq!((status, again["seats"].as_array().unwrap().len()), (StatusCode::OK, 8));
}

#[tokio::test]
async fn an_admin_creates_a_show_in_the_seeds_short_form() {
    let app = TestApp::spawn().await;
    let admin = Api::admin(&app).await;
    let body = json!({"name": "Avengers: Endgame", "start_time": "2099-03-25T18:00:00Z", "total_seats": 25});
    let (status, show) = admin.post("/admin/shows", body).await;
    assert_eq!(status, StatusCode::CREATED, "{show}");
    assert_eq!(show["title"], "Avengers: Endgame");
    assert_eq!(show["starts_at"], "2099-03-25T18:00:00Z");
    assert_eq!((show["total_seats"].as_i64(), show["available_seats"].as_i64()), (Some(25), Some(25)));
    let labels: Vec<&str> =
        show["seats"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert_eq!((labels[0], labels[9], labels[10], labels[24]), ("A1", "A10", "B1", "C5"));

    for (body, field) in [
        (json!({"name": "X", "start_time": "2099-03-25T18:00:00Z", "total_seats": 0}), "total_seats"),
        (json!({"name": "X", "start_time": "2099-03-25T18:00:00Z", "total_seats": 100000}), "total_seats"),
        (json!({"name": "X", "start_time": "2099-03-25T18:00:00Z", "total_seats": -3}), "total_seats"),
        (json!({"name": "X", "start_time": "2001-03-25T18:00:00Z", "total_seats": 10}), "start_time"),
        (json!({"name": "X", "start_time": "tomorrow", "total_seats": 10}), "start_time"),
        (json!({"name": "", "start_time": "2099-03-25T18:00:00Z", "total_seats": 10}), "name"),
        (
            json!({"name": "X", "start_time": "2099-03-25T18:00:00Z", "total_seats": 5, "price_cents": -1}),
            "price_cents",
        ),
        (json!({"name": "X", "total_seats": 10}), "start_time"),
    ] {
        let answer = admin.post("/admin/shows", body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(answer.1["field"], field, "{body} -> {}", answer.1);
    }
}

#[tokio::test]
async fn an_invalid_show_names_the_field_at_fault() {
    let app = TestApp::spawn().await;
    let admin = Api::admin(&app).await;
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut body = full_show();
        change(&mut body);
        body
    };
    for (body, field) in [
        (broken(&|b| b["rows"][1]["aisles_after"] = json!([9])), "rows[1].aisles_after"),
        (broken(&|b| b["rows"][0]["seats"] = json!("four")), "rows[0].seats"),
        (broken(&|b| b["rows"][0]["seats"] = json!(70000)), "rows[0].seats"),
        (broken(&|b| b["rows"][0]["category"] = json!("VIP")), "rows[0].category"),
        (broken(&|b| b["categories"][1]["price_cents"] = json!(-5)), "categories[1].price_cents"),
        (broken(&|b| b["blocked"] = json!(["Z9"])), "blocked[0]"),
        (broken(&|b| b["kind"] = json!("PARTY")), "kind"),
        (broken(&|b| b["origin"] = Value::Null), "origin"),
        (broken(&|b| b["rows"][0]["colour"] = json!("red")), "rows[0].colour"),
        (broken(&|b| b["starts_at"] = json!("2001-01-01T00:00:00Z")), "starts_at"),
        (broken(&|b| drop(b.as_object_mut().unwrap().remove("rows"))), "rows"),
        (
            broken(&|b| {
                drop(b.as_object_mut().unwrap()["categories"][0].as_object_mut().unwrap().remove("name"))
            }),
            "categories[0].name",
        ),
    ] {
        let answer = admin.post("/admin/shows", body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(answer.1["field"], field, "{}", answer.1);
    }
    let (_, list) = admin.get("/shows?all=true").await;
    assert_eq!(list, json!([]), "nothing was created");
}

#[tokio::test]
async fn only_admins_create_shows() {
    let app = TestApp::spawn().await;
    assert_error(
        &Api::new(&app).post("/admin/shows", full_show()).await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    );
    let customer = Api::customer(&app, "eve@example.com").await;
    assert_error(&customer.post("/admin/shows", full_show()).await, StatusCode::FORBIDDEN, "forbidden");
}

// --- errors from outside the handlers ---------------------------------------------------------

#[tokio::test]
async fn malformed_bodies_are_clear_json_errors() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let answer = api.post_raw("/auth/login", "application/json", "{\"email\": ").await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
    assert!(answer.1["error"].as_str().unwrap().contains("not valid JSON"), "{}", answer.1);
    assert_error(
        &api.post_raw("/auth/login", "text/plain", "hello").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "not_json",
    );
    assert_error(
        &api.post_raw("/auth/login", "application/json", "[]").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
    let huge = format!("{{\"email\": \"{}\", \"password\": \"x\"}}", "a".repeat(100 * 1024));
    assert_error(
        &api.post_raw("/auth/login", "application/json", huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
}

#[tokio::test]
async fn unknown_addresses_and_methods_are_json_errors() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    assert_error(&api.get("/no/such/thing").await, StatusCode::NOT_FOUND, "no_such_endpoint");
    let response = api.client.delete(api.url("/shows")).send().await.unwrap();
    let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
    let answer = Api::read(response).await;
    assert_error(&answer, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(allow.is_some_and(|allow| allow.contains("GET")), "the Allow header stays");
}

// --- OpenAPI ----------------------------------------------------------------------------------

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let app = TestApp::spawn().await;
    let (status, doc) = Api::new(&app).get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    for (path, method) in [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/shows", "get"),
        ("/api/v1/shows/{id}", "get"),
        ("/api/v1/admin/shows", "post"),
        ("/api/v1/shows/{id}/holds", "post"),
        ("/api/v1/shows/{id}/bookings", "post"),
        ("/api/v1/bookings/{id}/confirm", "post"),
        ("/api/v1/bookings/{id}/cancel", "post"),
        ("/api/v1/bookings", "get"),
        ("/api/v1/bookings/{id}", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is not in the document");
    }
    assert_eq!(doc["components"]["securitySchemes"]["session"]["in"], "cookie");
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

// --- rate limits ------------------------------------------------------------------------------

#[tokio::test]
async fn auth_attempts_are_limited_per_ip_on_both_doors() {
    let app = TestApp::spawn_with(|s| s.rate_limits.auth_per_minute = 3).await;
    let api = Api::new(&app);
    let attempt = json!({"email": "x@example.com", "password": "long enough password"});
    for _ in 0..3 {
        assert_eq!(api.post("/auth/login", attempt.clone()).await.0, StatusCode::UNAUTHORIZED);
    }
    let response = api.client.post(api.url("/auth/login")).json(&attempt).send().await.unwrap();
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=21).contains(&retry_after), "one attempt comes back every 20 s: {retry_after}");
    let answer = Api::read(response).await;
    assert_error(&answer, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(answer.1["retry_after_seconds"], retry_after);
    let register = json!({"email": "y@example.com", "name": "Y", "password": "long enough password"});
    assert_error(&api.post("/auth/register", register).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited");

    // The browser's server functions share the limit.
    let form = [("email", "x@example.com"), ("password", "long enough password")];
    let response = api.client.post(format!("{}/rpc/login", app.address)).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let error: boxoffice::error::AppError = response.json().await.unwrap();
    assert!(matches!(error, boxoffice::error::AppError::TooManyRequests { .. }), "{error:?}");

    // Reading is not limited.
    assert_eq!(api.get("/shows").await.0, StatusCode::OK);
}

#[tokio::test]
async fn log_ins_are_limited_per_account() {
    let app = TestApp::spawn_with(|s| s.rate_limits.login_per_minute = 2).await;
    Api::customer(&app, "fay@example.com").await;
    let api = Api::new(&app);
    let wrong = json!({"email": "fay@example.com", "password": "guess guess guess"});
    assert_eq!(api.post("/auth/login", wrong.clone()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.post("/auth/login", wrong).await.0, StatusCode::UNAUTHORIZED);
    let right = json!({"email": "FAY@example.com", "password": "long enough password"});
    assert_error(&api.post("/auth/login", right).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let form = [("email", "fay@example.com"), ("password", "long enough password")];
    let response = api.client.post(format!("{}/rpc/login", app.address)).form(&form).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the browser's log-in counts the same account"
    );
    assert!(response.headers().contains_key("retry-after"));
    let other = json!({"email": "someone@example.com", "password": "long enough password"});
    assert_eq!(
        api.post("/auth/login", other).await.0,
        StatusCode::UNAUTHORIZED,
        "other accounts are not affected"
    );
}
