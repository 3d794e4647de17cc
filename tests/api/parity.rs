//! Two doors, one booking service: the browser's server functions (`/rpc/...`) and the REST
//! API (`/api/v1/...`) must give the same outcomes. One table of steps is run through each
//! door on its own fresh app; every step must answer as the table says, and the two doors'
//! answers must agree.

use std::collections::HashMap;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::booking_world::{create_show, hall};
use crate::helpers::{Browser, TestApp};

/// Bookings are named in the table, since ids differ from app to app.
const FIRST: &str = "A's seats 1-2";
const B_OWN: &str = "B's seat 5";
const LAPSING: &str = "A's seat 4";
const A_FIVE: &str = "A's seat 5, released by B";

/// A booking id that no app has: what a name that was never made stands for.
const NO_SUCH_BOOKING: i64 = 999_999_999;

/// The shared scenarios, in order: what happens, who does it, and what both doors must answer.
fn table() -> Vec<Step> {
    use Who::*;
    vec![
        step("A holds seats 1 and 2", A, new_hold(FIRST, &[1, 2], "a-1"), ok("PENDING", FIRST)),
        step("B holds 2 and 3, overlapping", B, hold(&[2, 3], "b-1"), refused(409, "seats_taken")),
        step("A replays the key of the first hold", A, hold(&[1, 2], "a-1"), ok("PENDING", FIRST)),
        step("A confirms", A, Action::Confirm(FIRST), ok("CONFIRMED", FIRST)),
        // Someone else's booking is invisible, whatever is asked of it.
        step("B confirms A's booking", B, Action::Confirm(FIRST), refused(404, "booking_not_found")),
        step("B cancels A's booking", B, Action::Cancel(FIRST), refused(404, "booking_not_found")),
        step("B reads A's booking", B, Action::Get(FIRST), refused(404, "booking_not_found")),
        step("an admin reads A's booking", Admin, Action::Get(FIRST), ok("CONFIRMED", FIRST)),
        step("B holds seat 5", B, new_hold(B_OWN, &[5], "b-2"), ok("PENDING", B_OWN)),
        step("A cancels", A, Action::Cancel(FIRST), ok("CANCELLED", FIRST)),
        step("A cancels again", A, Action::Cancel(FIRST), Expect::Status(409)),
        step("A confirms the cancelled booking", A, Action::Confirm(FIRST), Expect::Status(409)),
        // A live hold may be cancelled too: its seats go back on sale at once.
        step("B releases their hold on seat 5", B, Action::Cancel(B_OWN), ok("CANCELLED", B_OWN)),
        step("A holds seat 5, free again", A, new_hold(A_FIVE, &[5], "a-3"), ok("PENDING", A_FIVE)),
        step("A holds seat 4", A, new_hold(LAPSING, &[4], "a-2"), ok("PENDING", LAPSING)),
        // Nothing sweeps holds in the test app: the lapsed hold stays PENDING until touched.
        step("the hold on seat 4 runs out", Database, Action::Lapse(LAPSING), ok("PENDING", LAPSING)),
        step("A confirms too late", A, Action::Confirm(LAPSING), refused(409, "hold_expired")),
        step("A reads the lapsed booking", A, Action::Get(LAPSING), ok("EXPIRED", LAPSING)),
        step("the late confirm stored EXPIRED", Database, Action::Stored(LAPSING), ok("EXPIRED", LAPSING)),
        step("a guest holds seat 6", Guest, hold(&[6], "g-1"), refused(401, "not_signed_in")),
        // Newest first; B's bookings (held and failed) are not A's.
        step("A lists their bookings", A, Action::List, listed(&[LAPSING, A_FIVE, FIRST])),
    ]
}

#[tokio::test]
async fn both_doors_give_the_same_outcomes() {
    let table = table();
    let rpc = run(Door::Rpc, &table).await;
    let rest = run(Door::Rest, &table).await;

    // (a) Every step through every door answers as the table says; all misses reported at once.
    let mut misses = Vec::new();
    for (number, (step, (rpc, rest))) in table.iter().zip(rpc.iter().zip(&rest)).enumerate() {
        for (door, (outcome, body)) in [(Door::Rpc, rpc), (Door::Rest, rest)] {
            if !step.expect.admits(outcome) {
                misses.push(format!(
                    "step {} ({}) through {door:?}: expected {:?}, got {outcome:?} from {body}",
                    number + 1,
                    step.what,
                    step.expect
                ));
            }
        }
    }
    assert!(misses.is_empty(), "\n{}", misses.join("\n"));

    // (b) The doors agree with each other, step by step.
    let agreed = |outcomes: &[(Outcome, Value)]| -> Vec<(&'static str, Outcome)> {
        table
            .iter()
            .zip(outcomes)
            .map(|(step, (outcome, _))| (step.what, step.expect.agreed(outcome)))
            .collect()
    };
    assert_eq!(agreed(&rpc[..]), agreed(&rest[..]), "the browser's door and the REST door answer alike");
}

/// The booking rate limit counts at both doors alike: over it, 429 with `Retry-After`.
#[tokio::test]
async fn the_booking_rate_limit_is_the_same_at_both_doors() {
    let not_found = Outcome::refused(404, "booking_not_found");
    let limited = Outcome::refused(429, "rate_limited");
    let expected = vec![not_found.clone(), not_found, limited.clone(), limited.clone(), limited];

    let mut per_door = Vec::new();
    for door in [Door::Rpc, Door::Rest] {
        let app = TestApp::spawn_with(|s| s.rate_limits.booking_per_second = 2).await;
        let ada = Browser::new(&app);
        ada.sign_up("Ada").await;
        let names = Names::default();
        let mut outcomes = Vec::new();
        // One after another, well within the second: two pass the limiter (and find nothing),
        // the rest are refused before anything is looked up.
        for attempt in 1..=5 {
            let answer = door.confirm(&ada, NO_SUCH_BOOKING).await;
            if answer.status == 429 {
                let wait = answer.retry_after.as_deref().unwrap_or_else(|| {
                    panic!("{door:?} attempt {attempt}: a 429 without Retry-After: {}", answer.body)
                });
                assert!(
                    wait.parse::<u64>().is_ok_and(|seconds| seconds >= 1),
                    "{door:?} attempt {attempt}: Retry-After {wait:?} is not a whole number of seconds"
                );
            }
            outcomes.push(names.outcome(door, &answer, false));
        }
        assert_eq!(outcomes, expected, "{door:?}: each of the five answers");
        per_door.push(outcomes);
    }
    assert_eq!(per_door[0], per_door[1], "both doors limit alike");
}

// --- the table's vocabulary ------------------------------------------------------------------

struct Step {
    what: &'static str,
    who: Who,
    action: Action,
    expect: Expect,
}

fn step(what: &'static str, who: Who, action: Action, expect: Expect) -> Step {
    Step { what, who, action, expect }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    A,
    B,
    Admin,
    /// No session at all.
    Guest,
    /// The test itself, through `app.pool`, for what no door can do.
    Database,
}

#[derive(Debug, Clone, Copy)]
enum Action {
    /// Hold these seats under this idempotency key; a booking it makes gets `name`.
    Hold {
        seats: &'static [i32],
        key: &'static str,
        name: Option<&'static str>,
    },
    Confirm(&'static str),
    Cancel(&'static str),
    Get(&'static str),
    List,
    /// The hold's time runs out now (rather than after a sleep); answers the stored status.
    Lapse(&'static str),
    /// The booking's status as stored.
    Stored(&'static str),
}

fn hold(seats: &'static [i32], key: &'static str) -> Action {
    Action::Hold { seats, key, name: None }
}

fn new_hold(name: &'static str, seats: &'static [i32], key: &'static str) -> Action {
    Action::Hold { seats, key, name: Some(name) }
}

/// An answer, normalized so the two doors can be compared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Outcome {
    /// The HTTP status; REST's 201 Created reads as 200 (the browser's door has no 201; the
    /// REST door checks its own 201 when it reads the answer).
    status: u16,
    /// REST's `code`; for a server function, its error variant in snake_case.
    code: Option<String>,
    booking_status: Option<String>,
    /// Which named booking the answer is about.
    booking: Option<&'static str>,
    /// The named bookings a list holds, in its order.
    listed: Option<Vec<&'static str>>,
}

impl Outcome {
    fn refused(status: u16, code: &str) -> Self {
        Self { status, code: Some(code.to_owned()), ..Self::default() }
    }
}

#[derive(Debug)]
enum Expect {
    Is(Outcome),
    /// A refusal about the booking's state (cancelled twice, confirmed after cancelling): the
    /// browser's error names the state while REST has one code for all, so only the status is
    /// fixed, and only the status must agree.
    Status(u16),
}

impl Expect {
    fn admits(&self, outcome: &Outcome) -> bool {
        match self {
            Expect::Is(expected) => expected == outcome,
            Expect::Status(status) => outcome.status == *status,
        }
    }

    /// The part of `outcome` both doors must agree on.
    fn agreed(&self, outcome: &Outcome) -> Outcome {
        match self {
            Expect::Is(_) => outcome.clone(),
            Expect::Status(_) => Outcome { status: outcome.status, ..Outcome::default() },
        }
    }
}

fn ok(booking_status: &str, booking: &'static str) -> Expect {
    Expect::Is(Outcome {
        status: 200,
        booking_status: Some(booking_status.to_owned()),
        booking: Some(booking),
        ..Outcome::default()
    })
}

fn refused(status: u16, code: &str) -> Expect {
    Expect::Is(Outcome::refused(status, code))
}

fn listed(bookings: &[&'static str]) -> Expect {
    Expect::Is(Outcome { status: 200, listed: Some(bookings.to_vec()), ..Outcome::default() })
}

// --- running the table -----------------------------------------------------------------------

/// The people of the table, each with their own cookie jar (one session serves both doors).
struct Cast {
    a: Browser,
    b: Browser,
    admin: Browser,
    guest: Browser,
}

impl Cast {
    async fn new(app: &TestApp) -> Self {
        let (a, b, admin, guest) =
            (Browser::new(app), Browser::new(app), Browser::new(app), Browser::new(app));
        a.sign_up("Ada").await;
        b.sign_up("Bob").await;
        admin.sign_in_as_admin(app).await;
        Self { a, b, admin, guest }
    }

    fn get(&self, who: Who) -> &Browser {
        match who {
            Who::A => &self.a,
            Who::B => &self.b,
            Who::Admin => &self.admin,
            Who::Guest => &self.guest,
            Who::Database => panic!("the database has no door; only Lapse and Stored are its steps"),
        }
    }
}

/// Runs the whole table through `door` on a fresh app: each step's outcome and the raw body.
async fn run(door: Door, table: &[Step]) -> Vec<(Outcome, Value)> {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(1, 8)).await;
    let cast = Cast::new(&app).await;
    let mut names = Names::default();
    let mut outcomes = Vec::new();
    for step in table {
        let (answer, creates) = match step.action {
            Action::Hold { seats, key, name } => {
                let answer = door.hold(cast.get(step.who), show, seats, key).await;
                if let Some(name) = name
                    && answer.is_success()
                    && let Some(id) = booking_of(&answer.body)["id"].as_i64()
                {
                    names.bind(name, id);
                }
                (answer, true)
            }
            Action::Confirm(name) => (door.confirm(cast.get(step.who), names.id(name)).await, false),
            Action::Cancel(name) => (door.cancel(cast.get(step.who), names.id(name)).await, false),
            Action::Get(name) => (door.get(cast.get(step.who), names.id(name)).await, false),
            Action::List => (door.list(cast.get(step.who)).await, false),
            Action::Lapse(name) => {
                lapse(&app.pool, names.id(name)).await;
                outcomes.push((stored(&app.pool, name, names.id(name)).await, Value::Null));
                continue;
            }
            Action::Stored(name) => {
                outcomes.push((stored(&app.pool, name, names.id(name)).await, Value::Null));
                continue;
            }
        };
        outcomes.push((names.outcome(door, &answer, creates), answer.body));
    }
    outcomes
}

/// Makes a hold run out now, as if its time had passed.
async fn lapse(pool: &PgPool, booking_id: i64) {
    sqlx::query("UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(booking_id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE seats SET held_until = now() - interval '1 second' WHERE booking_id = $1")
        .bind(booking_id)
        .execute(pool)
        .await
        .unwrap();
}

/// The booking's stored status, read as a door would answer it (404 when there is none).
async fn stored(pool: &PgPool, name: &'static str, booking_id: i64) -> Outcome {
    let status: Option<String> = sqlx::query_scalar("SELECT status::text FROM bookings WHERE id = $1")
        .bind(booking_id)
        .fetch_optional(pool)
        .await
        .unwrap();
    match status {
        Some(status) => {
            Outcome { status: 200, booking_status: Some(status), booking: Some(name), ..Outcome::default() }
        }
        None => Outcome { status: 404, ..Outcome::default() },
    }
}

/// Booking ids by name, and names by id, as the steps make them.
#[derive(Default)]
struct Names {
    ids: HashMap<&'static str, i64>,
    names: HashMap<i64, &'static str>,
}

impl Names {
    /// Only the first booking made under a name gets it, so a replay that made a second
    /// booking would not pass for the first.
    fn bind(&mut self, name: &'static str, id: i64) {
        if !self.ids.contains_key(name) && !self.names.contains_key(&id) {
            self.ids.insert(name, id);
            self.names.insert(id, name);
        }
    }

    /// A name never made stands for no booking, so the step answers 404 and is reported.
    fn id(&self, name: &str) -> i64 {
        self.ids.get(name).copied().unwrap_or(NO_SUCH_BOOKING)
    }

    fn name(&self, id: &Value) -> &'static str {
        id.as_i64().and_then(|id| self.names.get(&id).copied()).unwrap_or("(a booking the table never named)")
    }

    /// Normalizes `answer` from `door`; `creates` is whether success would be REST's 201.
    fn outcome(&self, door: Door, answer: &Answer, creates: bool) -> Outcome {
        if !answer.is_success() {
            let code = match door {
                Door::Rpc => rpc_code(&answer.body),
                Door::Rest => answer.body["code"].as_str().map(str::to_owned),
            };
            return Outcome { status: answer.status, code, ..Outcome::default() };
        }
        let success = if door == Door::Rest && creates { 201 } else { 200 };
        assert_eq!(answer.status, success, "{door:?} answers success with {success}: {}", answer.body);
        match &answer.body {
            Value::Array(list) => Outcome {
                status: 200,
                listed: Some(list.iter().map(|item| self.name(&booking_of(item)["id"])).collect()),
                ..Outcome::default()
            },
            body => {
                let booking = booking_of(body);
                Outcome {
                    status: 200,
                    booking_status: booking["status"].as_str().map(str::to_owned),
                    booking: Some(self.name(&booking["id"])),
                    ..Outcome::default()
                }
            }
        }
    }
}

/// The booking in a success body: the browser's reads wrap it with its show
/// (`{"booking": {...}, "show": {...}}`); everything else is the booking itself.
fn booking_of(body: &Value) -> &Value {
    body.get("booking").unwrap_or(body)
}

/// A server function's error body is the serialized `AppError`: `"HoldExpired"` or
/// `{"SeatsTaken": {...}}`. Its code is the variant in snake_case, as REST names it, except
/// that REST calls too many requests `rate_limited`.
fn rpc_code(body: &Value) -> Option<String> {
    let variant = match body {
        Value::String(variant) => variant.as_str(),
        Value::Object(fields) if fields.len() == 1 => fields.keys().next()?.as_str(),
        _ => return None,
    };
    if variant.is_empty() || !variant.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None; // not an AppError at all (a plain-text answer)
    }
    if variant == "TooManyRequests" {
        return Some("rate_limited".to_owned());
    }
    let mut code = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                code.push('_');
            }
            code.push(c.to_ascii_lowercase());
        } else {
            code.push(c);
        }
    }
    Some(code)
}

// --- the two doors ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    /// The browser's server functions, encoded as `Browser::call` (form) and
    /// `Browser::call_json` (JSON) send them.
    Rpc,
    /// The REST API v1.
    Rest,
}

/// An answer from either door, with the `Retry-After` header `Browser::call` does not keep.
struct Answer {
    status: u16,
    body: Value,
    retry_after: Option<String>,
}

impl Answer {
    async fn read(request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.expect("request failed");
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get("retry-after").map(|v| v.to_str().unwrap_or("(not text)").to_owned());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self { status, body, retry_after }
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Door {
    async fn hold(self, who: &Browser, show: i64, seats: &[i32], key: &str) -> Answer {
        let request = match self {
            Door::Rpc => who.client.post(format!("{}/rpc/hold_seats", who.base)).json(&json!({
                "show_id": show,
                "seats": {"Seats": seats},
                "idempotency_key": key,
            })),
            Door::Rest => who
                .client
                .post(format!("{}/api/v1/shows/{show}/holds", who.base))
                .header("Idempotency-Key", key)
                .json(&json!({"seat_ids": seats})),
        };
        Answer::read(request).await
    }

    async fn confirm(self, who: &Browser, booking_id: i64) -> Answer {
        self.act_on(who, booking_id, "confirm_booking", "confirm").await
    }

    async fn cancel(self, who: &Browser, booking_id: i64) -> Answer {
        self.act_on(who, booking_id, "cancel_booking", "cancel").await
    }

    async fn act_on(self, who: &Browser, booking_id: i64, function: &str, verb: &str) -> Answer {
        let request = match self {
            Door::Rpc => who
                .client
                .post(format!("{}/rpc/{function}", who.base))
                .form(&[("booking_id", booking_id.to_string())]),
            Door::Rest => {
                who.client.post(format!("{}/api/v1/bookings/{booking_id}/{verb}", who.base)).json(&json!({}))
            }
        };
        Answer::read(request).await
    }

    async fn get(self, who: &Browser, booking_id: i64) -> Answer {
        let request = match self {
            Door::Rpc => who
                .client
                .post(format!("{}/rpc/booking", who.base))
                .form(&[("booking_id", booking_id.to_string())]),
            Door::Rest => who.client.get(format!("{}/api/v1/bookings/{booking_id}", who.base)),
        };
        Answer::read(request).await
    }

    async fn list(self, who: &Browser) -> Answer {
        let no_arguments: [(&str, &str); 0] = [];
        let request = match self {
            Door::Rpc => who.client.post(format!("{}/rpc/my_bookings", who.base)).form(&no_arguments),
            Door::Rest => who.client.get(format!("{}/api/v1/bookings", who.base)),
        };
        Answer::read(request).await
    }
}
