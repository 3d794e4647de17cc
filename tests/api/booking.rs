//! The booking engine against a real PostgreSQL: races, expiry, idempotency, refusals.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use boxoffice::domain::{Booking, BookingFailure, BookingStatus, IdempotencyKey, SeatRequest};
use boxoffice::error::AppError;
use boxoffice::service::Bookings;
use boxoffice::service::ServiceError::Refused as ServiceRefused;
use boxoffice::service::bookings::{Cancelling, expiry};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::booking_world::{
    assert_invariants, booking_service, broken_invariants, create_show, create_users, customer, events, hall,
    invariants, raw_statuses, stored_status,
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

/// The events of a hold that expired, with the expiry's `detail`.
fn held_then_expired(detail: &str) -> Vec<(Option<String>, String, Option<String>)> {
    vec![(None, "PENDING".into(), None), (Some("PENDING".into()), "EXPIRED".into(), Some(detail.into()))]
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

/// What a chaos customer does once it holds seats (the hold lasts 1 s). Handed out in turn to
/// the customers who win a hold, so every kind happens whatever the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Confirm or cancel within 300 ms: usually in time (a slow machine may be late).
    ConfirmSoon,
    CancelSoon,
    /// Confirm or cancel 1.3 to 1.5 s after the hold was answered: always too late.
    ConfirmLate,
    CancelLate,
    /// Confirm or cancel at any time in the first 1.5 s: around the deadline, racing the workers.
    ConfirmAnytime,
    CancelAnytime,
    /// Never come back: the expiry workers must sweep the hold.
    WalkAway,
}

const PLANS: [Plan; 7] = [
    Plan::ConfirmSoon,
    Plan::CancelSoon,
    Plan::ConfirmLate,
    Plan::CancelLate,
    Plan::WalkAway,
    Plan::ConfirmAnytime,
    Plan::CancelAnytime,
];

impl Plan {
    /// How long to wait after the hold; `fraction` in [0, 1) comes from the seeded generator.
    fn pause(self, fraction: f64) -> Duration {
        let (from, to) = match self {
            Plan::ConfirmSoon | Plan::CancelSoon => (0.0, 300.0),
            Plan::ConfirmLate | Plan::CancelLate => (1300.0, 1500.0),
            Plan::ConfirmAnytime | Plan::CancelAnytime => (0.0, 1500.0),
            Plan::WalkAway => (0.0, 0.0),
        };
        Duration::from_millis((from + (to - from) * fraction) as u64)
    }
}

/// How one chaos customer fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Outcome {
    /// The hold was refused (seats taken, or not enough left), recorded as this FAILED booking.
    HoldRefused,
    Confirmed,
    ConfirmTooLate,
    Cancelled,
    CancelTooLate,
    WalkedAway,
}

impl Outcome {
    /// The booking's stored status once every hold has been confirmed, cancelled or swept.
    fn final_status(self) -> &'static str {
        match self {
            Outcome::HoldRefused => "FAILED",
            Outcome::Confirmed => "CONFIRMED",
            Outcome::Cancelled => "CANCELLED",
            Outcome::ConfirmTooLate | Outcome::CancelTooLate | Outcome::WalkedAway => "EXPIRED",
        }
    }
}

/// One chaos customer's script, drawn from the seeded generator before anyone starts.
struct Script {
    user: i64,
    request: SeatRequest,
    start_after: Duration,
    pause_fraction: f64,
}

#[tokio::test]
async fn chaos_500_customers_hold_confirm_cancel_and_expire() {
    let seed: u64 = match std::env::var("CHAOS_SEED") {
        Ok(seed) => seed.parse().expect("CHAOS_SEED is a whole number"),
        Err(_) => rand::random(),
    };
    eprintln!("chaos seed {seed}: replay the same customers with CHAOS_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    let app = TestApp::spawn_with_connections(60).await;
    let show = create_show(&app.pool, &hall(10, 10)).await;
    let users = create_users(&app.pool, 500).await;
    let service = booking_service(&app, 1);
    // Two workers, as two app instances would run: SKIP LOCKED keeps them from fighting, and
    // the event checks below would catch a booking expired twice. They alone sweep the holds.
    let workers = [
        tokio::spawn(expiry::run_expiry_worker(app.pool.clone(), Duration::from_millis(100), None)),
        tokio::spawn(expiry::run_expiry_worker(app.pool.clone(), Duration::from_millis(100), None)),
    ];

    // Customers arrive over 2.5 s, so later ones meet lapsed, cancelled and swept holds; three
    // in four choose their seats, the others ask for the best available.
    let scripts: Vec<Script> = users
        .into_iter()
        .map(|user| {
            let count = rng.random_range(1..=4u16);
            let request = if rng.random_ratio(3, 4) {
                let seats: HashSet<i32> = (0..count).map(|_| rng.random_range(1..=100)).collect();
                SeatRequest::Seats(seats.into_iter().collect())
            } else {
                SeatRequest::BestAvailable { count, category: None }
            };
            let start_after = Duration::from_millis(rng.random_range(0..2500));
            Script { user, request, start_after, pause_fraction: rng.random::<f64>() }
        })
        .collect();

    // The invariants must hold at every instant, so check them while customers act.
    let stop_checking = Arc::new(AtomicBool::new(false));
    let checker = tokio::spawn({
        let (pool, stop) = (app.pool.clone(), stop_checking.clone());
        async move {
            let mut runs = 0u32;
            while !stop.load(Ordering::SeqCst) {
                assert_invariants(&pool).await;
                runs += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            runs
        }
    });

    let winners = Arc::new(AtomicUsize::new(0));
    let customers: Vec<_> = scripts
        .into_iter()
        .map(|script| {
            let (service, winners) = (service.clone(), winners.clone());
            tokio::spawn(async move {
                tokio::time::sleep(script.start_after).await;
                let me = customer(script.user);
                let wanted = match &script.request {
                    SeatRequest::Seats(ids) => ids.len(),
                    SeatRequest::BestAvailable { count, .. } => usize::from(*count),
                };
                let booking =
                    match service.hold(&me, show, script.request, None).await.map_err(AppError::from) {
                        Ok(booking) => booking,
                        Err(
                            AppError::SeatsTaken { booking_id: Some(id), .. }
                            | AppError::NotEnoughSeats { booking_id: Some(id), .. },
                        ) => return (id, Outcome::HoldRefused),
                        Err(other) => panic!("hold failed with {other:?}"),
                    };
                assert_eq!(booking.status, BookingStatus::Pending, "{booking:?}");
                assert_eq!(booking.seats.len(), wanted, "{booking:?}");
                let plan = PLANS[winners.fetch_add(1, Ordering::SeqCst) % PLANS.len()];
                tokio::time::sleep(plan.pause(script.pause_fraction)).await;
                let late = matches!(plan, Plan::ConfirmLate | Plan::CancelLate);
                let outcome = match plan {
                    Plan::ConfirmSoon | Plan::ConfirmLate | Plan::ConfirmAnytime => {
                        match service.confirm(&me, booking.id).await {
                            Ok(confirmed) if !late => {
                                assert_eq!(confirmed.status, BookingStatus::Confirmed);
                                Outcome::Confirmed
                            }
                            Err(ServiceRefused(AppError::HoldExpired)) => Outcome::ConfirmTooLate,
                            other => panic!("confirm ({plan:?}) answered {other:?}"),
                        }
                    }
                    Plan::CancelSoon | Plan::CancelLate | Plan::CancelAnytime => {
                        match service.cancel(&me, booking.id, Cancelling::Whole).await {
                            Ok(cancelled) if !late => {
                                assert_eq!(cancelled.status, BookingStatus::Cancelled);
                                Outcome::Cancelled
                            }
                            // The hold ran out first: still to be swept, or already expired by a
                            // worker; either way the answer is that the hold ran out.
                            Err(ServiceRefused(AppError::HoldExpired)) => Outcome::CancelTooLate,
                            other => panic!("cancel ({plan:?}) answered {other:?}"),
                        }
                    }
                    Plan::WalkAway => Outcome::WalkedAway,
                };
                (booking.id, outcome)
            })
        })
        .collect();
    let mut outcomes: HashMap<i64, Outcome> = HashMap::new();
    for customer in customers {
        let (booking, outcome) = customer.await.expect("a customer task panicked");
        assert!(outcomes.insert(booking, outcome).is_none(), "booking {booking} reported twice");
    }
    stop_checking.store(true, Ordering::SeqCst);
    let checks = checker.await.expect("an invariant broke while customers were acting");

    let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
    for outcome in outcomes.values() {
        *counts.entry(*outcome).or_default() += 1;
    }
    let won = outcomes.len() - counts.get(&Outcome::HoldRefused).copied().unwrap_or(0);
    eprintln!(
        "chaos seed {seed}: {won} holds won; {counts:?}; invariants checked {checks} times while acting"
    );
    for kind in [
        Outcome::HoldRefused,
        Outcome::Confirmed,
        Outcome::ConfirmTooLate,
        Outcome::Cancelled,
        Outcome::CancelTooLate,
        Outcome::WalkedAway,
    ] {
        assert!(
            counts.get(&kind).is_some_and(|&n| n > 0),
            "no {kind:?} in this run (seed {seed}): {counts:?}"
        );
    }
    assert!(checks >= 3, "the invariants were checked only {checks} times while customers acted");

    // The workers, and nothing else, sweep the holds that ran out: wait for them, with a deadline.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (pending, overdue): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE hold_expires_at < now()) FROM bookings WHERE status = 'PENDING'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pending} bookings still PENDING ({overdue} past their hold) 10 s after the last customer \
             left: the expiry workers did not sweep them"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for worker in workers {
        assert!(!worker.is_finished(), "an expiry worker stopped (or panicked) during the run");
        worker.abort();
        let stopped = worker.await.expect_err("an aborted worker does not finish");
        assert!(stopped.is_cancelled(), "an expiry worker panicked: {stopped:?}");
    }
    assert_invariants(&app.pool).await;

    // Every booking is stored as its customer was told, and nothing else was stored.
    let stored: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT b.id, b.status::text,
                count(e.id) FILTER (WHERE e.to_status = 'EXPIRED'),
                max(e.detail) FILTER (WHERE e.to_status = 'EXPIRED')
         FROM bookings b LEFT JOIN booking_events e ON e.show_id = b.show_id AND e.booking_id = b.id
         GROUP BY b.id, b.show_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), outcomes.len(), "one booking per customer, no more");
    for (id, status, expired_events, detail) in stored {
        let outcome = outcomes.get(&id).unwrap_or_else(|| panic!("booking {id} belongs to no customer"));
        assert_eq!(status, outcome.final_status(), "booking {id}, {outcome:?}");
        let expected_events = i64::from(status == "EXPIRED");
        assert_eq!(expired_events, expected_events, "EXPIRED events of booking {id} ({status})");
        if matches!(outcome, Outcome::WalkedAway | Outcome::CancelTooLate) {
            assert_eq!(detail.as_deref(), Some("hold ran out"), "booking {id} was swept by a worker");
        }
    }
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE status = 'HELD'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(held, 0, "every hold has been confirmed, cancelled or expired");
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

    assert_eq!(stored_status(&app.pool, first.id).await, "PENDING", "nothing has expired it yet");
    let confirm = service.confirm(&customer(users[0]), first.id).await;
    assert!(matches!(confirm, Err(ServiceRefused(AppError::HoldExpired))), "{confirm:?}");
    assert_eq!(stored_status(&app.pool, first.id).await, "EXPIRED", "the late confirm stored the expiry");
    assert_eq!(events(&app.pool, first.id).await, held_then_expired("confirm after the hold ran out"));
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
    assert!(!worker.is_finished(), "the expiry worker stopped");
    worker.abort();
    assert!(released, "seats still held 3 s after a 1 s hold");
    assert_eq!(stored_status(&app.pool, booking.id).await, "EXPIRED", "the worker stored the expiry");
    assert_eq!(events(&app.pool, booking.id).await, held_then_expired("hold ran out"));
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

    let stranger = service.cancel(&customer(users[1]), booking.id, Cancelling::Whole).await;
    assert!(
        matches!(stranger, Err(ServiceRefused(AppError::BookingNotFound))),
        "another customer cannot cancel it"
    );
    let cancelled = service.cancel(&customer(users[0]), booking.id, Cancelling::Whole).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    hold(&service, show, users[1], &[1, 2]).await.expect("cancelled seats are on sale again");
    let twice = service.cancel(&customer(users[0]), booking.id, Cancelling::Whole).await;
    assert!(matches!(twice, Err(ServiceRefused(AppError::AlreadyCancelled))), "{twice:?}");

    let later = service.book_now(&customer(users[0]), show, SeatRequest::Seats(vec![4]), None).await.unwrap();
    sqlx::query("UPDATE shows SET starts_at = now() - interval '1 minute' WHERE id = $1")
        .bind(show)
        .execute(&app.pool)
        .await
        .unwrap();
    let too_late = service.cancel(&customer(users[0]), later.id, Cancelling::Whole).await;
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
    let other_hold = hold(&service, show, users[1], &[6]).await.unwrap();
    let mine = service.list(&customer(users[0])).await.unwrap();
    assert_eq!(
        mine.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![booked.id, held.id],
        "newest first, only mine"
    );
    let their_list = service.list(&customer(users[1])).await.unwrap();
    assert_eq!(their_list.iter().map(|b| b.id).collect::<Vec<_>>(), vec![other_hold.id], "only theirs");
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

    let cancel = service.cancel(&customer(user), booking.id, Cancelling::Whole).await;
    assert!(matches!(cancel, Err(ServiceRefused(AppError::HoldExpired))), "{cancel:?}");
    assert_eq!(stored_status(&app.pool, booking.id).await, "PENDING", "the refused cancel changed nothing");
    assert_eq!(raw_statuses(&app.pool, show).await[0].1, "HELD");
    assert_invariants(&app.pool).await;
    assert_eq!(expiry::expire_due_holds(&app.pool, 100).await.unwrap(), vec![show], "one hold expired");
    assert_eq!(stored_status(&app.pool, booking.id).await, "EXPIRED", "the sweep stored the expiry");
    assert_eq!(events(&app.pool, booking.id).await, held_then_expired("hold ran out"));
    assert_eq!(raw_statuses(&app.pool, show).await[0].1, "AVAILABLE");
    assert_eq!(expiry::expire_due_holds(&app.pool, 100).await.unwrap(), Vec::<i64>::new(), "expired once");
    assert_eq!(service.get(&customer(user), booking.id).await.unwrap().status, BookingStatus::Expired);
    assert_invariants(&app.pool).await;
}

/// Each invariant is shown to catch the breakage it names (in a transaction rolled back), so
/// none of them can pass by accident, e.g. by a typo that makes its query match nothing.
#[tokio::test]
async fn every_invariant_catches_the_breakage_it_names() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let users = create_users(&app.pool, 3).await;
    let service = booking_service(&app, 120);
    let sold =
        service.book_now(&customer(users[0]), show, SeatRequest::Seats(vec![1, 2]), None).await.unwrap();
    let held = hold(&service, show, users[1], &[3]).await.unwrap();
    let refused = hold(&service, show, users[2], &[1]).await.unwrap_err();
    let failed = recorded_refusal(&service, users[2], &refused).await;
    let (b, h, f) = (sold.id, held.id, failed.id);
    let seat = |id: i32| format!("WHERE show_id = {show} AND seat_id = {id}");
    let release = |id: i32| {
        format!("UPDATE seats SET status = 'AVAILABLE', booking_id = NULL, held_until = NULL {}", seat(id))
    };
    let lapse = format!(
        "UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = {h};
         UPDATE seats SET held_until = now() - interval '1 minute' {}",
        seat(3)
    );
    let cases: Vec<(&str, String)> = vec![
        (
            "every HELD seat belongs to a PENDING booking",
            format!("UPDATE seats SET status = 'HELD', held_until = now() {}", seat(1)),
        ),
        (
            "AVAILABLE and BLOCKED seats belong to no booking",
            format!(
                "ALTER TABLE seats DROP CONSTRAINT seats_booking_matches_status; UPDATE seats SET status = 'BLOCKED' {}",
                seat(2)
            ),
        ),
        (
            "a HELD seat is held exactly as long",
            format!("UPDATE seats SET held_until = held_until + interval '1 minute' {}", seat(3)),
        ),
        (
            "only if the booking asked for it",
            format!("UPDATE seats SET status = 'BOOKED', booking_id = {b} {}", seat(5)),
        ),
        (
            "FAILED, EXPIRED and CANCELLED bookings own no seats",
            format!("UPDATE seats SET booking_id = {f} {}", seat(1)),
        ),
        ("every CONFIRMED booking owns exactly its seats", release(2)),
        ("a live PENDING booking", release(3)),
        ("a seat of a PENDING booking, lapsed or not", format!("{lapse}; {}", release(3))),
        (
            "no seat belongs to two live bookings",
            format!(
                "INSERT INTO bookings (show_id, user_id, status, seat_ids, total_cents, request)
                 VALUES ({show}, {}, 'CONFIRMED', '{{1}}', 0, 'forged')",
                users[1]
            ),
        ),
        (
            "the last event of every booking",
            format!("UPDATE bookings SET status = 'EXPIRED' WHERE id = {h}; {}", release(3)),
        ),
        (
            "each event starts from the status the previous one ended in",
            format!(
                "INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids) VALUES ({show}, {b}, NULL, 'CONFIRMED', '{{1,2}}')"
            ),
        ),
        (
            "each event is an allowed step",
            format!(
                "INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids) VALUES ({show}, {b}, 'CONFIRMED', 'CONFIRMED', '{{1,2}}')"
            ),
        ),
        (
            "every event names its booking's show and the seats it had then",
            format!(
                "ALTER TABLE booking_events DISABLE TRIGGER booking_events_no_rewrite;
                 UPDATE booking_events SET seat_ids = '{{9}}' WHERE booking_id = {b}"
            ),
        ),
        (
            "a refund is for a confirmed booking's seats that it no longer holds",
            format!(
                "INSERT INTO refunds (show_id, booking_id, seat_ids, paid_cents, refund_percent, amount_cents)
                 VALUES ({show}, {b}, '{{1}}', 1000, 50, 500)"
            ),
        ),
    ];

    let mut conn = app.pool.acquire().await.unwrap();
    assert_eq!(broken_invariants(&mut conn).await, vec![], "the set-up breaks nothing");
    // A lapsed hold that nobody took over is legitimately PENDING with its seat HELD.
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    sqlx::raw_sql(&lapse).execute(&mut *tx).await.unwrap();
    assert_eq!(broken_invariants(&mut tx).await, vec![], "a lapsed, unswept hold breaks nothing");
    tx.rollback().await.unwrap();

    let all: Vec<&str> = invariants().into_iter().map(|(description, _)| description).collect();
    for invariant in &all {
        assert_eq!(
            cases.iter().filter(|(target, _)| invariant.contains(target)).count(),
            1,
            "no breakage (or two) for the invariant: {invariant}"
        );
    }
    for (target, breakage) in &cases {
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        sqlx::raw_sql(breakage).execute(&mut *tx).await.unwrap_or_else(|e| panic!("{breakage}: {e}"));
        let broken = broken_invariants(&mut tx).await;
        tx.rollback().await.unwrap();
        assert!(
            broken.iter().any(|(invariant, _)| invariant.contains(target)),
            "“{target}” missed: {breakage}; broken: {broken:?}"
        );
    }
    assert_eq!(broken_invariants(&mut conn).await, vec![], "every breakage was rolled back");
}
