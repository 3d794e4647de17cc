//! Cross-site request forgery, on every state-changing route of both doors as the app itself
//! lists them: the REST API's non-GET operations from its OpenAPI document, and the server
//! functions Leptos registered (cross-checked against the `#[server]` declarations in `src/`).
//! Each route is sent a request that would succeed from the site itself, forged as another
//! website would make the victim's browser send it (with the victim's cookie). Every forgery
//! must answer 403 in its door's own error shape and change nothing in the database; then the
//! same request from the site itself must succeed, so the refusal was the guard's and nothing
//! else's (not a missing sign-in, a bad body or a wrong path).

use std::collections::BTreeSet;

use boxoffice::domain::layout::{CategorySpec, RowSpec};
use boxoffice::domain::{LayoutSpec, NewShowSpec, SeatRequest, ShowKind};
use boxoffice::error::AppError;
use http::Method;
use serde_json::{Value, json};

use crate::helpers::{REQUEST_TIMEOUT, TestApp};

/// Fewer routes than this means the tables came out (partly) empty: the app has 8 REST
/// operations and 17 server functions that are not GET. Lower these only when a route is
/// removed on purpose.
const MIN_REST_ROUTES: usize = 8;
const MIN_RPC_ROUTES: usize = 18;

const PASSWORD: &str = "correct horse battery";

/// How another website's request looks to the server, header by header. Each alone must be
/// enough to refuse it.
const FORGERIES: [(&str, &[(&str, &str)]); 3] = [
    ("Origin of another site", &[("origin", "https://evil.example")]),
    ("Sec-Fetch-Site: cross-site", &[("sec-fetch-site", "cross-site")]),
    ("Sec-Fetch-Site: same-site", &[("sec-fetch-site", "same-site")]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Door {
    Rest,
    Rpc,
}

/// A state-changing route: a path template as the app lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    door: Door,
    method: Method,
    path: String,
}

/// The REST API's operations that are not reads, from its OpenAPI document.
fn rest_routes() -> Vec<Route> {
    let (_, openapi) = boxoffice::api::rest::router();
    let document = serde_json::to_value(&openapi).unwrap();
    let mut routes = vec![];
    for (path, item) in document["paths"].as_object().expect("the document has paths") {
        for (method, _) in item.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            if [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(&method) {
                routes.push(Route { door: Door::Rest, method, path: path.clone() });
            }
        }
    }
    routes
}

/// Every server function Leptos serves (they are all POST here; a GET one would be a read).
fn rpc_routes() -> Vec<Route> {
    let registered: Vec<Route> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(_, method)| *method != Method::GET)
        .map(|(path, method)| Route { door: Door::Rpc, method, path: path.to_owned() })
        .collect();
    // The registry is filled at start-up from every linked `#[server]` function: check that
    // none of those declared in the source is missing from it.
    let paths: BTreeSet<&str> = registered.iter().map(|r| r.path.as_str()).collect();
    for declared in declared_server_functions() {
        assert!(paths.contains(declared.as_str()), "{declared} is declared in src/ but not registered");
    }
    registered
}

/// The paths of the `#[server(prefix = ..., endpoint = ...)]` declarations in `src/`.
fn declared_server_functions() -> Vec<String> {
    fn quoted_after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
        let start = line.find(key)? + key.len();
        let rest = line[start..].trim_start().strip_prefix('=')?.trim_start().strip_prefix('"')?;
        rest.split('"').next()
    }
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = source.lines().map(str::trim).collect();
                for (i, line) in lines.iter().enumerate() {
                    // A function's attribute, not an argument's (`#[server(default)] date: String`).
                    let item = lines[i + 1..].iter().find(|l| !l.starts_with("#[") && !l.starts_with("//"));
                    if !line.starts_with("#[server") || !item.is_some_and(|l| l.contains("async fn ")) {
                        continue;
                    }
                    let endpoint = quoted_after(line, "endpoint").unwrap_or_else(|| {
                        panic!("{}: a server function without an endpoint: {line}", path.display())
                    });
                    let prefix = quoted_after(line, "prefix").unwrap_or("/api");
                    found.push(format!("{prefix}/{endpoint}"));
                }
            }
        }
    }
    let mut found = vec![];
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    assert!(!found.is_empty(), "no #[server] declarations found in src/");
    found
}

/// What the database holds, enough to see any change a request could make.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint {
    users: i64,
    shows: i64,
    bookings: i64,
    booking_events: i64,
    sessions: i64,
    /// Every user, show, booking and seat with its state.
    digest: String,
}

async fn fingerprint(app: &TestApp) -> Fingerprint {
    let (users, shows, bookings, booking_events, sessions, digest) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM shows),
                (SELECT count(*) FROM bookings), (SELECT count(*) FROM booking_events),
                (SELECT count(*) FROM tower_sessions.session),
                md5(concat_ws('|',
                    (SELECT string_agg(concat_ws(':', id, role, email, name, password_hash), ',' ORDER BY id) FROM users),
                    (SELECT string_agg(concat_ws(':', id, status, title, starts_at, sale_opens_at), ',' ORDER BY id) FROM shows),
                    (SELECT string_agg(concat_ws(':', show_id, admissions_per_minute, burst, pass_seconds, paused), ','
                                       ORDER BY show_id) FROM waiting_rooms),
                    (SELECT string_agg(concat_ws(':', show_id, user_id, place, admitted_at), ',' ORDER BY show_id, user_id)
                     FROM waiting_room_places),
                    (SELECT string_agg(concat_ws(':', id, status, seat_ids, hold_expires_at), ',' ORDER BY id) FROM bookings),
                    (SELECT string_agg(concat_ws(':', show_id, seat_id, status, booking_id, held_until), ','
                                       ORDER BY show_id, seat_id) FROM seats)))",
    )
    .fetch_one(&app.pool)
    .await
    .expect("reading the database's fingerprint");
    Fingerprint { users, shows, bookings, booking_events, sessions, digest }
}

/// A client with its own cookie jar, as one browser.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap()
}

enum Body {
    Empty,
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

/// A request that succeeds from the site itself, sent by `client` (whose cookies a forgery
/// would ride on).
struct Sample {
    client: reqwest::Client,
    path: String,
    body: Body,
}

/// The app with a signed-in admin, making what each route's sample request needs.
struct World {
    app: TestApp,
    admin: reqwest::Client,
}

impl World {
    async fn new() -> Self {
        use boxoffice::domain::user::{Email, NewPassword, PersonName};
        let app = TestApp::spawn().await;
        let email = "csrf-admin@example.com";
        boxoffice::service::users::create_or_promote_admin(
            &app.pool,
            &Email::parse(email).unwrap(),
            &PersonName::parse("Admin").unwrap(),
            &NewPassword::parse(PASSWORD).unwrap(),
        )
        .await
        .unwrap();
        let admin = client();
        let world = Self { app, admin };
        world
            .post(&world.admin, "/api/v1/auth/login", json!({"email": email, "password": PASSWORD}), 200)
            .await;
        world
    }

    async fn post(&self, client: &reqwest::Client, path: &str, body: Value, expected: u16) -> Value {
        let response = client.post(format!("{}{path}", self.app.address)).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, expected, "setting up: POST {path}: {body}");
        body
    }

    /// A new show of 10 seats a week ahead: its id and its seat ids.
    async fn show(&self) -> (i64, Vec<i64>) {
        let starts = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
        let show = self
            .post(
                &self.admin,
                "/api/v1/admin/shows",
                json!({"name": "Forgery Night", "start_time": starts, "total_seats": 10, "price_cents": 1000}),
                201,
            )
            .await;
        let seats = show["seats"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
        (show["id"].as_i64().unwrap(), seats)
    }

    /// A new customer, signed in: the client and its email.
    async fn customer(&self) -> (reqwest::Client, String) {
        let customer = client();
        let email = format!("victim-{}@example.com", uuid::Uuid::new_v4().simple());
        self.post(
            &customer,
            "/api/v1/auth/register",
            json!({"email": email, "name": "Victim", "password": PASSWORD}),
            201,
        )
        .await;
        (customer, email)
    }

    /// A new customer holding one seat of a new show: (customer, show id, seat ids, hold id).
    async fn hold(&self) -> (reqwest::Client, i64, Vec<i64>, i64) {
        let (customer, _) = self.customer().await;
        let (show_id, seats) = self.show().await;
        let path = format!("/api/v1/shows/{show_id}/holds");
        let hold = self.post(&customer, &path, json!({"seat_ids": [seats[0]]}), 201).await;
        (customer, show_id, seats, hold["id"].as_i64().unwrap())
    }

    /// A new customer holding a confirmed booking of two seats of a new show: (customer, show
    /// id, booking id, seat ids).
    async fn two_seat_booking(&self) -> (reqwest::Client, i64, i64, Vec<i64>) {
        let (customer, _) = self.customer().await;
        let (show_id, seats) = self.show().await;
        let path = format!("/api/v1/shows/{show_id}/bookings");
        let booking = self.post(&customer, &path, json!({"seat_ids": [seats[0], seats[1]]}), 201).await;
        (customer, show_id, booking["id"].as_i64().unwrap(), seats)
    }

    /// A sold-out show (one customer booked all ten seats) with a second customer waiting for
    /// one seat: (waiting customer, show id, the buyer, the buyer's booking id).
    async fn waiting(&self) -> (reqwest::Client, i64, reqwest::Client, i64) {
        let (buyer, _) = self.customer().await;
        let (show_id, seats) = self.show().await;
        let path = format!("/api/v1/shows/{show_id}/bookings");
        let booking = self.post(&buyer, &path, json!({"seat_ids": seats}), 201).await;
        let (waiting, _) = self.customer().await;
        self.post(&waiting, &format!("/api/v1/shows/{show_id}/waitlist"), json!({"party_size": 1}), 201).await;
        (waiting, show_id, buyer, booking["id"].as_i64().unwrap())
    }

    /// As `waiting`, and the buyer gave a seat back, so the waiting customer has an offer.
    async fn offered(&self) -> (reqwest::Client, i64) {
        let (waiting, show_id, buyer, booking_id) = self.waiting().await;
        let (_, show) = self.get_show(show_id).await;
        let seat = show["seats"][0]["id"].clone();
        self.post(&buyer, &format!("/api/v1/bookings/{booking_id}/cancel-seats"), json!({"seat_ids": [seat]}), 200)
            .await;
        (waiting, show_id)
    }

    /// A new show whose sale opens tomorrow behind a waiting room.
    async fn room(&self) -> i64 {
        let (show_id, _) = self.show().await;
        let opens = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        let body = json!({"sale_opens_at": opens, "waiting_room": {"admissions_per_minute": 60}});
        let response = self
            .admin
            .put(format!("{}/api/v1/admin/shows/{show_id}/sale", self.app.address))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "setting up a waiting room");
        show_id
    }

    /// A customer in the waiting room of a new show: (customer, show id).
    async fn in_room(&self) -> (reqwest::Client, i64) {
        let show_id = self.room().await;
        let (customer, _) = self.customer().await;
        self.post(&customer, &format!("/api/v1/shows/{show_id}/waiting-room"), json!(null), 200).await;
        (customer, show_id)
    }

    async fn get_show(&self, show_id: i64) -> (u16, Value) {
        let response = client().get(format!("{}/api/v1/shows/{show_id}", self.app.address)).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// A request that succeeds on `route` from the site, or None for a route this test does
    /// not know yet (it is still checked, with an empty body).
    async fn sample(&self, route: &Route) -> Option<Sample> {
        let form = |pairs: &[(&'static str, String)]| Body::Form(pairs.to_vec());
        let new_email = || format!("new-{}@example.com", uuid::Uuid::new_v4().simple());
        let starts = || (chrono::Utc::now() + chrono::Duration::days(9)).format("%Y-%m-%dT%H:%M").to_string();
        let sample = |client: &reqwest::Client, path: String, body: Body| {
            Some(Sample { client: client.clone(), path, body })
        };
        let guest = client();
        let path = route.path.clone();
        match (route.door, route.path.as_str()) {
            (Door::Rest, "/api/v1/auth/register") => sample(
                &guest,
                path,
                Body::Json(json!({"email": new_email(), "name": "Newcomer", "password": PASSWORD})),
            ),
            (Door::Rest, "/api/v1/auth/login") => {
                let (_, email) = self.customer().await;
                sample(&guest, path, Body::Json(json!({"email": email, "password": PASSWORD})))
            }
            (Door::Rest, "/api/v1/auth/logout") => sample(&self.customer().await.0, path, Body::Empty),
            (Door::Rest, "/api/v1/admin/shows") => {
                let starts = (chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339();
                let body = json!({"name": "Planted", "start_time": starts, "total_seats": 4});
                sample(&self.admin, path, Body::Json(body))
            }
            (Door::Rest, "/api/v1/shows/{id}/holds" | "/api/v1/shows/{id}/bookings") => {
                let (customer, show_id, seats, _) = self.hold().await;
                let path = path.replace("{id}", &show_id.to_string());
                sample(&customer, path, Body::Json(json!({"seat_ids": [seats[1]]})))
            }
            (Door::Rest, "/api/v1/bookings/{id}/confirm" | "/api/v1/bookings/{id}/cancel") => {
                let (customer, _, _, hold_id) = self.hold().await;
                sample(&customer, path.replace("{id}", &hold_id.to_string()), Body::Empty)
            }
            (Door::Rpc, "/rpc/register") => sample(
                &guest,
                path,
                form(&[("email", new_email()), ("name", "Newcomer".into()), ("password", PASSWORD.into())]),
            ),
            (Door::Rpc, "/rpc/login") => {
                let (_, email) = self.customer().await;
                sample(&guest, path, form(&[("email", email), ("password", PASSWORD.into())]))
            }
            (Door::Rpc, "/rpc/logout" | "/rpc/me" | "/rpc/my_bookings") => {
                sample(&self.customer().await.0, path, form(&[]))
            }
            (Door::Rpc, "/rpc/list_shows") => sample(&guest, path, form(&[("search", String::new())])),
            (Door::Rpc, "/rpc/show_page") => {
                let (show_id, _) = self.show().await;
                sample(&guest, path, form(&[("show_id", show_id.to_string())]))
            }
            (Door::Rpc, "/rpc/hold_seats") => {
                let (customer, show_id, seats, _) = self.hold().await;
                let seats = SeatRequest::Seats(vec![i32::try_from(seats[1]).unwrap()]);
                let body = json!({"show_id": show_id, "seats": seats, "idempotency_key": new_email()});
                sample(&customer, path, Body::Json(body))
            }
            (Door::Rpc, "/rpc/hold_best_available") => {
                let (customer, show_id, _, _) = self.hold().await;
                let fields = [
                    ("show_id", show_id.to_string()),
                    ("count", "1".to_owned()),
                    ("category", String::new()),
                    ("idempotency_key", new_email()),
                ];
                sample(&customer, path, form(&fields))
            }
            (Door::Rpc, "/rpc/booking" | "/rpc/confirm_booking" | "/rpc/cancel_booking") => {
                let (customer, _, _, hold_id) = self.hold().await;
                sample(&customer, path, form(&[("booking_id", hold_id.to_string())]))
            }
            (Door::Rpc, "/rpc/admin/dashboard") => sample(&self.admin, path, form(&[])),
            (Door::Rpc, "/rpc/admin/show" | "/rpc/admin/cancel_show") => {
                let (_, show_id, _, _) = self.hold().await;
                sample(&self.admin, path, form(&[("show_id", show_id.to_string())]))
            }
            (Door::Rpc, "/rpc/admin/edit_show") => {
                let (show_id, _) = self.show().await;
                let edit =
                    [("show_id", show_id.to_string()), ("title", "Renamed".into()), ("starts_at", starts())];
                sample(&self.admin, path, form(&edit))
            }
            (Door::Rpc, "/rpc/admin/create_show") => {
                let spec = NewShowSpec {
                    kind: ShowKind::Show,
                    title: "Planted".into(),
                    venue: Some("Somewhere".into()),
                    origin: None,
                    destination: None,
                    starts_at: chrono::Utc::now() + chrono::Duration::days(8),
                    hold_seconds: None,
                    sale_opens_at: None,
                    layout: LayoutSpec {
                        categories: vec![CategorySpec {
                            code: "STD".into(),
                            name: "Standard".into(),
                            price_cents: 1000,
                        }],
                        rows: vec![RowSpec {
                            label: "A".into(),
                            seats: 4,
                            category: "STD".into(),
                            aisles_after: vec![],
                        }],
                        blocked: vec![],
                    },
                };
                sample(&self.admin, path, Body::Json(json!({"spec": spec})))
            }
            (Door::Rest, "/api/v1/admin/shows/{id}/cancellation-policy") => {
                let (show_id, _) = self.show().await;
                let body = json!({"cancellable": true, "partial": false, "tiers": [{"hours_before": 24, "refund_percent": 50}]});
                sample(&self.admin, path.replace("{id}", &show_id.to_string()), Body::Json(body))
            }
            (Door::Rest, "/api/v1/bookings/{id}/cancel-seats") => {
                let (customer, _, booking_id, seats) = self.two_seat_booking().await;
                sample(&customer, path.replace("{id}", &booking_id.to_string()), Body::Json(json!({"seat_ids": [seats[0]]})))
            }
            (Door::Rest, "/api/v1/shows/{id}/waitlist") if route.method == Method::POST => {
                // Someone else joins the list the fixture's customer is on.
                let (_, show_id, _, _) = self.waiting().await;
                let (newcomer, _) = self.customer().await;
                sample(&newcomer, path.replace("{id}", &show_id.to_string()), Body::Json(json!({"party_size": 2})))
            }
            (Door::Rest, "/api/v1/shows/{id}/waitlist") => {
                let (waiting, show_id, _, _) = self.waiting().await;
                sample(&waiting, path.replace("{id}", &show_id.to_string()), Body::Empty)
            }
            (Door::Rest, "/api/v1/shows/{id}/waitlist/decline") => {
                let (waiting, show_id) = self.offered().await;
                sample(&waiting, path.replace("{id}", &show_id.to_string()), Body::Empty)
            }
            (Door::Rpc, "/rpc/admin/cancellation_policy") => {
                let (show_id, _) = self.show().await;
                let body = json!({"show_id": show_id, "cancellable": false, "partial": false, "tiers": []});
                sample(&self.admin, path, Body::Json(body))
            }
            (Door::Rpc, "/rpc/cancel_seats") => {
                let (customer, _, booking_id, seats) = self.two_seat_booking().await;
                let fields = [("booking_id", booking_id.to_string()), ("seat_ids[0]", seats[0].to_string())];
                sample(&customer, path, form(&fields))
            }
            (Door::Rpc, "/rpc/join_waitlist") => {
                let (_, show_id, _, _) = self.waiting().await;
                let (newcomer, _) = self.customer().await;
                let fields = [("show_id", show_id.to_string()), ("party_size", "1".into()), ("category", String::new())];
                sample(&newcomer, path, form(&fields))
            }
            (Door::Rpc, "/rpc/waitlist" | "/rpc/leave_waitlist") => {
                let (waiting, show_id, _, _) = self.waiting().await;
                sample(&waiting, path, form(&[("show_id", show_id.to_string())]))
            }
            (Door::Rpc, "/rpc/decline_waitlist_offer") => {
                let (waiting, show_id) = self.offered().await;
                sample(&waiting, path, form(&[("show_id", show_id.to_string())]))
            }
            (Door::Rest, "/api/v1/shows/{id}/waiting-room") if route.method == Method::POST => {
                let show_id = self.room().await;
                let (customer, _) = self.customer().await;
                sample(&customer, path.replace("{id}", &show_id.to_string()), Body::Empty)
            }
            (Door::Rest, "/api/v1/shows/{id}/waiting-room") => {
                let (customer, show_id) = self.in_room().await;
                sample(&customer, path.replace("{id}", &show_id.to_string()), Body::Empty)
            }
            (Door::Rest, "/api/v1/admin/shows/{id}/sale") => {
                let (show_id, _) = self.show().await;
                let body = json!({"sale_opens_at": null, "waiting_room": {"admissions_per_minute": 100, "burst": 5}});
                sample(&self.admin, path.replace("{id}", &show_id.to_string()), Body::Json(body))
            }
            (Door::Rest, "/api/v1/admin/shows/{id}/waiting-room/pause" | "/api/v1/admin/shows/{id}/waiting-room/resume"
                | "/api/v1/admin/shows/{id}/sale/open-now") => {
                let show_id = self.room().await;
                sample(&self.admin, path.replace("{id}", &show_id.to_string()), Body::Empty)
            }
            (Door::Rpc, "/rpc/join_waiting_room") => {
                let show_id = self.room().await;
                let (customer, _) = self.customer().await;
                sample(&customer, path, form(&[("show_id", show_id.to_string())]))
            }
            (Door::Rpc, "/rpc/waiting_room" | "/rpc/leave_waiting_room") => {
                let (customer, show_id) = self.in_room().await;
                sample(&customer, path, form(&[("show_id", show_id.to_string())]))
            }
            (Door::Rpc, "/rpc/admin/sale" | "/rpc/admin/open_sale_now") => {
                let show_id = self.room().await;
                sample(&self.admin, path, form(&[("show_id", show_id.to_string())]))
            }
            (Door::Rpc, "/rpc/admin/pause_admissions") => {
                let show_id = self.room().await;
                sample(&self.admin, path, form(&[("show_id", show_id.to_string()), ("paused", "true".into())]))
            }
            (Door::Rpc, "/rpc/admin/set_sale") => {
                let (show_id, _) = self.show().await;
                let fields = [
                    ("show_id", show_id.to_string()),
                    ("sale_opens_at", (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M").to_string()),
                    ("waiting_room", "true".into()),
                    ("admissions_per_minute", "30".into()),
                    ("burst", String::new()),
                    ("pass_minutes", "15".into()),
                ];
                sample(&self.admin, path, form(&fields))
            }
            (Door::Rpc, "/rpc/admin/block_seats") => {
                let (_, show_id, seats, _) = self.hold().await;
                let body = json!({"show_id": show_id, "seat_ids": [seats[1]], "blocked": true});
                sample(&self.admin, path, Body::Json(body))
            }
            _ => None,
        }
    }

    async fn send(&self, method: &Method, sample: &Sample, headers: &[(&str, String)]) -> reqwest::Response {
        let mut request =
            sample.client.request(method.clone(), format!("{}{}", self.app.address, sample.path));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request = match &sample.body {
            Body::Empty => request,
            Body::Form(pairs) => request.form(pairs),
            Body::Json(value) => request.json(value),
        };
        request.send().await.unwrap()
    }
}

/// What is wrong with a forgery's answer, if anything.
async fn refusal_problem(door: Door, response: reqwest::Response) -> Option<String> {
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = response.text().await.unwrap();
    if status != 403 {
        return Some(format!("answered {status}, not 403: {text}"));
    }
    if !content_type.starts_with("application/json") {
        return Some(format!("answered with content type {content_type:?}, not JSON: {text}"));
    }
    let Ok(body) = serde_json::from_str::<Value>(&text) else { return Some(format!("not JSON: {text}")) };
    let expected = match door {
        // The API's error shape, nothing more.
        Door::Rest => json!({"error": AppError::CrossSiteRequest.to_string(), "code": "cross_site_request"}),
        // The encoded AppError, which the browser's server functions decode.
        Door::Rpc => {
            if serde_json::from_value::<AppError>(body.clone()).ok() != Some(AppError::CrossSiteRequest) {
                return Some(format!("the body does not decode to AppError::CrossSiteRequest: {body}"));
            }
            json!("CrossSiteRequest")
        }
    };
    (body != expected).then(|| format!("the body is {body}, not {expected}"))
}

#[tokio::test]
async fn every_state_changing_route_of_both_doors_refuses_other_sites_and_changes_nothing() {
    // The app first: building it registers the server functions it serves.
    let world = World::new().await;
    let rest = rest_routes();
    let rpc = rpc_routes();
    assert!(rest.len() >= MIN_REST_ROUTES, "only {} REST routes found: {rest:?}", rest.len());
    assert!(rpc.len() >= MIN_RPC_ROUTES, "only {} server functions found: {rpc:?}", rpc.len());
    let mut routes: Vec<Route> = rest.into_iter().chain(rpc).collect();
    routes.sort_by(|a, b| (a.door, &a.path, a.method.as_str()).cmp(&(b.door, &b.path, b.method.as_str())));
    routes.dedup();

    let host = world.app.address.trim_start_matches("http://").to_owned();
    let mut problems = vec![];
    let mut unknown = vec![];
    let mut checked = 0;
    for route in &routes {
        let label = format!("{} {}", route.method, route.path);
        let known = world.sample(route).await;
        let succeeds_from_the_site = known.is_some();
        let sample = known.unwrap_or_else(|| {
            unknown.push(label.clone());
            let path = route.path.replace("{id}", "1");
            Sample { client: world.admin.clone(), path, body: Body::Json(json!({})) }
        });
        let before = fingerprint(&world.app).await;
        for (forgery, headers) in FORGERIES {
            let headers: Vec<(&str, String)> = headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
            let response = world.send(&route.method, &sample, &headers).await;
            if let Some(problem) = refusal_problem(route.door, response).await {
                problems.push(format!("{label} with {forgery}: {problem}"));
            }
            let after = fingerprint(&world.app).await;
            if after != before {
                problems
                    .push(format!("{label} with {forgery} changed the database: {before:?} -> {after:?}"));
            }
        }
        checked += 1;

        // The same request from the site itself goes through: the forgeries were refused for
        // where they came from, not for anything else about them.
        if succeeds_from_the_site {
            let own = [("origin", format!("http://{host}")), ("sec-fetch-site", "same-origin".to_owned())];
            let response = world.send(&route.method, &sample, &own).await;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.unwrap();
                problems.push(format!("{label} from the site itself answered {status}, not success: {text}"));
            }
        }
    }

    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(checked >= MIN_REST_ROUTES + MIN_RPC_ROUTES, "only {checked} routes checked");
    assert!(
        unknown.is_empty(),
        "these routes were refused as they should be, but this test has no request that succeeds on \
         them (add one to World::sample): {unknown:?}"
    );
}
