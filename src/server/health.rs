use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgPool;

/// Liveness: the process answers.
pub async fn alive() -> &'static str {
    "ok"
}

/// Readiness: the database answers too. Load balancers stop sending traffic on 503.
pub async fn ready(State(pool): State<PgPool>) -> (StatusCode, &'static str) {
    if crate::service::health::database_reachable(&pool).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
