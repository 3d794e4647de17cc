//! Accounts over REST: the same session as the browser (a browser log-in works for the API).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::Deserialize;
use sqlx::PgPool;
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiJson, BadRequest, ErrorBody, Guest, RateLimited};
use crate::domain::user::{Email, NewPassword, PersonName, Role, User};
use crate::error::AppError;
use crate::server::rate_limit::{RateLimits, client_ip};
use crate::server::sessions;
use crate::server::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

async fn session(parts: &mut Parts, state: &AppState) -> Result<Session, ApiError> {
    Session::from_request_parts(parts, state).await.map_err(|(_, why)| {
        tracing::error!(why, "no session on an API request");
        AppError::Internal.into()
    })
}

/// The signed-in user; a guest gets 401.
pub struct SignedIn(pub User);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = session(parts, state).await?;
        let user = sessions::current_user(&session).await?.ok_or(AppError::NotSignedIn)?;
        Ok(Self(user))
    }
}

/// A signed-in admin; a guest gets 401, a customer 403.
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        match user.role {
            Role::Admin => Ok(Self(user)),
            Role::Customer => Err(AppError::Forbidden.into()),
        }
    }
}

/// A register or log-in attempt, counted against the client IP's limit before anything else.
pub struct AuthAttempt;

impl FromRequestParts<AppState> for AuthAttempt {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.rate_limits.check_auth(client_ip(&parts.extensions))?;
        Ok(Self)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    #[schema(example = "ann@example.com")]
    pub email: String,
    #[schema(example = "Ann Lee")]
    pub name: String,
    /// 10 to 128 characters.
    #[schema(example = "correct horse battery")]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[schema(example = "ann@example.com")]
    pub email: String,
    pub password: String,
}

/// Creates a customer account and signs it in (the answer sets the session cookie).
#[utoipa::path(post, path = "/auth/register", tag = "accounts", request_body = RegisterBody,
    responses(
        (status = 201, description = "The new account, signed in", body = User),
        (status = 409, description = "An account with this email exists", body = ErrorBody),
        BadRequest, RateLimited
    ))]
async fn register(
    _attempt: AuthAttempt,
    State(pool): State<PgPool>,
    session: Session,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let email = Email::parse(&body.email)?;
    let name = PersonName::parse(&body.name)?;
    let password = NewPassword::parse(&body.password)?;
    let user = crate::service::users::register(&pool, &email, &name, &password).await?;
    sessions::sign_in(&session, &user).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Signs in; the answer sets the session cookie (`boxoffice_session`).
#[utoipa::path(post, path = "/auth/login", tag = "accounts", request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = User),
        (status = 401, description = "The email and password do not match an account", body = ErrorBody),
        BadRequest, RateLimited
    ))]
async fn login(
    _attempt: AuthAttempt,
    State(pool): State<PgPool>,
    State(limits): State<RateLimits>,
    session: Session,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<User>, ApiError> {
    let email = Email::parse(&body.email)?;
    limits.check_login(&email)?;
    let user = crate::service::users::authenticate(&pool, email.as_str(), &body.password).await?;
    sessions::sign_in(&session, &user).await?;
    Ok(Json(user))
}

/// Signs out: the session ends and its cookie is cleared. Signing out twice is fine.
#[utoipa::path(post, path = "/auth/logout", tag = "accounts",
    responses((status = 204, description = "Signed out")))]
async fn logout(session: Session) -> Result<impl IntoResponse, ApiError> {
    sessions::sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "accounts", security(("session" = [])),
    responses((status = 200, description = "The signed-in user", body = User), Guest))]
async fn me(SignedIn(user): SignedIn) -> Json<User> {
    Json(user)
}
