//! Flash sale: many customers book a fresh show until it is sold out, optionally watched live by
//! thousands of open seat maps. Customers ride out faults (no connection, timeouts, 5xx): they
//! count the error, pause briefly and send the order again with its key, until the show is sold
//! out or the sale's deadline passes. (Over 400 lines because the scenario, its customers, its
//! watchers and its exactness checks are one measurement.)

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::watch;

use super::answers::AnswersLog;
use super::client::{Api, Commitment, Failure, Ordered, Outcome, Session, error_code, jittered_pause};
use super::live::{FeedMessage, FreeSeats, subscribe};
use super::stats::{ErrorCounts, Latency, Stall, longest_stall, rate};
use super::{Progress, Setup};
use crate::domain::SeatStatus;

/// How long a customer's map must show no free seat before it takes the show as sold out when
/// the answers do not add up to it (an order booked whose answer was lost to a fault).
const SOLD_OUT_QUIET: Duration = Duration::from_secs(10);
/// How long reading the sale back may keep failing (a database failing over) before the run
/// gives up.
const CHECK_TRIES: u32 = 15;
/// How long watchers get after the last sale to see it.
const WATCH_GRACE: Duration = Duration::from_secs(10);
/// Seats per row of the benchmark's shows.
const SEATS_PER_ROW: usize = 100;

#[derive(Debug, Serialize)]
pub struct FlashSaleReport {
    pub show_id: i64,
    pub clients: usize,
    pub seats: usize,
    pub elapsed_s: f64,
    pub seats_per_s: f64,
    pub bookings_per_s: f64,
    /// Requests for seats per second, answered 201 or 409.
    pub attempts_per_s: f64,
    pub bookings: usize,
    pub refusals: usize,
    /// Share of requests answered 409 (someone else got a seat first).
    pub refusal_rate: f64,
    /// Requests sent again with their idempotency key after a 5xx answer or none.
    pub retries: u64,
    /// Every request for seats.
    pub latency: Latency,
    pub booked_latency: Latency,
    pub refused_latency: Latency,
    pub check: SoldCheck,
    /// Every seat sold by the end (false: the deadline passed first).
    pub sold_out: bool,
    /// Errors customers saw (each followed by a short pause and another try).
    pub errors: ErrorCounts,
    /// The longest stretch with no booking answered: how long until bookings flowed again.
    pub longest_stall: Stall,
    /// With watchers: how quickly open seat maps saw each sale.
    pub watching: Option<WatchReport>,
}

/// Exactly the show's seats sold, none twice.
#[derive(Debug, Serialize)]
pub struct SoldCheck {
    /// Where the figures were read: "database" or, without database access, "api".
    pub source: &'static str,
    pub seats_sold: i64,
    /// Seats in more than one confirmed booking (database only).
    pub seats_sold_twice: i64,
    /// Seats the customers were told they got.
    pub seats_answered_booked: usize,
    /// Of those, seats not sold now (must be none).
    pub answered_seats_not_booked: i64,
    pub ok: bool,
}

#[derive(Debug, Serialize)]
pub struct WatchReport {
    pub watchers: usize,
    /// From a booking's answer to a watcher seeing its seats booked.
    pub lag: Latency,
    /// Watchers that had not seen every seat booked by the end.
    pub watchers_missing_updates: usize,
    pub seat_updates_missed: u64,
}

/// What every customer of one sale shares.
struct Sale {
    api: Api,
    show_id: i64,
    total: usize,
    /// Seats sold so far (from the answers).
    sold: AtomicUsize,
    /// Errors seen so far, for the progress line.
    errors: AtomicU64,
    answers: Option<AnswersLog>,
    /// What the customers' live seat maps show as free.
    free: Mutex<FreeSeats>,
    /// When each seat's booking was answered, in µs after `epoch` (0: not yet).
    booked_at: Vec<AtomicU64>,
    epoch: Instant,
    /// Percent of orders that hold first and confirm after.
    hold_first_percent: u8,
    /// When the last hold a customer walked away from runs out, in µs after `epoch`: until
    /// then (and the quiet wait after) an empty map does not mean sold out.
    abandoned_holds_run_out_us: AtomicU64,
}

impl Sale {
    /// Logs a booking a customer was answered, for the chaos checks.
    fn answered(&self, booking: Option<&super::client::BookingBody>) -> anyhow::Result<()> {
        match (&self.answers, booking) {
            (Some(log), Some(booking)) => log.record(booking, chrono::Utc::now()),
            _ => Ok(()),
        }
    }

    /// A customer walked away from a hold that runs out at `expires_at`.
    fn abandoned(&self, expires_at: Option<chrono::DateTime<chrono::Utc>>) {
        let left = expires_at
            .and_then(|at| (at - chrono::Utc::now()).to_std().ok())
            .unwrap_or_default();
        let run_out = (Instant::now() + left - self.epoch).as_micros() as u64;
        self.abandoned_holds_run_out_us.fetch_max(run_out, Ordering::Relaxed);
    }

    /// Whether a map that has been empty since `since` says the show is sold out: quiet for
    /// `SOLD_OUT_QUIET`, counted from the last abandoned hold running out if that came later.
    fn quiet_since(&self, since: Instant) -> bool {
        let run_out = self.epoch + Duration::from_micros(self.abandoned_holds_run_out_us.load(Ordering::Relaxed));
        since.max(run_out).elapsed() > SOLD_OUT_QUIET
    }
}

#[derive(Default)]
struct CustomerSamples {
    booked: Vec<Duration>,
    refused: Vec<Duration>,
    seats: Vec<i32>,
    retries: u64,
    /// When each booking was answered.
    answered: Vec<Instant>,
    errors: ErrorCounts,
}

impl CustomerSamples {
    /// The answer to an order, counting the errors on the way; none when no answer came.
    fn answer_of(&mut self, ordered: Ordered, sale: &Sale) -> Option<super::client::Attempt> {
        match ordered {
            Ordered::Answered(attempt) => {
                self.retries += u64::from(attempt.retries);
                self.count(&attempt.failures, sale);
                Some(attempt)
            }
            Ordered::Unanswered(failures) => {
                self.count(&failures, sale);
                None
            }
        }
    }

    fn count(&mut self, failures: &[Failure], sale: &Sale) {
        for failure in failures {
            match failure {
                Failure::Connect => self.errors.connect += 1,
                Failure::Timeout => self.errors.timeout += 1,
                Failure::Lost => self.errors.lost += 1,
                Failure::Server(status) => *self.errors.status_5xx.entry(status.as_u16()).or_default() += 1,
            }
        }
        sale.errors.fetch_add(failures.len() as u64, Ordering::Relaxed);
    }
}

pub async fn run(
    setup: &Setup,
    customers: &[Session],
    seats: usize,
    watchers: usize,
    progress: &Progress,
) -> anyhow::Result<FlashSaleReport> {
    let rows = seats.div_ceil(SEATS_PER_ROW).max(1);
    let per_row = seats.div_ceil(rows);
    let total = rows * per_row;
    let show_id = setup.api.create_show(&setup.admin, "Flash sale", rows, per_row).await?;
    let max_seat_id = setup.api.seats(show_id).await?.iter().map(|s| s.id).max().unwrap_or(0);
    let sale = Arc::new(Sale {
        api: setup.api.clone(),
        show_id,
        total,
        sold: AtomicUsize::new(0),
        errors: AtomicU64::new(0),
        answers: setup.answers.clone(),
        free: Mutex::new(FreeSeats::default()),
        booked_at: (0..=max_seat_id).map(|_| AtomicU64::new(0)).collect(),
        epoch: Instant::now(),
        hold_first_percent: setup.hold_first_percent,
        abandoned_holds_run_out_us: AtomicU64::new(0),
    });
    // The customers' seat maps: one feed stands for all of them.
    let follower = follow_feed(sale.clone()).await?;

    let (stop_watching, stop) = watch::channel(false);
    let watching = if watchers > 0 {
        progress.say(&format!("opening {watchers} live seat maps"));
        Some(open_watchers(&sale, watchers, stop).await?)
    } else {
        None
    };

    progress.say(&format!("{} customers book {total} seats", customers.len()));
    let started = Instant::now();
    let deadline = started + setup.sale_deadline;
    let ticker = progress.every_second({
        let sale = sale.clone();
        move |elapsed| {
            let sold = sale.sold.load(Ordering::Relaxed);
            let errors = sale.errors.load(Ordering::Relaxed);
            format!("{sold}/{} seats sold · {:.0} seats/s · {errors} errors", sale.total, rate(sold, elapsed))
        }
    });
    let mut tasks = tokio::task::JoinSet::new();
    for session in customers {
        tasks.spawn(customer(sale.clone(), session.clone(), deadline));
    }
    let mut samples = CustomerSamples::default();
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined.context("a customer task panicked")? {
            Ok(mine) => {
                samples.booked.extend(mine.booked);
                samples.refused.extend(mine.refused);
                samples.seats.extend(mine.seats);
                samples.retries += mine.retries;
                samples.answered.extend(mine.answered);
                samples.errors.add(&mine.errors);
            }
            Err(error) => {
                // Stop the others: one failure makes the run's figures meaningless.
                first_error.get_or_insert(error);
                tasks.abort_all();
            }
        }
    }
    let elapsed = started.elapsed();
    ticker.abort();
    follower.abort();
    if let Some(answers) = &setup.answers {
        answers.flush()?;
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    let answered_all = samples.seats.len() >= total;
    progress.done(&if answered_all {
        format!("sold out in {:.1} s", elapsed.as_secs_f64())
    } else {
        format!(
            "stopped after {:.1} s with {} of {total} seats answered booked",
            elapsed.as_secs_f64(),
            samples.seats.len()
        )
    });
    if samples.errors.total() > 0 {
        progress.say(&format!("errors seen: {}", samples.errors.describe()));
    }

    let watching = match watching {
        Some(watchers) => Some(finish_watching(watchers, stop_watching, total, progress).await),
        None => None,
    };
    let mut check = check_sold(setup.database.as_ref(), &setup.api, show_id, total, &samples.seats).await?;
    if !answered_all {
        // Cut off by the deadline, or ended by the map after answers were lost to faults: the
        // database may hold seats whose answer never came; never a seat sold twice, never an
        // answered one unsold.
        let distinct = samples.seats.iter().collect::<HashSet<_>>().len();
        check.ok = check.seats_sold_twice == 0
            && check.answered_seats_not_booked == 0
            && distinct == samples.seats.len()
            && check.seats_sold >= samples.seats.len() as i64;
    }
    let sold_out = check.seats_sold == total as i64;
    let answer_times: Vec<Duration> =
        samples.answered.iter().map(|at| at.saturating_duration_since(started)).collect();
    // A sold-out sale ends with its last answer (not the quiet wait of a map-ended one).
    let stall_end = match answer_times.iter().max() {
        Some(&last) if sold_out => last,
        _ => elapsed,
    };
    let attempts = samples.booked.len() + samples.refused.len();
    let all: Vec<Duration> = samples.booked.iter().chain(&samples.refused).copied().collect();
    Ok(FlashSaleReport {
        show_id,
        clients: customers.len(),
        seats: total,
        elapsed_s: elapsed.as_secs_f64(),
        seats_per_s: rate(samples.seats.len(), elapsed),
        bookings_per_s: rate(samples.booked.len(), elapsed),
        attempts_per_s: rate(attempts, elapsed),
        bookings: samples.booked.len(),
        refusals: samples.refused.len(),
        refusal_rate: samples.refused.len() as f64 / attempts.max(1) as f64,
        retries: samples.retries,
        latency: Latency::of(&all),
        booked_latency: Latency::of(&samples.booked),
        refused_latency: Latency::of(&samples.refused),
        check,
        sold_out,
        longest_stall: longest_stall(&answer_times, stall_end),
        errors: samples.errors,
        watching,
    })
}

/// Keeps `sale.free` up to date from the show's live feed; returns once the first snapshot is in.
/// Like a browser's EventSource, it reconnects when the stream ends (the snapshot that opens
/// the new stream brings the map up to date).
async fn follow_feed(sale: Arc<Sale>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let url = sale.api.url(&format!("/api/v1/shows/{}/events", sale.show_id));
    let mut feed = Box::pin(subscribe(sale.api.http(), &url).await?);
    let first = feed.next().await.context("the seat feed closed at once")??;
    sale.free.lock().expect("free seats lock").apply(&first);
    Ok(tokio::spawn(async move {
        loop {
            let ended = loop {
                match feed.next().await {
                    Some(Ok(message)) => sale.free.lock().expect("free seats lock").apply(&message),
                    Some(Err(error)) => break error.to_string(),
                    None => break "the server closed it".to_owned(),
                }
            };
            eprintln!("\n    the customers' seat feed stopped ({ended}); reconnecting");
            loop {
                match subscribe(sale.api.http(), &url).await {
                    Ok(fresh) => {
                        feed = Box::pin(fresh);
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        }
    }))
}

/// One customer: picks two free seats on the live map (side by side when it can), books them
/// at once (or, for `hold_first_percent` of its orders, holds them and confirms the hold; the
/// first hold it leaves to run out), and on a 409 picks again, until the show is sold out or
/// the `deadline` passes.
async fn customer(sale: Arc<Sale>, session: Session, deadline: Instant) -> anyhow::Result<CustomerSamples> {
    let mut rng = StdRng::from_rng(&mut rand::rng());
    let mut samples = CustomerSamples::default();
    // Seats this customer knows are gone before its map shows it (its own, and 409s).
    let mut gone: HashSet<i32> = HashSet::new();
    let mut map_empty_since: Option<Instant> = None;
    let mut walked_away = false;
    while sale.sold.load(Ordering::Relaxed) < sale.total && Instant::now() < deadline {
        let (pick, map_empty) = {
            let free = sale.free.lock().expect("free seats lock");
            (pick_two(&free, &gone, &mut rng), free.is_empty())
        };
        if pick.is_empty() {
            // Every seat the map shows is one this customer knows is gone: wait for the feed.
            if !map_empty {
                map_empty_since = None;
            } else if sale.quiet_since(*map_empty_since.get_or_insert_with(Instant::now)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        map_empty_since = None;
        let hold_first = rng.random_range(0..100) < sale.hold_first_percent;
        let commitment = if hold_first { Commitment::Hold } else { Commitment::BookNow };
        let ordered = sale.api.order_until(&session, sale.show_id, &pick, commitment, deadline).await?;
        let Some(mut attempt) = samples.answer_of(ordered, &sale) else { break };
        if hold_first && attempt.outcome == Outcome::Got {
            sale.answered(attempt.booking.as_ref())?;
            let hold = attempt.booking.take().context("a hold answered without its booking")?;
            if !std::mem::replace(&mut walked_away, true) {
                sale.abandoned(hold.hold_expires_at);
                gone.extend(&pick);
                continue;
            }
            let confirmed = sale.api.confirm_until(&session, hold.id, deadline).await?;
            let held_for = attempt.latency;
            let Some(confirm) = samples.answer_of(confirmed, &sale) else { break };
            attempt = confirm;
            attempt.latency += held_for;
        }
        match attempt.outcome {
            Outcome::Got => {
                sale.answered(attempt.booking.as_ref())?;
                let at = (attempt.answered_at - sale.epoch).as_micros() as u64;
                for &seat in &pick {
                    sale.booked_at[seat as usize].store(at.max(1), Ordering::Relaxed);
                }
                sale.sold.fetch_add(pick.len(), Ordering::Relaxed);
                samples.booked.push(attempt.latency);
                samples.answered.push(attempt.answered_at);
                samples.seats.extend(&pick);
                gone.extend(pick);
            }
            Outcome::Taken(taken) => {
                samples.refused.push(attempt.latency);
                gone.extend(taken);
            }
            // Refused for another reason (`seats_busy` while a failing server held locks, a
            // hold that ran out before its confirm got through, ...): nothing was booked;
            // pause and pick again.
            Outcome::Unexpected(status, body) if status.is_client_error() => {
                let kind = match error_code(&body) {
                    Some(code) => format!("{} {code}", status.as_u16()),
                    None => status.as_u16().to_string(),
                };
                *samples.errors.status_4xx.entry(kind).or_default() += 1;
                sale.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(jittered_pause()).await;
            }
            Outcome::Unexpected(status, body) => bail!("booking seats {pick:?} answered {status}: {body}"),
        }
    }
    Ok(samples)
}

/// Two free seats, side by side when the seat next to the first is free; one when only one is
/// left; none when the map shows nothing this customer does not know is gone.
fn pick_two(free: &FreeSeats, gone: &HashSet<i32>, rng: &mut StdRng) -> Vec<i32> {
    let usable = |seat: i32| free.contains(seat) && !gone.contains(&seat);
    let Some(first) = random_seat(free, rng, usable) else { return vec![] };
    let second = [first + 1, first - 1]
        .into_iter()
        .find(|&seat| usable(seat))
        .or_else(|| random_seat(free, rng, |seat| seat != first && usable(seat)));
    let mut pick: Vec<i32> = std::iter::once(first).chain(second).collect();
    pick.sort_unstable();
    pick
}

/// A random free seat that `fits`. Every customer must draw at random: a choice that several
/// share (say, the first fitting seat of the list) makes them all fight over one seat.
fn random_seat(free: &FreeSeats, rng: &mut StdRng, fits: impl Fn(i32) -> bool) -> Option<i32> {
    if free.is_empty() {
        return None;
    }
    let drawn = (0..16).map(|_| free.get(rng.random_range(0..free.len()))).find(|&seat| fits(seat));
    // Near the end most seats on the map may be ones this customer knows are gone: go round the
    // whole list, from a random place.
    drawn.or_else(|| {
        let start = rng.random_range(0..free.len());
        (0..free.len()).map(|i| free.get((start + i) % free.len())).find(|&seat| fits(seat))
    })
}

/// Open seat maps measuring how late they see each sale.
struct Watchers {
    tasks: tokio::task::JoinSet<WatcherSeen>,
}

struct WatcherSeen {
    booked_seen: u64,
    lag_micros: Histogram<u64>,
}

async fn open_watchers(
    sale: &Arc<Sale>,
    count: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Watchers> {
    // Watchers get their own connections, apart from the customers'.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    let url = sale.api.url(&format!("/api/v1/shows/{}/events", sale.show_id));
    let ready = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (sale, http, url, ready, failed, mut stop) =
            (sale.clone(), http.clone(), url.clone(), ready.clone(), failed.clone(), stop.clone());
        tasks.spawn(async move {
            let mut seen = WatcherSeen {
                booked_seen: 0,
                lag_micros: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"),
            };
            let mut booked = vec![false; sale.booked_at.len()];
            let Ok(feed) = subscribe(&http, &url).await else {
                failed.store(true, Ordering::Relaxed);
                return seen;
            };
            let mut feed = Box::pin(feed);
            let mut first = true;
            loop {
                let message = tokio::select! {
                    message = feed.next() => message,
                    _ = stop.changed() => break,
                };
                let Some(Ok(message)) = message else { break };
                let now = sale.epoch.elapsed().as_micros() as u64;
                let (FeedMessage::Snapshot(changes) | FeedMessage::Changes(changes)) = &message;
                for change in changes.iter().filter(|c| c.status == SeatStatus::Booked) {
                    let Some(seen_before) = booked.get_mut(change.seat_id as usize) else { continue };
                    if !std::mem::replace(seen_before, true) {
                        seen.booked_seen += 1;
                        // An update that beat the booking's answer home counts as no lag.
                        let answered = sale.booked_at[change.seat_id as usize].load(Ordering::Relaxed);
                        let lag = if answered == 0 { 0 } else { now.saturating_sub(answered) };
                        let _ = seen.lag_micros.record(lag.max(1));
                    }
                }
                if std::mem::take(&mut first) {
                    ready.fetch_add(1, Ordering::Relaxed);
                }
                if seen.booked_seen as usize == sale.total {
                    break;
                }
            }
            seen
        });
        // Open them gradually, as a crowd arrives, rather than in one burst of connects.
        if tasks.len() % 200 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while ready.load(Ordering::Relaxed) < count {
        if failed.load(Ordering::Relaxed) {
            bail!("a watcher could not open the seat feed (is the open-file limit high enough?)");
        }
        if Instant::now() > deadline {
            bail!(
                "only {} of {count} watchers had their seat map after 2 minutes",
                ready.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Watchers { tasks })
}

async fn finish_watching(
    mut watchers: Watchers,
    stop: watch::Sender<bool>,
    total: usize,
    progress: &Progress,
) -> WatchReport {
    progress.say("waiting for the live seat maps to catch up");
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(WATCH_GRACE).await;
        let _ = stop.send(true);
        stop
    });
    let mut lag = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds");
    let (mut count, mut missing, mut missed) = (0, 0, 0u64);
    while let Some(Ok(seen)) = watchers.tasks.join_next().await {
        count += 1;
        let _ = lag.add(&seen.lag_micros);
        if (seen.booked_seen as usize) < total {
            missing += 1;
            missed += total as u64 - seen.booked_seen;
        }
    }
    stopper.abort();
    WatchReport {
        watchers: count,
        lag: Latency::of_micros(&lag),
        watchers_missing_updates: missing,
        seat_updates_missed: missed,
    }
}

/// Reads back what was sold: from the database when the benchmark can reach it, else from the
/// seat map. Tries again for a while when that fails (a database failing over after a fault).
pub(super) async fn check_sold(
    database: Option<&PgPool>,
    api: &Api,
    show_id: i64,
    total: usize,
    answered: &[i32],
) -> anyhow::Result<SoldCheck> {
    let distinct_answers = answered.iter().collect::<HashSet<_>>().len();
    let mut tries = 1;
    let (source, seats_sold, seats_sold_twice, answered_seats_not_booked) = loop {
        match read_sold(database, api, show_id, answered).await {
            Ok(figures) => break figures,
            Err(error) if tries < CHECK_TRIES => {
                eprintln!("    reading the sale back failed ({error:#}); trying again");
                tries += 1;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(error) => return Err(error),
        }
    };
    Ok(SoldCheck {
        source,
        seats_sold,
        seats_sold_twice,
        seats_answered_booked: answered.len(),
        answered_seats_not_booked,
        ok: seats_sold == total as i64
            && seats_sold_twice == 0
            && answered_seats_not_booked == 0
            && answered.len() == total
            && distinct_answers == total,
    })
}

/// Where the figures came from, seats sold, seats sold twice, answered seats not sold.
async fn read_sold(
    database: Option<&PgPool>,
    api: &Api,
    show_id: i64,
    answered: &[i32],
) -> anyhow::Result<(&'static str, i64, i64, i64)> {
    match database {
        Some(pool) => {
            let (sold, twice, unsold): (i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM seats WHERE show_id = $1 AND status = 'BOOKED'),
                        (SELECT count(*) - count(DISTINCT seat_id) FROM
                            (SELECT unnest(seat_ids) AS seat_id FROM bookings
                             WHERE show_id = $1 AND status = 'CONFIRMED') AS sold),
                        (SELECT count(DISTINCT answered.seat_id) FROM unnest($2::int[]) AS answered (seat_id)
                         WHERE NOT EXISTS (SELECT FROM seats
                                           WHERE show_id = $1 AND seat_id = answered.seat_id
                                             AND status = 'BOOKED'))",
            )
            .bind(show_id)
            .bind(answered)
            .fetch_one(pool)
            .await
            .context("reading the sale back from the database")?;
            Ok(("database", sold, twice, unsold))
        }
        None => {
            let seats = api.seats(show_id).await?;
            let booked: HashSet<i32> =
                seats.iter().filter(|s| s.status == SeatStatus::Booked).map(|s| s.id).collect();
            let unsold =
                answered.iter().collect::<HashSet<_>>().into_iter().filter(|s| !booked.contains(s)).count();
            let distinct_answers = answered.iter().collect::<HashSet<_>>().len();
            Ok(("api", booked.len() as i64, (answered.len() - distinct_answers) as i64, unsold as i64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::live::FeedMessage;
    use crate::domain::SeatStatus;
    use crate::domain::live::SeatChange;

    fn free_seats(ids: &[i32]) -> FreeSeats {
        let mut free = FreeSeats::default();
        let seats =
            ids.iter().map(|&seat_id| SeatChange { seat_id, status: SeatStatus::Available }).collect();
        free.apply(&FeedMessage::Snapshot(seats));
        free
    }

    #[test]
    fn customers_pick_neighbours_when_they_can_and_never_a_seat_they_know_is_gone() {
        let mut rng = StdRng::seed_from_u64(7);
        let free = free_seats(&[10, 11]);
        assert_eq!(pick_two(&free, &HashSet::new(), &mut rng), vec![10, 11]);
        assert_eq!(pick_two(&free, &HashSet::from([11]), &mut rng), vec![10]);
        assert!(pick_two(&free, &HashSet::from([10, 11]), &mut rng).is_empty());
    }

    #[test]
    fn scattered_seats_are_picked_at_random_not_all_the_same() {
        // Single free seats, no two side by side: the second seat is drawn too.
        let free = free_seats(&(0..500).map(|i| i * 3).collect::<Vec<_>>());
        let firsts_and_seconds: HashSet<Vec<i32>> =
            (0..200).map(|seed| pick_two(&free, &HashSet::new(), &mut StdRng::seed_from_u64(seed))).collect();
        assert!(firsts_and_seconds.len() > 190, "customers keep choosing the same seats");
        let seconds: HashSet<i32> = firsts_and_seconds.iter().map(|pick| pick[1]).collect();
        assert!(seconds.len() > 150, "the second seat is not drawn at random: {}", seconds.len());
    }
}
