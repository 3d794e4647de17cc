//! Start-up: the web app assembled from its doors (pages and server functions, REST, event
//! streams) and served, with the background workers of `serve`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::Request;
use axum::routing::{MethodRouter, get};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::PgPool;
use tokio::net::TcpListener;
use axum::error_handling::HandleErrorLayer;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use axum::http::StatusCode;
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::{App, shell};
use crate::domain::user::{Email, NewPassword, PersonName};
use crate::error::AppError;
use crate::server::error_response::json_error;
use crate::server::database::Database;
use crate::server::rate_limit::{self, RateLimits};
use crate::server::state::AppState;
use crate::server::{Settings, caching, client_address, csrf, health, rpc_errors, security_headers, sessions};
use crate::server::metrics;
use crate::service::bookings::expiry;
use crate::service::claims::Claims;
use crate::service::reads::ReadPool;
use crate::service::live::LiveFeed;
use crate::service::supervisor::Supervisor;
use crate::service::waiting_room::WaitingRooms;
use crate::service::waitlist::Waitlist;
use crate::service::{Bookings, Shows, demo, users};

/// How often each instance looks for holds that ran out.
const EXPIRY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// The web app bound to its port, ready to serve. Tests build it on port 0 against their own
/// database and read the port back.
pub struct Application {
    listener: TcpListener,
    feed: LiveFeed,
    claims: Claims,
    bookings: Bookings,
    waitlist: Waitlist,
    waiting_rooms: WaitingRooms,
    supervisor: Supervisor,
    router: Router,
    /// `/metrics` on a listener of its own (BOXOFFICE_METRICS_ADDR), served until dropped.
    metrics: Option<metrics::OwnListener>,
}

impl Application {
    pub async fn build(settings: &Settings, pool: PgPool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.site_addr)
            .await
            .with_context(|| format!("listening on {}", settings.site_addr))?;
        let supervisor = Supervisor::new();
        let feed = LiveFeed::start(pool.clone(), &supervisor);
        let sessions = sessions::layer(&pool, &feed, &supervisor, settings.sessions());
        let claims = Claims::start(pool.clone(), &supervisor);
        let reads = ReadPool::new(pool.clone(), Database::open_replica(settings)?);
        let state = AppState {
            leptos_options: Arc::new(settings.leptos_options()),
            bookings: Bookings::new(claims.clone(), feed.clone(), settings.booking_rules()),
            shows: Shows::new(pool.clone(), feed.clone(), settings.booking_rules().waitlist_offer_seconds)
                .reading_from(reads.clone()),
            waitlist: Waitlist::new(pool.clone(), feed.clone(), settings.booking_rules()),
            waiting_rooms: WaitingRooms::start(pool.clone(), feed.clone(), &supervisor, settings.booking_rules().requests_per_second),
            pool,
            reads,
            feed,
            rate_limits: RateLimits::new(&settings.rate_limits),
            supervisor,
        };
        let (own_metrics, metrics_route) = metrics::expose(settings, &state).await?;
        Ok(Self {
            listener,
            feed: state.feed.clone(),
            claims,
            bookings: state.bookings.clone(),
            waitlist: state.waitlist.clone(),
            waiting_rooms: state.waiting_rooms.clone(),
            supervisor: state.supervisor.clone(),
            router: router(state, settings.max_requests_in_flight as usize, metrics_route)
                .layer(sessions)
                // Outermost, so every route, rate limit and session sees the client's address
                // when a trusted proxy forwards it.
                .layer(axum::middleware::from_fn_with_state(
                    settings.trusted_proxies.clone(),
                    client_address::from_trusted_proxy,
                )),
            metrics: own_metrics,
        })
    }

    /// This instance's claim queue (for tests that book without HTTP).
    pub fn claims(&self) -> Claims {
        self.claims.clone()
    }

    /// This instance's booking service (for tests that book without HTTP).
    pub fn bookings(&self) -> Bookings {
        self.bookings.clone()
    }

    /// This instance's waiting-list service (for tests that act without HTTP).
    pub fn waitlist(&self) -> Waitlist {
        self.waitlist.clone()
    }

    /// This instance's waiting-room service (for tests that act without HTTP).
    pub fn waiting_rooms(&self) -> WaitingRooms {
        self.waiting_rooms.clone()
    }

    /// This instance's live seat feed (for the expiry worker, and tests).
    pub fn live_feed(&self) -> LiveFeed {
        self.feed.clone()
    }

    /// This instance's background tasks (for the workers `serve` adds, and tests).
    pub fn supervisor(&self) -> Supervisor {
        self.supervisor.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Where `/metrics` has a listener of its own, if it has one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(metrics::OwnListener::local_addr)
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight. Each request
    /// knows its peer address (rate limits per IP).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await
    }
}

fn router(state: AppState, max_in_flight: usize, metrics_route: MethodRouter<AppState>) -> Router {
    let routes = generate_route_list(App);
    // What server functions and server-rendered pages reach through Leptos's context: the
    // state as one value.
    let server_context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    // Only a plain form posts to this one (no component references it), so the linker may drop
    // its automatic registration: register it by hand.
    leptos::server_fn::axum::register_explicit::<crate::api::bookings::HoldBestAvailable>();
    let (rest_api, _) = crate::api::rest::router();
    let app = Router::new()
        .route("/healthz", get(health::alive))
        .merge(rest_api)
        .merge(crate::api::events::browser_routes())
        .route("/readyz", get(health::ready))
        .route(metrics::PATH, metrics_route)
        // The app's WASM, JS and CSS, with their precompressed twins when the build made them,
        // answering conditional requests (304) so a revalidation costs no body.
        .nest_service("/pkg", {
            let options = LeptosOptions::from_ref(&state);
            ServeDir::new(std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir))
                .precompressed_br()
                .precompressed_gzip()
        })
        .leptos_routes_with_context(&state, routes, server_context.clone(), {
            let options = LeptosOptions::from_ref(&state);
            move || shell(options.clone())
        })
        .route_layer(axum::middleware::from_fn(rpc_errors::status_from_error))
        // The not-found page renders the same header, so it gets the same context.
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(server_context, shell))
        .layer(axum::middleware::from_fn_with_state(state.rate_limits.clone(), rate_limit::limit_rpc_auth));
    protected(app, max_in_flight).with_state(state)
}

/// What guards every answer, whatever door it comes from.
fn protected<S: Clone + Send + Sync + 'static>(routes: Router<S>, max_in_flight: usize) -> Router<S> {
    let request_spans = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<Body>| {
            let request_id =
                request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    routes
        // Past this many requests at once, more are turned away at once (503, try again)
        // rather than queued: a swamped instance answers quickly, and a balancer moves on.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async { json_error(&AppError::Unavailable { retry_after_seconds: 1 }) }))
                .layer(LoadShedLayer::new())
                .layer(GlobalConcurrencyLimitLayer::new(max_in_flight)),
        )
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(request_spans)
                .layer(PropagateRequestIdLayer::x_request_id())
                // Pages, JSON, JS, CSS and WASM compressed as the browser accepts (gzip or
                // brotli; event streams are not, so each update leaves at once); a static file
                // with a precompressed twin is sent as that instead.
                .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
                .layer(axum::middleware::from_fn(caching::cache_control))
                // A handler that panics answers 500 (and is logged); the connection lives on.
                .layer(CatchPanicLayer::custom(answer_panic))
                // A request that the server cannot answer in time gets 503, not a hung client.
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
                .layer(security_headers::layer())
                .layer(axum::middleware::from_fn(csrf::refuse_cross_site)),
        )
        // Outside the guards, so their answers (503 when swamped, timeouts, panics) are counted.
        .layer(axum::middleware::from_fn(metrics::measure))
}

/// On a new embedded database: demo shows, and an admin with a random password, shown once:
/// on the terminal, or (when the output is not a terminal but a log that collectors may ship)
/// in a file only this user can read, in the data folder.
async fn prepare_embedded(database: &Database, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let seeded = demo::seed_if_empty(&database.pool).await.map_err(AppError::from)?;
    if seeded > 0 {
        tracing::info!(shows = seeded, "seeded demo shows into the new embedded database");
    }
    if !users::admin_exists(&database.pool).await.map_err(AppError::from)? {
        let password = demo::random_password();
        let email = Email::parse(demo::ADMIN_EMAIL)?;
        let name = PersonName::parse("Demo admin")?;
        users::create_or_promote_admin(&database.pool, &email, &name, &NewPassword::parse(&password)?)
            .await
            .map_err(AppError::from)?;
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            println!("\nAdmin login (shown once): {} / {password}", email.as_str());
        } else {
            let file = write_private(&data_dir.join(ADMIN_LOGIN_FILE), &format!("{}\n{password}\n", email.as_str()))?;
            println!("\nAdmin login: {} (password in {}, readable by this user only)", email.as_str(), file.display());
        }
        println!("Make another admin with: boxoffice create-admin --email E --password P");
    }
    Ok(())
}

/// How long a request may take to be answered (an event stream's endless body is not
/// counted: only the wait for its first byte).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn answer_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = crate::service::supervisor::panic_message(&*panic);
    tracing::error!(panic = %message, "a request handler panicked");
    json_error(&AppError::Internal)
}

/// Where the demo admin's email and password go when the output is not a terminal.
pub const ADMIN_LOGIN_FILE: &str = "admin-login.txt";

/// Writes `text` to `path`, readable and writable by this user alone (0600 from creation).
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<std::path::PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(path.to_owned())
}

/// Runs the web server with its background workers until Ctrl-C or SIGTERM.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let database = Database::open(settings).await?;
    database.migrate().await?;
    if database.is_embedded() {
        prepare_embedded(&database, &settings.embedded_data_dir()?).await?;
    }
    let app = Application::build(settings, database.pool.clone()).await?;
    // Releases expired holds promptly; correctness does not depend on it (an expired hold is
    // claimable anyway), and running it on every instance is safe (SKIP LOCKED).
    let expiry_worker = app.supervisor().spawn("expiry worker", {
        let (pool, feed) = (database.pool.clone(), app.live_feed());
        let offer_seconds = settings.booking_rules().waitlist_offer_seconds;
        move || expiry::run_expiry_worker_offering(pool.clone(), EXPIRY_INTERVAL, Some(feed.clone()), offer_seconds)
    });
    let session_cleanup = tokio::spawn(sessions::delete_expired_continuously(
        database.pool.clone(),
        std::time::Duration::from_secs(600),
    ));
    let addr = app.local_addr();
    println!("\nBox Office is running at http://{addr}");
    if database.is_embedded() {
        println!("Database: the embedded default in {}", settings.embedded_data_dir()?.display());
    }
    println!("Press Ctrl-C to stop.\n");

    let served = app.run_until(shutdown_signal()).await;
    tracing::info!("web server stopped; closing the database");
    expiry_worker.abort();
    session_cleanup.abort();
    database.close().await;
    served.context("serving HTTP")
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn answer(router: Router, path: &str) -> (StatusCode, Option<String>, String) {
        let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, retry_after, String::from_utf8_lossy(&body).into_owned())
    }

    async fn boom() -> &'static str {
        panic!("on purpose")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
        let router = protected(
            Router::new().route("/boom", get(boom)).route("/fine", get(|| async { "fine" })),
            8,
        );
        let (status, _, body) = answer(router.clone(), "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("\"code\":\"internal\"") && !body.contains("on purpose"), "{body}");
        assert_eq!(answer(router, "/fine").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn past_the_requests_in_flight_more_are_turned_away_at_once() {
        let release = Arc::new(tokio::sync::Notify::new());
        let router = protected(
            Router::new().route(
                "/slow",
                get({
                    let release = release.clone();
                    move || async move {
                        release.notified().await;
                        "done"
                    }
                }),
            ),
            1,
        );
        let slow = tokio::spawn(answer(router.clone(), "/slow"));
        // Until the slow request holds the one slot, the next one may still get it.
        let turned_away = loop {
            tokio::task::yield_now().await;
            let (status, retry_after, body) = answer(router.clone(), "/other").await;
            if status == StatusCode::SERVICE_UNAVAILABLE {
                break (retry_after, body);
            }
        };
        assert_eq!(turned_away.0.as_deref(), Some("1"));
        assert!(turned_away.1.contains("\"code\":\"unavailable\""), "{}", turned_away.1);
        release.notify_one();
        assert_eq!(slow.await.unwrap().0, StatusCode::OK);
        assert_eq!(answer(router, "/other").await.0, StatusCode::NOT_FOUND, "the slot is free again");
    }
}
