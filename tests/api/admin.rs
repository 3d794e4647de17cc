//! The admin doors: role checks on the server, creating, editing and cancelling shows,
//! blocking seats, and the admin pages. Everything through HTTP, as a browser would.

use boxoffice::domain::{BookingStatus, SeatRequest, SeatStatus};
use boxoffice::error::AppError;
use boxoffice::service::ServiceError;
use serde_json::{Value, json};

use crate::booking_world::{booking_service, create_show, create_users, customer, hall};
use crate::helpers::{Browser, TestApp};

fn trip_spec(starts_in_days: i64) -> Value {
    let starts_at = chrono::Utc::now() + chrono::Duration::days(starts_in_days);
    json!({
        "kind": "TRIP",
        "title": "Coastal Express",
        "origin": "Pune",
        "destination": "Goa",
        "starts_at": starts_at.to_rfc3339(),
        "layout": {
            "categories": [
                {"code": "PREMIUM", "name": "Premium", "price_cents": 1500},
                {"code": "STD", "name": "Seat", "price_cents": 1100}
            ],
            "rows": [
                {"label": "A", "seats": 4, "category": "PREMIUM", "aisles_after": [2]},
                {"label": "B", "seats": 4, "category": "PREMIUM", "aisles_after": [2]},
                {"label": "C", "seats": 4, "category": "STD", "aisles_after": [2]}
            ],
            "blocked": ["C4"]
        }
    })
}

async fn show_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM shows").fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn every_admin_door_refuses_guests_with_401_and_customers_with_403() {
    let app = TestApp::spawn().await;
    let show_id = create_show(&app.pool, &hall(2, 4)).await;
    let guest = Browser::new(&app);
    let customer = Browser::new(&app);
    customer.sign_up("Carol").await;

    let id = show_id.to_string();
    let form_calls: [(&str, Vec<(&str, &str)>); 4] = [
        ("admin/dashboard", vec![]),
        ("admin/show", vec![("show_id", &id)]),
        ("admin/edit_show", vec![("show_id", &id), ("title", "Hacked"), ("starts_at", "2099-01-01T10:00")]),
        ("admin/cancel_show", vec![("show_id", &id)]),
    ];
    let json_calls = [
        ("admin/create_show", json!({ "spec": trip_spec(3) })),
        ("admin/block_seats", json!({ "show_id": show_id, "seat_ids": [1], "blocked": true })),
    ];
    for (browser, expected, error) in [(&guest, 401, "NotSignedIn"), (&customer, 403, "Forbidden")] {
        for (function, form) in &form_calls {
            let (status, body, _) = browser.call(function, form).await;
            assert_eq!((status, body.clone()), (expected, json!(error)), "{function}");
        }
        for (function, body) in &json_calls {
            let (status, body) = browser.call_json(function, body).await;
            assert_eq!((status, body), (expected, json!(error)), "{function}");
        }
    }
    assert_eq!(show_count(&app).await, 1, "nothing was created");
    let (title, status): (String, String) =
        sqlx::query_as("SELECT title, status::text FROM shows WHERE id = $1")
            .bind(show_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((title.as_str(), status.as_str()), ("Test Night", "ON_SALE"), "nothing was changed");
    let blocked: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE status = 'BLOCKED'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(blocked, 0);
}

#[tokio::test]
async fn an_admin_creates_a_trip_and_sees_it_on_the_dashboard() {
    let app = TestApp::spawn().await;
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;

    let (status, id) = admin.call_json("admin/create_show", &json!({ "spec": trip_spec(3) })).await;
    assert_eq!(status, 200, "{id}");
    let show_id = id.as_i64().unwrap();

    let (status, dashboard, _) = admin.call("admin/dashboard", &[]).await;
    assert_eq!(status, 200);
    let trip = dashboard.as_array().unwrap().iter().find(|s| s["id"] == show_id).expect("listed");
    assert_eq!(
        (trip["sold"].as_i64(), trip["free"].as_i64(), trip["blocked"].as_i64()),
        (Some(0), Some(11), Some(1))
    );
    assert_eq!(trip["revenue_cents"], 0);

    let (status, detail, _) = admin.call("admin/show", &[("show_id", &show_id.to_string())]).await;
    assert_eq!(status, 200);
    assert_eq!(detail["seat_map"]["seats"].as_array().unwrap().len(), 12);
    let c4 = detail["seat_map"]["seats"].as_array().unwrap().iter().find(|s| s["label"] == "C4").unwrap();
    assert_eq!(c4["status"], "BLOCKED");
}

#[tokio::test]
async fn an_invalid_show_names_the_field_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;

    let mut past = trip_spec(-1);
    let mut bad_aisle = trip_spec(3);
    bad_aisle["layout"]["rows"][1]["aisles_after"] = json!([4]);
    let mut unknown_blocked = trip_spec(3);
    unknown_blocked["layout"]["blocked"] = json!(["Z9"]);
    let mut no_route = trip_spec(3);
    no_route["destination"] = json!("  ");
    past["title"] = json!("Past");
    for (spec, field) in [
        (past, "starts_at"),
        (bad_aisle, "rows[1].aisles_after"),
        (unknown_blocked, "blocked[0]"),
        (no_route, "destination"),
    ] {
        let (status, error) = admin.call_json("admin/create_show", &json!({ "spec": spec })).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["InvalidInput"]["field"], field, "{error}");
    }
    let (status, _) = admin.call_json("admin/create_show", &json!({ "spec": {"kind": "BOAT"} })).await;
    assert_eq!(status, 400, "a malformed request is the caller's mistake");
    assert_eq!(show_count(&app).await, 0);
}

#[tokio::test]
async fn a_show_can_be_edited_until_its_first_sale() {
    let app = TestApp::spawn().await;
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    let show_id = create_show(&app.pool, &hall(2, 4)).await;
    let id = show_id.to_string();
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%dT%H:%M").to_string();

    let (status, body, _) = admin
        .call("admin/edit_show", &[("show_id", &id), ("title", "Renamed Night"), ("starts_at", &later)])
        .await;
    assert_eq!(status, 200, "{body}");
    let title: String = sqlx::query_scalar("SELECT title FROM shows WHERE id = $1")
        .bind(show_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(title, "Renamed Night");

    let (status, body, _) = admin
        .call("admin/edit_show", &[("show_id", &id), ("title", "Renamed"), ("starts_at", "2001-01-01T10:00")])
        .await;
    assert_eq!((status, &body["InvalidInput"]["field"]), (400, &json!("starts_at")));

    let user = create_users(&app.pool, 1).await[0];
    booking_service(&app, 120)
        .book_now(&customer(user), show_id, SeatRequest::Seats(vec![1]), None)
        .await
        .expect("the first sale");
    let (status, body, _) = admin
        .call("admin/edit_show", &[("show_id", &id), ("title", "Too late"), ("starts_at", &later)])
        .await;
    assert_eq!(status, 409, "{body}");
    let title: String = sqlx::query_scalar("SELECT title FROM shows WHERE id = $1")
        .bind(show_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(title, "Renamed Night", "unchanged after the first sale");
}

#[tokio::test]
async fn cancelling_a_show_cancels_its_bookings_and_stops_all_sales() {
    let app = TestApp::spawn().await;
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    let show_id = create_show(&app.pool, &hall(2, 4)).await;
    let users = create_users(&app.pool, 2).await;
    let service = booking_service(&app, 120);
    let confirmed =
        service.book_now(&customer(users[0]), show_id, SeatRequest::Seats(vec![1, 2]), None).await.unwrap();
    let held = service.hold(&customer(users[1]), show_id, SeatRequest::Seats(vec![3]), None).await.unwrap();

    let (status, cancelled, _) = admin.call("admin/cancel_show", &[("show_id", &show_id.to_string())]).await;
    assert_eq!((status, cancelled), (200, json!(2)));

    for (booking, user) in [(&confirmed, users[0]), (&held, users[1])] {
        let seen = service.get(&customer(user), booking.id).await.unwrap();
        assert_eq!(seen.status, BookingStatus::Cancelled, "the customer sees it cancelled");
        let last_event: (String, String, Option<String>) = sqlx::query_as(
            "SELECT b.status::text, e.to_status::text, e.detail FROM bookings b
             JOIN booking_events e ON e.booking_id = b.id WHERE b.id = $1 ORDER BY e.id DESC LIMIT 1",
        )
        .bind(booking.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(
            last_event,
            ("CANCELLED".into(), "CANCELLED".into(), Some("the show was cancelled".into())),
            "stored as cancelled, with the reason"
        );
    }
    let statuses: Vec<SeatStatus> =
        sqlx::query_scalar("SELECT DISTINCT status FROM seats WHERE show_id = $1")
            .bind(show_id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(statuses, vec![SeatStatus::Blocked], "every seat is off sale");
    let after = service.book_now(&customer(users[1]), show_id, SeatRequest::Seats(vec![5]), None).await;
    assert!(
        matches!(after, Err(ServiceError::Refused(AppError::ShowCancelled))),
        "nothing sells after a cancellation: {after:?}"
    );

    let (status, body, _) = admin.call("admin/cancel_show", &[("show_id", &show_id.to_string())]).await;
    assert_eq!((status, body), (409, json!("ShowCancelled")));
    crate::booking_world::assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn admins_block_free_seats_and_unblock_them_but_never_sold_ones() {
    let app = TestApp::spawn().await;
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    let show_id = create_show(&app.pool, &hall(1, 4)).await;
    let user = create_users(&app.pool, 1).await[0];
    booking_service(&app, 120)
        .book_now(&customer(user), show_id, SeatRequest::Seats(vec![1]), None)
        .await
        .expect("the first sale");

    let block =
        |seats: Value, blocked: bool| json!({ "show_id": show_id, "seat_ids": seats, "blocked": blocked });
    let (status, body) = admin.call_json("admin/block_seats", &block(json!([2, 3]), true)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin.call_json("admin/block_seats", &block(json!([1, 4]), true)).await;
    assert_eq!(status, 400);
    assert!(body["InvalidInput"]["message"].as_str().unwrap().contains("A1"), "{body}");
    let (status, _) = admin.call_json("admin/block_seats", &block(json!([99]), true)).await;
    assert_eq!(status, 400, "a seat of no show");

    let status_of = |seat: i32| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, SeatStatus>(
                "SELECT status FROM seats WHERE show_id = $1 AND seat_id = $2",
            )
            .bind(show_id)
            .bind(seat)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(status_of(1).await, SeatStatus::Booked, "a sold seat stays sold");
    assert_eq!(
        (status_of(2).await, status_of(3).await, status_of(4).await),
        (SeatStatus::Blocked, SeatStatus::Blocked, SeatStatus::Available)
    );

    let (status, _) = admin.call_json("admin/block_seats", &block(json!([3]), false)).await;
    assert_eq!(status, 200);
    assert_eq!(status_of(3).await, SeatStatus::Available);
    crate::booking_world::assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn admin_pages_send_guests_to_log_in_and_refuse_customers() {
    let app = TestApp::spawn().await;
    let show_id = create_show(&app.pool, &hall(2, 4)).await;

    let guest = Browser::new(&app);
    let (status, location, _) = guest.page("/admin").await;
    assert_eq!((status, location.as_deref()), (302, Some("/login?next=%2Fadmin")));

    let customer = Browser::new(&app);
    customer.sign_up("Carol").await;
    let (status, _, html) = customer.page("/admin").await;
    assert_eq!(status, 403);
    assert!(html.contains("Only admins can do that."), "{html}");
    assert!(!html.contains("Test Night"), "no admin data leaks into the page");

    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    let (status, _, html) = admin.page("/admin").await;
    assert_eq!(status, 200);
    assert!(html.contains("Test Night") && html.contains("0 sold · 0 held · 8 free"), "{html}");
    let (status, _, html) = admin.page(&format!("/admin/shows/{show_id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"aria-label="Row B, seat 4, Standard, 10.00, available""#),
        "the seat map is server-rendered"
    );
    let (status, _, _) = admin.page("/admin/shows/999999").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn state_changing_requests_from_other_sites_are_refused() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(&app);
    let url = format!("{}/rpc/register", app.address);
    let form = [("email", "csrf@example.com"), ("name", "Mallory"), ("password", "correct horse battery")];

    let forged =
        browser.client.post(&url).header("origin", "https://evil.example").form(&form).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(forged.json::<Value>().await.unwrap(), json!("CrossSiteRequest"));
    let forged =
        browser.client.post(&url).header("sec-fetch-site", "cross-site").form(&form).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 0, "nothing happened");

    let host = app.address.trim_start_matches("http://").to_owned();
    let same_site = browser
        .client
        .post(&url)
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), 200, "the site's own pages work");
}
