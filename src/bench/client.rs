//! The benchmark's side of the REST API: what a mobile app or partner would send.
//! (Over 400 lines because every call the scenarios make, with its retry and timing rules, is
//! one client.)

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::header::{COOKIE, HeaderValue, RETRY_AFTER, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::domain::SeatStatus;
use crate::domain::layout::row_label;
use crate::domain::waiting_room::{SaleState, WaitingRoomView};

/// The longest any single request may take before the run is called a failure.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The pause before sending a request again when the answer did not say how long to wait.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// Retries of one request before the run gives up (a minute or more of 5xx answers).
const MOST_RETRIES: u32 = 120;
/// How long an order is sent again after 5xx answers or none, unless its caller sets a
/// deadline of its own.
const RETRY_WINDOW: Duration = Duration::from_secs(120);

/// The cookie the server's session layer sets.
const SESSION_COOKIE: &str = "boxoffice_session";

/// One HTTP client (one connection pool) for every simulated customer; each request carries
/// its customer's session cookie.
#[derive(Clone)]
pub struct Api {
    http: Client,
    base: String,
}

/// A signed-in account: its session cookie.
#[derive(Clone)]
pub struct Session {
    cookie: HeaderValue,
}

/// A seat as the seat map shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct Seat {
    pub id: i32,
    pub status: SeatStatus,
}

#[derive(Debug, Deserialize)]
struct ShowBody {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct SeatMapBody {
    seats: Vec<Seat>,
}

/// A booking as an answer states it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BookingBody {
    pub id: i64,
    pub show_id: i64,
    /// PENDING (held), CONFIRMED, ...
    pub status: String,
    pub seats: Vec<BookedSeatBody>,
    /// When a hold runs out (holds only).
    #[serde(default)]
    pub hold_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BookedSeatBody {
    pub id: i32,
}

#[derive(Debug, Default, Deserialize)]
struct RefusalBody {
    code: String,
    #[serde(default)]
    taken_seat_ids: Option<Vec<i32>>,
}

/// The `code` of an error answer's JSON body, if it has one.
pub fn error_code(body: &str) -> Option<String> {
    serde_json::from_str::<RefusalBody>(body).ok().map(|refusal| refusal.code)
}

/// What became of one request for seats, and how long the answer took.
#[derive(Debug)]
pub struct Attempt {
    pub outcome: Outcome,
    pub latency: Duration,
    /// When the answer arrived (watchers' lag is measured from here).
    pub answered_at: Instant,
    /// Times the request was sent again, with its key, after a 5xx or no answer.
    pub retries: u32,
    /// Why each of those tries got no answer that counts.
    pub failures: Vec<Failure>,
    /// The booking a 2xx answer stated.
    pub booking: Option<BookingBody>,
}

/// An order sent until it was answered or its deadline passed.
#[derive(Debug)]
pub enum Ordered {
    Answered(Attempt),
    /// The deadline passed with no answer that counts: the order may or may not have been
    /// booked.
    Unanswered(Vec<Failure>),
}

/// Why one try of an order got no answer that counts (so it was sent again with its key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No connection: refused, or reset while connecting.
    Connect,
    /// No answer within the request's time.
    Timeout,
    /// The connection broke after the request went out, before the whole answer came.
    Lost,
    /// A 5xx answer.
    Server(StatusCode),
}

impl Failure {
    fn of(error: &reqwest::Error) -> Self {
        if error.is_connect() {
            Failure::Connect
        } else if error.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Lost
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 201: the seats are ours.
    Got,
    /// 409 seats_taken: these seats went to someone else.
    Taken(Vec<i32>),
    /// Any other answer: a failure of the run.
    Unexpected(StatusCode, String),
}

#[derive(Debug, Clone, Copy)]
pub enum Commitment {
    /// `POST /shows/{id}/holds`
    Hold,
    /// `POST /shows/{id}/bookings`
    BookNow,
}

impl Api {
    pub fn new(base: &str, connections: usize) -> anyhow::Result<Self> {
        // No overall timeout on the client: seat feeds are endless; each request sets its own.
        let http = Client::builder()
            .pool_max_idle_per_host(connections)
            .connect_timeout(REQUEST_TIMEOUT)
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned() })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn http(&self) -> &Client {
        &self.http
    }

    /// Creates a customer account; the answer signs it in.
    pub async fn register(&self, email: &str, password: &str) -> anyhow::Result<Session> {
        let body = json!({ "email": email, "name": "Bench Customer", "password": password });
        let response = self
            .http
            .post(self.url("/api/v1/auth/register"))
            .timeout(REQUEST_TIMEOUT)
            .json(&body)
            .send()
            .await?;
        Self::session_from(expect(response, StatusCode::CREATED, "registering a customer").await?)
    }

    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<Session> {
        let body = json!({ "email": email, "password": password });
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .timeout(REQUEST_TIMEOUT)
            .json(&body)
            .send()
            .await?;
        Self::session_from(expect(response, StatusCode::OK, "signing in").await?)
    }

    fn session_from(response: Response) -> anyhow::Result<Session> {
        let cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| value.split(';').next().filter(|pair| pair.starts_with(SESSION_COOKIE)))
            .context("the server set no session cookie")?;
        Ok(Session { cookie: HeaderValue::from_str(cookie)? })
    }

    /// Creates a show (as an admin) with `rows` rows of `seats_per_row` seats, one price.
    pub async fn create_show(
        &self,
        admin: &Session,
        title: &str,
        rows: usize,
        seats_per_row: usize,
    ) -> anyhow::Result<i64> {
        let rows: Vec<_> = (0..rows)
            .map(|i| json!({ "label": row_label(i), "seats": seats_per_row, "category": "STD" }))
            .collect();
        let body = json!({
            "kind": "SHOW",
            "title": title,
            "venue": "Benchmark Arena",
            "starts_at": chrono::Utc::now() + chrono::Duration::days(30),
            "categories": [{ "code": "STD", "name": "Standard", "price_cents": 2500 }],
            "rows": rows,
        });
        let response = self
            .http
            .post(self.url("/api/v1/admin/shows"))
            .timeout(REQUEST_TIMEOUT)
            .header(COOKIE, admin.cookie.clone())
            .json(&body)
            .send()
            .await?;
        let show: ShowBody = expect(response, StatusCode::CREATED, "creating a show").await?.json().await?;
        Ok(show.id)
    }

    /// Every seat of a show with its status now.
    pub async fn seats(&self, show_id: i64) -> anyhow::Result<Vec<Seat>> {
        let response = self
            .http
            .get(self.url(&format!("/api/v1/shows/{show_id}")))
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await?;
        let map: SeatMapBody = expect(response, StatusCode::OK, "reading the seat map").await?.json().await?;
        Ok(map.seats)
    }

    /// Asks for these seats, timing the round trip; fails when no answer came within
    /// `RETRY_WINDOW` of tries.
    pub async fn order(
        &self,
        session: &Session,
        show_id: i64,
        seat_ids: &[i32],
        commitment: Commitment,
    ) -> anyhow::Result<Attempt> {
        let give_up = Instant::now() + RETRY_WINDOW;
        match self.order_until(session, show_id, seat_ids, commitment, give_up).await? {
            Ordered::Answered(attempt) => Ok(attempt),
            Ordered::Unanswered(failures) => bail!(
                "booking seats {seat_ids:?}: no answer in {} s of tries ({} failed: {:?}, ...)",
                RETRY_WINDOW.as_secs(),
                failures.len(),
                failures.first()
            ),
        }
    }

    /// Asks for these seats, timing the round trip, and sends the order again with its key
    /// after a 5xx or no answer until `deadline`.
    pub async fn order_until(
        &self,
        session: &Session,
        show_id: i64,
        seat_ids: &[i32],
        commitment: Commitment,
        deadline: Instant,
    ) -> anyhow::Result<Ordered> {
        let path = match commitment {
            Commitment::Hold => format!("/api/v1/shows/{show_id}/holds"),
            Commitment::BookNow => format!("/api/v1/shows/{show_id}/bookings"),
        };
        let sent = self.send_order(session, &path, &json!({ "seat_ids": seat_ids }), deadline).await;
        Ok(ordered(sent.with_context(|| format!("booking seats {seat_ids:?}"))?))
    }

    /// Confirms a hold, sent again after a 5xx or no answer until `deadline` (confirming is
    /// idempotent: a booking already confirmed is answered as it is). `Got` with the confirmed
    /// booking, or the refusal (409 `hold_expired` when the hold ran out first).
    pub async fn confirm_until(
        &self,
        session: &Session,
        booking_id: i64,
        deadline: Instant,
    ) -> anyhow::Result<Ordered> {
        let path = format!("/api/v1/bookings/{booking_id}/confirm");
        let sent = self.send_order(session, &path, &json!({}), deadline).await;
        Ok(ordered(sent.with_context(|| format!("confirming booking {booking_id}"))?))
    }

    /// Books `count` of the best seats available at once (`seat_count`), timing the round trip;
    /// the seats it got, or the server's refusal.
    pub async fn book_best(
        &self,
        session: &Session,
        show_id: i64,
        count: u16,
    ) -> anyhow::Result<BestAttempt> {
        let path = format!("/api/v1/shows/{show_id}/bookings");
        let give_up = Instant::now() + RETRY_WINDOW;
        let sent = self.send_order(session, &path, &json!({ "seat_count": count }), give_up).await?;
        let Some((status, body)) = sent.answer else {
            bail!("booking the best {count} seats: no answer in {} s of tries", RETRY_WINDOW.as_secs())
        };
        let seats = match status {
            StatusCode::CREATED | StatusCode::OK => match serde_json::from_slice::<BookingBody>(&body) {
                Ok(booking) if booking.status == "CONFIRMED" => {
                    Ok(booking.seats.iter().map(|s| s.id).collect())
                }
                _ => Err((status, String::from_utf8_lossy(&body).into_owned())),
            },
            status => Err((status, String::from_utf8_lossy(&body).into_owned())),
        };
        Ok(BestAttempt { seats, latency: sent.latency, retries: sent.failures.len() as u32 })
    }

    /// Sends an order with a fresh idempotency key, again with the same key after a 5xx or no
    /// answer (after a short pause) until `deadline`; the first other answer, how long it took,
    /// and why each earlier try failed. A try that failed may still have booked on the server:
    /// only the answer, the same for every try of the key, says what happened.
    async fn send_order(
        &self,
        session: &Session,
        path: &str,
        body: &serde_json::Value,
        deadline: Instant,
    ) -> anyhow::Result<Sent> {
        // One key for the order and all its retries: a retry after a 5xx or a lost answer
        // replays the first outcome instead of booking again.
        let key = format!("bench-{:032x}", rand::random::<u128>());
        let started = Instant::now();
        let mut failures = vec![];
        let answer = loop {
            // Near the deadline a try gets only the time left (a second at least).
            let time = deadline
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_secs(1), REQUEST_TIMEOUT);
            let sent = self
                .http
                .post(self.url(path))
                .timeout(time)
                .header(COOKIE, session.cookie.clone())
                .header("idempotency-key", &key)
                .json(body)
                .send()
                .await;
            let (failure, wait) = match sent {
                Ok(response) if !response.status().is_server_error() => {
                    let status = response.status();
                    match response.bytes().await {
                        Ok(body) => break Some((status, body.to_vec())),
                        Err(error) => (Failure::of(&error), jittered_pause()),
                    }
                }
                Ok(response) => (
                    Failure::Server(response.status()),
                    retry_after(&response).unwrap_or_else(jittered_pause),
                ),
                Err(error) => (Failure::of(&error), jittered_pause()),
            };
            failures.push(failure);
            if Instant::now() + wait >= deadline {
                break None;
            }
            tokio::time::sleep(wait).await;
        };
        if answer.as_ref().is_some_and(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS) {
            bail!(
                "the server rate-limits bookings: start it with BOXOFFICE_BOOKING_RATE_PER_SECOND=0 to benchmark"
            );
        }
        let answered_at = Instant::now();
        Ok(Sent { answer, latency: answered_at - started, answered_at, failures })
    }

    // ----- The waiting room ----------------------------------------------------------------

    /// Sets the show's sale (as an admin): `PUT /admin/shows/{id}/sale`.
    pub async fn set_sale(
        &self,
        admin: &Session,
        show_id: i64,
        sale_opens_at: chrono::DateTime<chrono::Utc>,
        admissions_per_minute: u32,
    ) -> anyhow::Result<SaleState> {
        let body = json!({
            "sale_opens_at": sale_opens_at,
            "waiting_room": { "admissions_per_minute": admissions_per_minute },
        });
        let response = self
            .http
            .put(self.url(&format!("/api/v1/admin/shows/{show_id}/sale")))
            .timeout(REQUEST_TIMEOUT)
            .header(COOKIE, admin.cookie.clone())
            .json(&body)
            .send()
            .await?;
        Ok(expect(response, StatusCode::OK, "setting the sale").await?.json().await?)
    }

    /// Opens the show's sale now (as an admin).
    pub async fn open_sale_now(&self, admin: &Session, show_id: i64) -> anyhow::Result<SaleState> {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/admin/shows/{show_id}/sale/open-now")))
            .timeout(REQUEST_TIMEOUT)
            .header(COOKIE, admin.cookie.clone())
            .send()
            .await?;
        Ok(expect(response, StatusCode::OK, "opening the sale").await?.json().await?)
    }

    /// The show's sale as its admin sees it.
    pub async fn sale(&self, admin: &Session, show_id: i64) -> anyhow::Result<SaleState> {
        let response = self
            .http
            .get(self.url(&format!("/api/v1/admin/shows/{show_id}/sale")))
            .timeout(REQUEST_TIMEOUT)
            .header(COOKIE, admin.cookie.clone())
            .send()
            .await?;
        Ok(expect(response, StatusCode::OK, "reading the sale").await?.json().await?)
    }

    /// Joins the show's waiting room (again after a 5xx or no answer: joining is idempotent);
    /// the place and the times it was sent again.
    pub async fn join_waiting_room(
        &self,
        session: &Session,
        show_id: i64,
    ) -> anyhow::Result<(WaitingRoomView, u32)> {
        let url = self.url(&format!("/api/v1/shows/{show_id}/waiting-room"));
        let mut retries = 0;
        loop {
            let sent = self
                .http
                .post(&url)
                .timeout(REQUEST_TIMEOUT)
                .header(COOKIE, session.cookie.clone())
                .send()
                .await;
            let wait = match sent {
                Ok(response) if !response.status().is_server_error() => {
                    if response.status() == StatusCode::TOO_MANY_REQUESTS {
                        bail!(
                            "the server limits waiting-room joins: start it with \
                             BOXOFFICE_WAITING_ROOM_JOINS_PER_MINUTE=0 to benchmark"
                        );
                    }
                    let view =
                        expect(response, StatusCode::OK, "joining the waiting room").await?.json().await?;
                    return Ok((view, retries));
                }
                Ok(response) => retry_after(&response).unwrap_or(RETRY_PAUSE),
                Err(_) => RETRY_PAUSE,
            };
            retries += 1;
            if retries > MOST_RETRIES {
                bail!("joining the waiting room failed {MOST_RETRIES} times in a row (5xx or no answer)");
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// The customer's place now (`GET /shows/{id}/waiting-room`).
    pub async fn place(&self, session: &Session, show_id: i64) -> anyhow::Result<WaitingRoomView> {
        let response = self
            .http
            .get(self.url(&format!("/api/v1/shows/{show_id}/waiting-room")))
            .timeout(REQUEST_TIMEOUT)
            .header(COOKIE, session.cookie.clone())
            .send()
            .await?;
        Ok(expect(response, StatusCode::OK, "reading a place in the waiting room").await?.json().await?)
    }

    /// Opens the customer's place stream on `http` (a client of its own: the stream keeps its
    /// connection). Each item: a `place` event's view, or `None` for `closed`.
    pub async fn place_events(
        &self,
        http: &Client,
        session: &Session,
        show_id: i64,
    ) -> anyhow::Result<impl futures::Stream<Item = anyhow::Result<Option<WaitingRoomView>>> + use<>> {
        use eventsource_stream::Eventsource;
        use futures::StreamExt;
        // Like a browser's EventSource, open again after a 5xx (a swamped server sheds load)
        // or no answer.
        let url = self.url(&format!("/api/v1/shows/{show_id}/waiting-room/events"));
        let mut retries = 0;
        let response = loop {
            let wait = match http.get(&url).header(COOKIE, session.cookie.clone()).send().await {
                Ok(response) if !response.status().is_server_error() => break response,
                Ok(response) => retry_after(&response).unwrap_or(RETRY_PAUSE),
                Err(_) => RETRY_PAUSE,
            };
            retries += 1;
            if retries > MOST_RETRIES {
                bail!("opening the place stream failed {MOST_RETRIES} times in a row (5xx or no answer)");
            }
            tokio::time::sleep(wait).await;
        };
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            bail!(
                "the server limits event streams per client: start it with BOXOFFICE_EVENT_STREAMS_PER_IP=0"
            );
        }
        anyhow::ensure!(response.status().is_success(), "the place stream answered {}", response.status());
        Ok(response.bytes_stream().eventsource().filter_map(|event| async move {
            let event = match event {
                Ok(event) => event,
                Err(error) => return Some(Err(anyhow::anyhow!("reading the place stream: {error}"))),
            };
            match event.event.as_str() {
                "place" => Some(serde_json::from_str(&event.data).map(Some).context("a place event")),
                "closed" => Some(Ok(None)),
                _ => None,
            }
        }))
    }
}

/// An order's answer (none when its deadline passed first), after any retries.
struct Sent {
    answer: Option<(StatusCode, Vec<u8>)>,
    latency: Duration,
    answered_at: Instant,
    failures: Vec<Failure>,
}

/// What an order's answer says: the booking it got, the seats someone else had, or another
/// answer; or no answer at all.
fn ordered(sent: Sent) -> Ordered {
    let Some((status, body)) = sent.answer else { return Ordered::Unanswered(sent.failures) };
    let unexpected = || Outcome::Unexpected(status, String::from_utf8_lossy(&body).into_owned());
    let mut booking = None;
    let outcome = match status {
        StatusCode::CREATED | StatusCode::OK => match serde_json::from_slice::<BookingBody>(&body) {
            Ok(answer) if answer.status == "PENDING" || answer.status == "CONFIRMED" => {
                booking = Some(answer);
                Outcome::Got
            }
            _ => unexpected(),
        },
        StatusCode::CONFLICT => match serde_json::from_slice::<RefusalBody>(&body) {
            Ok(RefusalBody { code, taken_seat_ids: Some(taken) }) if code == "seats_taken" => {
                Outcome::Taken(taken)
            }
            _ => unexpected(),
        },
        _ => unexpected(),
    };
    Ordered::Answered(Attempt {
        outcome,
        latency: sent.latency,
        answered_at: sent.answered_at,
        retries: sent.failures.len() as u32,
        failures: sent.failures,
        booking,
    })
}

/// What became of a request for the best seats available.
#[derive(Debug)]
pub struct BestAttempt {
    /// The seats booked, or the status and body of a refusal.
    pub seats: Result<Vec<i32>, (StatusCode, String)>,
    pub latency: Duration,
    pub retries: u32,
}

/// How long a 5xx answer asks us to wait before trying again, if it says.
fn retry_after(response: &Response) -> Option<Duration> {
    response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok()).map(Duration::from_secs)
}

/// 100 to 500 ms at random: a crowd that lost its server must not come back all at once.
pub fn jittered_pause() -> Duration {
    Duration::from_millis(rand::random_range(100..=500))
}

/// Fails with the server's own words unless the answer has the `wanted` status.
async fn expect(response: Response, wanted: StatusCode, doing: &str) -> anyhow::Result<Response> {
    if response.status() == wanted {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status == StatusCode::TOO_MANY_REQUESTS {
        bail!(
            "{doing}: the server rate-limits sign-ups and log-ins; start it with \
             BOXOFFICE_AUTH_RATE_PER_MINUTE=0 BOXOFFICE_LOGIN_RATE_PER_MINUTE=0 to benchmark"
        );
    }
    bail!("{doing}: the server answered {status}: {body}")
}
