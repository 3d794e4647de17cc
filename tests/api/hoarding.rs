//! Hoarding: one customer cannot hold more than the cap on one show, however many requests
//! race (through one claim queue or two instances'), at either door; and a loop of refused
//! requests leaves a bounded trace.

use boxoffice::domain::{Booking, IdempotencyKey, SeatRequest};
use boxoffice::error::AppError;
use boxoffice::service::Bookings;
use boxoffice::service::bookings::BookingRules;
use boxoffice::service::claims::{Claims, REFUSALS_RECORDED_PER_MINUTE};
use boxoffice::service::supervisor::Supervisor;
use reqwest::StatusCode;
use serde_json::json;

use crate::booking_world::{assert_invariants, create_show, create_users, customer, hall, rules};
use crate::helpers::{Browser, TestApp};
use crate::rest::Api;

/// Seats the customer holds on the show now, by the database.
async fn seats_held(app: &TestApp, show: i64, user: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM seats s JOIN bookings b ON b.id = s.booking_id
         WHERE s.show_id = $1 AND b.user_id = $2 AND s.status = 'HELD'",
    )
    .bind(show)
    .bind(user)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn hold(service: &Bookings, show: i64, user: i64, seats: &[i32]) -> Result<Booking, AppError> {
    let key = IdempotencyKey::parse(&uuid::Uuid::new_v4().to_string()).unwrap();
    Ok(service.hold(&customer(user), show, SeatRequest::Seats(seats.to_vec()), Some(key)).await?)
}

#[tokio::test]
async fn racing_holds_of_one_customer_never_pass_the_cap_even_across_instances() {
    let app = TestApp::spawn_with_connections(30).await;
    let show = create_show(&app.pool, &hall(10, 10)).await;
    let user = create_users(&app.pool, 1).await[0];
    let cap = 6;
    let capped = BookingRules { max_held_seats: cap, ..rules(120) };
    // Two instances: two claim queues, each with its own transactions.
    let here = Bookings::new(app.claims.clone(), app.feed.clone(), capped);
    let other_queue = Claims::start(app.pool.clone(), &Supervisor::new());
    let there = Bookings::new(other_queue, app.feed.clone(), capped);

    // 40 holds of 2 distinct free seats each, all at once, half through each instance.
    let racers: Vec<_> = (0..40)
        .map(|i| {
            let service = if i % 2 == 0 { here.clone() } else { there.clone() };
            tokio::spawn(async move { hold(&service, show, user, &[2 * i + 1, 2 * i + 2]).await })
        })
        .collect();
    let (mut seats_won, mut capped_out) = (0i64, 0i64);
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => seats_won += 2,
            Err(AppError::TooManyHeldSeats { limit, held, retry_after_seconds }) => {
                assert_eq!(limit, cap);
                assert!(held + 2 > cap, "refused while holding only {held}");
                assert!((1..=120).contains(&retry_after_seconds), "{retry_after_seconds}");
                capped_out += 1;
            }
            Err(other) => panic!("a hold got {other:?}"),
        }
    }
    assert_eq!(seats_won, i64::from(cap), "every seat was free, so holds stop exactly at the cap");
    assert_eq!(capped_out, 40 - i64::from(cap) / 2);
    assert_eq!(seats_held(&app, show, user).await, i64::from(cap));

    // Confirmed seats are no longer held: the customer may hold again, up to the cap.
    let mine = here.list(&customer(user)).await.unwrap();
    here.confirm(&customer(user), mine[0].id).await.unwrap();
    hold(&here, show, user, &[99, 100]).await.expect("room under the cap again");
    let refused = hold(&there, show, user, &[97, 98]).await.unwrap_err();
    assert!(matches!(refused, AppError::TooManyHeldSeats { held: 6, .. }), "{refused:?}");
    // Another customer is not affected.
    let other = create_users(&app.pool, 1).await[0];
    hold(&here, show, other, &[95, 96]).await.expect("someone else's cap is their own");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn both_doors_answer_429_past_the_cap_with_retry_after() {
    let app = TestApp::spawn_with(|settings| settings.max_held_seats_per_customer = Some(4)).await;
    let show = create_show(&app.pool, &hall(2, 10)).await;
    let browser = Browser::new(&app);
    browser.sign_up("Hoarder").await;
    let mut answers = vec![];
    for (i, seats) in [[1, 2], [3, 4], [5, 6]].iter().enumerate() {
        let key = format!("loop-{i}");
        let hold = json!({"show_id": show, "seats": {"Seats": seats}, "idempotency_key": key});
        answers.push(browser.call_json("hold_seats", &hold).await);
    }
    assert_eq!(answers.iter().map(|a| a.0).collect::<Vec<_>>(), [200, 200, 429], "{answers:?}");
    assert_eq!(answers[2].1["TooManyHeldSeats"]["limit"], 4, "{:?}", answers[2].1);

    let api = Api::customer(&app, "rest-hoarder@example.com").await;
    for seats in [[11, 12], [13, 14]] {
        let (status, body) = api.post(&format!("/shows/{show}/holds"), json!({"seat_ids": seats})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let response = api
        .client
        .post(api.url(&format!("/shows/{show}/holds")))
        .json(&json!({"seat_ids": [15]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=120).contains(&wait), "{wait}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!((body["code"].as_str(), body["max_seats"].as_u64()), (Some("too_many_held_seats"), Some(4)), "{body}");
    // Booking at once is buying, not holding: the cap does not apply.
    let (status, body) = api.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [16, 17]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn a_loop_of_refused_holds_is_counted_but_kept_as_failed_bookings_only_a_few_a_minute() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 4)).await;
    let users = create_users(&app.pool, 2).await;
    let (owner, looper) = (users[0], users[1]);
    let service = crate::booking_world::booking_service(&app, 120);
    hold(&service, show, owner, &[1, 2]).await.unwrap();

    let attempts = 3 * REFUSALS_RECORDED_PER_MINUTE;
    let (mut recorded, mut unrecorded) = (0, 0);
    for _ in 0..attempts {
        match hold(&service, show, looper, &[2, 3]).await {
            Err(AppError::SeatsTaken { seats, seat_ids, booking_id }) => {
                assert_eq!((seats, seat_ids), (vec!["A2".to_owned()], vec![2]));
                if booking_id.is_some() { recorded += 1 } else { unrecorded += 1 }
            }
            other => panic!("expected seats_taken, got {other:?}"),
        }
    }
    // Per minute (the loop may straddle one): every refusal counted, at most the bound kept.
    let minutes: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT r.refusals, (SELECT count(*) FROM bookings b
                             WHERE b.user_id = r.user_id AND b.show_id = r.show_id AND b.status = 'FAILED'
                               AND date_trunc('minute', b.created_at) = r.minute)
         FROM booking_refusals r WHERE r.user_id = $1 AND r.show_id = $2 ORDER BY r.minute",
    )
    .bind(looper)
    .bind(show)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(minutes.iter().map(|m| m.0).sum::<i32>(), attempts, "{minutes:?}");
    for (refusals, kept) in &minutes {
        assert_eq!(*kept, i64::from((*refusals).min(REFUSALS_RECORDED_PER_MINUTE)), "{minutes:?}");
    }
    let kept: i64 = minutes.iter().map(|m| m.1).sum();
    assert_eq!((recorded, unrecorded), (kept, i64::from(attempts) - kept));
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM booking_events e JOIN bookings b ON b.id = e.booking_id WHERE b.user_id = $1",
    )
    .bind(looper)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(events, kept, "one event per kept refusal, none for the rest");
    assert_invariants(&app.pool).await;
}
