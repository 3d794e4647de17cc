use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::service::supervisor::Supervisor;

/// Liveness: the process answers.
pub async fn alive() -> &'static str {
    "ok"
}

/// Readiness: the database answers and every background task works. Load balancers stop
/// sending traffic on 503; the body says what is wrong.
pub async fn ready(State(pool): State<PgPool>, State(supervisor): State<Supervisor>) -> (StatusCode, String) {
    if !crate::service::health::database_reachable(&pool).await {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable".to_owned());
    }
    let not_working = supervisor.not_working();
    if not_working.is_empty() {
        (StatusCode::OK, "ready".to_owned())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("not working: {}", not_working.join("; ")))
    }
}
