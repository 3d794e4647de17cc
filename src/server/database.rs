//! Opening the database: `DATABASE_URL` when set, else the embedded default; and the standby
//! for lagging reads, `BOXOFFICE_REPLICA_URL`, when set.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::Settings;
use super::embedded_pg::{Durability, EmbeddedPostgres};

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Name of the database the embedded default creates for the app.
pub const EMBEDDED_DATABASE: &str = "boxoffice";

/// Brings a database up to date: our migrations, then the session store's table.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying database migrations")?;
    super::sessions::migrate(pool).await.context("creating the session table")
}

/// How long a read waits for a standby connection before it reads the primary instead.
const REPLICA_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);

/// The connect options of a PostgreSQL URL given in `setting`.
fn postgres_url(setting: &str, url: &str) -> anyhow::Result<PgConnectOptions> {
    // sqlx reads any scheme as PostgreSQL; a mysql:// URL must be refused, not tried.
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        anyhow::bail!("{setting} is not a valid PostgreSQL URL: it must start with postgres://");
    }
    PgConnectOptions::from_str(url).with_context(|| format!("{setting} is not a valid PostgreSQL URL"))
}

pub struct Database {
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let (options, embedded) = match &settings.database_url {
            Some(url) => (postgres_url("DATABASE_URL", url)?, None),
            None => {
                let dir = settings.embedded_data_dir()?;
                let cluster = EmbeddedPostgres::start(&dir, Durability::Durable).await?;
                cluster.ensure_database(EMBEDDED_DATABASE).await?;
                (cluster.connect_options(EMBEDDED_DATABASE), Some(cluster))
            }
        };
        let pool = PgPoolOptions::new()
            .max_connections(settings.db_max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Self { pool, embedded })
    }

    /// The standby's pool for reads that may lag (`crate::service::reads`), when
    /// `BOXOFFICE_REPLICA_URL` is set: smaller than the primary's, connected on first use (a
    /// standby that is down must not stop the start), and quick to give up, so that a read
    /// falls back to the primary in half a second.
    pub fn open_replica(settings: &Settings) -> anyhow::Result<Option<PgPool>> {
        let Some(url) = &settings.replica_url else { return Ok(None) };
        let options = postgres_url("BOXOFFICE_REPLICA_URL", url)?;
        let pool = PgPoolOptions::new()
            .max_connections((settings.db_max_connections / 4).max(2))
            .acquire_timeout(REPLICA_ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        Ok(Some(pool))
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        migrate(&self.pool).await
    }

    /// Closes the pool, then stops the embedded cluster if we started one.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.embedded {
            cluster.stop().await;
        }
    }
}
