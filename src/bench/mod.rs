//! `boxoffice bench`: load any Box Office deployment through its REST API like a crowd of real
//! customers, and report throughput, latency and the database's own limit. See
//! docs/PERFORMANCE.md for the method and the figures.
//! (Over 400 lines because the command's options, its dispatch to every scenario and the
//! combined report belong together.)

mod answers;
mod client;
mod flash_sale;
mod hot_seat;
mod live;
mod pgbench;
mod reads;
mod stats;
mod waiting_room;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Serialize;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use self::client::{Api, Session};
use crate::server::Settings;
use crate::service::claims;

/// Orders per transaction in the batched pgbench run: about the mean batch of the claim queue
/// in the 1,000-customer flash sale on 2 cores.
const PGBENCH_BATCH: usize = 128;

/// The scenarios, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// A fresh show sold out by many customers booking two seats at a time.
    FlashSale,
    /// Every customer holds the same two seats at once.
    HotSeat,
    /// Many readers load a 1,000-seat map, as JSON and as the page.
    SeatMap,
    /// A second flash sale watched by many live seat maps.
    Watchers,
    /// PostgreSQL's pgbench running the app's booking statement (needs database access).
    Pgbench,
    /// Many customers join a waiting room, then the sale opens at a set rate and the admitted
    /// book.
    WaitingRoom,
}

impl Scenario {
    const ALL: [Scenario; 6] = [
        Scenario::FlashSale,
        Scenario::HotSeat,
        Scenario::SeatMap,
        Scenario::Watchers,
        Scenario::Pgbench,
        Scenario::WaitingRoom,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct BenchArgs {
    /// The Box Office to load. Start it with the rate limits off
    /// (BOXOFFICE_AUTH_RATE_PER_MINUTE=0 BOXOFFICE_LOGIN_RATE_PER_MINUTE=0
    /// BOXOFFICE_BOOKING_RATE_PER_SECOND=0).
    #[arg(long, env = "BOXOFFICE_BENCH_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// An admin account there: it creates the benchmark's shows.
    #[arg(long, env = "BOXOFFICE_BENCH_ADMIN_EMAIL")]
    pub admin_email: String,
    #[arg(long, env = "BOXOFFICE_BENCH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: String,
    /// Which scenarios to run (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Scenario::ALL)]
    pub scenarios: Vec<Scenario>,
    /// Concurrent customers (flash sale, hot seat); each is an account signed in during set-up.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub clients: u32,
    /// Seats of the flash-sale show.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(2..=20_000))]
    pub seats: u32,
    /// Live seat maps watching the second flash sale.
    #[arg(long, default_value_t = 5000)]
    pub watchers: u32,
    /// Concurrent readers of the seat map.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub readers: u32,
    /// How long each seat-map read test runs, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub read_seconds: u64,
    /// pgbench's clients: by default as many as the app's database pool
    /// (BOXOFFICE_DB_MAX_CONNECTIONS), the concurrency PostgreSQL sees from the app.
    #[arg(long)]
    pub pgbench_clients: Option<u32>,
    /// Customers joining the waiting room (accounts signed up beforehand, like --clients); each
    /// books two seats once admitted.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub room_customers: u32,
    /// The waiting room's admission rate, customers a minute (the room's burst is its default,
    /// five seconds' worth).
    #[arg(long, default_value_t = 6_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub admissions_per_minute: u32,
    /// How many of the waiting-room customers keep their place open live (an event stream
    /// each, as the browser's page does); the others ask for it every 2 s. Default: all.
    #[arg(long)]
    pub room_watchers: Option<u32>,
    /// The waiting-room joins are spread evenly over this many seconds before the opening.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub join_seconds: u64,
    /// How long the admitted may go on booking after the last admission before the
    /// waiting-room run stops waiting (and reports those still unanswered).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub booking_grace_seconds: u64,
    /// Where to write every figure as JSON.
    #[arg(long, default_value = "bench-results.json")]
    pub out: PathBuf,
    /// How long a flash sale may go on before its customers stop (faults make it slow): the run
    /// then reports what was sold and fails.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub sale_deadline_seconds: u64,
    /// Write every booking a flash-sale customer was answered (held or confirmed) to this file,
    /// one JSON line each: {booking_id, status, seats, at, show_id}. A chaos run checks the
    /// database against it.
    #[arg(long)]
    pub answers_log: Option<PathBuf>,
    /// Share of flash-sale orders (0 to 100) that hold their seats and confirm the hold after,
    /// instead of booking at once. Each customer leaves its first hold to run out, as people
    /// who walk away do: the sale sells out once those seats come back.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub hold_first_percent: u8,
}

/// What every scenario starts from.
pub struct Setup {
    api: Api,
    admin: Session,
    /// The deployment's database, when the benchmark can reach it (checks and pgbench).
    database: Option<PgPool>,
    /// How long a flash sale may go on.
    sale_deadline: Duration,
    answers: Option<answers::AnswersLog>,
    /// Percent of flash-sale orders that hold first (`--hold-first-percent`).
    hold_first_percent: u8,
}

#[derive(Debug, Serialize)]
struct Results {
    started_at: chrono::DateTime<chrono::Utc>,
    url: String,
    cpus: usize,
    clients: u32,
    flash_sale: Option<flash_sale::FlashSaleReport>,
    hot_seat: Option<hot_seat::HotSeatReport>,
    seat_map: Option<reads::ReadsReport>,
    watchers: Option<flash_sale::FlashSaleReport>,
    /// One order per transaction, as many clients as the app has connections.
    pgbench: Option<pgbench::PgbenchReport>,
    /// Batches as the app's claim queue sends them.
    pgbench_batched: Option<pgbench::PgbenchReport>,
    waiting_room: Option<waiting_room::WaitingRoomReport>,
    /// App bookings per second in the flash sale ÷ pgbench's bookings per second.
    app_to_pgbench: Option<f64>,
    app_to_pgbench_batched: Option<f64>,
}

/// Runs the benchmark; fails when a scenario breaks a booking rule (a seat sold twice, two
/// winners of one seat) after writing what it measured.
pub async fn run(args: &BenchArgs, settings: &Settings) -> anyhow::Result<()> {
    raise_open_file_limit();
    let progress = Progress::new();
    let answers = args.answers_log.as_deref().map(answers::AnswersLog::create).transpose()?;
    let api = Api::new(&args.url, args.clients.max(args.room_customers) as usize + args.readers as usize)?;
    let admin =
        api.login(&args.admin_email, &args.admin_password).await.context("signing in as the admin")?;
    let database_url = settings.database_url.clone().or_else(|| {
        let dir = settings.embedded_data_dir().ok()?;
        crate::server::embedded_pg::running_url(&dir, crate::server::database::EMBEDDED_DATABASE)
    });
    let database = match &database_url {
        Some(url) => Some(
            PgPoolOptions::new()
                .max_connections(2)
                .connect(url)
                .await
                .context("connecting to the database")?,
        ),
        None => {
            progress.say(
                "no database access (DATABASE_URL): sales are checked through the API, pgbench is left out",
            );
            None
        }
    };
    let setup = Setup {
        api,
        admin,
        database,
        sale_deadline: Duration::from_secs(args.sale_deadline_seconds),
        answers,
        hold_first_percent: args.hold_first_percent,
    };
    let wants = |scenario| args.scenarios.contains(&scenario);

    let needs_customers = wants(Scenario::FlashSale) || wants(Scenario::HotSeat) || wants(Scenario::Watchers);
    let accounts = match (needs_customers, wants(Scenario::WaitingRoom)) {
        (true, true) => args.clients.max(args.room_customers),
        (true, false) => args.clients,
        (false, true) => args.room_customers,
        (false, false) => 0,
    };
    let everyone = if accounts > 0 { sign_up(&setup.api, accounts, &progress).await? } else { vec![] };
    let customers = &everyone[..(args.clients as usize).min(everyone.len())];
    let mut results = Results {
        started_at: chrono::Utc::now(),
        url: args.url.clone(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        clients: args.clients,
        flash_sale: None,
        hot_seat: None,
        seat_map: None,
        watchers: None,
        pgbench: None,
        pgbench_batched: None,
        waiting_room: None,
        app_to_pgbench: None,
        app_to_pgbench_batched: None,
    };
    if wants(Scenario::FlashSale) {
        progress.scenario("1. Flash sale");
        results.flash_sale =
            Some(flash_sale::run(&setup, customers, args.seats as usize, 0, &progress).await?);
    }
    if wants(Scenario::HotSeat) {
        progress.scenario("2. Hot seat");
        results.hot_seat = Some(hot_seat::run(&setup, customers).await?);
    }
    if wants(Scenario::SeatMap) {
        progress.scenario("3. Seat-map reads");
        let duration = Duration::from_secs(args.read_seconds);
        results.seat_map = Some(reads::run(&setup, args.readers as usize, duration, &progress).await?);
    }
    if wants(Scenario::Watchers) {
        progress.scenario("4. Live watchers");
        let watchers = args.watchers as usize;
        results.watchers =
            Some(flash_sale::run(&setup, customers, args.seats as usize, watchers, &progress).await?);
    }
    if wants(Scenario::Pgbench) {
        progress.scenario("5. The physical limit (pgbench)");
        match (&setup.database, &database_url) {
            (Some(database), Some(url)) => {
                let clients = args.pgbench_clients.unwrap_or(settings.db_max_connections) as usize;
                let user_id = admin_id(database, &args.admin_email).await?;
                let app_to = |report: &pgbench::PgbenchReport| {
                    let sale = results.flash_sale.as_ref()?;
                    Some(sale.bookings_per_s / report.bookings_per_s.max(f64::EPSILON))
                };
                let single = pgbench::Load { clients, orders_per_transaction: 1, pairs: 5_000 };
                let report = pgbench::run(&setup, database, url, single, user_id, &progress).await?;
                results.app_to_pgbench = app_to(&report);
                results.pgbench = Some(report);
                let batched = pgbench::Load {
                    clients: claims::BATCHES_IN_FLIGHT,
                    orders_per_transaction: PGBENCH_BATCH,
                    pairs: 10_000,
                };
                let report = pgbench::run(&setup, database, url, batched, user_id, &progress).await?;
                results.app_to_pgbench_batched = app_to(&report);
                results.pgbench_batched = Some(report);
            }
            _ => {
                progress.say("left out: pgbench needs DATABASE_URL (or the embedded default on this machine)")
            }
        }
    }

    if wants(Scenario::WaitingRoom) {
        progress.scenario("6. Waiting room");
        let count = args.room_customers as usize;
        let options = waiting_room::Options {
            watchers: args.room_watchers.map_or(count, |w| w as usize),
            admissions_per_minute: args.admissions_per_minute,
            join_window: Duration::from_secs(args.join_seconds),
            booking_grace: Duration::from_secs(args.booking_grace_seconds),
        };
        results.waiting_room =
            Some(waiting_room::run(&setup, &everyone[..count], &options, &progress).await?);
    }

    if let Some(answers) = &setup.answers {
        answers.flush()?;
    }
    let json = serde_json::to_string_pretty(&results)?;
    std::fs::write(&args.out, json).with_context(|| format!("writing {}", args.out.display()))?;
    print_table(&results);
    println!("\nEvery figure: {}", args.out.display());
    let broken = results.flash_sale.iter().chain(&results.watchers).any(|sale| !sale.check.ok)
        || results.hot_seat.as_ref().is_some_and(|hot| !hot.ok)
        || results.waiting_room.as_ref().is_some_and(|room| !room.check.ok);
    anyhow::ensure!(!broken, "a booking rule was broken: see the table above");
    let unsold = results.flash_sale.iter().chain(&results.watchers).any(|sale| !sale.sold_out);
    anyhow::ensure!(!unsold, "a flash sale did not sell out within {} s", args.sale_deadline_seconds);
    Ok(())
}

/// Registers `count` customer accounts (signed in by registering), a few at a time: hashing
/// passwords is deliberately slow.
async fn sign_up(api: &Api, count: u32, progress: &Progress) -> anyhow::Result<Vec<Session>> {
    use futures::{StreamExt, TryStreamExt};
    progress.say(&format!("signing up {count} customers (not timed)"));
    let run = chrono::Utc::now().timestamp_millis();
    futures::stream::iter(0..count)
        .map(|i| {
            let api = api.clone();
            async move { api.register(&format!("bench-{run}-{i}@bench.example"), "bench password 12").await }
        })
        .buffer_unordered(8)
        .try_collect()
        .await
}

async fn admin_id(database: &PgPool, email: &str) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT id FROM users WHERE email = lower($1)")
        .bind(email)
        .fetch_one(database)
        .await
        .context("finding the admin's account in the database")
}

/// Thousands of open connections need more than the usual 1,024 file descriptors.
fn raise_open_file_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}

/// What the run is doing, on stderr, so stdout keeps just the table.
pub struct Progress {
    started: Instant,
}

impl Progress {
    fn new() -> Self {
        Self { started: Instant::now() }
    }

    fn scenario(&self, name: &str) {
        eprintln!("\n== {name}");
    }

    pub fn say(&self, message: &str) {
        eprintln!("[{:>6.1} s] {message}", self.started.elapsed().as_secs_f64());
    }

    pub fn done(&self, message: &str) {
        eprintln!();
        self.say(message);
    }

    /// Rewrites one status line every second until the returned task is aborted.
    pub fn every_second(
        &self,
        line: impl Fn(Duration) -> String + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let started = Instant::now();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(1));
            ticker.tick().await;
            loop {
                ticker.tick().await;
                eprint!("\r    {}    ", line(started.elapsed()));
                let _ = std::io::stderr().flush();
            }
        })
    }
}

fn print_table(results: &Results) {
    println!(
        "\nBox Office benchmark · {} · {} CPUs · {} customers",
        results.url, results.cpus, results.clients
    );
    println!("{:-<100}", "");
    let sale_rows = |name: &str, sale: &flash_sale::FlashSaleReport| {
        println!(
            "{name:<24} {} seats in {:.1} s: {:.0} seats/s, {:.0} bookings/s, {:.0} requests/s, {:.0}% answered 409",
            sale.seats,
            sale.elapsed_s,
            sale.seats_per_s,
            sale.bookings_per_s,
            sale.attempts_per_s,
            100.0 * sale.refusal_rate
        );
        println!("{:<24} every request: {}", "", sale.latency.describe());
        println!("{:<24} 409s: {}", "", sale.refused_latency.describe());
        println!("{:<24} retried after a 5xx or no answer, same key: {}", "", sale.retries);
        println!("{:<24} errors seen: {}", "", sale.errors.describe());
        println!(
            "{:<24} longest stall: {:.2} s with no booking answered, from {:.2} s into the sale{}",
            "",
            sale.longest_stall.seconds,
            sale.longest_stall.started_at_s,
            if sale.sold_out { "" } else { " · NOT SOLD OUT by the deadline" }
        );
        println!(
            "{:<24} {} ({}): {} seats sold, {} sold twice",
            "",
            if sale.check.ok { "check passed" } else { "CHECK FAILED" },
            sale.check.source,
            sale.check.seats_sold,
            sale.check.seats_sold_twice
        );
    };
    if let Some(sale) = &results.flash_sale {
        sale_rows("Flash sale", sale);
    }
    if let Some(hot) = &results.hot_seat {
        println!(
            "{:<24} winners per round {:?} ({}); refusals {}",
            "Hot seat",
            hot.winners_per_round,
            if hot.ok { "one each, as it must be" } else { "RULE BROKEN" },
            hot.refusal_latency.describe()
        );
    }
    if let Some(reads) = &results.seat_map {
        for (name, figures) in [("Seat map JSON", &reads.json), ("Seat map page", &reads.html)] {
            println!(
                "{name:<24} {:.0} requests/s ({} seats, {} KiB each), {}",
                figures.requests_per_s,
                reads.seats,
                figures.bytes_per_response / 1024,
                figures.latency.describe()
            );
        }
    }
    if let Some(sale) = &results.watchers {
        if let Some(watching) = &sale.watching {
            println!(
                "{:<24} {} watchers: lag {}; {} watchers missed {} updates",
                "Live watchers",
                watching.watchers,
                watching.lag.describe(),
                watching.watchers_missing_updates,
                watching.seat_updates_missed
            );
        }
        sale_rows("  (sale while watched)", sale);
    }
    for (pgbench, ratio) in [
        (&results.pgbench, results.app_to_pgbench),
        (&results.pgbench_batched, results.app_to_pgbench_batched),
    ] {
        let Some(pgbench) = pgbench else { continue };
        println!(
            "{:<24} {:.0} bookings/s: {} clients, {} orders per transaction, {:.1} ms per transaction",
            "pgbench (same SQL)",
            pgbench.bookings_per_s,
            pgbench.clients,
            pgbench.orders_per_transaction,
            pgbench.latency_average_ms
        );
        if let Some(ratio) = ratio {
            println!("{:<24} the app books at {:.0}% of that rate", "", 100.0 * ratio);
        }
    }
    if let Some(room) = &results.waiting_room {
        waiting_room::print(room);
    }
}
