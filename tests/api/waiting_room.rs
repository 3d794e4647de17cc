//! The waiting room (issue 19): a random order for those who join before the opening, first
//! come first served after it, places kept across reloads, admissions within rate × elapsed +
//! burst with several instances admitting, no pass no seats in either door, passes bound to
//! their show, the opening refused before it comes, live places, and the admin's doors.

use std::time::{Duration, Instant};

use boxoffice::domain::SeatRequest;
use boxoffice::domain::waiting_room::{PlaceInLine, SaleSettings, WaitingRoomSettings, WaitingRoomView};
use boxoffice::error::AppError;
use boxoffice::service::supervisor::Supervisor;
use boxoffice::service::waiting_room::WaitingRooms;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::booking_world::{assert_invariants, create_show, create_users, customer, hall};
use crate::helpers::{Browser, EventStream, TestApp};
use crate::rest::{Api, assert_error};

/// This app's waiting-room service: a handle of its own, which also admits (like another
/// instance would).
fn rooms(app: &TestApp) -> WaitingRooms {
    WaitingRooms::start(app.pool.clone(), app.feed.clone(), &Supervisor::new(), 0)
}

fn room(per_minute: u32, burst: u32) -> WaitingRoomSettings {
    WaitingRoomSettings { admissions_per_minute: per_minute, burst, pass_minutes: 10 }
}

/// A show whose sale opens in an hour behind a waiting room.
async fn show_opening_later(app: &TestApp, rooms: &WaitingRooms, settings: WaitingRoomSettings) -> i64 {
    let show = create_show(&app.pool, &hall(2, 10)).await;
    let opens = Utc::now() + chrono::Duration::hours(1);
    rooms.set_sale(show, &SaleSettings { sale_opens_at: Some(opens), waiting_room: Some(settings) }).await.unwrap();
    show
}

/// Each entry as (user, arrival, place, admitted at), in arrival order.
async fn line(pool: &PgPool, show: i64) -> Vec<(i64, i64, Option<i64>, Option<DateTime<Utc>>)> {
    sqlx::query_as("SELECT user_id, arrival, place, admitted_at FROM waiting_room_places WHERE show_id = $1 ORDER BY arrival")
        .bind(show)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Waits (up to `within`) until `done` holds for the show's line.
async fn until_line(pool: &PgPool, show: i64, within: Duration, what: &str, done: impl Fn(&[(i64, i64, Option<i64>, Option<DateTime<Utc>>)]) -> bool) {
    let deadline = Instant::now() + within;
    loop {
        if done(&line(pool, show).await) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn number(view: &WaitingRoomView) -> u64 {
    match view.place {
        PlaceInLine::Waiting { number, .. } => number,
        other => panic!("not waiting: {other:?}"),
    }
}

/// Spearman's rank correlation of two rankings of 1..=n.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let d2: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

#[tokio::test]
async fn early_joiners_get_a_random_permutation_uncorrelated_with_join_order() {
    let app = TestApp::spawn().await;
    let rooms = rooms(&app);
    let show = show_opening_later(&app, &rooms, room(1, 1)).await;
    rooms.set_paused(show, true).await.unwrap();
    let users = create_users(&app.pool, 1000).await;
    for &user in &users {
        let view = rooms.join(&customer(user), show).await.unwrap();
        assert_eq!(view.place, PlaceInLine::BeforeOpening, "no place before the opening");
    }
    // Seeded, so the draw (and this test) is the same on every run.
    sqlx::query("UPDATE waiting_rooms SET shuffle_seed = '6f1c2a52-8d55-4c1e-9d0b-3c7e4a1f9b21' WHERE show_id = $1")
        .bind(show)
        .execute(&app.pool)
        .await
        .unwrap();
    rooms.open_now(show).await.unwrap();
    until_line(&app.pool, show, Duration::from_secs(20), "everyone has a place", |l| l.iter().all(|e| e.2.is_some())).await;

    let entries = line(&app.pool, show).await;
    let mut places: Vec<i64> = entries.iter().map(|e| e.2.unwrap()).collect();
    let by_arrival: Vec<f64> = (1..=entries.len()).map(|i| i as f64).collect();
    let drawn: Vec<f64> = places.iter().map(|&p| p as f64).collect();
    places.sort_unstable();
    assert_eq!(places, (1..=1000).collect::<Vec<_>>(), "places are a permutation of 1..1000");
    // Under independence ρ has a standard deviation of 1/√999 ≈ 0.032: |ρ| < 0.1 is over 3 of
    // them, while any order that favours early (or late) joiners shows far above it.
    let rho = spearman(&by_arrival, &drawn);
    assert!(rho.abs() < 0.1, "places correlate with join order: ρ = {rho:.3}");
    // And no tenth of the joiners is favoured: each tenth by arrival has 50 ± 20 of its 100 in
    // the front half of the line (sd ≈ 5).
    for tenth in entries.chunks(100) {
        let front = tenth.iter().filter(|e| e.2.unwrap() <= 500).count();
        assert!(front.abs_diff(50) <= 20, "{front} of 100 in the front half");
    }
    // The same customer keeps their place on joining again.
    let first = entries[0].0;
    let view = rooms.join(&customer(first), show).await.unwrap();
    assert_eq!(number(&view), entries[0].2.unwrap() as u64);
}

#[tokio::test]
async fn later_joiners_are_first_come_first_served_and_a_reload_keeps_the_place() {
    let app = TestApp::spawn().await;
    let rooms = rooms(&app);
    let show = show_opening_later(&app, &rooms, room(60, 1)).await;
    let early = create_users(&app.pool, 3).await;
    for &user in &early {
        rooms.join(&customer(user), show).await.unwrap();
    }
    rooms.set_paused(show, true).await.unwrap();
    rooms.open_now(show).await.unwrap();
    until_line(&app.pool, show, Duration::from_secs(10), "the line opens", |l| l.iter().all(|e| e.2.is_some())).await;

    let late = create_users(&app.pool, 5).await;
    for (i, &user) in late.iter().enumerate() {
        let view = rooms.join(&customer(user), show).await.unwrap();
        assert_eq!(number(&view), 3 + i as u64 + 1, "the back of the line, in arrival order");
    }
    // A reload, a second tab, another device: the same place.
    let again = rooms.join(&customer(late[2]), show).await.unwrap();
    assert_eq!(number(&again), 6);
    assert_eq!(number(&rooms.view(Some(&customer(late[2])), show).await.unwrap()), 6);
    // Leaving gives the place up: those behind move up, and joining again is the back.
    let left = rooms.leave(&customer(late[0]), show).await.unwrap();
    assert_eq!(left.place, PlaceInLine::Outside);
    assert_eq!(number(&rooms.view(Some(&customer(late[2])), show).await.unwrap()), 5);
    assert_eq!(number(&rooms.join(&customer(late[0]), show).await.unwrap()), 8);
    let refused = rooms.leave(&customer(create_users(&app.pool, 1).await[0]), show).await.unwrap_err();
    assert_eq!(AppError::from(refused), AppError::NotInWaitingRoom);

    // Resumed: admitted one by one in place order.
    rooms.set_paused(show, false).await.unwrap();
    until_line(&app.pool, show, Duration::from_secs(10), "the first is admitted", |l| l.iter().any(|e| e.3.is_some())).await;
    let admitted: Vec<i64> = line(&app.pool, show).await.iter().filter(|e| e.3.is_some()).map(|e| e.2.unwrap()).collect();
    assert_eq!(admitted, vec![1], "burst 1: one admitted, the first in line");
}

#[tokio::test]
async fn admissions_never_exceed_rate_times_elapsed_plus_burst_with_two_instances_admitting() {
    let app = TestApp::spawn().await;
    let _second = app.second_instance().await;
    let rooms = rooms(&app);
    let (per_minute, burst) = (600.0, 5.0);
    let show = show_opening_later(&app, &rooms, room(600, 5)).await;
    let users = create_users(&app.pool, 120).await;
    for &user in &users {
        rooms.join(&customer(user), show).await.unwrap();
    }
    rooms.open_now(show).await.unwrap();
    // 10 a second after a burst of 5: everyone in about 12 s.
    until_line(&app.pool, show, Duration::from_secs(60), "everyone is admitted", |l| l.iter().all(|e| e.3.is_some())).await;

    let opened_at: DateTime<Utc> = sqlx::query_scalar("SELECT opened_at FROM waiting_rooms WHERE show_id = $1")
        .bind(show)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut entries = line(&app.pool, show).await;
    entries.sort_by_key(|e| (e.3, e.2));
    for (i, entry) in entries.iter().enumerate() {
        let at = entry.3.unwrap();
        let admitted_by_then = entries.iter().filter(|e| e.3.unwrap() <= at).count() as f64;
        let elapsed_minutes = (at - opened_at).num_microseconds().unwrap() as f64 / 60e6;
        let bound = burst + per_minute * elapsed_minutes;
        assert!(admitted_by_then <= bound + 1e-6, "{admitted_by_then} admitted by {elapsed_minutes:.4} min, over {bound:.2}");
        // In place order: nobody is admitted before someone ahead of them.
        assert_eq!(entry.2.unwrap(), i as i64 + 1, "admitted out of order");
    }
    let passes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM waiting_room_places WHERE show_id = $1 AND pass_expires_at = admitted_at + interval '10 minutes'",
    )
    .bind(show)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(passes, 120, "each pass lasts the room's pass length");
}

#[tokio::test]
async fn no_pass_no_seats_and_a_pass_for_one_show_does_not_open_another() {
    let app = TestApp::spawn().await;
    let rooms = rooms(&app);
    let show_a = show_opening_later(&app, &rooms, room(6000, 100)).await;
    let show_b = show_opening_later(&app, &rooms, room(6000, 100)).await;
    let ada = Api::customer(&app, "ada@example.com").await;
    let bob = Api::customer(&app, "bob@example.com").await;
    let (status, joined) = ada.post(&format!("/shows/{show_a}/waiting-room"), json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["place"]["state"], "before_opening");
    rooms.open_now(show_a).await.unwrap();
    rooms.open_now(show_b).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, view) = ada.get(&format!("/shows/{show_a}/waiting-room")).await;
        if view["place"]["state"] == "admitted" {
            break;
        }
        assert!(Instant::now() < deadline, "ada was never admitted: {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Ada's pass opens show A, in both doors of the REST API.
    let (status, held) = ada.post(&format!("/shows/{show_a}/holds"), json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let (status, booked) = ada.post(&format!("/shows/{show_a}/bookings"), json!({"seat_count": 2})).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    // Not show B.
    for (path, body) in [("holds", json!({"seat_ids": [1]})), ("bookings", json!({"seat_count": 1}))] {
        assert_error(&ada.post(&format!("/shows/{show_b}/{path}"), body).await, StatusCode::FORBIDDEN, "not_admitted");
    }
    // Bob has no pass: neither chosen seats nor the best available, nor through the browser's door.
    for (path, body) in [("holds", json!({"seat_ids": [5]})), ("bookings", json!({"seat_count": 1}))] {
        assert_error(&bob.post(&format!("/shows/{show_a}/{path}"), body).await, StatusCode::FORBIDDEN, "not_admitted");
    }
    let browser = Browser::new(&app);
    browser.sign_up("Cy").await;
    let (status, body) = browser
        .call_json("hold_seats", &json!({"show_id": show_a, "seats": {"Seats": [6]}, "idempotency_key": "cy-1"}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.to_string().contains("NotAdmitted"), "{body}");
    let taken: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE show_id = ANY($1) AND status <> 'AVAILABLE'")
        .bind(vec![show_a, show_b])
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(taken, 3, "only Ada's three seats");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn a_hold_made_with_a_pass_is_confirmed_after_the_pass_runs_out() {
    let app = TestApp::spawn().await;
    let rooms = rooms(&app);
    let show = show_opening_later(&app, &rooms, room(6000, 100)).await;
    let user = create_users(&app.pool, 1).await[0];
    rooms.join(&customer(user), show).await.unwrap();
    rooms.open_now(show).await.unwrap();
    until_line(&app.pool, show, Duration::from_secs(10), "admitted", |l| l.iter().all(|e| e.3.is_some())).await;
    let hold = app.bookings.hold(&customer(user), show, SeatRequest::Seats(vec![3, 4]), None).await.unwrap();
    // The pass runs out during checkout.
    sqlx::query("UPDATE waiting_room_places SET pass_expires_at = now() - interval '1 second' WHERE show_id = $1")
        .bind(show)
        .execute(&app.pool)
        .await
        .unwrap();
    let view = rooms.view(Some(&customer(user)), show).await.unwrap();
    assert!(matches!(view.place, PlaceInLine::PassExpired { .. }), "{view:?}");
    let confirmed = app.bookings.confirm(&customer(user), hold.id).await.unwrap();
    assert_eq!(confirmed.status.label(), "Confirmed");
    let refused = app.bookings.hold(&customer(user), show, SeatRequest::Seats(vec![5]), None).await.unwrap_err();
    assert_eq!(AppError::from(refused), AppError::NotAdmitted, "a new hold needs a valid pass");
}

#[tokio::test]
async fn before_the_opening_nothing_can_be_held_or_booked_in_either_door() {
    let app = TestApp::spawn().await;
    let rooms = rooms(&app);
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let opens = Utc::now() + chrono::Duration::hours(2);
    rooms.set_sale(show, &SaleSettings { sale_opens_at: Some(opens), waiting_room: None }).await.unwrap();
    let ada = Api::customer(&app, "ada@example.com").await;
    for (path, body) in [("holds", json!({"seat_ids": [1]})), ("bookings", json!({"seat_count": 1}))] {
        let answer = ada.post(&format!("/shows/{show}/{path}"), body).await;
        assert_error(&answer, StatusCode::CONFLICT, "sale_not_open");
        assert!(answer.1["error"].as_str().unwrap().contains("open at"), "{}", answer.1);
    }
    let browser = Browser::new(&app);
    browser.sign_up("Cy").await;
    let (status, body) = browser
        .call_json("hold_seats", &json!({"show_id": show, "seats": {"Seats": [2]}, "idempotency_key": "cy-1"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("SaleNotOpen"), "{body}");
    // The show page says when.
    let (_, page) = ada.get(&format!("/shows/{show}")).await;
    let said: DateTime<Utc> = serde_json::from_value(page["sale_opens_at"].clone()).unwrap();
    assert_eq!(said.timestamp(), opens.timestamp(), "{page}");
    assert_eq!(page["waiting_room"], false);
    // A show without a waiting room has none to join.
    assert_error(&ada.post(&format!("/shows/{show}/waiting-room"), json!(null)).await, StatusCode::NOT_FOUND, "no_waiting_room");

    rooms.open_now(show).await.unwrap();
    let (status, held) = ada.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::CREATED, "open now: {held}");
    let held_seats: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE show_id = $1 AND status <> 'AVAILABLE'")
        .bind(show)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(held_seats, 1, "nothing was held before the opening");
}

#[tokio::test]
async fn a_customer_watches_their_place_move_and_is_admitted_live() {
    let app = TestApp::spawn().await;
    let rooms = rooms(&app);
    let show = show_opening_later(&app, &rooms, room(60, 1)).await;
    let ahead = create_users(&app.pool, 2).await;
    let ada = Api::customer(&app, "ada@example.com").await;
    rooms.set_paused(show, true).await.unwrap();
    rooms.open_now(show).await.unwrap();
    until_line(&app.pool, show, Duration::from_secs(10), "the line opens", |_| true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for &user in &ahead {
        rooms.join(&customer(user), show).await.unwrap();
    }
    ada.post(&format!("/shows/{show}/waiting-room"), json!(null)).await;
    let response = ada.client.get(ada.url(&format!("/shows/{show}/waiting-room/events"))).send().await.unwrap();
    let mut events = EventStream::from_response(response);
    let mut next_place = async || {
        let (name, data) = events.next(Duration::from_secs(15)).await.expect("a place event");
        assert_eq!(name, "place");
        serde_json::from_str::<WaitingRoomView>(&data).unwrap()
    };
    assert_eq!(number(&next_place().await), 3);
    // Someone ahead leaves: Ada moves up without asking.
    rooms.leave(&customer(ahead[0]), show).await.unwrap();
    assert_eq!(number(&next_place().await), 2);
    // Admissions resume (one every second at 60 a minute after a burst of one).
    rooms.set_paused(show, false).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let view = next_place().await;
        if view.place.is_admitted() {
            break;
        }
        seen.push(number(&view));
    }
    assert!(seen.iter().all(|&n| n <= 2), "the number only goes down: {seen:?}");
    let (status, held) = ada.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::CREATED, "admitted: {held}");
    // Another account's stream needs its own session; a guest gets none.
    let (status, _) = Api::read(reqwest::get(ada.url(&format!("/shows/{show}/waiting-room/events"))).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_admins_doors_are_for_admins_and_refuse_bad_settings() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let path = format!("/admin/shows/{show}/sale");
    let admin = Api::admin(&app).await;
    let ada = Api::customer(&app, "ada@example.com").await;
    let body = json!({"sale_opens_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
                      "waiting_room": {"admissions_per_minute": 120}});
    assert_error(&ada.put(&path, body.clone()).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&Api::new(&app).put(&path, body.clone()).await, StatusCode::UNAUTHORIZED, "not_signed_in");
    assert_error(&ada.post(&format!("/admin/shows/{show}/sale/open-now"), json!(null)).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&ada.post(&format!("/admin/shows/{show}/waiting-room/pause"), json!(null)).await, StatusCode::FORBIDDEN, "forbidden");

    for (bad, field) in [
        (json!({"waiting_room": {"admissions_per_minute": 0}}), "admissions_per_minute"),
        (json!({"waiting_room": {"admissions_per_minute": 10, "burst": 0}}), "burst"),
        (json!({"waiting_room": {"admissions_per_minute": 10, "pass_minutes": 5000}}), "pass_minutes"),
        (json!({"sale_opens_at": "2099-01-01T00:00:00Z"}), "sale_opens_at"),
    ] {
        let answer = admin.put(&path, bad.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(answer.1["field"], field, "{bad}");
    }
    let (status, sale) = admin.put(&path, body).await;
    assert_eq!(status, StatusCode::OK, "{sale}");
    assert_eq!(sale["waiting_room"]["settings"], json!({"admissions_per_minute": 120, "burst": 10, "pass_minutes": 10}));
    assert_error(&ada.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1]})).await, StatusCode::CONFLICT, "sale_not_open");

    // Open, sold: the opening can no longer move. Removing the room lets everyone book.
    admin.post(&format!("/admin/shows/{show}/sale/open-now"), json!(null)).await;
    let (status, sale) = admin.put(&path, json!({"sale_opens_at": null, "waiting_room": null})).await;
    assert_eq!(status, StatusCode::OK, "{sale}");
    let (status, held) = ada.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let later = json!({"sale_opens_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339()});
    assert_error(&admin.put(&path, later).await, StatusCode::CONFLICT, "sale_already_open");
    assert_error(&admin.post(&format!("/admin/shows/{show}/waiting-room/pause"), json!(null)).await, StatusCode::NOT_FOUND, "no_waiting_room");
}

#[tokio::test]
async fn joining_is_limited_per_client_address() {
    let app = TestApp::spawn_with(|settings| settings.rate_limits.waiting_room_joins_per_minute = 3).await;
    let rooms = rooms(&app);
    let show = show_opening_later(&app, &rooms, room(60, 1)).await;
    let mut answers = Vec::new();
    for i in 0..4 {
        let api = Api::customer(&app, &format!("bot{i}@example.com")).await;
        answers.push(api.post(&format!("/shows/{show}/waiting-room"), json!(null)).await);
    }
    for answer in &answers[..3] {
        assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    }
    assert_error(&answers[3], StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(line(&app.pool, show).await.len(), 3, "the refused join left no place");
}

#[tokio::test]
async fn a_show_is_created_with_its_opening_so_it_never_sells_early() {
    let app = TestApp::spawn().await;
    let admin = Api::admin(&app).await;
    let starts = Utc::now() + chrono::Duration::days(3);
    let show = |opens: DateTime<Utc>| {
        json!({"kind": "SHOW", "title": "Sale Day", "venue": "Arena", "starts_at": starts.to_rfc3339(),
               "sale_opens_at": opens.to_rfc3339(),
               "categories": [{"code": "STD", "name": "Standard", "price_cents": 1000}],
               "rows": [{"label": "A", "seats": 4, "category": "STD"}]})
    };
    let late = admin.post("/admin/shows", show(starts + chrono::Duration::hours(1))).await;
    assert_error(&late, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(late.1["field"], "sale_opens_at");
    let opens = Utc::now() + chrono::Duration::days(1);
    let (status, created) = admin.post("/admin/shows", show(opens)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let said: DateTime<Utc> = serde_json::from_value(created["sale_opens_at"].clone()).unwrap();
    assert_eq!(said.timestamp(), opens.timestamp());
    let ada = Api::customer(&app, "ada@example.com").await;
    let id = created["id"].as_i64().unwrap();
    assert_error(&ada.post(&format!("/shows/{id}/bookings"), json!({"seat_count": 1})).await, StatusCode::CONFLICT, "sale_not_open");
}

#[tokio::test]
async fn admission_survives_the_database_stopping_for_ten_seconds_without_a_surge() {
    use boxoffice::server::embedded_pg::{Durability, EmbeddedPostgres};
    use boxoffice::service::live::LiveFeed;

    let dir = std::env::temp_dir().join(format!("boxoffice-room-outage-{}", uuid::Uuid::new_v4().simple()));
    let cluster = EmbeddedPostgres::start(&dir, Durability::Durable).await.expect("the test's own cluster");
    cluster.ensure_database("room").await.unwrap();
    let (base, pool) = TestApp::serve_on(cluster.connect_options("room"), 10).await;
    let supervisor = Supervisor::new();
    let rooms = WaitingRooms::start(pool.clone(), LiveFeed::start(pool.clone(), &supervisor), &supervisor, 0);
    let show = create_show(&pool, &hall(2, 10)).await;
    let opens = Utc::now() + chrono::Duration::hours(1);
    let (per_minute, burst) = (300.0, 5);
    let settings = SaleSettings { sale_opens_at: Some(opens), waiting_room: Some(room(300, burst)) };
    rooms.set_sale(show, &settings).await.unwrap();
    for user in create_users(&pool, 60).await {
        rooms.join(&customer(user), show).await.unwrap();
    }
    // A customer watching their place over HTTP, through the outage.
    let client = reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(90)).build().unwrap();
    let registered = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": "ada@example.com", "name": "Ada", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let joined = client.post(format!("{base}/api/v1/shows/{show}/waiting-room")).send().await.unwrap();
    assert_eq!(joined.status(), StatusCode::OK);
    let mut events = EventStream::from_response(client.get(format!("{base}/api/v1/shows/{show}/waiting-room/events")).send().await.unwrap());

    rooms.open_now(show).await.unwrap();
    // 5 a second after a burst of 5: the database stops a second in, with most still waiting.
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.stop().await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cluster = EmbeddedPostgres::start(&dir, Durability::Durable).await.expect("the cluster again");

    // Everyone is admitted in the end, the watcher hears it, and the allowance that built up
    // while the database was away was never more than one burst.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (name, data) = events.next(deadline.saturating_duration_since(Instant::now())).await.expect("the watcher is admitted");
        if name == "place" && serde_json::from_str::<WaitingRoomView>(&data).unwrap().place.is_admitted() {
            break;
        }
    }
    until_line(&pool, show, Duration::from_secs(60), "everyone is admitted", |l| l.iter().all(|e| e.3.is_some())).await;
    let opened_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT opened_at FROM waiting_rooms WHERE show_id = $1").bind(show).fetch_one(&pool).await.unwrap();
    let entries = line(&pool, show).await;
    let mut at_once: std::collections::BTreeMap<DateTime<Utc>, usize> = Default::default();
    for entry in &entries {
        *at_once.entry(entry.3.unwrap()).or_default() += 1;
    }
    let mut admitted = 0;
    for (at, count) in at_once {
        assert!(count <= burst as usize, "{count} admitted at once at {at}, more than the burst of {burst}");
        admitted += count;
        let bound = f64::from(burst) + per_minute * (at - opened_at).num_microseconds().unwrap() as f64 / 60e6;
        assert!(admitted as f64 <= bound + 1e-6, "{admitted} admitted by {at}, over {bound:.2}");
    }
    assert_eq!(admitted, 61);

    pool.close().await;
    cluster.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
