//! The waiting list (issue 22): joining and places, offers made through the real cancel path,
//! a party never offered fewer seats than it asked for nor seats that strand one, decline and
//! lapse passing the seats on, offers racing holds and two instances, and the REST errors.

use std::time::{Duration, Instant};

use boxoffice::domain::SeatRequest;
use boxoffice::domain::waitlist::{WaitlistEntry, WaitlistJoin, WaitlistStatus};
use boxoffice::error::AppError;
use boxoffice::service::{Bookings, ServiceError};
use boxoffice::service::bookings::expiry::expire_and_offer;
use boxoffice::service::bookings::{BookingRules, Cancelling};
use boxoffice::service::waitlist::{Waitlist, offer_freed_seats};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::booking_world::{assert_invariants, create_show, create_users, customer, hall, rules};
use crate::helpers::TestApp;
use crate::rest::{Api, assert_error};

/// Services with no request limit, holds of `hold_seconds` and offers of `offer_seconds`.
fn services(app: &TestApp, hold_seconds: u32, offer_seconds: u32) -> (Bookings, Waitlist) {
    let rules = BookingRules { waitlist_offer_seconds: offer_seconds, ..rules(hold_seconds) };
    (Bookings::new(app.claims.clone(), app.feed.clone(), rules), Waitlist::new(app.pool.clone(), app.feed.clone(), rules))
}

fn party(n: i64) -> WaitlistJoin {
    WaitlistJoin::parse(n, None, 10).unwrap()
}

/// Books these seats for a new customer; returns (customer id, booking id).
async fn book(app: &TestApp, bookings: &Bookings, show: i64, seats: &[i32]) -> (i64, i64) {
    let user = create_users(&app.pool, 1).await[0];
    let booking = bookings.book_now(&customer(user), show, SeatRequest::Seats(seats.to_vec()), None).await.unwrap();
    (user, booking.id)
}

/// New customers who join the list with these party sizes, in this order; returns their ids.
async fn waiters(app: &TestApp, waitlist: &Waitlist, show: i64, parties: &[i64]) -> Vec<i64> {
    let ids = create_users(&app.pool, parties.len() as i64).await;
    for (id, n) in ids.iter().zip(parties) {
        waitlist.join(&customer(*id), show, party(*n)).await.unwrap_or_else(|e| panic!("joining: {e:?}"));
    }
    ids
}

async fn entry(waitlist: &Waitlist, show: i64, user: i64) -> WaitlistEntry {
    waitlist.my_entry(&customer(user), show).await.unwrap()
}

/// Each seat as (id, status, holding booking, held until infinity).
async fn seats(pool: &PgPool, show: i64) -> Vec<(i32, String, Option<i64>, bool)> {
    sqlx::query_as(
        "SELECT seat_id, status::text, booking_id, held_until = 'infinity' IS TRUE FROM seats WHERE show_id = $1 ORDER BY seat_id",
    )
    .bind(show)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn status_of(pool: &PgPool, show: i64, seat: i32) -> String {
    seats(pool, show).await.into_iter().find(|s| s.0 == seat).unwrap().1
}

#[tokio::test]
async fn a_cancel_offers_the_seats_to_the_first_party_that_fits_and_a_decline_passes_them_on() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 6)).await;
    let (bookings, waitlist) = services(&app, 120, 900);
    let (owner, first) = book(&app, &bookings, show, &[1, 2, 3]).await;
    book(&app, &bookings, show, &[4, 5, 6]).await;
    // A party of 4, then 3, then 1.
    let w = waiters(&app, &waitlist, show, &[4, 3, 1]).await;
    for (i, &user) in w.iter().enumerate() {
        let e = entry(&waitlist, show, user).await;
        assert_eq!((e.status, e.place), (WaitlistStatus::Waiting, Some(i as u32 + 1)));
    }

    // The real cancel path: three seats come back; the party of 4 does not fit, the party of 3 does.
    bookings.cancel(&customer(owner), first, Cancelling::Whole).await.unwrap();
    let offered = entry(&waitlist, show, w[1]).await;
    assert_eq!(offered.status, WaitlistStatus::Offered);
    let offer = offered.offer.clone().expect("an offer");
    assert_eq!((offer.seat_ids.clone(), offer.seats.clone()), (vec![1, 2, 3], vec!["A1".into(), "A2".into(), "A3".into()]));
    assert_eq!(offer.total_cents, 3000);
    let left = (offer.expires_at - chrono::Utc::now()).num_seconds();
    assert!((890..=900).contains(&left), "offered for {left} s");
    for seat in &seats(&app.pool, show).await[..3] {
        assert_eq!((seat.1.as_str(), seat.2, seat.3), ("HELD", Some(offer.booking_id), true), "{seat:?}");
    }
    assert_eq!(entry(&waitlist, show, w[0]).await.place, Some(1));
    assert_eq!(entry(&waitlist, show, w[2]).await.place, Some(2), "places count those still waiting");
    // The offered seats are nobody else's.
    let other = create_users(&app.pool, 1).await[0];
    let refused = bookings.hold(&customer(other), show, SeatRequest::Seats(vec![2]), None).await.unwrap_err();
    assert!(matches!(AppError::from(refused), AppError::SeatsTaken { .. }));
    assert_invariants(&app.pool).await;

    // Declined: the party of 1 gets one end seat (leaving two together), the rest go on sale.
    let declined = waitlist.decline(&customer(w[1]), show).await.unwrap();
    assert_eq!(declined.status, WaitlistStatus::Declined);
    let next = entry(&waitlist, show, w[2]).await;
    assert_eq!(next.status, WaitlistStatus::Offered);
    let seat = next.offer.unwrap().seat_ids;
    assert!(seat == vec![1] || seat == vec![3], "an end seat, not the middle one: {seat:?}");
    let rest: Vec<String> = seats(&app.pool, show).await[..3].iter().filter(|s| s.0 != seat[0]).map(|s| s.1.clone()).collect();
    assert_eq!(rest, ["AVAILABLE", "AVAILABLE"]);
    assert_eq!(entry(&waitlist, show, w[0]).await.status, WaitlistStatus::Waiting, "4 do not fit 2");
    assert_eq!(bookings.get(&customer(w[1]), offered.offer.unwrap().booking_id).await.unwrap().status.label(), "Cancelled");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn a_party_is_never_offered_fewer_seats_nor_seats_that_strand_one() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 5)).await;
    let (bookings, waitlist) = services(&app, 120, 900);
    let (owner, pair) = book(&app, &bookings, show, &[1, 2]).await;
    let (holder, three) = book(&app, &bookings, show, &[3, 4, 5]).await;
    let w = waiters(&app, &waitlist, show, &[3, 1]).await;

    bookings.cancel(&customer(owner), pair, Cancelling::Whole).await.unwrap();
    // Two seats side by side: 3 do not fit, and 1 would leave the other seat alone.
    for user in &w {
        let e = entry(&waitlist, show, *user).await;
        assert_eq!((e.status, e.offer), (WaitlistStatus::Waiting, None));
    }
    assert_eq!(&seats(&app.pool, show).await[..2].iter().map(|s| s.1.as_str()).collect::<Vec<_>>(), &["AVAILABLE", "AVAILABLE"], "back on sale");

    // A third seat next to them comes back: now the party of 3 fits, side by side.
    bookings.cancel(&customer(holder), three, Cancelling::Seats(vec![3])).await.unwrap();
    let e = entry(&waitlist, show, w[0]).await;
    assert_eq!(e.offer.map(|o| o.seat_ids), Some(vec![1, 2, 3]));
    assert_eq!(entry(&waitlist, show, w[1]).await.status, WaitlistStatus::Waiting);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn an_offer_that_lapses_goes_to_the_next_and_is_never_sold_meanwhile() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 2)).await;
    let (bookings, waitlist) = services(&app, 120, 1);
    let (owner, both) = book(&app, &bookings, show, &[1, 2]).await;
    let w = waiters(&app, &waitlist, show, &[2, 2]).await;
    bookings.cancel(&customer(owner), both, Cancelling::Whole).await.unwrap();
    let offer = entry(&waitlist, show, w[0]).await.offer.expect("the first is offered the seats");

    // Past the offer's deadline, before any worker has passed: still nobody else's, and the
    // customer can no longer confirm it.
    let wait = (offer.expires_at - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(50);
    tokio::time::sleep(wait).await;
    let other = create_users(&app.pool, 1).await[0];
    let refused = bookings.hold(&customer(other), show, SeatRequest::Seats(vec![1, 2]), None).await.unwrap_err();
    assert!(matches!(AppError::from(refused), AppError::SeatsTaken { .. }), "a lapsed offer is not on sale");

    // The worker's pass: the offer lapses and the seats go to the next customer in one step.
    let pass = expire_and_offer(&app.pool, 100, 900).await.unwrap();
    assert_eq!(pass.expired, vec![show]);
    assert_eq!(pass.offered, vec![(show, vec![1, 2])]);
    assert_eq!(entry(&waitlist, show, w[0]).await.status, WaitlistStatus::Lapsed);
    let second = entry(&waitlist, show, w[1]).await.offer.expect("the next one is offered the seats");
    assert_eq!(second.seat_ids, vec![1, 2]);
    assert_invariants(&app.pool).await;

    // The late confirm is refused; the next customer books them (accept = confirm).
    let late = bookings.confirm(&customer(w[0]), offer.booking_id).await.unwrap_err();
    assert_eq!(AppError::from(late), AppError::HoldExpired);
    bookings.confirm(&customer(w[1]), second.booking_id).await.unwrap();
    assert_eq!(entry(&waitlist, show, w[1]).await.status, WaitlistStatus::Booked);
    assert_eq!(status_of(&app.pool, show, 1).await, "BOOKED");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn nobody_fitting_puts_the_seats_back_on_sale_and_leaving_declines_an_offer() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 2)).await;
    let (bookings, waitlist) = services(&app, 120, 900);
    let (owner, both) = book(&app, &bookings, show, &[1, 2]).await;
    let w = waiters(&app, &waitlist, show, &[2]).await;
    bookings.cancel(&customer(owner), both, Cancelling::Whole).await.unwrap();
    assert!(entry(&waitlist, show, w[0]).await.offer.is_some());

    // Leaving with an offer out declines it; nobody else waits, so the seats go back on sale.
    let left = waitlist.leave(&customer(w[0]), show).await.unwrap();
    assert_eq!(left.status, WaitlistStatus::Left);
    assert!(seats(&app.pool, show).await.iter().all(|s| s.1 == "AVAILABLE" && s.2.is_none()));
    assert_eq!(AppError::from(waitlist.leave(&customer(w[0]), show).await.unwrap_err()), AppError::NotWaiting);
    assert_invariants(&app.pool).await;
}

/// An offer made while another customer claims the same lapsed-hold seats: one of them gets the
/// seats, never both, in every round.
#[tokio::test]
async fn an_offer_racing_a_hold_on_the_same_seats_never_double_holds() {
    let app = TestApp::spawn_with_connections(20).await;
    let (bookings, waitlist) = services(&app, 1, 900);
    // Racers hold for long, so no racer's hold lapses during the test.
    let (racing, _) = services(&app, 120, 900);
    let mut shows = Vec::new();
    for _ in 0..6 {
        let show = create_show(&app.pool, &hall(1, 2)).await;
        let holder = create_users(&app.pool, 1).await[0];
        bookings.hold(&customer(holder), show, SeatRequest::Seats(vec![1, 2]), None).await.unwrap();
        let w = waiters(&app, &waitlist, show, &[2]).await[0];
        let racer = create_users(&app.pool, 1).await[0];
        shows.push((show, w, racer));
    }
    // Every hold has lapsed: its seats are claimable, and due for the worker.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut races = tokio::task::JoinSet::new();
    for &(show, _, racer) in &shows {
        let bookings = racing.clone();
        races.spawn(async move { bookings.hold(&customer(racer), show, SeatRequest::Seats(vec![1, 2]), None).await.is_ok() });
    }
    let pool = app.pool.clone();
    let worker = tokio::spawn(async move { expire_and_offer(&pool, 100, 900).await.unwrap() });
    let mut held_by_racers = 0;
    while let Some(won) = races.join_next().await {
        held_by_racers += usize::from(won.unwrap());
    }
    worker.await.unwrap();
    // Whatever the worker did not reach yet, the next pass does.
    expire_and_offer(&app.pool, 100, 900).await.unwrap();
    let mut offered = 0;
    for &(show, w, racer) in &shows {
        let e = entry(&waitlist, show, w).await;
        let owners: std::collections::BTreeSet<Option<i64>> = seats(&app.pool, show).await.into_iter().map(|s| s.2).collect();
        assert_eq!(owners.len(), 1, "both seats with one booking: {owners:?}");
        let owner: i64 = sqlx::query_scalar("SELECT user_id FROM bookings WHERE id = $1")
            .bind(owners.first().unwrap().expect("held"))
            .fetch_one(&app.pool)
            .await
            .unwrap();
        match e.status {
            WaitlistStatus::Offered => {
                assert_eq!(owner, w);
                offered += 1;
            }
            WaitlistStatus::Waiting => assert_eq!(owner, racer),
            other => panic!("entry {other:?}"),
        }
    }
    assert_eq!(offered + held_by_racers, shows.len(), "each show's seats went to exactly one");
    assert_invariants(&app.pool).await;
}

/// Two instances cancelling at once (each offering in its cancel), with the expiry worker of a
/// third pass and direct offering: no seat offered twice, each offer whole.
#[tokio::test]
async fn two_instances_offering_at_once_never_offer_a_seat_twice() {
    let app = TestApp::spawn_with_connections(20).await;
    let there = app.second_instance().await;
    let show = create_show(&app.pool, &hall(1, 8)).await;
    let mut owners = Vec::new();
    for i in 0..4 {
        owners.push(Api::customer(&app, &format!("owner{i}@example.com")).await);
    }
    let mut booked = Vec::new();
    for (i, api) in owners.iter().enumerate() {
        let seat = i as i32 * 2 + 1;
        let (status, b) = api.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [seat, seat + 1]})).await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        booked.push(b["id"].as_i64().unwrap());
    }
    let mut waiting = Vec::new();
    for i in 0..5 {
        waiting.push(Api::customer(&app, &format!("w{i}@example.com")).await);
    }
    for api in &waiting {
        let (status, e) = api.post(&format!("/shows/{show}/waitlist"), json!({"party_size": 2})).await;
        assert_eq!(status, StatusCode::CREATED, "{e}");
    }
    // Three cancels at once, on two instances, and an offering pass of the service beside them.
    let cancel = |api: &Api, base: String, id: i64| {
        let request = api.client.post(format!("{base}/api/v1/bookings/{id}/cancel")).json(&json!({}));
        async move { Api::read(request.send().await.unwrap()).await }
    };
    let pool = app.pool.clone();
    let direct = async move {
        let mut tx = pool.begin().await.unwrap();
        let offered = offer_freed_seats(&mut tx, show, 900).await.unwrap();
        tx.commit().await.unwrap();
        offered
    };
    let (a, b, c, _) = tokio::join!(
        cancel(&owners[0], app.address.clone(), booked[0]),
        cancel(&owners[1], there.clone(), booked[1]),
        cancel(&owners[2], there.clone(), booked[2]),
        direct
    );
    for answer in [a, b, c] {
        assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    }
    let mut offered_seats = Vec::new();
    let mut statuses = Vec::new();
    for api in &waiting {
        let (status, e) = api.get(&format!("/shows/{show}/waitlist")).await;
        assert_eq!(status, StatusCode::OK, "{e}");
        statuses.push(e["status"].as_str().unwrap().to_owned());
        if let Some(seats) = e["offer"]["seat_ids"].as_array() {
            assert_eq!(seats.len(), 2, "a party of two gets two seats: {e}");
            offered_seats.extend(seats.iter().map(|s| s.as_i64().unwrap()));
        }
    }
    assert_eq!(statuses, ["OFFERED", "OFFERED", "OFFERED", "WAITING", "WAITING"], "first come, first offered");
    offered_seats.sort_unstable();
    assert_eq!(offered_seats, vec![1, 2, 3, 4, 5, 6], "each freed seat offered once");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn places_follow_the_queue() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 2)).await;
    let (bookings, waitlist) = services(&app, 120, 900);
    book(&app, &bookings, show, &[1, 2]).await;
    let w = waiters(&app, &waitlist, show, &[1, 2, 1]).await;
    let places = async || {
        let mut places = Vec::new();
        for user in &w {
            places.push(entry(&waitlist, show, *user).await.place);
        }
        places
    };
    assert_eq!(places().await, [Some(1), Some(2), Some(3)]);
    waitlist.leave(&customer(w[1]), show).await.unwrap();
    assert_eq!(places().await, [Some(1), None, Some(2)]);
    // Joining again goes to the back.
    waitlist.join(&customer(w[1]), show, party(2)).await.unwrap();
    assert_eq!(places().await, [Some(1), Some(3), Some(2)]);
}

#[tokio::test]
async fn the_rest_doors_refuse_clearly_and_change_nothing() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 30)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let bob = Api::customer(&app, "bob@example.com").await;
    let guest = Api::new(&app);
    let path = format!("/shows/{show}/waitlist");
    let delete = |api: &Api, path: String| {
        let request = api.client.delete(api.url(&path));
        async move { Api::read(request.send().await.unwrap()).await }
    };

    // Signed out: 401 on every door.
    assert_error(&guest.post(&path, json!({"party_size": 2})).await, StatusCode::UNAUTHORIZED, "not_signed_in");
    assert_error(&guest.get(&path).await, StatusCode::UNAUTHORIZED, "not_signed_in");
    assert_error(&delete(&guest, path.clone()).await, StatusCode::UNAUTHORIZED, "not_signed_in");
    assert_error(&guest.post(&format!("{path}/decline"), json!({})).await, StatusCode::UNAUTHORIZED, "not_signed_in");

    // Seats for them: 409 saying so.
    let answer = ann.post(&path, json!({"party_size": 2})).await;
    assert_error(&answer, StatusCode::CONFLICT, "seats_available");
    assert!(answer.1["error"].as_str().unwrap().contains("book them"), "{}", answer.1);

    // Nearly sold out: 29 of 30 seats booked (under 5% free).
    let (status, b) = bob.post(&format!("/shows/{show}/bookings"), json!({"seat_count": 10})).await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let (bookings, _) = services(&app, 120, 900);
    let filler = create_users(&app.pool, 2).await;
    bookings.book_now(&customer(filler[0]), show, SeatRequest::BestAvailable { count: 10, category: None }, None).await.unwrap();
    bookings.book_now(&customer(filler[1]), show, SeatRequest::BestAvailable { count: 9, category: None }, None).await.unwrap();

    // Bad input: 400 naming the field.
    for (body, field) in [
        (json!({"party_size": 0}), "party_size"),
        (json!({"party_size": 11}), "party_size"),
        (json!({"party_size": 2, "category": "no such; thing"}), "category"),
        (json!({"party_size": 2, "category": "VIP"}), "category"),
        (json!({"party_size": "two"}), "party_size"),
        (json!({"party_size": 2, "admin": true}), "."),
        (json!({}), "party_size"),
    ] {
        let answer = ann.post(&path, body.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_input");
        assert!(answer.1["field"].as_str().unwrap_or_default().contains(field.trim_matches('.')), "{body}: {}", answer.1);
    }
    assert_error(&ann.get("/shows/abc/waitlist").await, StatusCode::BAD_REQUEST, "invalid_input");
    assert_error(&ann.get(&path).await, StatusCode::NOT_FOUND, "not_waiting");
    assert_error(&ann.post("/shows/999999/waitlist", json!({"party_size": 2})).await, StatusCode::NOT_FOUND, "show_not_found");

    // Joining: 201 with the place; twice: 409.
    let (status, joined) = ann.post(&path, json!({"party_size": 2, "category": "STD"})).await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    assert_eq!((joined["status"].as_str(), joined["place"].as_i64(), joined["party_size"].as_i64()), (Some("WAITING"), Some(1), Some(2)));
    assert_error(&ann.post(&path, json!({"party_size": 1})).await, StatusCode::CONFLICT, "already_waiting");
    assert_error(&ann.post(&format!("{path}/decline"), json!({})).await, StatusCode::CONFLICT, "no_offer");

    // Someone else's entry: Bob acts on his own (none), never on Ann's.
    assert_error(&bob.get(&path).await, StatusCode::NOT_FOUND, "not_waiting");
    assert_error(&delete(&bob, path.clone()).await, StatusCode::NOT_FOUND, "not_waiting");
    assert_error(&bob.post(&format!("{path}/decline"), json!({})).await, StatusCode::NOT_FOUND, "not_waiting");
    let (status, still) = ann.get(&path).await;
    assert_eq!((status, still["status"].as_str()), (StatusCode::OK, Some("WAITING")));

    // Leaving: 200 LEFT.
    let (status, left) = delete(&ann, path.clone()).await;
    assert_eq!((status, left["status"].as_str()), (StatusCode::OK, Some("LEFT")), "{left}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM waitlist_entries").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1, "refusals added no entries");

    // In the OpenAPI document.
    let (_, doc) = guest.get("/openapi.json").await;
    for (p, method) in [("/api/v1/shows/{id}/waitlist", "post"), ("/api/v1/shows/{id}/waitlist", "get"), ("/api/v1/shows/{id}/waitlist", "delete"), ("/api/v1/shows/{id}/waitlist/decline", "post")] {
        assert!(doc["paths"][p][method].is_object(), "{method} {p} missing from the OpenAPI document");
    }
}

/// The show page's panel (a server function): open on a sold-out show, with the entry.
#[tokio::test]
async fn the_panel_shows_the_place_and_then_the_offer() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 2)).await;
    let (bookings, _) = services(&app, 120, 900);
    let (owner, both) = book(&app, &bookings, show, &[1, 2]).await;
    let browser = crate::helpers::Browser::new(&app);
    browser.sign_up("Wendy").await;
    let (status, joined, _) = browser.call("join_waitlist", &[("show_id", &show.to_string()), ("party_size", "2"), ("category", "")]).await;
    assert_eq!(status, 200, "{joined}");
    let (status, panel, _) = browser.call("waitlist", &[("show_id", &show.to_string())]).await;
    assert_eq!(status, 200, "{panel}");
    assert_eq!((panel["open"].as_bool(), panel["entry"]["place"].as_i64()), (Some(true), Some(1)));

    app.bookings.cancel(&customer(owner), both, Cancelling::Whole).await.unwrap();
    let (_, panel, _) = browser.call("waitlist", &[("show_id", &show.to_string())]).await;
    assert_eq!(panel["entry"]["status"], "OFFERED", "{panel}");
    assert_eq!(panel["entry"]["offer"]["seats"], json!(["A1", "A2"]));
    let started = Instant::now();
    let (status, declined, _) = browser.call("decline_waitlist_offer", &[("show_id", &show.to_string())]).await;
    assert_eq!((status, declined["status"].as_str()), (200, Some("DECLINED")), "{declined}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_invariants(&app.pool).await;
}

/// Makes a hold lapse now, as the clock would (seats and booking together, as they are kept).
async fn lapse_hold(pool: &PgPool, booking_id: i64) {
    sqlx::raw_sql(&format!(
        "UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = {booking_id};
         UPDATE seats SET held_until = now() - interval '1 second' WHERE booking_id = {booking_id};"
    ))
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_lapsed_hold_goes_to_the_waiting_customer_not_to_the_fastest_claim() {
    let app = TestApp::spawn().await;
    let (bookings, waitlist) = services(&app, 600, 900);
    let show = create_show(&app.pool, &hall(1, 2)).await;
    let ann = create_users(&app.pool, 1).await[0];
    let hold = bookings.hold(&customer(ann), show, SeatRequest::Seats(vec![1, 2]), None).await.unwrap();
    let bob = waiters(&app, &waitlist, show, &[2]).await[0];
    lapse_hold(&app.pool, hold.id).await;

    // Before the expiry worker runs, the lapsed seats are not free to anyone else...
    let carl = create_users(&app.pool, 1).await[0];
    let grab = bookings.book_now(&customer(carl), show, SeatRequest::Seats(vec![1]), None).await;
    assert!(matches!(grab, Err(ServiceError::Refused(AppError::SeatsTaken { .. }))), "{grab:?}");
    // ...nor to Ann's late confirm, which leaves them held for the worker.
    let late = bookings.confirm(&customer(ann), hold.id).await;
    assert!(matches!(late, Err(ServiceError::Refused(AppError::HoldExpired))), "{late:?}");
    assert!(seats(&app.pool, show).await.iter().all(|(_, status, booking, _)| status == "HELD" && *booking == Some(hold.id)));

    // The worker expires the hold and offers both seats to Bob in one transaction.
    expire_and_offer(&app.pool, 100, 900).await.unwrap();
    let offered = entry(&waitlist, show, bob).await;
    assert_eq!(offered.status, WaitlistStatus::Offered);
    assert_eq!(offered.offer.expect("an offer").seat_ids, [1, 2]);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn with_nobody_waiting_a_lapsed_hold_is_free_at_once() {
    let app = TestApp::spawn().await;
    let (bookings, _) = services(&app, 600, 900);
    let show = create_show(&app.pool, &hall(1, 2)).await;
    let ann = create_users(&app.pool, 1).await[0];
    let hold = bookings.hold(&customer(ann), show, SeatRequest::Seats(vec![1, 2]), None).await.unwrap();
    lapse_hold(&app.pool, hold.id).await;
    let carl = create_users(&app.pool, 1).await[0];
    let booked = bookings.book_now(&customer(carl), show, SeatRequest::Seats(vec![1]), None).await.unwrap();
    assert_eq!(booked.seat_ids(), [1]);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn cancelling_the_show_closes_its_waiting_list() {
    let app = TestApp::spawn().await;
    let (bookings, waitlist) = services(&app, 600, 900);
    let show = create_show(&app.pool, &hall(1, 3)).await;
    let (owner, booking) = book(&app, &bookings, show, &[1, 2, 3]).await;
    let [ada, bob] = waiters(&app, &waitlist, show, &[1, 2]).await[..] else { unreachable!() };
    // Ada gets seat 1 offered; Bob still waits.
    bookings.cancel(&customer(owner), booking, Cancelling::Seats(vec![1])).await.unwrap();
    assert_eq!(entry(&waitlist, show, ada).await.status, WaitlistStatus::Offered);

    boxoffice::service::Shows::new(app.pool.clone(), app.feed.clone(), 900).cancel(show).await.unwrap();
    assert_eq!(entry(&waitlist, show, ada).await.status, WaitlistStatus::Closed);
    assert_eq!(entry(&waitlist, show, bob).await.status, WaitlistStatus::Closed);
    assert_invariants(&app.pool).await;
}
