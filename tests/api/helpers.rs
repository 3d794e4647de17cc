//! The test harness. With `DATABASE_URL` set, test databases are made on that server;
//! otherwise the harness runs its own disposable PostgreSQL cluster for this test binary.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

use boxoffice::cli::Cli;
use boxoffice::server::Settings;
use boxoffice::server::config::RateLimitSettings;
use boxoffice::server::embedded_pg::{Durability, EmbeddedPostgres};
use boxoffice::service::Bookings;
use boxoffice::service::claims::Claims;
use boxoffice::service::databases;
use boxoffice::service::live::LiveFeed;
use boxoffice::startup::Application;
use clap::Parser;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

/// Every test app is served by this one runtime, as the real server is by its one runtime.
/// Serving each app on its test's own runtime made a few page renders hang when tests ran in
/// parallel (Leptos spawns render tasks on whatever runtime is current, and a test's runtime
/// ends with its test); with one runtime for all servers they do not.
static SERVERS: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("test-servers")
        .enable_all()
        .build()
        .expect("starting the test servers' runtime")
});

/// Runs `work` on the servers' runtime: the app, its pool and its background tasks live there.
async fn on_servers<T: Send + 'static>(work: impl std::future::Future<Output = T> + Send + 'static) -> T {
    SERVERS.spawn(work).await.expect("a test server task panicked")
}

/// A request that takes longer is a hung server: fail the test instead of waiting forever.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where test databases are created.
pub struct TestServer {
    admin: PgConnectOptions,
    /// A URL to `database` on this server, for child processes.
    url: Box<dyn Fn(&str) -> String + Send + Sync>,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();

pub fn test_server() -> &'static TestServer {
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) => {
            let admin = PgConnectOptions::from_str(&url).expect("DATABASE_URL is a PostgreSQL URL");
            TestServer {
                admin,
                url: Box::new(move |database| {
                    let mut url = reqwest::Url::parse(&url).expect("DATABASE_URL is a URL");
                    url.set_path(database);
                    url.to_string()
                }),
            }
        }
        Err(_) => {
            // Started from its own thread and runtime: test runtimes come and go, the cluster
            // stays for the whole binary and stops when the process exits.
            let cluster = std::thread::spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(EmbeddedPostgres::start(&test_cluster_dir(), Durability::Disposable))
            })
            .join()
            .unwrap()
            .expect("starting the test PostgreSQL cluster");
            let cluster: &'static EmbeddedPostgres = Box::leak(Box::new(cluster));
            TestServer {
                admin: cluster.connect_options("postgres"),
                url: Box::new(|database| cluster.url(database)),
            }
        }
    })
}

/// Reused across runs (initdb once), private to this user.
fn test_cluster_dir() -> PathBuf {
    let uid = nix::unistd::geteuid();
    std::env::temp_dir().join(format!("boxoffice-test-cluster-{uid}"))
}

/// A freshly created, randomly named database, dropped when the value is.
pub struct TestDatabase {
    pub name: String,
    pub options: PgConnectOptions,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let server = test_server();
        let name = format!("boxoffice_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn =
            PgConnection::connect_with(&server.admin).await.expect("connecting to the test server");
        databases::create_database_if_missing(&mut conn, &name).await.expect("creating a test database");
        conn.close().await.ok();
        Self { options: server.admin.clone().database(&name), name }
    }

    pub fn url(&self) -> String {
        (test_server().url)(&self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a test's runtime, which must not block on itself.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&test_server().admin).await?;
                databases::drop_database(&mut conn, &name).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// A pool on the servers' runtime, on `db` brought up to date.
async fn migrated_pool(db: &TestDatabase, connections: u32) -> PgPool {
    let options = db.options.clone();
    on_servers(async move {
        let pool = PgPoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .expect("connecting to the test database");
        boxoffice::server::database::migrate(&pool).await.expect("migrating the test database");
        pool
    })
    .await
}

/// What a served app hands its tests: its address and its services, for working without HTTP.
struct Served {
    address: String,
    claims: Claims,
    bookings: Bookings,
    feed: LiveFeed,
}

/// Builds the app and serves it on the servers' runtime until the process ends.
async fn serve(settings: Settings, pool: PgPool) -> Served {
    on_servers(async move {
        let app = Application::build(&settings, pool).await.expect("building the app");
        let served = Served {
            address: format!("http://{}", app.local_addr()),
            claims: app.claims(),
            bookings: app.bookings(),
            feed: app.live_feed(),
        };
        tokio::spawn(app.run_until(std::future::pending()));
        served
    })
    .await
}

/// The app running on a random port against its own migrated database.
pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    /// The app's claim queue, for booking without HTTP.
    pub claims: Claims,
    /// The app's booking service (with the app's rules), for booking without HTTP.
    #[allow(dead_code, reason = "not every test module books through the app's own service")]
    pub bookings: Bookings,
    /// The app's live seat feed, for booking services built with other rules.
    pub feed: LiveFeed,
    pub client: reqwest::Client,
    #[allow(dead_code, reason = "held so the database lives as long as the app, then is dropped")]
    pub db: TestDatabase,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with_connections(10).await
    }

    /// With a bigger pool, for tests that race many clients.
    pub async fn spawn_with_connections(connections: u32) -> Self {
        let db = TestDatabase::create().await;
        let pool = migrated_pool(&db, connections).await;
        Self::spawn_with_pool(db, pool).await
    }

    pub async fn spawn_with_pool(db: TestDatabase, pool: PgPool) -> Self {
        Self::spawn_configured(db, pool, |_| {}).await
    }

    /// With settings changed by `configure` (rate limits are off unless it turns them on).
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDatabase::create().await;
        let pool = migrated_pool(&db, 10).await;
        Self::spawn_configured(db, pool, configure).await
    }

    async fn spawn_configured(db: TestDatabase, pool: PgPool, configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Cli::parse_from(["boxoffice"]).settings;
        settings.site_addr = "127.0.0.1:0".parse().unwrap();
        // Tests make many requests from one address; the rate-limit tests turn limits on.
        settings.rate_limits = RateLimitSettings::OFF;
        configure(&mut settings);
        let Served { address, claims, bookings, feed } = serve(settings, pool.clone()).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap();
        Self { address, pool, claims, bookings, feed, client, db }
    }

    /// The app on a database the test runs itself (its own cluster, to stop and start):
    /// migrated, served with rate limits off; returns its address and pool. Close the pool
    /// when done, and the app's background work stops with it.
    pub async fn serve_on(options: PgConnectOptions, connections: u32) -> (String, PgPool) {
        let pool = on_servers(async move {
            let pool = PgPoolOptions::new()
                .max_connections(connections)
                .acquire_timeout(std::time::Duration::from_secs(2))
                .connect_with(options)
                .await
                .expect("connecting to the test's own database");
            boxoffice::server::database::migrate(&pool).await.expect("migrating the test's own database");
            pool
        })
        .await;
        let mut settings = Cli::parse_from(["boxoffice"]).settings;
        settings.site_addr = "127.0.0.1:0".parse().unwrap();
        settings.rate_limits = RateLimitSettings::OFF;
        (serve(settings, pool.clone()).await.address, pool)
    }

    /// Another instance of the app on the same database, as behind a load balancer; returns
    /// its address.
    pub async fn second_instance(&self) -> String {
        let options = self.db.options.clone();
        let pool =
            on_servers(async move { PgPoolOptions::new().max_connections(5).connect_with(options).await })
                .await
                .unwrap();
        let mut settings = Cli::parse_from(["boxoffice"]).settings;
        settings.site_addr = "127.0.0.1:0".parse().unwrap();
        serve(settings, pool).await.address
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.expect("request failed")
    }

    /// Inserts a show starting `starts_in` from now; returns its id.
    pub async fn insert_show(&self, title: &str, venue: &str, starts_in: chrono::Duration) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO shows (kind, title, venue, starts_at) VALUES ('SHOW', $1, $2, now() + $3) RETURNING id",
        )
        .bind(title)
        .bind(venue)
        .bind(starts_in)
        .fetch_one(&self.pool)
        .await
        .expect("inserting a show")
    }
}

/// A browser-like client: keeps cookies, sends what server functions expect.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap();
        Self { client, base: app.address.clone() }
    }

    /// Calls a server function with form arguments: (status, JSON body, set-cookie).
    pub async fn call(
        &self,
        function: &str,
        form: &[(&str, &str)],
    ) -> (u16, serde_json::Value, Option<String>) {
        let response =
            self.client.post(format!("{}/rpc/{function}", self.base)).form(form).send().await.unwrap();
        Self::read(response).await
    }

    /// Calls a server function that takes JSON: (status, JSON body).
    pub async fn call_json(&self, function: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let response =
            self.client.post(format!("{}/rpc/{function}", self.base)).json(body).send().await.unwrap();
        let (status, body, _) = Self::read(response).await;
        (status, body)
    }

    async fn read(response: reqwest::Response) -> (u16, serde_json::Value, Option<String>) {
        let status = response.status().as_u16();
        let cookie = response.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)), cookie)
    }

    /// A page: (status, location header, HTML).
    pub async fn page(&self, path: &str) -> (u16, Option<String>, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        (status, location, response.text().await.unwrap())
    }

    /// Registers a customer with a unique email and stays signed in; returns the user id.
    pub async fn sign_up(&self, name: &str) -> i64 {
        let email = format!("{}-{}@example.com", name.to_lowercase(), uuid::Uuid::new_v4().simple());
        let (status, user, _) = self
            .call("register", &[("email", &email), ("name", name), ("password", "correct horse battery")])
            .await;
        assert_eq!(status, 200, "{user}");
        user["id"].as_i64().unwrap()
    }

    /// Creates an admin account and signs in with it.
    pub async fn sign_in_as_admin(&self, app: &TestApp) {
        use boxoffice::domain::user::{Email, NewPassword, PersonName};
        let email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
        boxoffice::service::users::create_or_promote_admin(
            &app.pool,
            &Email::parse(&email).unwrap(),
            &PersonName::parse("Admin").unwrap(),
            &NewPassword::parse("admin password 1").unwrap(),
        )
        .await
        .unwrap();
        let (status, user, _) =
            self.call("login", &[("email", &email), ("password", "admin password 1")]).await;
        assert_eq!(status, 200, "{user}");
    }
}

/// A Server-Sent Events stream being read, event by event.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    pub async fn open(url: &str) -> Self {
        Self::from_response(reqwest::Client::new().get(url).send().await.unwrap())
    }

    /// A stream already requested (by a client with a session, say).
    pub fn from_response(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200, "{}", response.url());
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self { response, buffer: String::new() }
    }

    /// The next event as (name, data), waiting at most `timeout`.
    pub async fn next(&mut self, timeout: std::time::Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .filter_map(|l| l.strip_prefix(name))
                        .map(str::trim_start)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                let (event, data) = (field("event:"), field("data:"));
                if event.is_empty() && data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some((event, data));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
