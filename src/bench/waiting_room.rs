//! Waiting room (issue 19): a crowd joins a show's waiting room before its sale opens, keeps
//! its place open live (`/waiting-room/events`, as the browser's page does), and when the
//! sale opens is admitted at the room's rate; each admitted customer books two of the best
//! seats at once. Measured: how fast a join is answered, how late a customer hears of their
//! admission, whether the admissions keep to the rate, and the seats booked a second.
//! (Over 400 lines because the scenario, its customers, its report and its checks are one
//! measurement.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use rand::Rng;
use reqwest::StatusCode;
use serde::Serialize;
use tokio::sync::watch;

use super::client::{Api, Session};
use super::flash_sale::{SoldCheck, check_sold};
use super::stats::{Latency, rate};
use super::{Progress, Setup};
use crate::domain::waiting_room::PlaceInLine;

/// Seats each admitted customer books (best available).
const SEATS_EACH: u16 = 2;
/// Seats per row of the show.
const SEATS_PER_ROW: usize = 100;
/// How often a customer without a live place asks for it again after the opening.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// 409 seats_taken answers one customer takes before the run is called a failure.
const MOST_BOOKING_REFUSALS: u32 = 50;
/// The window the admission rate is also measured over, to show it holds all along.
const RATE_WINDOW_S: f64 = 10.0;

/// The scenario's settings.
pub struct Options {
    /// How many of them keep their place open live; the others ask every [`POLL_EVERY`].
    pub watchers: usize,
    /// The room's admission rate.
    pub admissions_per_minute: u32,
    /// The joins are spread evenly over this long before the opening.
    pub join_window: Duration,
    /// How long bookings may go on after the last admission before the run stops waiting.
    pub booking_grace: Duration,
}

#[derive(Debug, Serialize)]
pub struct WaitingRoomReport {
    pub show_id: i64,
    pub customers: usize,
    /// Customers with their place open live (the others poll every 2 s).
    pub watchers: usize,
    pub seats: usize,
    // --- Joining, before the opening.
    /// The joins were sent spread evenly over this long.
    pub join_window_s: f64,
    /// From the first join sent to the last answered.
    pub join_elapsed_s: f64,
    pub joins_per_s: f64,
    /// `POST /shows/{id}/waiting-room`, retries included.
    pub join_latency: Latency,
    /// Joins sent again after a 5xx answer or none.
    pub join_retries: u64,
    /// Opening the place stream up to its first event.
    pub stream_open_latency: Latency,
    // --- Admission.
    pub admissions_per_minute_set: u32,
    pub burst_set: u32,
    pub admitted: usize,
    /// Admitted by the first pass, as the line opened (at most the burst).
    pub admitted_at_opening: usize,
    /// From the line opening to the last admission.
    pub admission_s: f64,
    /// After the first pass: (admitted − admitted at the opening) ÷ (last admission − opening).
    pub admissions_per_minute: Option<f64>,
    /// The same over each whole 10-second window after the opening: the slowest and fastest.
    pub admissions_per_minute_min_10s: Option<f64>,
    pub admissions_per_minute_max_10s: Option<f64>,
    // --- Live places (watchers only).
    /// From a customer's `admitted_at` (the server's clock) to its live place saying so (the
    /// benchmark's clock: the same machine).
    pub admission_lag: Latency,
    /// From the line opening to a watcher's first place with a number in line.
    pub opening_lag: Latency,
    /// Watchers whose stream never said they were admitted (they are counted as polled).
    pub watchers_missing_admission: usize,
    /// `place` events received by all watchers from the opening to their admission.
    pub place_events_after_opening: u64,
    /// Those events a second, over the admission.
    pub place_events_per_s: f64,
    /// Place events that told a customer in line that they were outside it (a stale read of
    /// the line reaching a stream opened just after the join), and the watchers who got one.
    pub outside_events: u64,
    pub watchers_told_outside: usize,
    // --- Booking by the admitted.
    pub bookings: usize,
    /// Admitted customers whose booking had not been answered when the run stopped waiting.
    pub not_booked: usize,
    /// Set when the run stopped waiting for bookings this long after the last admission.
    pub booking_cut_off_s: Option<f64>,
    pub seats_booked: usize,
    /// From the line opening to the last booking answered (or to the cut-off).
    pub booking_s: f64,
    pub seats_per_s: f64,
    /// Each customer's `POST /shows/{id}/bookings` with `seat_count` 2, from the first request
    /// to the seats (after any 409s).
    pub booking_latency: Latency,
    /// Answers 409 seats_taken to a request for the best 2 seats (the server picked seats that
    /// another order got first, twelve times over), and the customers who got at least one.
    pub booking_refusals: u64,
    pub customers_refused: usize,
    /// Every booking request on its own (201s and 409s).
    pub booking_request_latency: Latency,
    /// From `admitted_at` to the booking answered (the lag, the booking, and for pollers up to
    /// 2 s of polling).
    pub admitted_to_booked: Latency,
    pub booking_retries: u64,
    pub check: SoldCheck,
}

/// What the customers share.
struct Room {
    api: Api,
    /// The place streams' own client: each stream keeps a connection.
    streams: reqwest::Client,
    show_id: i64,
    joined: AtomicUsize,
    streams_ready: AtomicUsize,
    admitted: AtomicUsize,
    seats_booked: AtomicUsize,
    failed: AtomicBool,
    /// Each admitted customer's figures up to the admission, should their booking not end.
    admitted_figures: std::sync::Mutex<Vec<Customer>>,
}

/// One customer's figures.
#[derive(Clone)]
struct Customer {
    index: usize,
    join_sent: Instant,
    join_latency: Duration,
    join_retries: u32,
    stream_open: Option<Duration>,
    /// When the live place first showed a number in line (after the opening).
    saw_waiting_at: Option<DateTime<Utc>>,
    /// When the live place first said "admitted".
    saw_admitted_at: Option<DateTime<Utc>>,
    /// Place events received after the opening, up to the admission.
    events_after_opening: u64,
    /// Place events that said this customer, in line, was outside it.
    outside_events: u64,
    admitted_at: DateTime<Utc>,
    booking_latency: Duration,
    booked_at: DateTime<Utc>,
    booking_retries: u32,
    /// Answers 409 seats_taken before the booking went through.
    booking_refusals: u32,
    /// Each booking request's round trip.
    booking_requests: Vec<Duration>,
    seats: Vec<i32>,
}

pub async fn run(
    setup: &Setup,
    customers: &[Session],
    options: &Options,
    progress: &Progress,
) -> anyhow::Result<WaitingRoomReport> {
    let count = customers.len();
    let watchers = options.watchers.min(count);
    let seats = count * usize::from(SEATS_EACH);
    let rows = seats.div_ceil(SEATS_PER_ROW).max(1);
    let per_row = seats.div_ceil(rows);
    let show_id = setup.api.create_show(&setup.admin, "Waiting room", rows, per_row).await?;
    // An opening far enough away that nobody books early: the run opens it when everyone is in.
    let far = Utc::now() + chrono::Duration::days(1);
    let sale = setup.api.set_sale(&setup.admin, show_id, far, options.admissions_per_minute).await?;
    let settings = sale.waiting_room.context("the show has no waiting room after setting one")?.settings;
    let room = Arc::new(Room {
        api: setup.api.clone(),
        streams: reqwest::Client::builder().pool_max_idle_per_host(0).tcp_nodelay(true).build()?,
        show_id,
        joined: AtomicUsize::new(0),
        streams_ready: AtomicUsize::new(0),
        admitted: AtomicUsize::new(0),
        seats_booked: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
        admitted_figures: std::sync::Mutex::new(Vec::with_capacity(count)),
    });

    progress.say(&format!(
        "{count} customers join over {:.0} s ({watchers} with their place live), then the sale opens: \
         {} admissions a minute, a burst of {}",
        options.join_window.as_secs_f64(),
        settings.admissions_per_minute,
        settings.burst
    ));
    let (open_tx, open_rx) = watch::channel(false);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, session) in customers.iter().enumerate() {
        let at = started + options.join_window.mul_f64(i as f64 / count as f64);
        let (room, session, opened) = (room.clone(), session.clone(), open_rx.clone());
        tasks.spawn(async move {
            let figures = customer(room.clone(), session, i, at, i < watchers, opened).await;
            if figures.is_err() {
                room.failed.store(true, Ordering::Relaxed);
            }
            figures
        });
    }
    let ticker = progress.every_second({
        let room = room.clone();
        move |_| {
            format!(
                "{} joined · {} places live · {} admitted · {} seats booked",
                room.joined.load(Ordering::Relaxed),
                room.streams_ready.load(Ordering::Relaxed),
                room.admitted.load(Ordering::Relaxed),
                room.seats_booked.load(Ordering::Relaxed)
            )
        }
    });
    // Everyone in (and every live place open), then open.
    let deadline = Instant::now() + options.join_window + Duration::from_secs(300);
    while room.joined.load(Ordering::Relaxed) < count || room.streams_ready.load(Ordering::Relaxed) < watchers
    {
        if room.failed.load(Ordering::Relaxed) {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "after {:.0} s only {} customers had joined and {} places were live",
                started.elapsed().as_secs_f64(),
                room.joined.load(Ordering::Relaxed),
                room.streams_ready.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !room.failed.load(Ordering::Relaxed) {
        progress.done(&format!("{count} customers in; opening the sale"));
        setup.api.open_sale_now(&setup.admin, show_id).await?;
        let _ = open_tx.send(true);
    }

    // The admission takes customers ÷ rate; give it twice that and two minutes more. Once
    // everyone is admitted, the bookings get `booking_grace` to end; those still in flight
    // then are reported as not booked.
    let expected = Duration::from_secs_f64(60.0 * count as f64 / f64::from(settings.admissions_per_minute));
    let finish_by = Instant::now() + expected * 2 + Duration::from_secs(120);
    let mut cut_off: Option<Instant> = None;
    let mut done = Vec::with_capacity(count);
    let mut first_error = None;
    let mut complete = true;
    let mut customer_failures = 0usize;
    loop {
        if cut_off.is_none() && room.admitted.load(Ordering::Relaxed) == count {
            cut_off = Some(Instant::now() + options.booking_grace);
        }
        let now = Instant::now();
        if cut_off.is_some_and(|at| now > at) {
            complete = false;
            break;
        }
        if now > finish_by {
            first_error.get_or_insert(anyhow::anyhow!(
                "{} of {count} customers were not admitted after {:.0} s",
                count - room.admitted.load(Ordering::Relaxed),
                (expected * 2 + Duration::from_secs(120)).as_secs_f64()
            ));
            break;
        }
        let joined = match tokio::time::timeout(Duration::from_millis(500), tasks.join_next()).await {
            Ok(Some(joined)) => joined,
            Ok(None) => break,
            Err(_) => continue,
        };
        let figures = match joined {
            Ok(figures) => figures,
            Err(error) if error.is_cancelled() => continue,
            Err(error) => Err(anyhow::Error::from(error).context("a customer task panicked")),
        };
        match figures {
            Ok(figures) => done.push(figures),
            // Before the opening one failure makes the run meaningless: stop the others.
            Err(error) if !*open_tx.borrow() => {
                first_error.get_or_insert(error);
                room.failed.store(true, Ordering::Relaxed);
                break;
            }
            // After it, a customer who gave up is a figure of the run, reported with the rest.
            Err(error) => {
                if customer_failures == 0 {
                    progress.done(&format!("a customer gave up: {error:#}"));
                }
                customer_failures += 1;
                complete = false;
            }
        }
    }
    tasks.abort_all();
    let stopped_at = Utc::now();
    ticker.abort();
    if let Some(error) = first_error {
        return Err(error);
    }
    if customer_failures > 0 {
        progress.done(&format!("{customer_failures} customers gave up after the opening (5xx or no answer, or refused too often)"));
    }
    if !complete {
        // The customers still booking, or who gave up: their figures up to the admission.
        let booked: std::collections::HashSet<usize> = done.iter().map(|c| c.index).collect();
        let admitted = room.admitted_figures.lock().expect("admitted figures lock");
        done.extend(admitted.iter().filter(|c| !booked.contains(&c.index)).cloned());
        progress.done(&format!(
            "{} customers were still booking {:.0} s after the last admission: left out",
            count - booked.len(),
            options.booking_grace.as_secs_f64()
        ));
    }
    let sale = setup.api.sale(&setup.admin, show_id).await?;
    let stats = sale.waiting_room.context("the waiting room went")?;
    let opened_at = stats.opened_at.context("the line never opened")?;
    progress.done(&format!(
        "{} admitted, {} seats booked",
        stats.admitted,
        room.seats_booked.load(Ordering::Relaxed)
    ));

    let all_seats: Vec<i32> = done.iter().flat_map(|c| c.seats.iter().copied()).collect();
    let check = if complete {
        check_sold(setup.database.as_ref(), &setup.api, show_id, seats, &all_seats).await?
    } else {
        // Cut off: bookings still in flight may have been stored unanswered, so the database
        // may hold more seats sold than the answers say; never one sold twice.
        let mut check =
            check_sold(setup.database.as_ref(), &setup.api, show_id, all_seats.len(), &all_seats).await?;
        let distinct = all_seats.iter().collect::<std::collections::HashSet<_>>().len();
        check.ok = check.seats_sold_twice == 0
            && check.seats_sold >= all_seats.len() as i64
            && distinct == all_seats.len();
        check
    };
    let ended_at = if complete { None } else { Some(stopped_at) };
    Ok(report(ReportInput {
        show_id,
        count,
        watchers,
        seats,
        options,
        settings,
        opened_at,
        ended_at,
        done,
        check,
    }))
}

/// One customer: joins at `at` (timed), keeps their place open live (a watcher) or asks for it
/// every 2 s after the opening, and books two seats the moment they are admitted.
async fn customer(
    room: Arc<Room>,
    session: Session,
    index: usize,
    at: Instant,
    watcher: bool,
    mut opened: watch::Receiver<bool>,
) -> anyhow::Result<Customer> {
    tokio::time::sleep_until(at.into()).await;
    let join_sent = Instant::now();
    let (view, join_retries) = room.api.join_waiting_room(&session, room.show_id).await?;
    let join_latency = join_sent.elapsed();
    anyhow::ensure!(
        view.place == PlaceInLine::BeforeOpening,
        "a customer who joined before the opening was told {:?}",
        view.place
    );
    room.joined.fetch_add(1, Ordering::Relaxed);

    let mut figures = Customer {
        index,
        join_sent,
        join_latency,
        join_retries,
        stream_open: None,
        saw_waiting_at: None,
        saw_admitted_at: None,
        events_after_opening: 0,
        outside_events: 0,
        admitted_at: DateTime::<Utc>::MIN_UTC,
        booking_latency: Duration::ZERO,
        booked_at: DateTime::<Utc>::MIN_UTC,
        booking_retries: 0,
        booking_refusals: 0,
        booking_requests: Vec::new(),
        seats: Vec::new(),
    };
    let mut admitted_at = None;
    if watcher {
        let opening = Instant::now();
        let mut places = Box::pin(room.api.place_events(&room.streams, &session, room.show_id).await?);
        match places.next().await {
            Some(Ok(Some(_))) => {}
            Some(Err(error)) => return Err(error),
            _ => bail!("the place stream closed at once"),
        }
        figures.stream_open = Some(opening.elapsed());
        room.streams_ready.fetch_add(1, Ordering::Relaxed);
        while let Some(event) = places.next().await {
            let Some(view) = event? else { break };
            let now = Utc::now();
            if *opened.borrow() {
                figures.events_after_opening += 1;
            }
            match view.place {
                PlaceInLine::Waiting { .. } => {
                    figures.saw_waiting_at.get_or_insert(now);
                }
                PlaceInLine::Admitted { admitted_at: at, .. } => {
                    figures.saw_admitted_at = Some(now);
                    admitted_at = Some(at);
                    break;
                }
                // A line read that began before this customer's join can reach the stream
                // after its first view: "outside" for a moment. Counted, not fatal.
                PlaceInLine::Outside => figures.outside_events += 1,
                PlaceInLine::PassExpired { .. } => {
                    bail!("a waiting customer's place became {:?}", view.place)
                }
                PlaceInLine::BeforeOpening => {}
            }
        }
        // The page moves on to the seats: the stream closes here.
    }
    // Without a live place (or if it ended early): ask every 2 s, from a random moment.
    if admitted_at.is_none() {
        while !*opened.borrow_and_update() {
            opened.changed().await.context("the run ended before the opening")?;
        }
        let offset = POLL_EVERY.mul_f64(rand::rng().random::<f64>());
        tokio::time::sleep(offset).await;
        loop {
            let view = room.api.place(&session, room.show_id).await?;
            match view.place {
                PlaceInLine::Admitted { admitted_at: at, .. } => {
                    admitted_at = Some(at);
                    break;
                }
                PlaceInLine::Waiting { .. } | PlaceInLine::BeforeOpening => {}
                other => bail!("a waiting customer's place became {other:?}"),
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
    figures.admitted_at = admitted_at.expect("set by the stream or the poll");
    room.admitted_figures.lock().expect("admitted figures lock").push(figures.clone());
    room.admitted.fetch_add(1, Ordering::Relaxed);

    // A 409 seats_taken (best seats that another order got first, after the server's own
    // retries) is tried again, as a customer would: counted as a refusal.
    let started = Instant::now();
    loop {
        let attempt = room.api.book_best(&session, room.show_id, SEATS_EACH).await?;
        figures.booking_retries += attempt.retries;
        figures.booking_requests.push(attempt.latency);
        match attempt.seats {
            Ok(seats) => {
                anyhow::ensure!(seats.len() == usize::from(SEATS_EACH), "a booking of 2 seats got {seats:?}");
                room.seats_booked.fetch_add(seats.len(), Ordering::Relaxed);
                figures.seats = seats;
                break;
            }
            Err((StatusCode::CONFLICT, body)) if body.contains("\"seats_taken\"") => {
                figures.booking_refusals += 1;
                if figures.booking_refusals >= MOST_BOOKING_REFUSALS {
                    bail!("an admitted customer was refused {MOST_BOOKING_REFUSALS} times: {body}");
                }
            }
            Err((status, body)) => bail!("an admitted customer's booking was answered {status}: {body}"),
        }
    }
    figures.booked_at = Utc::now();
    figures.booking_latency = started.elapsed();
    Ok(figures)
}

struct ReportInput<'a> {
    show_id: i64,
    count: usize,
    watchers: usize,
    seats: usize,
    options: &'a Options,
    settings: crate::domain::waiting_room::WaitingRoomSettings,
    opened_at: DateTime<Utc>,
    /// When the bookings were cut off (None: every customer booked).
    ended_at: Option<DateTime<Utc>>,
    done: Vec<Customer>,
    check: SoldCheck,
}

/// `later - earlier`, none when negative (a clock read in another process a hair behind).
fn between(earlier: DateTime<Utc>, later: DateTime<Utc>) -> Duration {
    (later - earlier).to_std().unwrap_or(Duration::ZERO)
}

fn report(input: ReportInput<'_>) -> WaitingRoomReport {
    let ReportInput { show_id, count, watchers, seats, options, settings, opened_at, ended_at, done, check } =
        input;
    let booked: Vec<&Customer> = done.iter().filter(|c| !c.seats.is_empty()).collect();
    let first_join = done.iter().map(|c| c.join_sent).min();
    let last_join = done.iter().map(|c| c.join_sent + c.join_latency).max();
    let join_elapsed = match (first_join, last_join) {
        (Some(first), Some(last)) => last - first,
        _ => Duration::ZERO,
    };
    let joins: Vec<Duration> = done.iter().map(|c| c.join_latency).collect();
    let streams: Vec<Duration> = done.iter().filter_map(|c| c.stream_open).collect();

    let mut admitted: Vec<DateTime<Utc>> = done.iter().map(|c| c.admitted_at).collect();
    admitted.sort_unstable();
    let at_opening = admitted.iter().filter(|&&at| at <= opened_at).count();
    let last_admitted = admitted.last().copied().unwrap_or(opened_at);
    let admission = between(opened_at, last_admitted);
    let after_opening = admitted.len() - at_opening;
    let admissions_per_minute =
        (after_opening > 0 && !admission.is_zero()).then(|| 60.0 * rate(after_opening, admission));
    // Whole 10-second windows from the opening up to the last admission (the first pass left out).
    let windows = (admission.as_secs_f64() / RATE_WINDOW_S).floor() as usize;
    let per_window: Vec<f64> = (0..windows)
        .map(|w| {
            let from = opened_at + chrono::Duration::milliseconds((w as f64 * RATE_WINDOW_S * 1000.0) as i64);
            let to = from + chrono::Duration::milliseconds((RATE_WINDOW_S * 1000.0) as i64);
            let n = admitted.iter().filter(|&&at| at > opened_at && at > from && at <= to).count();
            n as f64 * 60.0 / RATE_WINDOW_S
        })
        .collect();
    let min_window = per_window.iter().copied().reduce(f64::min);
    let max_window = per_window.iter().copied().reduce(f64::max);

    let watched: Vec<&Customer> = done.iter().filter(|c| c.stream_open.is_some()).collect();
    let admission_lag: Vec<Duration> =
        watched.iter().filter_map(|c| Some(between(c.admitted_at, c.saw_admitted_at?))).collect();
    let opening_lag: Vec<Duration> =
        watched.iter().filter_map(|c| Some(between(opened_at, c.saw_waiting_at?))).collect();
    let events: u64 = watched.iter().map(|c| c.events_after_opening).sum();

    let last_booked = booked.iter().map(|c| c.booked_at).max().unwrap_or(opened_at);
    let booking = between(opened_at, ended_at.unwrap_or(last_booked));
    let seats_booked: usize = booked.iter().map(|c| c.seats.len()).sum();
    let bookings: Vec<Duration> = booked.iter().map(|c| c.booking_latency).collect();
    let admitted_to_booked: Vec<Duration> =
        booked.iter().map(|c| between(c.admitted_at, c.booked_at)).collect();

    WaitingRoomReport {
        show_id,
        customers: count,
        watchers,
        seats,
        join_window_s: options.join_window.as_secs_f64(),
        join_elapsed_s: join_elapsed.as_secs_f64(),
        joins_per_s: rate(done.len(), join_elapsed),
        join_latency: Latency::of(&joins),
        join_retries: done.iter().map(|c| u64::from(c.join_retries)).sum(),
        stream_open_latency: Latency::of(&streams),
        admissions_per_minute_set: settings.admissions_per_minute,
        burst_set: settings.burst,
        admitted: admitted.len(),
        admitted_at_opening: at_opening,
        admission_s: admission.as_secs_f64(),
        admissions_per_minute,
        admissions_per_minute_min_10s: min_window,
        admissions_per_minute_max_10s: max_window,
        admission_lag: Latency::of(&admission_lag),
        opening_lag: Latency::of(&opening_lag),
        watchers_missing_admission: watched.len() - admission_lag.len(),
        place_events_after_opening: events,
        place_events_per_s: events as f64 / admission.as_secs_f64().max(f64::EPSILON),
        outside_events: watched.iter().map(|c| c.outside_events).sum(),
        watchers_told_outside: watched.iter().filter(|c| c.outside_events > 0).count(),
        bookings: booked.len(),
        not_booked: count - booked.len(),
        booking_cut_off_s: ended_at.is_some().then(|| options.booking_grace.as_secs_f64()),
        seats_booked,
        booking_s: booking.as_secs_f64(),
        seats_per_s: rate(seats_booked, booking),
        booking_latency: Latency::of(&bookings),
        admitted_to_booked: Latency::of(&admitted_to_booked),
        booking_retries: done.iter().map(|c| u64::from(c.booking_retries)).sum(),
        booking_refusals: done.iter().map(|c| u64::from(c.booking_refusals)).sum(),
        customers_refused: done.iter().filter(|c| c.booking_refusals > 0).count(),
        booking_request_latency: Latency::of(
            &done.iter().flat_map(|c| c.booking_requests.iter().copied()).collect::<Vec<_>>(),
        ),
        check,
    }
}

/// The table's lines for this scenario.
pub fn print(report: &WaitingRoomReport) {
    let name = "Waiting room";
    println!(
        "{name:<24} {} customers ({} live places) joined in {:.1} s ({:.0} joins/s): join {}",
        report.customers,
        report.watchers,
        report.join_elapsed_s,
        report.joins_per_s,
        report.join_latency.describe()
    );
    println!("{:<24} place stream opened: {}", "", report.stream_open_latency.describe());
    let per_minute = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}"));
    println!(
        "{:<24} admitted {} in {:.1} s: {} at the opening (burst {}), then {} a minute (set: {}; 10-s windows {} to {})",
        "",
        report.admitted,
        report.admission_s,
        report.admitted_at_opening,
        report.burst_set,
        per_minute(report.admissions_per_minute),
        report.admissions_per_minute_set,
        per_minute(report.admissions_per_minute_min_10s),
        per_minute(report.admissions_per_minute_max_10s)
    );
    println!(
        "{:<24} admission seen live: lag {}; {} watchers never saw it",
        "",
        report.admission_lag.describe(),
        report.watchers_missing_admission
    );
    println!(
        "{:<24} line opening seen live: lag {}; {:.0} place events/s",
        "",
        report.opening_lag.describe(),
        report.place_events_per_s
    );
    if report.outside_events > 0 {
        println!(
            "{:<24} {} watchers were told for a moment that they were outside the line ({} events)",
            "", report.watchers_told_outside, report.outside_events
        );
    }
    println!(
        "{:<24} the admitted booked {} seats in {:.1} s: {:.0} seats/s; booking {}",
        "",
        report.seats_booked,
        report.booking_s,
        report.seats_per_s,
        report.booking_latency.describe()
    );
    if let Some(cut_off) = report.booking_cut_off_s {
        println!(
            "{:<24} {} customers still unanswered {cut_off:.0} s after the last admission: left out",
            "", report.not_booked
        );
    }
    println!("{:<24} every booking request: {}", "", report.booking_request_latency.describe());
    println!(
        "{:<24} admitted to booked: {}; {} answers 409 seats_taken to {} customers",
        "",
        report.admitted_to_booked.describe(),
        report.booking_refusals,
        report.customers_refused
    );
    println!(
        "{:<24} {} ({}): {} seats sold, {} sold twice",
        "",
        if report.check.ok { "check passed" } else { "CHECK FAILED" },
        report.check.source,
        report.check.seats_sold,
        report.check.seats_sold_twice
    );
}
