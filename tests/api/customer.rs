//! The customer's doors over HTTP: holding, confirming, cancelling, privacy between
//! customers, and the live seat feed (also across two app instances on one database).

use std::time::Duration;

use serde_json::{Value, json};

use crate::booking_world::{create_show, hall};
use crate::helpers::{Browser, EventStream, TestApp};

fn hold(show_id: i64, seats: Value, key: &str) -> Value {
    json!({ "show_id": show_id, "seats": seats, "idempotency_key": key })
}

#[tokio::test]
async fn a_customer_holds_confirms_and_cancels_and_nobody_else_can_touch_it() {
    let app = TestApp::spawn().await;
    let show_id = create_show(&app.pool, &hall(2, 5)).await;
    let guest = Browser::new(&app);
    let (status, body) = guest.call_json("hold_seats", &hold(show_id, json!({"Seats": [1, 2]}), "k1")).await;
    assert_eq!((status, body), (401, json!("NotSignedIn")), "holding needs an account");

    let ada = Browser::new(&app);
    ada.sign_up("Ada").await;
    let (status, held) = ada.call_json("hold_seats", &hold(show_id, json!({"Seats": [1, 2]}), "k1")).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["status"], "PENDING");
    assert_eq!(held["total_cents"], 2000);
    let (_, replay) = ada.call_json("hold_seats", &hold(show_id, json!({"Seats": [1, 2]}), "k1")).await;
    assert_eq!(replay["id"], held["id"], "a double click holds once");
    let id = held["id"].as_i64().unwrap().to_string();

    let eve = Browser::new(&app);
    eve.sign_up("Eve").await;
    for function in ["booking", "confirm_booking", "cancel_booking"] {
        let (status, body, _) = eve.call(function, &[("booking_id", &id)]).await;
        assert_eq!((status, body), (404, json!("BookingNotFound")), "{function} on someone else's booking");
    }
    let (status, taken) = eve.call_json("hold_seats", &hold(show_id, json!({"Seats": [2, 3]}), "e1")).await;
    assert_eq!(status, 409, "{taken}");
    // The refusal names the taken seats by label and id, and the FAILED booking that recorded it.
    let failed =
        taken["SeatsTaken"]["booking_id"].as_i64().unwrap_or_else(|| panic!("no booking named: {taken}"));
    assert_eq!(taken, json!({"SeatsTaken": {"seats": ["A2"], "seat_ids": [2], "booking_id": failed}}));
    let failed_status: String = sqlx::query_scalar("SELECT status::text FROM bookings WHERE id = $1")
        .bind(failed)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(failed_status, "FAILED");

    let (status, confirmed, _) = ada.call("confirm_booking", &[("booking_id", &id)]).await;
    assert_eq!((status, &confirmed["status"]), (200, &json!("CONFIRMED")));
    let ids = |list: &Value| -> Vec<Value> {
        list.as_array()
            .unwrap_or_else(|| panic!("not a list: {list}"))
            .iter()
            .map(|b| b["booking"]["id"].clone())
            .collect()
    };
    let (status, mine, _) = ada.call("my_bookings", &[]).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(ids(&mine), vec![held["id"].clone()], "only mine");
    assert_eq!(mine[0]["show"]["title"], "Test Night");
    let (status, theirs, _) = eve.call("my_bookings", &[]).await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(ids(&theirs), vec![json!(failed)], "only Eve's own refused attempt, never Ada's booking");

    let (status, cancelled, _) = ada.call("cancel_booking", &[("booking_id", &id)]).await;
    assert_eq!((status, &cancelled["status"]), (200, &json!("CANCELLED")));
    let (status, _) = eve.call_json("hold_seats", &hold(show_id, json!({"Seats": [1, 2]}), "e2")).await;
    assert_eq!(status, 200, "cancelled seats are on sale again");
    crate::booking_world::assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn bad_hold_requests_are_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let show_id = create_show(&app.pool, &hall(2, 5)).await;
    let ada = Browser::new(&app);
    ada.sign_up("Ada").await;
    for (body, expected) in [
        (hold(show_id, json!({"Seats": []}), "a"), 400),
        (hold(show_id, json!({"Seats": [1, 1]}), "b"), 400),
        (hold(show_id, json!({"Seats": [99]}), "c"), 400),
        (hold(show_id, json!({"Seats": (1..=11).collect::<Vec<_>>()}), "d"), 400),
        (hold(show_id, json!({"BestAvailable": {"count": 0, "category": null}}), "e"), 400),
        (hold(show_id, json!({"Seats": [1]}), ""), 400),
        (hold(999_999, json!({"Seats": [1]}), "f"), 404),
        (json!({"show_id": "seven", "seats": {"Seats": [1]}, "idempotency_key": "g"}), 400),
    ] {
        let (status, error) = ada.call_json("hold_seats", &body).await;
        assert_eq!(status, expected, "{body} -> {error}");
    }
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE status <> 'AVAILABLE'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(held, 0, "nothing changed");
}

#[tokio::test]
async fn best_available_holds_seats_side_by_side() {
    let app = TestApp::spawn().await;
    let show_id = create_show(&app.pool, &hall(3, 6)).await;
    let ada = Browser::new(&app);
    ada.sign_up("Ada").await;
    let (status, held) = ada
        .call_json(
            "hold_seats",
            &hold(show_id, json!({"BestAvailable": {"count": 3, "category": null}}), "b"),
        )
        .await;
    assert_eq!(status, 200, "{held}");
    let labels: Vec<&str> =
        held["seats"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert_eq!(labels.len(), 3);
    assert!(labels.iter().all(|l| l[..1] == labels[0][..1]), "one row: {labels:?}");
}

#[tokio::test]
async fn open_seat_maps_see_holds_and_releases_live_on_every_instance() {
    let app = TestApp::spawn().await;
    let other_instance = app.second_instance().await;
    let show_id = create_show(&app.pool, &hall(2, 5)).await;

    let mut here = EventStream::open(&format!("{}/shows/{show_id}/events", app.address)).await;
    let mut there = EventStream::open(&format!("{other_instance}/shows/{show_id}/events")).await;
    for stream in [&mut here, &mut there] {
        let (event, data) = stream.next(Duration::from_secs(5)).await.expect("a snapshot first");
        assert_eq!(event, "snapshot");
        // The ids of the seats in each state.
        let seats: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(seats, json!({"AVAILABLE": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}));
    }

    let ada = Browser::new(&app);
    ada.sign_up("Ada").await;
    let (status, held) = ada.call_json("hold_seats", &hold(show_id, json!({"Seats": [3, 4]}), "k")).await;
    assert_eq!(status, 200, "{held}");
    for stream in [&mut here, &mut there] {
        let (event, data) =
            stream.next(Duration::from_secs(3)).await.expect("the hold arrives within a second or so");
        assert_eq!(event, "seats");
        let changes: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(changes, json!({"HELD": [3, 4]}));
    }

    let id = held["id"].as_i64().unwrap().to_string();
    let (status, _, _) = ada.call("cancel_booking", &[("booking_id", &id)]).await;
    assert_eq!(status, 200);
    for stream in [&mut here, &mut there] {
        let (_, data) = stream.next(Duration::from_secs(3)).await.expect("the release arrives");
        let changes: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(changes, json!({"AVAILABLE": [3, 4]}));
    }

    // API clients read the same feed.
    let mut api = EventStream::open(&format!("{}/api/v1/shows/{show_id}/events", app.address)).await;
    let (event, data) = api.next(Duration::from_secs(5)).await.expect("a snapshot");
    assert_eq!(event, "snapshot");
    assert_eq!(serde_json::from_str::<Value>(&data).unwrap()["AVAILABLE"].as_array().unwrap().len(), 10);

    let response = reqwest::get(format!("{}/shows/999999/events", app.address)).await.unwrap();
    assert_eq!(response.status(), 404);
    let response = reqwest::get(format!("{}/shows/abc/events", app.address)).await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn show_lists_hear_how_many_seats_are_left() {
    let app = TestApp::spawn().await;
    let show_id = create_show(&app.pool, &hall(2, 5)).await;
    let mut counts = EventStream::open(&format!("{}/events/availability", app.address)).await;
    let ada = Browser::new(&app);
    ada.sign_up("Ada").await;
    let (status, _) = ada.call_json("hold_seats", &hold(show_id, json!({"Seats": [1, 2, 3]}), "k")).await;
    assert_eq!(status, 200);
    let (event, data) = counts.next(Duration::from_secs(3)).await.expect("a count arrives");
    assert_eq!(event, "availability");
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap(),
        json!([{"show_id": show_id, "available_seats": 7}])
    );
}

#[tokio::test]
async fn the_show_page_is_server_rendered_with_every_seat_named() {
    let app = TestApp::spawn().await;
    let show_id = create_show(&app.pool, &hall(2, 5)).await;
    let guest = Browser::new(&app);
    let (status, _, html) = guest.page(&format!("/shows/{show_id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"aria-label="Row A, seat 1, Standard, 10.00, available""#), "{html}");
    assert_eq!(html.matches("data-seat=").count(), 10);
    let (status, _, _) = guest.page("/shows/424242").await;
    assert_eq!(status, 404);
    let (status, location, _) = guest.page("/bookings").await;
    assert_eq!((status, location.as_deref()), (302, Some("/login?next=%2Fbookings")));
}
