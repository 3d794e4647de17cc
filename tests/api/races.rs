//! Races and faults, each bounded in time (a hang fails the test instead of stalling the run):
//! two instances on one database racing for the same seats over REST; a seat row locked by
//! another transaction while a claim runs (the busy retry, and running out of it); a batch of
//! claims that fails as a whole; a hold's expiry and a cancel racing its confirm; an admin
//! cancelling a show under claims and with a lapsed, unswept hold; the live feed's LISTEN
//! connections killed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use boxoffice::domain::{Booking, SeatRequest};
use boxoffice::error::AppError;
use boxoffice::service::bookings::Cancelling;
use boxoffice::service::bookings::expiry::expire_due_holds;
use boxoffice::service::claims::{BATCHES_IN_FLIGHT, BUSY_BUDGET};
use boxoffice::service::live::APPLICATION_NAME;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::task::JoinSet;

use crate::booking_world::{assert_invariants, booking_service, create_show, create_users, customer, hall, lock_seat};
use crate::helpers::{Browser, EventStream, REQUEST_TIMEOUT, TestApp};

// --- helpers ----------------------------------------------------------------------------------

/// `work`, or a failure naming `what` when it takes longer than `limit`.
async fn within<T>(limit: Duration, what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| panic!("{what}: no answer within {limit:?}"))
}

/// Waits until `check` holds, failing after `limit`.
async fn eventually(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn sleep_until(moment: DateTime<Utc>) {
    tokio::time::sleep((moment - Utc::now()).to_std().unwrap_or_default()).await;
}

/// A booking's status as stored, and its events as (from, to).
async fn stored(pool: &PgPool, booking_id: i64) -> (String, Vec<(Option<String>, String)>) {
    let status = sqlx::query_scalar("SELECT status::text FROM bookings WHERE id = $1")
        .bind(booking_id)
        .fetch_one(pool)
        .await
        .unwrap();
    let events = sqlx::query_as(
        "SELECT from_status::text, to_status::text FROM booking_events WHERE booking_id = $1 ORDER BY id",
    )
    .bind(booking_id)
    .fetch_all(pool)
    .await
    .unwrap();
    (status, events)
}

/// The events a booking should have had, from its creation.
fn chain(statuses: &[&str]) -> Vec<(Option<String>, String)> {
    let mut from = None;
    statuses
        .iter()
        .map(|&to| {
            let event = (from.clone(), to.to_owned());
            from = Some(to.to_owned());
            event
        })
        .collect()
}

/// A seat's status and booking, as stored.
async fn seat(pool: &PgPool, show: i64, seat_id: i32) -> (String, Option<i64>) {
    sqlx::query_as("SELECT status::text, booking_id FROM seats WHERE show_id = $1 AND seat_id = $2")
        .bind(show)
        .bind(seat_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A customer signed up over REST, whose session cookie is sent by hand, to any instance.
struct RestCustomer {
    cookie: String,
    client: reqwest::Client,
}

impl RestCustomer {
    async fn sign_up(base: &str, name: &str) -> Self {
        let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().unwrap();
        let email = format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple());
        let response = client
            .post(format!("{base}/api/v1/auth/register"))
            .json(&json!({"email": email, "name": name, "password": "long enough password"}))
            .send()
            .await
            .unwrap();
        let cookie = response.headers().get("set-cookie").map(|c| c.to_str().unwrap().to_owned());
        let (status, user) = read(response).await;
        assert_eq!(status, 201, "{user}");
        let cookie = cookie.expect("a session cookie").split(';').next().unwrap().to_owned();
        Self { cookie, client }
    }

    async fn post(&self, base: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.post(format!("{base}/api/v1{path}")).header("cookie", &self.cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    async fn me(&self, base: &str) -> (u16, Value) {
        read(self.client.get(format!("{base}/api/v1/me")).header("cookie", &self.cookie).send().await.unwrap())
            .await
    }
}

async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A refusal a person can read, with its stable code.
#[track_caller]
fn assert_refusal(answer: &(u16, Value), status: u16, code: &str) {
    let (actual, body) = answer;
    assert_eq!((*actual, body["code"].as_str()), (status, Some(code)), "{body}");
    let sentence = body["error"].as_str().unwrap_or_else(|| panic!("no sentence: {body}"));
    assert!(sentence.ends_with('.') && sentence.len() > 20, "not a sentence: {sentence}");
}

// --- 1. two instances, one database -------------------------------------------------------------

/// The production double-sale scenario: two instances, each with its own claim queue, on one
/// database; customers race for overlapping seats through both at once.
#[tokio::test]
async fn two_instances_racing_over_rest_sell_every_seat_exactly_once() {
    let app = TestApp::spawn_with_connections(20).await;
    let instances = [app.address.clone(), app.second_instance().await];
    let show = create_show(&app.pool, &hall(3, 10)).await;
    let seats: Vec<i32> = (1..=30).collect();
    let mut signing_up = JoinSet::new();
    for i in 0..16 {
        let base = app.address.clone();
        signing_up.spawn(async move { RestCustomer::sign_up(&base, &format!("racer{i}")).await });
    }
    let customers: Arc<Vec<RestCustomer>> =
        Arc::new(within(Duration::from_secs(20), "signing up", signing_up.join_all()).await);

    // Each seat is asked for alone through each instance, and with its neighbour: a request
    // for one seat loses only to someone who got that seat, so every seat has exactly one
    // winner, and the pairs make the requests overlap.
    let mut orders: Vec<Vec<i32>> = seats.iter().flat_map(|&s| [vec![s], vec![s]]).collect();
    orders.extend(seats.windows(2).map(<[i32]>::to_vec));
    let start = Arc::new(tokio::sync::Barrier::new(orders.len()));
    let mut racing = JoinSet::new();
    for (i, seat_ids) in orders.iter().cloned().enumerate() {
        let (customers, base, start) = (customers.clone(), instances[i % 2].clone(), start.clone());
        let what = if i % 3 == 0 { "bookings" } else { "holds" };
        racing.spawn(async move {
            start.wait().await;
            let customer = &customers[i % customers.len()];
            (i, customer.post(&base, &format!("/shows/{show}/{what}"), Some(json!({"seat_ids": seat_ids}))).await)
        });
    }
    let answers = within(Duration::from_secs(25), "the race", racing.join_all()).await;

    let mut winner: BTreeMap<i32, (i64, String)> = BTreeMap::new();
    let (mut refused, mut wins_per_instance) = (0, [0; 2]);
    for (i, (status, body)) in answers {
        match status {
            201 => {
                let got: Vec<i32> =
                    body["seats"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap() as i32).collect();
                assert_eq!(got, orders[i], "{body}");
                wins_per_instance[i % 2] += 1;
                for seat in got {
                    let this = (body["id"].as_i64().unwrap(), body["status"].as_str().unwrap().to_owned());
                    if let Some(first) = winner.insert(seat, this) {
                        panic!("seat {seat} was sold twice: to booking {first:?} and to {body}");
                    }
                }
            }
            409 => {
                assert_refusal(&(status, body.clone()), 409, "seats_taken");
                refused += 1;
            }
            _ => panic!("order {i} for seats {:?} through instance {}: {status} {body}", orders[i], i % 2),
        }
    }
    println!("winning orders per instance: {wins_per_instance:?}");
    assert_eq!(winner.keys().copied().collect::<Vec<_>>(), seats, "every seat has a winner");

    // The database agrees with the answers, seat by seat.
    for &seat_id in &seats {
        let (booking_id, status) = &winner[&seat_id];
        let expected = if status == "CONFIRMED" { "BOOKED" } else { "HELD" };
        assert_eq!(seat(&app.pool, show, seat_id).await, (expected.to_owned(), Some(*booking_id)), "seat {seat_id}");
    }
    let live: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT seat, count(*) FROM bookings b, unnest(b.seat_ids) AS seat
         WHERE b.show_id = $1 AND b.status IN ('PENDING', 'CONFIRMED') GROUP BY seat ORDER BY seat",
    )
    .bind(show)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(live, seats.iter().map(|&s| (s, 1)).collect::<Vec<_>>(), "one live booking per seat");
    let failed = count(&app.pool, &format!("SELECT count(*) FROM bookings WHERE show_id = {show} AND status = 'FAILED'")).await;
    assert_eq!(failed, refused, "every refusal is recorded once, and nothing else failed");
    assert_invariants(&app.pool).await;
}

// --- 2. locked seats and failing batches ------------------------------------------------------

/// A claim for a seat another transaction has locked waits (busy, again and again) and gets
/// it once the lock is gone.
#[tokio::test]
async fn a_claim_for_a_locked_seat_waits_and_succeeds_once_the_lock_is_released() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let ann = RestCustomer::sign_up(&app.address, "ann").await;
    let lock = lock_seat(&app.pool, show, 3).await;

    let base = app.address.clone();
    let hold = tokio::spawn(async move {
        ann.post(&base, &format!("/shows/{show}/holds"), Some(json!({"seat_ids": [3, 4]}))).await
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!hold.is_finished(), "answered while a seat it wants was locked");
    let bookings = format!("SELECT count(*) FROM bookings WHERE show_id = {show}");
    assert_eq!(count(&app.pool, &bookings).await, 0, "a busy order stores nothing");

    lock.rollback().await.unwrap();
    let (status, body) = within(Duration::from_secs(5), "the hold after the lock ended", hold).await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["status"].as_str(), body["seats"][0]["id"].as_i64()), (Some("PENDING"), Some(3)), "{body}");
    assert_eq!(seat(&app.pool, show, 3).await, ("HELD".to_owned(), body["id"].as_i64()));
    assert_invariants(&app.pool).await;
}

/// A seat locked for longer than a claim waits: the customer gets a clear refusal with its own
/// code (not a 500), after the wait and not much later, and nothing is taken.
#[tokio::test]
async fn a_seat_locked_for_longer_than_a_claim_waits_is_a_clear_refusal() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let ann = RestCustomer::sign_up(&app.address, "ann").await;
    let lock = lock_seat(&app.pool, show, 6).await;

    let started = Instant::now();
    let path = format!("/shows/{show}/holds");
    let answer = within(
        BUSY_BUDGET + Duration::from_secs(10),
        "the hold of a locked seat",
        ann.post(&app.address, &path, Some(json!({"seat_ids": [5, 6]}))),
    )
    .await;
    let waited = started.elapsed();
    assert_refusal(&answer, 409, "seats_busy");
    assert!(waited >= BUSY_BUDGET && waited < BUSY_BUDGET + Duration::from_secs(4), "answered after {waited:?}");

    lock.rollback().await.unwrap();
    for seat_id in [5, 6] {
        assert_eq!(seat(&app.pool, show, seat_id).await, ("AVAILABLE".to_owned(), None), "seat {seat_id}");
    }
    let live = format!("SELECT count(*) FROM bookings WHERE show_id = {show} AND status <> 'FAILED'");
    assert_eq!(count(&app.pool, &live).await, 0, "nothing was booked");
    let (status, body) = ann.post(&app.address, &path, Some(json!({"seat_ids": [5, 6]}))).await;
    assert_eq!(status, 201, "the same request once the lock is gone: {body}");
    assert_invariants(&app.pool).await;
}

/// Orders that go to the database as one batch, one of which makes the statement fail: the
/// others are still answered (the queue claims them again one by one), the failing one gets
/// an internal error, and nobody waits forever.
#[tokio::test]
async fn a_batch_that_fails_as_a_whole_is_claimed_again_one_by_one() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(2, 10)).await;
    let users = create_users(&app.pool, BATCHES_IN_FLIGHT as i64 + 6).await;
    let (gates, batched) = users.split_at(BATCHES_IN_FLIGHT);
    let poisoned = batched[2];
    // Every booking insert waits for the test's advisory lock (so batches can be held in the
    // database), and one customer's makes the whole statement fail. Counted in a sequence,
    // which no rollback undoes.
    sqlx::raw_sql(&format!(
        r#"
        CREATE SEQUENCE poisoned_attempts;
        CREATE FUNCTION gate_and_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock_shared(4242);
            IF NEW.user_id = {poisoned} THEN
                PERFORM nextval('poisoned_attempts');
                RAISE EXCEPTION 'a poisoned order';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER gate_and_poison BEFORE INSERT ON bookings
            FOR EACH ROW EXECUTE FUNCTION gate_and_poison();
        "#
    ))
    .execute(&app.pool)
    .await
    .unwrap();
    let mut gate = app.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(4242)").execute(&mut *gate).await.unwrap();
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'";

    let service = booking_service(&app, 120);
    let mut orders = JoinSet::new();
    let order = |orders: &mut JoinSet<_>, user: i64, seat: i32| {
        let service = service.clone();
        orders.spawn(async move {
            let answer = service.hold(&customer(user), show, SeatRequest::Seats(vec![seat]), None).await;
            (user, seat, answer.map_err(AppError::from))
        });
    };
    // One batch per slot, each held in the database: every slot of the queue is taken.
    for (k, &user) in gates.iter().enumerate() {
        order(&mut orders, user, k as i32 + 1);
        eventually(Duration::from_secs(5), "a gate order in the database", async || {
            count(&app.pool, waiting).await == k as i64 + 1
        })
        .await;
    }
    // These wait in the queue meanwhile, and go to the database together.
    for (k, &user) in batched.iter().enumerate() {
        order(&mut orders, user, 11 + k as i32);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&app.pool, waiting).await, BATCHES_IN_FLIGHT as i64, "the later orders wait in the queue");
    gate.commit().await.unwrap();

    for (user, seat, answer) in within(Duration::from_secs(15), "the batched orders", orders.join_all()).await {
        match answer {
            Err(AppError::Internal) if user == poisoned => {}
            Ok(booking) if user != poisoned => assert_eq!(booking.seat_ids(), [seat]),
            other => panic!("customer {user} (poisoned: {}): {other:?}", user == poisoned),
        }
    }
    let attempts: i64 = count(&app.pool, "SELECT last_value FROM poisoned_attempts").await;
    assert_eq!(attempts, 2, "the poisoned order failed once in its batch, then once on its own");
    let booked = format!("SELECT count(*) FROM bookings WHERE show_id = {show} AND status = 'PENDING'");
    assert_eq!(count(&app.pool, &booked).await, users.len() as i64 - 1, "everyone else booked once");
    assert_invariants(&app.pool).await;
}

// --- 3. expiry, cancel and an admin racing a booking --------------------------------------------

/// Each hold is confirmed at a moment around its expiry while another customer tries to book
/// its seat and the expiry worker sweeps: the confirm wins only if it came in time, and then
/// nobody else gets the seat; a confirm after the expiry never wins.
#[tokio::test]
async fn a_confirm_racing_the_end_of_its_hold_wins_or_expires_never_both() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let offsets_ms: [i64; 7] = [-300, -40, -10, 0, 10, 40, 300];
    let users = create_users(&app.pool, 2 * offsets_ms.len() as i64).await;
    let (owners, rivals) = users.split_at(offsets_ms.len());
    let service = booking_service(&app, 1);
    let mut holds = vec![];
    for (k, &owner) in owners.iter().enumerate() {
        let seats = SeatRequest::Seats(vec![k as i32 + 1]);
        holds.push(service.hold(&customer(owner), show, seats, None).await.unwrap());
    }

    let mut races = JoinSet::new();
    for (k, hold) in holds.iter().enumerate() {
        let moment = hold.hold_expires_at.unwrap() + chrono::Duration::milliseconds(offsets_ms[k]);
        let (service, pool, owner, rival, booking_id) =
            (service.clone(), app.pool.clone(), owners[k], rivals[k], hold.id);
        races.spawn(async move {
            sleep_until(moment).await;
            let (seats, owner, rival) = (SeatRequest::Seats(vec![k as i32 + 1]), customer(owner), customer(rival));
            let (confirmed, rivalled, swept) = tokio::join!(
                service.confirm(&owner, booking_id),
                service.book_now(&rival, show, seats, None),
                expire_due_holds(&pool, 100),
            );
            swept.expect("the expiry pass");
            (k, confirmed.map_err(AppError::from), rivalled.map_err(AppError::from))
        });
    }
    let outcomes = within(Duration::from_secs(10), "the races", races.join_all()).await;

    for (k, confirmed, rivalled) in outcomes {
        let (hold, offset, seat_id) = (&holds[k], offsets_ms[k], k as i32 + 1);
        let expires = hold.hold_expires_at.unwrap();
        let what = format!("seat {seat_id}, {offset} ms from the expiry: confirm {confirmed:?}, rival {rivalled:?}");
        let (status, events) = stored(&app.pool, hold.id).await;
        match &confirmed {
            Ok(_) => {
                assert!(offset < 0, "a confirm sent after the hold ran out won: {what}");
                assert_eq!(events, chain(&["PENDING", "CONFIRMED"]), "{what}");
                let confirmed_at: DateTime<Utc> = sqlx::query_scalar("SELECT updated_at FROM bookings WHERE id = $1")
                    .bind(hold.id)
                    .fetch_one(&app.pool)
                    .await
                    .unwrap();
                assert!(confirmed_at < expires, "confirmed by the database's clock after the expiry: {what}");
                assert_eq!(seat(&app.pool, show, seat_id).await, ("BOOKED".to_owned(), Some(hold.id)), "{what}");
            }
            Err(AppError::HoldExpired) => {
                assert_eq!((status.as_str(), events), ("EXPIRED", chain(&["PENDING", "EXPIRED"])), "{what}")
            }
            Err(other) => panic!("unexpected confirm answer {other:?}: {what}"),
        }
        match &rivalled {
            Ok(rival) => {
                assert!(confirmed.is_err(), "the seat was sold twice: {what}");
                assert!(rival.created_at > expires, "the rival got a seat still held: {what}");
                assert_eq!(seat(&app.pool, show, seat_id).await, ("BOOKED".to_owned(), Some(rival.id)), "{what}");
            }
            Err(AppError::SeatsTaken { .. }) => {
                assert!(offset <= 0, "a free seat was refused: {what}");
                if confirmed.is_err() {
                    assert_eq!(seat(&app.pool, show, seat_id).await, ("AVAILABLE".to_owned(), None), "{what}");
                }
            }
            Err(other) => panic!("unexpected rival answer {other:?}: {what}"),
        }
    }
    assert_invariants(&app.pool).await;
}

/// A customer's confirm and cancel of one hold at the same moment: whichever goes first, the
/// booking ends cancelled, the seats are back on sale, and its history is one of the two
/// orders, never a mixture.
#[tokio::test]
async fn cancel_racing_confirm_ends_cancelled_with_a_consistent_history() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let users = create_users(&app.pool, 10).await;
    let service = booking_service(&app, 120);
    let mut races = JoinSet::new();
    for (k, &user) in users.iter().enumerate() {
        let hold = service.hold(&customer(user), show, SeatRequest::Seats(vec![k as i32 + 1]), None).await.unwrap();
        let service = service.clone();
        races.spawn(async move {
            let who = customer(user);
            let (confirmed, cancelled) = if k % 2 == 0 {
                tokio::join!(service.confirm(&who, hold.id), service.cancel(&who, hold.id, Cancelling::Whole))
            } else {
                let (cancelled, confirmed) = tokio::join!(service.cancel(&who, hold.id, Cancelling::Whole), service.confirm(&who, hold.id));
                (confirmed, cancelled)
            };
            (hold, confirmed.map_err(AppError::from), cancelled.map_err(AppError::from))
        });
    }
    let outcomes = within(Duration::from_secs(15), "the races", races.join_all()).await;
    let mut confirmed_first = 0;
    for (hold, confirmed, cancelled) in outcomes {
        let what = format!("booking {}: confirm {confirmed:?}, cancel {cancelled:?}", hold.id);
        assert!(cancelled.is_ok(), "a live hold or a confirmed booking can be cancelled: {what}");
        let (status, events) = stored(&app.pool, hold.id).await;
        assert_eq!(status, "CANCELLED", "{what}");
        match confirmed {
            Ok(_) => {
                confirmed_first += 1;
                assert_eq!(events, chain(&["PENDING", "CONFIRMED", "CANCELLED"]), "{what}");
            }
            Err(AppError::AlreadyCancelled) => {
                assert_eq!(events, chain(&["PENDING", "CANCELLED"]), "{what}")
            }
            Err(other) => panic!("unexpected confirm answer {other:?}: {what}"),
        }
        assert_eq!(seat(&app.pool, show, hold.seat_ids()[0]).await, ("AVAILABLE".to_owned(), None), "{what}");
    }
    println!("confirmed before the cancel: {confirmed_first} of {}", users.len());
    assert_invariants(&app.pool).await;
}

/// An admin cancels a show while claims for it are in flight and while one hold has run out
/// but is not yet released: confirmed bookings, live holds and every claim that got seats
/// become CANCELLED, the lapsed hold becomes EXPIRED (never PENDING -> CANCELLED), every seat
/// goes off sale, and claims after the cancellation are refused as such.
#[tokio::test]
async fn cancelling_a_show_under_claims_expires_a_lapsed_hold_and_cancels_the_live_ones() {
    let app = TestApp::spawn_with_connections(20).await;
    let show = create_show(&app.pool, &hall(2, 10)).await;
    let users = create_users(&app.pool, 3 + 8).await;
    let service = booking_service(&app, 120);
    let confirmed = service.book_now(&customer(users[0]), show, SeatRequest::Seats(vec![1]), None).await.unwrap();
    let live = service.hold(&customer(users[1]), show, SeatRequest::Seats(vec![2]), None).await.unwrap();
    let lapsed = booking_service(&app, 1)
        .hold(&customer(users[2]), show, SeatRequest::Seats(vec![3]), None)
        .await
        .unwrap();
    // The expiry worker skips bookings others have locked: this keeps the lapsed hold unswept.
    let mut unswept = app.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM bookings WHERE id = $1 FOR SHARE")
        .bind(lapsed.id)
        .execute(&mut *unswept)
        .await
        .unwrap();
    sleep_until(lapsed.hold_expires_at.unwrap() + chrono::Duration::milliseconds(100)).await;
    assert_eq!(stored(&app.pool, lapsed.id).await.0, "PENDING", "run out, not yet released");

    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    let cancelling = tokio::spawn(async move { admin.call("admin/cancel_show", &[("show_id", &show.to_string())]).await });
    let lock_waits = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    eventually(Duration::from_secs(5), "the cancellation waiting for the locked booking", async || {
        count(&app.pool, lock_waits).await >= 1
    })
    .await;

    // Claims in flight while the cancellation waits: they must neither wait for it (holding
    // their seats, which it locks next: a deadlock) nor be lost by it.
    let claim = |k: usize| {
        let (service, user, seat_id, show) = (service.clone(), users[3 + k], 4 + k as i32, show);
        async move {
            let seats = SeatRequest::Seats(vec![seat_id]);
            let answer = if k % 2 == 0 {
                service.hold(&customer(user), show, seats, None).await
            } else {
                service.book_now(&customer(user), show, seats, None).await
            };
            (seat_id, answer.map_err(AppError::from))
        }
    };
    let mut claims = JoinSet::new();
    for k in 0..4 {
        claims.spawn(claim(k));
    }
    let mut claimed: Vec<(i32, Result<Booking, AppError>)> =
        within(Duration::from_secs(5), "claims while the cancellation waits", claims.join_all()).await;
    assert!(claimed.iter().all(|(_, answer)| answer.is_ok()), "{claimed:?}");
    assert!(!cancelling.is_finished(), "the cancellation waits for the lapsed hold");
    // More claims racing the rest of the cancellation, which then goes on.
    let mut claims = JoinSet::new();
    for k in 4..8 {
        claims.spawn(claim(k));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    unswept.commit().await.unwrap();
    let (status, cancelled, _) = within(Duration::from_secs(10), "the cancellation", cancelling).await.unwrap();
    claimed.extend(within(Duration::from_secs(10), "the claims racing it", claims.join_all()).await);

    let mut got_seats = vec![];
    for (seat_id, answer) in &claimed {
        match answer {
            Ok(booking) => got_seats.push(booking.id),
            Err(AppError::ShowCancelled) => {}
            Err(other) => panic!("a claim for seat {seat_id} during the cancellation: {other:?}"),
        }
    }
    assert_eq!((status, cancelled), (200, json!(2 + got_seats.len())), "confirmed, live hold, claims that got seats");
    let (status, events) = stored(&app.pool, lapsed.id).await;
    assert_eq!((status.as_str(), events), ("EXPIRED", chain(&["PENDING", "EXPIRED"])), "the lapsed hold");
    let detail: Option<String> =
        sqlx::query_scalar("SELECT detail FROM booking_events WHERE booking_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(lapsed.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(detail.as_deref(), Some("hold ran out before the show was cancelled"), "expired by the cancellation");
    assert_eq!(stored(&app.pool, confirmed.id).await.1, chain(&["CONFIRMED", "CANCELLED"]));
    assert_eq!(stored(&app.pool, live.id).await.1, chain(&["PENDING", "CANCELLED"]));
    for id in got_seats {
        assert_eq!(stored(&app.pool, id).await.0, "CANCELLED", "booking {id} claimed during the cancellation");
    }
    let on_sale = format!("SELECT count(*) FROM seats WHERE show_id = {show} AND status <> 'BLOCKED'");
    assert_eq!(count(&app.pool, &on_sale).await, 0, "every seat is off sale");
    assert_invariants(&app.pool).await;
}

// --- 4. the live feed's connection killed -------------------------------------------------------

/// The LISTEN connections of the live feed on this database (one per instance), once `expected`
/// of them are up and none of them is in `gone`.
async fn listeners(pool: &PgPool, expected: usize, gone: &[i32]) -> Vec<i32> {
    let mut pids = vec![];
    eventually(Duration::from_secs(10), "the live feeds listening", async || {
        pids = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1 AND query LIKE 'LISTEN%'",
        )
        .bind(APPLICATION_NAME)
        .fetch_all(pool)
        .await
        .unwrap();
        pids.len() == expected && !pids.iter().any(|pid| gone.contains(pid))
    })
    .await;
    pids
}

/// Terminates these backends, as a failover or a network cut would.
async fn kill(pool: &PgPool, pids: &[i32]) {
    let killed: Vec<bool> = sqlx::query_scalar("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid")
        .bind(pids)
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(killed.iter().all(|&k| k), "terminated {pids:?}: {killed:?}");
}

/// Reads `stream` until `seat_id` is reported in `status`, for at most a few seconds.
async fn sees(stream: &mut EventStream, seat_id: i32, status: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, data) = stream.next(left).await.unwrap_or_else(|| panic!("{what}: seat {seat_id} never {status}"));
        let seats: Value = serde_json::from_str(&data).unwrap();
        if seats[status].as_array().is_some_and(|ids| ids.contains(&json!(seat_id))) {
            return;
        }
    }
}

/// Seat changes and log-outs still reach every instance after the live feed's LISTEN
/// connections are terminated: while they reconnect, and through the new connections after.
#[tokio::test]
async fn updates_and_log_outs_reach_every_instance_after_the_listen_connections_are_killed() {
    let app = TestApp::spawn().await;
    let (here, there) = (app.address.clone(), app.second_instance().await);
    let show = create_show(&app.pool, &hall(1, 10)).await;
    let mut streams = Vec::new();
    for base in [&here, &there] {
        let mut stream = EventStream::open(&format!("{base}/api/v1/shows/{show}/events")).await;
        let (event, _) = stream.next(Duration::from_secs(5)).await.expect("a snapshot");
        assert_eq!(event, "snapshot");
        streams.push(stream);
    }
    let ann = RestCustomer::sign_up(&here, "ann").await;
    let book = async |base: &str, seat_id: i32| {
        let (status, body) = ann.post(base, &format!("/shows/{show}/bookings"), Some(json!({"seat_ids": [seat_id]}))).await;
        assert_eq!(status, 201, "{body}");
    };

    // A change made at once, while the connections are down or coming back.
    let first = listeners(&app.pool, 2, &[]).await;
    kill(&app.pool, &first).await;
    book(&here, 1).await;
    sees(&mut streams[1], 1, "BOOKED", "the other instance, right after the kill").await;
    // Changes through the new connections, both ways.
    let second = listeners(&app.pool, 2, &first).await;
    book(&there, 2).await;
    sees(&mut streams[0], 2, "BOOKED", "this instance, after reconnecting").await;
    book(&here, 3).await;
    sees(&mut streams[1], 3, "BOOKED", "the other instance, after reconnecting").await;

    // Log-outs: both instances have the session in memory, then it ends on one of them.
    let refused_soon = async |customer: &RestCustomer, base: &str, what: &str| {
        eventually(Duration::from_secs(4), what, async || customer.me(base).await.0 == 401).await;
    };
    for (ends_on, elsewhere, kill_first) in [(&here, &there, true), (&there, &here, false)] {
        let bob = RestCustomer::sign_up(&here, "bob").await;
        for base in [&here, &there] {
            assert_eq!(bob.me(base).await.0, 200);
        }
        if kill_first {
            kill(&app.pool, &second).await;
        } else {
            listeners(&app.pool, 2, &second).await;
        }
        assert_eq!(bob.post(ends_on, "/auth/logout", None).await.0, 204);
        assert_eq!(bob.me(ends_on).await.0, 401, "ended where it was ended");
        refused_soon(&bob, elsewhere, "the log-out heard on the other instance").await;
    }
}
