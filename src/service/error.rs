use crate::error::AppError;

/// What the service layer can fail with. Callers map it to `AppError` (server functions) or
/// an HTTP answer; database detail is logged here and never passed on.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Database(e) => {
                tracing::error!(error = %e, "database error");
                AppError::Internal
            }
        }
    }
}
