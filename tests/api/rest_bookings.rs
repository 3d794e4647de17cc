//! The REST API v1: holds, bookings, confirm, cancel, reading bookings, idempotency keys and
//! the booking rate limit, with every error case.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::booking_world::{assert_invariants, create_show, hall};
use crate::helpers::TestApp;
use crate::rest::{Api, assert_error};

async fn show_status(api: &Api, show: i64) -> Vec<String> {
    let (_, show) = api.get(&format!("/shows/{show}")).await;
    show["seats"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_hold_takes_the_seats_until_it_is_confirmed() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(2, 5)).await;
    let api = Api::customer(&app, "ann@example.com").await;

    let (status, hold) = api.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [3, 2]})).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    assert_eq!(hold["status"], "PENDING");
    assert_eq!(hold["show_id"], show);
    assert_eq!(hold["seats"], json!([{"id": 2, "label": "A2"}, {"id": 3, "label": "A3"}]));
    assert_eq!(hold["total_cents"], 2000);
    let expires = chrono::DateTime::parse_from_rfc3339(hold["hold_expires_at"].as_str().unwrap()).unwrap();
    assert!(expires > chrono::Utc::now());
    assert_eq!(&show_status(&api, show).await[1..3], ["HELD", "HELD"]);

    let (status, confirmed) = api.post(&format!("/bookings/{}/confirm", hold["id"]), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(
        (confirmed["id"].clone(), confirmed["status"].as_str()),
        (hold["id"].clone(), Some("CONFIRMED"))
    );
    assert_eq!(&show_status(&api, show).await[1..3], ["BOOKED", "BOOKED"]);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn booking_at_once_confirms_in_one_step() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(2, 5)).await;
    let api = Api::customer(&app, "ann@example.com").await;
    let (status, booking) = api.post(&format!("/shows/{show}/bookings"), json!({"seat_count": 2})).await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    assert_eq!(booking["status"], "CONFIRMED");
    assert_eq!(booking["hold_expires_at"], Value::Null);
    assert_eq!(booking["seats"].as_array().unwrap().len(), 2);
    assert_eq!(show_status(&api, show).await.iter().filter(|s| *s == "BOOKED").count(), 2);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn taken_seats_are_a_conflict_naming_them() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 6)).await;
    let first = Api::customer(&app, "first@example.com").await;
    let second = Api::customer(&app, "second@example.com").await;
    assert_eq!(
        first.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [2, 3]})).await.0,
        StatusCode::CREATED
    );

    for path in ["holds", "bookings"] {
        let answer = second.post(&format!("/shows/{show}/{path}"), json!({"seat_ids": [1, 3, 2]})).await;
        assert_error(&answer, StatusCode::CONFLICT, "seats_taken");
        assert_eq!(answer.1["taken_seat_ids"], json!([2, 3]));
        assert_eq!(answer.1["taken_seats"], json!(["A2", "A3"]));
        assert_eq!(answer.1["status"], "FAILED");
        assert!(answer.1["error"].as_str().unwrap().contains("A2 and A3"), "{}", answer.1);
    }
    assert_eq!(show_status(&second, show).await[0], "AVAILABLE", "all or nothing");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn a_count_that_cannot_be_met_is_a_conflict() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 3)).await;
    let api = Api::customer(&app, "ann@example.com").await;
    for path in ["holds", "bookings"] {
        let answer = api.post(&format!("/shows/{show}/{path}"), json!({"seat_count": 4})).await;
        assert_error(&answer, StatusCode::CONFLICT, "not_enough_seats");
        assert_eq!(answer.1["status"], "FAILED");
        assert_eq!(answer.1["available_seats"], 3);
    }
    let answer = api.post(&format!("/shows/{show}/holds"), json!({"seat_count": 1, "category": "VIP"})).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(answer.1["field"], "category");
}

#[tokio::test]
async fn bad_seat_requests_are_400_and_take_nothing() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 5)).await;
    let other_show = create_show(&app.pool, &hall(3, 10)).await;
    assert!(other_show > 0);
    let api = Api::customer(&app, "ann@example.com").await;
    let holds = format!("/shows/{show}/holds");
    for (body, code) in [
        (json!({"seat_count": 0}), "invalid_input"),
        (json!({"seat_count": -2}), "invalid_input"),
        (json!({"seat_count": 11}), "too_many_seats"),
        (json!({"seat_count": 1_000_000_000_000i64}), "too_many_seats"),
        (json!({"seat_count": 1e40}), "invalid_input"),
        (json!({"seat_count": 2.5}), "invalid_input"),
        (json!({"seat_count": "2"}), "invalid_input"),
        (json!({"seat_ids": []}), "invalid_input"),
        (json!({"seat_ids": [1, 1]}), "invalid_input"),
        (json!({"seat_ids": [0]}), "invalid_input"),
        (json!({"seat_ids": [-1]}), "invalid_input"),
        (json!({"seat_ids": [25]}), "invalid_input"),
        (json!({"seat_ids": [5000000000i64]}), "invalid_input"),
        (json!({"seat_ids": (1..=11).collect::<Vec<_>>()}), "too_many_seats"),
        (json!({"seat_ids": ["A1"]}), "invalid_input"),
        (json!({"seat_ids": [1], "seat_count": 1}), "invalid_input"),
        (json!({"seat_ids": [1], "category": "STD"}), "invalid_input"),
        (json!({}), "invalid_input"),
        (json!({"seat_ids": [1], "price": 0}), "invalid_input"),
        (json!([1, 2]), "invalid_input"),
    ] {
        let answer = api.post(&holds, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, code);
        assert!(answer.1["error"].is_string(), "{body}");
    }
    assert_error(
        &api.post_raw(&holds, "application/json", "{\"seat_ids\": [1,").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
    assert_error(
        &api.post_raw(&holds, "text/plain", "seat 1").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "not_json",
    );
    let huge = format!("{{\"seat_ids\": [{}1]}}", "1,".repeat(40_000));
    assert_error(
        &api.post_raw(&holds, "application/json", huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
    for path in ["/shows/abc/holds", "/shows/1e3/bookings", "/bookings/x/confirm", "/bookings/-/cancel"] {
        assert_error(
            &api.post(path, json!({"seat_ids": [1]})).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        );
    }
    assert!(show_status(&api, show).await.iter().all(|s| s == "AVAILABLE"));
    let bookings: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bookings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(bookings, 0);
}

#[tokio::test]
async fn guests_and_unknown_shows() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 5)).await;
    let guest = Api::new(&app);
    for path in [format!("/shows/{show}/holds"), format!("/shows/{show}/bookings")] {
        assert_error(
            &guest.post(&path, json!({"seat_ids": [1]})).await,
            StatusCode::UNAUTHORIZED,
            "not_signed_in",
        );
    }
    for path in ["/bookings/1/confirm", "/bookings/1/cancel"] {
        assert_error(&guest.post(path, json!({})).await, StatusCode::UNAUTHORIZED, "not_signed_in");
    }
    assert_error(&guest.get("/bookings").await, StatusCode::UNAUTHORIZED, "not_signed_in");
    assert_error(&guest.get("/bookings/1").await, StatusCode::UNAUTHORIZED, "not_signed_in");

    let api = Api::customer(&app, "ann@example.com").await;
    for path in ["/shows/424242/holds", "/shows/424242/bookings"] {
        assert_error(
            &api.post(path, json!({"seat_ids": [1]})).await,
            StatusCode::NOT_FOUND,
            "show_not_found",
        );
        assert_error(
            &api.post(path, json!({"seat_count": 1})).await,
            StatusCode::NOT_FOUND,
            "show_not_found",
        );
    }
    for path in ["/bookings/424242/confirm", "/bookings/424242/cancel"] {
        assert_error(&api.post(path, json!({})).await, StatusCode::NOT_FOUND, "booking_not_found");
    }
    assert_error(&api.get("/bookings/424242").await, StatusCode::NOT_FOUND, "booking_not_found");
}

#[tokio::test]
async fn confirming_after_the_hold_ran_out_is_a_conflict() {
    let app = TestApp::spawn_with(|s| s.hold_seconds = 1).await;
    let show = create_show(&app.pool, &hall(1, 5)).await;
    let api = Api::customer(&app, "ann@example.com").await;
    let (status, hold) = api.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    // No expiry worker runs in tests: the late confirm itself must store the expiry.
    let stored = || {
        sqlx::query_scalar::<_, String>("SELECT status::text FROM bookings WHERE id = $1")
            .bind(hold["id"].as_i64().unwrap())
            .fetch_one(&app.pool)
    };
    assert_eq!(stored().await.unwrap(), "PENDING");
    let answer = api.post(&format!("/bookings/{}/confirm", hold["id"]), json!({})).await;
    assert_error(&answer, StatusCode::CONFLICT, "hold_expired");
    assert_eq!(answer.1["status"], "EXPIRED");
    assert_eq!(stored().await.unwrap(), "EXPIRED", "the stored booking, not only the answer");
    assert_eq!(api.get(&format!("/bookings/{}", hold["id"])).await.1["status"], "EXPIRED");
    assert_eq!(show_status(&api, show).await[0], "AVAILABLE");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn cancelling_puts_the_seats_back_on_sale() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 5)).await;
    let api = Api::customer(&app, "ann@example.com").await;
    let (_, booking) = api.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [4]})).await;
    let (status, cancelled) = api.post(&format!("/bookings/{}/cancel", booking["id"]), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(show_status(&api, show).await[3], "AVAILABLE");
    let again = api.post(&format!("/bookings/{}/cancel", booking["id"]), json!({})).await;
    assert_error(&again, StatusCode::CONFLICT, "wrong_booking_state");
    let confirm = api.post(&format!("/bookings/{}/confirm", booking["id"]), json!({})).await;
    assert_error(&confirm, StatusCode::CONFLICT, "wrong_booking_state");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn bookings_are_private_except_to_admins() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 5)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let bob = Api::customer(&app, "bob@example.com").await;
    let (status, first) = ann.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, second) = ann.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [2]})).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let (status, bobs) = bob.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [3]})).await;
    assert_eq!(status, StatusCode::CREATED, "{bobs}");

    let (status, mine) = ann.get("/bookings").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&Value> = mine.as_array().unwrap().iter().map(|b| &b["id"]).collect();
    assert_eq!(ids, vec![&second["id"], &first["id"]], "newest first, only mine");
    let (status, his) = bob.get("/bookings").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&Value> = his.as_array().unwrap().iter().map(|b| &b["id"]).collect();
    assert_eq!(ids, vec![&bobs["id"]], "only his");
    let (status, one) = ann.get(&format!("/bookings/{}", first["id"])).await;
    assert_eq!((status, &one["seats"][0]["label"]), (StatusCode::OK, &json!("A1")));

    let path = format!("/bookings/{}", first["id"]);
    assert_error(&bob.get(&path).await, StatusCode::NOT_FOUND, "booking_not_found");
    assert_error(
        &bob.post(&format!("{path}/confirm"), json!({})).await,
        StatusCode::NOT_FOUND,
        "booking_not_found",
    );
    assert_error(
        &bob.post(&format!("{path}/cancel"), json!({})).await,
        StatusCode::NOT_FOUND,
        "booking_not_found",
    );

    let admin = Api::admin(&app).await;
    let (status, seen) = admin.get(&path).await;
    assert_eq!((status, &seen["id"]), (StatusCode::OK, &first["id"]));
    assert_eq!(admin.get("/bookings").await.1, json!([]), "the admin's own list");
}

#[tokio::test]
async fn replaying_an_idempotency_key_returns_the_first_answer() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 5)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let post = |api: &Api, path: &str, key: &str, body: Value| {
        api.client.post(api.url(path)).header("Idempotency-Key", key).json(&body).send()
    };
    let holds = format!("/shows/{show}/holds");
    let first = Api::read(post(&ann, &holds, "checkout-1", json!({"seat_count": 2})).await.unwrap()).await;
    let again = Api::read(post(&ann, &holds, "checkout-1", json!({"seat_count": 2})).await.unwrap()).await;
    assert_eq!(first.0, StatusCode::CREATED);
    assert_eq!(first, again, "the same answer");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1, "one booking");

    let different =
        Api::read(post(&ann, &holds, "checkout-1", json!({"seat_count": 3})).await.unwrap()).await;
    assert_error(&different, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(different.1["field"], "idempotency_key");

    // A failure is replayed as the same failure.
    let bookings = format!("/shows/{show}/bookings");
    let failed =
        Api::read(post(&ann, &bookings, "checkout-2", json!({"seat_count": 4})).await.unwrap()).await;
    assert_error(&failed, StatusCode::CONFLICT, "not_enough_seats");
    let replayed =
        Api::read(post(&ann, &bookings, "checkout-2", json!({"seat_count": 4})).await.unwrap()).await;
    assert_eq!(failed, replayed);

    // Keys are per user.
    let bob = Api::customer(&app, "bob@example.com").await;
    let bobs = Api::read(post(&bob, &holds, "checkout-1", json!({"seat_count": 2})).await.unwrap()).await;
    assert_eq!(bobs.0, StatusCode::CREATED, "{}", bobs.1);
    assert_ne!(bobs.1["id"], first.1["id"]);

    for key in ["", "has space", &"k".repeat(201)] {
        let answer = Api::read(post(&ann, &holds, key, json!({"seat_count": 1})).await.unwrap()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
    }
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn booking_requests_are_limited_per_user() {
    let app = TestApp::spawn_with(|s| s.rate_limits.booking_per_second = 2).await;
    let show = create_show(&app.pool, &hall(2, 10)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let path = format!("/shows/{show}/holds");
    // Two a second: of four sent at once (well within the half second the limit takes to give
    // one back, however busy the machine), two pass and two are refused and change nothing.
    let sent = (1..=4).map(|seat| ann.client.post(ann.url(&path)).json(&json!({"seat_ids": [seat]})).send());
    let answers: Vec<reqwest::Response> = futures::future::join_all(sent).await.into_iter().map(Result::unwrap).collect();
    let (passed, limited): (Vec<_>, Vec<_>) = answers.into_iter().partition(|a| a.status() == StatusCode::CREATED);
    assert_eq!((passed.len(), limited.len()), (2, 2), "two pass, two are limited");
    for limited in limited {
        assert_eq!(limited.headers()["retry-after"], "1");
        let answer = Api::read(limited).await;
        assert_error(&answer, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert_eq!(answer.1["retry_after_seconds"], 1);
    }
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(held, 2, "the refused requests stored nothing");

    let bob = Api::customer(&app, "bob@example.com").await;
    assert_eq!(bob.post(&path, json!({"seat_count": 1})).await.0, StatusCode::CREATED, "per user");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(ann.post(&path, json!({"seat_count": 1})).await.0, StatusCode::CREATED, "after the wait");
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(held, 4);
}

/// Seat maps are served from each instance's memory; the live feed keeps them right.
#[tokio::test]
async fn a_cached_seat_map_shows_a_booking_here_at_once_and_on_other_instances_soon() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(2, 5)).await;
    let api = Api::customer(&app, "ann@example.com").await;
    assert!(show_status(&api, show).await.iter().all(|s| s == "AVAILABLE"), "read once: now in memory");
    let (status, _) = api.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [1, 2]})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(&show_status(&api, show).await[..3], ["BOOKED", "BOOKED", "AVAILABLE"], "own booking at once");

    let elsewhere = app.second_instance().await;
    let seats_elsewhere = || async {
        let show: Value =
            reqwest::get(format!("{elsewhere}/api/v1/shows/{show}")).await.unwrap().json().await.unwrap();
        show["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["status"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(&seats_elsewhere().await[..3], ["BOOKED", "BOOKED", "AVAILABLE"]);
    let (status, _) = api.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [3]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while seats_elsewhere().await[2] != "BOOKED" {
        assert!(std::time::Instant::now() < deadline, "the other instance never showed seat 3 booked");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
