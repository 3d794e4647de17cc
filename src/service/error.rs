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

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Refused(e) => e,
            ServiceError::Database(e) => {
                tracing::error!(error = %e, "database error");
                AppError::Internal
            }
        }
    }
}

/// Deadlocks and serialization failures are PostgreSQL asking us to try again.
fn is_transient(error: &ServiceError) -> bool {
    match error {
        ServiceError::Database(sqlx::Error::Database(e)) => {
            matches!(e.code().as_deref(), Some("40P01" | "40001"))
        }
        _ => false,
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
            Err(e) if attempt < ATTEMPTS && is_transient(&e) => {
                tracing::debug!(error = %e, attempt, "transient database conflict; retrying");
                let pause = 2u64.pow(attempt.min(6)) + rand::random_range(0..10);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}
