use std::time::Duration;

use sqlx::PgPool;

/// True when a trivial query answers within two seconds.
pub async fn database_reachable(pool: &PgPool) -> bool {
    let ping = sqlx::query("SELECT 1").execute(pool);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: database query failed");
            false
        }
        Err(_) => {
            tracing::warn!("readiness check: database did not answer within 2 s");
            false
        }
    }
}
