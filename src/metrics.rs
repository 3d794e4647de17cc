//! What Box Office measures for Prometheus: every metric's name, labels, buckets and meaning in
//! one place, and one function per thing measured, so each instrumented place is a one-liner.
//! It sits below the service layer (claim batches, bookings, the live feed record here) and the
//! server (HTTP, rate limits, the pool), and imports neither; how the numbers are exposed (the
//! recorder, `/metrics`, the HTTP middleware) is `server::metrics`. Nothing is recorded until
//! that installs its recorder: until then every call here costs next to nothing.

use std::time::Duration;

use ::metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

pub const HTTP_REQUESTS: &str = "boxoffice_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "boxoffice_http_request_duration_seconds";
pub const CLAIM_BATCH_SIZE: &str = "boxoffice_claim_batch_size";
pub const CLAIM_BATCH_DURATION: &str = "boxoffice_claim_batch_duration_seconds";
pub const CLAIM_BATCHES_IN_FLIGHT: &str = "boxoffice_claim_batches_in_flight";
pub const CLAIM_QUEUE_DEPTH: &str = "boxoffice_claim_queue_depth";
pub const BOOKINGS: &str = "boxoffice_bookings_total";
pub const HOLDS_EXPIRED: &str = "boxoffice_holds_expired_total";
pub const SSE_SUBSCRIBERS: &str = "boxoffice_sse_subscribers";
pub const LIVE_FEED_LAG: &str = "boxoffice_live_feed_lag_seconds";
pub const DB_POOL_CONNECTIONS: &str = "boxoffice_db_pool_connections";
pub const DB_POOL_MAX_CONNECTIONS: &str = "boxoffice_db_pool_max_connections";
pub const DB_POOL_ACQUIRE_DURATION: &str = "boxoffice_db_pool_acquire_seconds";
pub const DB_POOL_WAITING: &str = "boxoffice_db_pool_waiting";
pub const RATE_LIMIT_REFUSALS: &str = "boxoffice_rate_limit_refusals_total";
pub const READY: &str = "boxoffice_ready";

/// Latencies, in seconds: from a millisecond to the request timeout.
const SECONDS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Orders per claim batch, up to the most a batch takes (256).
const ORDERS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Each histogram's bucket bounds (the exporter renders true Prometheus histograms from them).
pub const HISTOGRAM_BUCKETS: &[(&str, &[f64])] = &[
    (HTTP_REQUEST_DURATION, SECONDS),
    (CLAIM_BATCH_SIZE, ORDERS),
    (CLAIM_BATCH_DURATION, SECONDS),
    (LIVE_FEED_LAG, SECONDS),
    (DB_POOL_ACQUIRE_DURATION, SECONDS),
];

/// The `# HELP` lines; called once, when the recorder is installed.
pub fn describe() {
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route pattern, method and status.");
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request (to its headers), by route pattern and method."
    );
    describe_histogram!(CLAIM_BATCH_SIZE, Unit::Count, "Orders in each claim batch (one transaction).");
    describe_histogram!(
        CLAIM_BATCH_DURATION,
        Unit::Seconds,
        "Time of one claim batch's transaction, from asking for a connection to the commit's answer."
    );
    describe_gauge!(CLAIM_BATCHES_IN_FLIGHT, "Claim batches running now.");
    describe_gauge!(
        CLAIM_QUEUE_DEPTH,
        "Orders waiting in the claim queue, as last seen when a batch was formed."
    );
    describe_counter!(
        BOOKINGS,
        "Bookings by outcome: held, confirmed, cancelled, expired; refused (with its reason)."
    );
    describe_counter!(HOLDS_EXPIRED, "Holds that ran out and were released by the expiry worker.");
    describe_gauge!(
        SSE_SUBSCRIBERS,
        "Open live-update streams (Server-Sent Events), by kind, sampled at scrape time."
    );
    describe_histogram!(
        LIVE_FEED_LAG,
        Unit::Seconds,
        "From a seat change heard (a notification, or a change made here) to its seats re-read and broadcast."
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database pool connections by state (in_use, idle), sampled at scrape time."
    );
    describe_gauge!(DB_POOL_MAX_CONNECTIONS, "The most connections the database pool opens.");
    describe_histogram!(
        DB_POOL_ACQUIRE_DURATION,
        Unit::Seconds,
        "Wait for a database connection, by what waited."
    );
    describe_gauge!(
        DB_POOL_WAITING,
        "Tasks waiting for a database connection now, by what waits (sqlx does not expose its own queue)."
    );
    describe_counter!(RATE_LIMIT_REFUSALS, "Requests refused by a rate limit, by limit.");
    describe_gauge!(
        READY,
        "1 when the instance is ready (as /readyz answers), else 0; sampled at scrape time."
    );
}

/// One HTTP request answered. `route` is the matched route pattern (bounded), never the path.
pub fn http_request(route: String, method: &'static str, status: u16, elapsed: Duration) {
    histogram!(HTTP_REQUEST_DURATION, "route" => route.clone(), "method" => method)
        .record(elapsed.as_secs_f64());
    counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status.to_string())
        .increment(1);
}

/// A claim batch of `orders` formed, with `still_waiting` orders left in the queue; it runs
/// until [`claim_batch_finished`].
pub fn claim_batch_started(orders: usize, still_waiting: usize) {
    histogram!(CLAIM_BATCH_SIZE).record(orders as f64);
    gauge!(CLAIM_QUEUE_DEPTH).set(still_waiting as f64);
    gauge!(CLAIM_BATCHES_IN_FLIGHT).increment(1.0);
}

pub fn claim_batch_finished() {
    gauge!(CLAIM_BATCHES_IN_FLIGHT).decrement(1.0);
}

/// One claim transaction (a batch may take more than one: a retried deadlock, one by one).
pub fn claim_transaction(elapsed: Duration) {
    histogram!(CLAIM_BATCH_DURATION).record(elapsed.as_secs_f64());
}

/// A wait for a database connection by `waiter` ("claim_batch", ...): counted as waiting from
/// `start` until dropped, when its length is recorded. A guard, so that a wait given up
/// (a timeout, a cancelled request) stops counting too.
pub struct ConnectionWait {
    waiter: &'static str,
    started: std::time::Instant,
}

impl ConnectionWait {
    pub fn start(waiter: &'static str) -> Self {
        gauge!(DB_POOL_WAITING, "waiter" => waiter).increment(1.0);
        Self { waiter, started: std::time::Instant::now() }
    }
}

impl Drop for ConnectionWait {
    fn drop(&mut self) {
        gauge!(DB_POOL_WAITING, "waiter" => self.waiter).decrement(1.0);
        histogram!(DB_POOL_ACQUIRE_DURATION, "waiter" => self.waiter).record(self.started.elapsed().as_secs_f64());
    }
}

/// A booking changed state: "held", "confirmed", "cancelled" or "expired".
pub fn booking(outcome: &'static str) {
    counter!(BOOKINGS, "outcome" => outcome).increment(1);
}

/// A hold or booking request refused; `reason` is the refusal's stable code (`AppError::code`).
pub fn booking_refused(reason: &'static str) {
    counter!(BOOKINGS, "outcome" => "refused", "reason" => reason).increment(1);
}

/// Holds released by the expiry worker (each also counts as an expired booking).
pub fn holds_expired(count: usize) {
    if count > 0 {
        counter!(HOLDS_EXPIRED).increment(count as u64);
        counter!(BOOKINGS, "outcome" => "expired").increment(count as u64);
    }
}

/// Open live-update streams: seat maps and show lists.
pub fn sse_subscribers(seat_maps: usize, show_lists: usize) {
    gauge!(SSE_SUBSCRIBERS, "stream" => "seat_map").set(seat_maps as f64);
    gauge!(SSE_SUBSCRIBERS, "stream" => "show_list").set(show_lists as f64);
}

pub fn live_feed_lag(elapsed: Duration) {
    histogram!(LIVE_FEED_LAG).record(elapsed.as_secs_f64());
}

/// The pool `pool` ("primary", ...): connections open, idle among them, and the most it opens.
pub fn database_pool(pool: &'static str, open: u32, idle: usize, max: u32) {
    let idle = idle as f64;
    gauge!(DB_POOL_CONNECTIONS, "pool" => pool, "state" => "in_use").set((f64::from(open) - idle).max(0.0));
    gauge!(DB_POOL_CONNECTIONS, "pool" => pool, "state" => "idle").set(idle);
    gauge!(DB_POOL_MAX_CONNECTIONS, "pool" => pool).set(f64::from(max));
}

/// A request refused by the rate limit `limit` (e.g. "auth_per_ip").
pub fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMIT_REFUSALS, "limit" => limit).increment(1);
}

/// Whether the instance is ready, as `/readyz` would answer now.
pub fn ready(ready: bool) {
    gauge!(READY).set(if ready { 1.0 } else { 0.0 });
}
