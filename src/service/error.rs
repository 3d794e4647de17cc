use std::future::Future;
use std::time::Duration;

use crate::error::AppError;

/// What the service layer fails with: a refusal the caller should show (seats taken, show
/// not found, ...) or a database failure, which is logged and shown only as "internal".
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Refused(AppError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<AppError> for ServiceError {
    fn from(error: AppError) -> Self {
        ServiceError::Refused(error)
    }
}

/// What a client told "unavailable" waits before trying again.
const UNREACHABLE_RETRY_SECONDS: u64 = 2;

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Refused(e) => e,
            // Nothing was done; every door answers 503 with Retry-After, never a 500.
            ServiceError::Database(e) if ServiceError::unreachable(&e) => {
                tracing::warn!(error = %e, "database unreachable");
                AppError::Unavailable { retry_after_seconds: UNREACHABLE_RETRY_SECONDS }
            }
            ServiceError::Database(e) => {
                tracing::error!(error = %e, "database error");
                AppError::Internal
            }
        }
    }
}

impl ServiceError {
    /// Deadlocks and serialization failures are PostgreSQL asking us to try again.
    pub fn is_transient(&self) -> bool {
        match self {
            ServiceError::Database(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("40P01" | "40001"))
            }
            _ => false,
        }
    }

    /// The database could not be reached, or the connection broke (a restart, a network
    /// fault): a matter of waiting, not a bug.
    pub fn is_unreachable(&self) -> bool {
        match self {
            ServiceError::Database(error) => Self::unreachable(error),
            ServiceError::Refused(AppError::Unavailable { .. }) => true,
            ServiceError::Refused(_) => false,
        }
    }

    fn unreachable(error: &sqlx::Error) -> bool {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            // Class 08: connection exceptions; 57P01-57P03: the server shutting down or
            // starting up; 53300: too many connections; 57014: a statement cancelled (it ran
            // past its statement_timeout: the database hangs); 25006: a write on a server that
            // is read-only for now (a primary that Patroni brings back as a standby first, or
            // the old primary before a failover reaches every connection).
            sqlx::Error::Database(e) => e.code().is_some_and(|code| {
                code.starts_with("08")
                    || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300" | "57014" | "25006")
            }),
            _ => false,
        }
    }
}

/// Runs `operation`, retrying it (with a short, growing, jittered pause) when PostgreSQL
/// reports a deadlock or serialization failure, so callers never see one.
pub async fn retrying<T, F, Fut>(mut operation: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ServiceError>>,
{
    const ATTEMPTS: u32 = 8;
    let mut attempt = 1;
    loop {
        match operation().await {
            Err(e) if attempt < ATTEMPTS && e.is_transient() => {
                tracing::debug!(error = %e, attempt, "transient database conflict; retrying");
                let pause = 2u64.pow(attempt.min(6)) + rand::random_range(0..10);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}
