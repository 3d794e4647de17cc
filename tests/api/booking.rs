//! The booking engine against a real PostgreSQL: races, expiry, idempotency, refusals.

use std::collections::HashSet;
use std::time::Duration;

use boxoffice::domain::{Booking, BookingFailure, BookingStatus, IdempotencyKey, SeatRequest};
use boxoffice::error::AppError;
use boxoffice::service::Bookings;
use boxoffice::service::ServiceError::Refused as ServiceRefused;
use boxoffice::service::bookings::expiry;
use rand::Rng;

use crate::booking_world::{
    assert_invariants, booking_service, create_show, create_users, customer, hall, raw_statuses,
};
use crate::helpers::TestApp;

/// Holds the chosen seats for customer `user_id`; a refusal comes back as the customer sees it.
async fn hold(service: &Bookings, show_id: i64, user_id: i64, seats: &[i32]) -> Result<Booking, AppError> {
    Ok(service.hold(&customer(user_id), show_id, SeatRequest::Seats(seats.to_vec()), None).await?)
}

/// The FAILED booking that recorded `refusal`, read back by the customer who was refused.
async fn recorded_refusal(service: &Bookings, user_id: i64, refusal: &AppError) -> Booking {
    let id = match refusal {
        AppError::SeatsTaken { booking_id: Some(id), .. }
        | AppError::NotEnoughSeats { booking_id: Some(id), .. } => *id,
        other => panic!("not a refusal recorded as a FAILED booking: {other:?}"),
    };
    let booking = service.get(&customer(user_id), id).await.expect("the refused order was recorded");
    assert_eq!(booking.status, BookingStatus::Failed, "{booking:?}");
    booking
}

#[tokio::test]
async fn hot_seat_200_racers_exactly_one_wins() {
    let app = TestApp::spawn_with_connections(60).await;
    let show = create_show(&app.pool, &hall(2, 10)).await;
    let users = create_users(&app.pool, 200).await;
    let service = booking_service(&app, 120);

    let racers: Vec<_> = users
        .into_iter()
        .map(|user| {
            let service = service.clone();
            tokio::spawn(async move { hold(&service, show, user, &[1, 2]).await })
        })
        .collect();
    let mut winners = 0;
    let mut refusals = HashSet::new();
    for racer in racers {
        match racer.await.unwrap() {
            Ok(booking) => {
                winners += 1;
                assert_eq!(booking.status, BookingStatus::Pending);
            }
            Err(AppError::SeatsTaken { seats, seat_ids, booking_id }) => {
                assert_eq!(seats, vec!["A1", "A2"]);
                assert_eq!(seat_ids, vec![1, 2]);
                refusals.insert(booking_id.expect("a refusal names the FAILED booking that recorded it"));
            }
            Err(other) => panic!("a racer got {other:?} instead of a clean refusal"),
        }
    }
    assert_eq!(winners, 1);
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'FAILED'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(failed, 199, "every refusal is recorded as a FAILED booking");
    let failed_ids: HashSet<i64> = sqlx::query_scalar("SELECT id FROM bookings WHERE status = 'FAILED'")
        .fetch_all(&app.pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(refusals, failed_ids, "each refusal names its own FAILED booking");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn chaos_500_customers_hold_confirm_cancel_and_expire() {
    let app = TestApp::spawn_with_connections(60).await;
    let show = create_show(&app.pool, &hall(10, 10)).await;
    let users = create_users(&app.pool, 500).await;
    let service = booking_service(&app, 1);
    // Two workers, as two app instances would run: SKIP LOCKED keeps them from fighting, and
    // the event-chain invariant would catch a booking expired twice.
    let workers = [
        tokio::spawn(expiry::run_expiry_worker(app.pool.clone(), Duration::from_millis(100), None)),
        tokio::spawn(expiry::run_expiry_worker(app.pool.clone(), Duration::from_millis(100), None)),
    ];

    let customers: Vec<_> = users
        .into_iter()
        .map(|user| {
            let service = service.clone();
            tokio::spawn(async move {
                let (seats, action, pause) = {
                    let mut rng = rand::rng();
                    let count = rng.random_range(1..=4);
                    let seats: HashSet<i32> = (0..count).map(|_| rng.random_range(1..=100)).collect();
                    (seats.into_iter().collect::<Vec<_>>(), rng.random_range(0..3), rng.random_range(0..1500))
                };
                let booking = match hold(&service, show, user, &seats).await {
                    Ok(booking) => booking,
                    Err(AppError::SeatsTaken { .. }) => return,
                    Err(other) => panic!("hold failed with {other:?}"),
                };
                tokio::time::sleep(Duration::from_millis(pause)).await;
                match action {
                    0 => match service.confirm(&customer(user), booking.id).await {
                        Ok(confirmed) => assert_eq!(confirmed.status, BookingStatus::Confirmed),
                        Err(ServiceRefused(AppError::HoldExpired)) => {}
                        Err(other) => panic!("confirm failed with {other:?}"),
                    },
                    1 => match service.cancel(&customer(user), booking.id).await {
                        Ok(cancelled) => assert_eq!(cancelled.status, BookingStatus::Cancelled),
                        // The hold ran out first: still to be swept, or already expired by a
                        // worker; either way the answer is that the hold ran out.
                        Err(ServiceRefused(AppError::HoldExpired)) => {}
                        Err(other) => panic!("cancel failed with {other:?}"),
                    },
                    _ => {} // walk away and let the hold expire
                }
            })
        })
        .collect();
    for customer in customers {
        customer.await.expect("a customer task panicked");
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    expiry::expire_due_holds(&app.pool, 10_000).await.unwrap();
    workers.iter().for_each(|worker| worker.abort());

    assert_invariants(&app.pool).await;
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'PENDING'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "every hold has been confirmed, cancelled or expired");
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE status = 'HELD'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(held, 0);
}

#[tokio::test]
async fn sell_out_by_count_never_oversells_and_seats_parties_together() {
    let app = TestApp::spawn_with_connections(60).await;
    let show = create_show(&app.pool, &hall(10, 20)).await;
    let users = create_users(&app.pool, 300).await;
    let service = booking_service(&app, 120);

    let buyers: Vec<_> = users
        .into_iter()
        .map(|user| {
            let service = service.clone();
            tokio::spawn(async move {
                let count = rand::rng().random_range(1..=3u16);
                let request = SeatRequest::BestAvailable { count, category: None };
                let booking = service.book_now(&customer(user), show, request, None).await;
                (count, booking.map_err(AppError::from))
            })
        })
        .collect();

    let mut sold = 0usize;
    let mut split_parties = Vec::new();
    let mut turned_away = Vec::new();
    for buyer in buyers {
        let (count, result) = buyer.await.unwrap();
        match result {
            Ok(booking) => {
                assert_eq!(booking.status, BookingStatus::Confirmed);
                assert_eq!(booking.seats.len(), usize::from(count));
                sold += booking.seats.len();
                if !side_by_side(&booking.seats.iter().map(|s| s.label.clone()).collect::<Vec<_>>()) {
                    split_parties.push(count);
                }
            }
            Err(AppError::NotEnoughSeats { requested, booking_id: Some(_), .. }) => {
                turned_away.push(requested)
            }
            Err(other) => panic!("a buyer got {other:?}"),
        }
    }
    assert!(sold <= 200);
    let booked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM seats WHERE show_id = $1 AND status = 'BOOKED'")
            .bind(show)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(booked as usize, sold, "every seat sold is booked exactly once");

    // Seats are only ever taken here, so a party split at booking time still could not be
    // seated together at the end: no row may have a run of that many free seats.
    let statuses = raw_statuses(&app.pool, show).await;
    let longest_free_run = longest_free_run(&statuses);
    for count in split_parties {
        assert!(
            longest_free_run < usize::from(count),
            "a party of {count} was split though {longest_free_run} seats side by side are free"
        );
    }
    let free = statuses.iter().filter(|(_, s)| s == "AVAILABLE").count();
    for requested in turned_away {
        assert!(free < usize::from(requested), "turned away a party of {requested} with {free} seats free");
    }
    assert_invariants(&app.pool).await;
}

/// Labels like "C7", "C8", "C9": one row, consecutive numbers.
fn side_by_side(labels: &[String]) -> bool {
    let parse = |l: &String| {
        (
            l.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned(),
            l.trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse::<i32>().unwrap(),
        )
    };
    let seats: Vec<(String, i32)> = labels.iter().map(parse).collect();
    seats.windows(2).all(|w| w[0].0 == w[1].0 && w[1].1 == w[0].1 + 1)
}

fn longest_free_run(statuses: &[(String, String)]) -> usize {
    let mut longest = 0;
    let mut run = 0;
    let mut row = String::new();
    for (label, status) in statuses {
        let this_row = label.trim_end_matches(|c: char| c.is_ascii_digit());
        if this_row != row {
            row = this_row.to_owned();
            run = 0;
        }
        run = if status == "AVAILABLE" { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[tokio::test]
async fn an_expired_hold_cannot_be_confirmed_and_its_seats_are_free_at_once() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 4)).await;
    let users = create_users(&app.pool, 2).await;
    let service = booking_service(&app, 1);

    let first = hold(&service, show, users[0], &[1, 2]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // No worker runs in this test: the expired hold is claimable anyway.
    let second = hold(&service, show, users[1], &[2, 3]).await.expect("expired seats are free");
    assert_eq!(second.status, BookingStatus::Pending);

    let confirm = service.confirm(&customer(users[0]), first.id).await;
    assert!(matches!(confirm, Err(ServiceRefused(AppError::HoldExpired))), "{confirm:?}");
    let first = service.get(&customer(users[0]), first.id).await.unwrap();
    assert_eq!(first.status, BookingStatus::Expired);
    let statuses = raw_statuses(&app.pool, show).await;
    assert_eq!(statuses[0].1, "AVAILABLE", "the expired booking released the seat it still had");
    assert_eq!(statuses[1].1, "HELD", "the seat taken over stays with the second booking");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn the_expiry_worker_releases_holds_within_two_seconds() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 4)).await;
    let users = create_users(&app.pool, 1).await;
    let service = booking_service(&app, 1);
    let worker = tokio::spawn(expiry::run_expiry_worker(app.pool.clone(), Duration::from_millis(500), None));
    let booking = hold(&service, show, users[0], &[3, 4]).await.unwrap();

    let mut released = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let statuses = raw_statuses(&app.pool, show).await;
        if statuses[2].1 == "AVAILABLE" && statuses[3].1 == "AVAILABLE" {
            released = true;
            break;
        }
    }
    worker.abort();
    assert!(released, "seats still held 3 s after a 1 s hold");
    assert_eq!(service.get(&customer(users[0]), booking.id).await.unwrap().status, BookingStatus::Expired);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn replaying_an_idempotency_key_returns_the_first_booking() {
    let app = TestApp::spawn_with_connections(20).await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let user = create_users(&app.pool, 1).await[0];
    let service = booking_service(&app, 120);
    let key = IdempotencyKey::parse("checkout-42").unwrap();

    let replays: Vec<_> = (0..20)
        .map(|_| {
            let (service, key) = (service.clone(), key.clone());
            tokio::spawn(async move {
                service
                    .book_now(&customer(user), show, SeatRequest::Seats(vec![5, 6]), Some(key))
                    .await
                    .map_err(AppError::from)
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for replay in replays {
        let booking = replay.await.unwrap().expect("every replay gets the booking");
        assert_eq!(booking.status, BookingStatus::Confirmed);
        ids.insert(booking.id);
    }
    assert_eq!(ids.len(), 1, "one booking, whatever the number of replays");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1);

    // A failed attempt is replayed as the same failure, not retried.
    let other = create_users(&app.pool, 1).await[0];
    let other_customer = customer(other);
    let failing = || service.hold(&other_customer, show, SeatRequest::Seats(vec![6]), Some(key.clone()));
    let first = failing().await.map_err(AppError::from).expect_err("seat A6 is sold");
    let first_booking = recorded_refusal(&service, other, &first).await;
    assert_eq!(first_booking.failure, Some(BookingFailure::SeatsTaken { seats: vec!["A6".into()] }));
    let again = failing().await.map_err(AppError::from).expect_err("a replayed refusal is refused again");
    assert_eq!(recorded_refusal(&service, other, &again).await.id, first_booking.id);
    assert_eq!(
        again,
        AppError::SeatsTaken {
            seats: vec!["A6".into()],
            seat_ids: vec![6],
            booking_id: Some(first_booking.id)
        }
    );
    assert_eq!(again, first, "the same answer");
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE status = 'FAILED'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(failed, 1, "recorded once, not retried");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn cancelling_reopens_the_seats_but_not_after_the_show_started() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 4)).await;
    let users = create_users(&app.pool, 2).await;
    let service = booking_service(&app, 120);

    let booking =
        service.book_now(&customer(users[0]), show, SeatRequest::Seats(vec![1, 2]), None).await.unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
    assert_eq!(booking.total_cents, 2000);
    assert!(matches!(hold(&service, show, users[1], &[2]).await, Err(AppError::SeatsTaken { .. })));

    let stranger = service.cancel(&customer(users[1]), booking.id).await;
    assert!(
        matches!(stranger, Err(ServiceRefused(AppError::BookingNotFound))),
        "another customer cannot cancel it"
    );
    let cancelled = service.cancel(&customer(users[0]), booking.id).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    hold(&service, show, users[1], &[1, 2]).await.expect("cancelled seats are on sale again");
    let twice = service.cancel(&customer(users[0]), booking.id).await;
    assert!(matches!(twice, Err(ServiceRefused(AppError::AlreadyCancelled))), "{twice:?}");

    let later = service.book_now(&customer(users[0]), show, SeatRequest::Seats(vec![4]), None).await.unwrap();
    sqlx::query("UPDATE shows SET starts_at = now() - interval '1 minute' WHERE id = $1")
        .bind(show)
        .execute(&app.pool)
        .await
        .unwrap();
    let too_late = service.cancel(&customer(users[0]), later.id).await;
    assert!(matches!(too_late, Err(ServiceRefused(AppError::ShowStarted))), "{too_late:?}");
    let no_sale = hold(&service, show, users[1], &[3]).await;
    assert_eq!(no_sale.unwrap_err(), AppError::ShowStarted);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn blocked_seats_are_never_sold() {
    let app = TestApp::spawn().await;
    let mut spec = hall(1, 4);
    spec.layout.blocked = vec!["A2".into()];
    let show = create_show(&app.pool, &spec).await;
    let user = create_users(&app.pool, 1).await[0];
    let service = booking_service(&app, 120);

    let refusal = hold(&service, show, user, &[1, 2]).await.unwrap_err();
    let failed = recorded_refusal(&service, user, &refusal).await;
    assert_eq!(
        refusal,
        AppError::SeatsTaken { seats: vec!["A2".into()], seat_ids: vec![2], booking_id: Some(failed.id) }
    );
    let all = service
        .hold(&customer(user), show, SeatRequest::BestAvailable { count: 4, category: None }, None)
        .await
        .map_err(AppError::from)
        .unwrap_err();
    let failed = recorded_refusal(&service, user, &all).await;
    assert_eq!(all, AppError::NotEnoughSeats { requested: 4, available: 3, booking_id: Some(failed.id) });
    let three = service
        .hold(&customer(user), show, SeatRequest::BestAvailable { count: 3, category: None }, None)
        .await
        .unwrap();
    assert_eq!(three.seats.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(), vec!["A1", "A3", "A4"]);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn a_cancelled_show_sells_nothing() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 4)).await;
    let user = create_users(&app.pool, 1).await[0];
    sqlx::query("UPDATE shows SET status = 'CANCELLED' WHERE id = $1")
        .bind(show)
        .execute(&app.pool)
        .await
        .unwrap();
    let service = booking_service(&app, 120);
    assert_eq!(hold(&service, show, user, &[1]).await.unwrap_err(), AppError::ShowCancelled);
    let by_count = service
        .hold(&customer(user), show, SeatRequest::BestAvailable { count: 1, category: None }, None)
        .await;
    assert!(matches!(by_count, Err(ServiceRefused(AppError::ShowCancelled))), "{by_count:?}");
    let sold: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE status <> 'AVAILABLE'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sold, 0);
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 12)).await;
    let user = create_users(&app.pool, 1).await[0];
    let service = booking_service(&app, 120);

    assert_eq!(
        hold(&service, show, user, &(1..=11).collect::<Vec<_>>()).await.unwrap_err(),
        AppError::TooManySeats { max: 10 }
    );
    assert!(matches!(hold(&service, show, user, &[1, 99]).await, Err(AppError::InvalidInput { .. })));
    assert_eq!(hold(&service, show + 1000, user, &[1]).await.unwrap_err(), AppError::ShowNotFound);
    let unknown_category = service
        .hold(
            &customer(user),
            show,
            SeatRequest::BestAvailable { count: 1, category: Some("VIP".into()) },
            None,
        )
        .await;
    assert!(matches!(unknown_category, Err(ServiceRefused(AppError::InvalidInput { .. }))));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 0, "nothing was recorded");
    assert!(raw_statuses(&app.pool, show).await.iter().all(|(_, s)| s == "AVAILABLE"));
}

#[tokio::test]
async fn a_large_show_is_created_with_every_seat() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(50, 100)).await;
    let seats: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE show_id = $1")
        .bind(show)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(seats, 5000);
    let map = boxoffice::service::shows::seat_map(&app.pool, show).await.unwrap();
    assert_eq!(map.seats.len(), 5000);
    assert_eq!(map.seats[4999].label, "AX100");
}

#[tokio::test]
async fn a_show_can_set_its_own_hold_time_and_customers_see_only_their_bookings() {
    let app = TestApp::spawn().await;
    let mut spec = hall(1, 6);
    spec.hold_seconds = Some(600);
    let show = create_show(&app.pool, &spec).await;
    let users = create_users(&app.pool, 2).await;
    let service = booking_service(&app, 120);

    let held = hold(&service, show, users[0], &[1]).await.unwrap();
    let lasts = held.hold_expires_at.unwrap() - held.created_at;
    assert!(
        (595..=605).contains(&lasts.num_seconds()),
        "the show's 600 s hold applies, not the default: {lasts}"
    );

    let booked =
        service.book_now(&customer(users[0]), show, SeatRequest::Seats(vec![3, 4]), None).await.unwrap();
    hold(&service, show, users[1], &[6]).await.unwrap();
    let mine = service.list(&customer(users[0])).await.unwrap();
    assert_eq!(
        mine.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![booked.id, held.id],
        "newest first, only mine"
    );
    assert_eq!(mine[0].seats.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(), vec!["A3", "A4"]);
    let theirs = service.get(&customer(users[1]), booked.id).await;
    assert!(
        matches!(theirs, Err(ServiceRefused(AppError::BookingNotFound))),
        "another customer's booking is not found"
    );
    let confirm_theirs = service.confirm(&customer(users[1]), held.id).await;
    assert!(matches!(confirm_theirs, Err(ServiceRefused(AppError::BookingNotFound))));
}

#[tokio::test]
async fn a_reused_idempotency_key_for_another_request_is_refused() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 6)).await;
    let user = create_users(&app.pool, 1).await[0];
    let key = IdempotencyKey::parse("checkout-7").unwrap();
    let service = booking_service(&app, 120);
    let me = customer(user);
    let with_key = |seats: Vec<i32>| service.hold(&me, show, SeatRequest::Seats(seats), Some(key.clone()));

    let first = with_key(vec![1, 2]).await.unwrap();
    let same_seats_other_order = with_key(vec![2, 1]).await.unwrap();
    assert_eq!(first.id, same_seats_other_order.id, "the same request in another order is a replay");
    let other = with_key(vec![3]).await;
    assert!(
        matches!(other, Err(ServiceRefused(AppError::InvalidInput { ref field, .. })) if field == "idempotency_key"),
        "{other:?}"
    );
    assert_eq!(raw_statuses(&app.pool, show).await[2].1, "AVAILABLE", "the refused request changed nothing");
}

#[tokio::test]
async fn a_hold_cannot_be_confirmed_once_the_show_has_started_or_been_cancelled() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 6)).await;
    let user = create_users(&app.pool, 1).await[0];
    let service = booking_service(&app, 120);
    let early = hold(&service, show, user, &[1]).await.unwrap();
    let other = hold(&service, show, user, &[2]).await.unwrap();

    sqlx::query("UPDATE shows SET status = 'CANCELLED' WHERE id = $1")
        .bind(show)
        .execute(&app.pool)
        .await
        .unwrap();
    let refused = service.confirm(&customer(user), early.id).await;
    assert!(matches!(refused, Err(ServiceRefused(AppError::ShowCancelled))), "{refused:?}");
    sqlx::query("UPDATE shows SET status = 'ON_SALE', starts_at = now() - interval '1 minute' WHERE id = $1")
        .bind(show)
        .execute(&app.pool)
        .await
        .unwrap();
    let refused = service.confirm(&customer(user), other.id).await;
    assert!(matches!(refused, Err(ServiceRefused(AppError::ShowStarted))), "{refused:?}");
    assert!(
        raw_statuses(&app.pool, show).await.iter().all(|(_, s)| s == "AVAILABLE"),
        "the refused holds gave their seats back"
    );
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn a_hold_that_ran_out_expires_rather_than_being_cancelled() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 4)).await;
    let user = create_users(&app.pool, 1).await[0];
    let service = booking_service(&app, 1);
    let booking = hold(&service, show, user, &[1]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let cancel = service.cancel(&customer(user), booking.id).await;
    assert!(matches!(cancel, Err(ServiceRefused(AppError::HoldExpired))), "{cancel:?}");
    expiry::expire_due_holds(&app.pool, 100).await.unwrap();
    assert_eq!(service.get(&customer(user), booking.id).await.unwrap().status, BookingStatus::Expired);
    assert_invariants(&app.pool).await;
}
