use leptos::prelude::*;

use crate::domain::user::User;
use crate::error::AppError;

/// Creates a customer account and signs it in.
#[server(prefix = "/rpc", endpoint = "register")]
pub async fn register(email: String, name: String, password: String) -> Result<User, AppError> {
    use crate::domain::user::{Email, NewPassword, PersonName};
    use crate::server::context::{pool, reject, sign_in};

    let email = Email::parse(&email).map_err(reject)?;
    let name = PersonName::parse(&name).map_err(reject)?;
    let password = NewPassword::parse(&password).map_err(reject)?;
    let user = crate::service::users::register(&pool()?, &email, &name, &password)
        .await
        .map_err(|e| reject(e.into()))?;
    sign_in(&user).await?;
    Ok(user)
}

#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<User, AppError> {
    use crate::server::context::{pool, rate_limits, reject, sign_in};

    // Per account, wherever the attempts come from (per IP is a middleware on the route).
    rate_limits()?.check_login(&email).map_err(reject)?;
    let user = crate::service::users::authenticate(&pool()?, &email, &password)
        .await
        .map_err(|e| reject(e.into()))?;
    sign_in(&user).await?;
    Ok(user)
}

#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::server::context::sign_out().await
}

/// The signed-in user, or None for a guest.
#[server(prefix = "/rpc", endpoint = "me")]
pub async fn me() -> Result<Option<User>, AppError> {
    crate::server::context::current_user().await
}
