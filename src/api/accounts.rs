//! Accounts: register, log in and out, who is signed in.

use leptos::prelude::*;

use crate::domain::user::User;
use crate::error::AppError;

/// Creates a customer account and signs it in.
#[server(prefix = "/rpc", endpoint = "register")]
pub async fn register(email: String, name: String, password: String) -> Result<User, AppError> {
    use crate::domain::user::{Email, NewPassword, PersonName};
    use crate::server::context::{app_state, sign_in};

    let email = Email::parse(&email)?;
    let name = PersonName::parse(&name)?;
    let password = NewPassword::parse(&password)?;
    let user = crate::service::users::register(&app_state()?.pool, &email, &name, &password).await?;
    sign_in(&user).await?;
    Ok(user)
}

#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<User, AppError> {
    use crate::domain::user::Email;
    use crate::server::context::{app_state, sign_in};

    let state = app_state()?;
    let email = Email::parse(&email)?;
    // Per account, wherever the attempts come from (per IP is a middleware on the route).
    state.rate_limits.check_login(&email)?;
    let user = crate::service::users::authenticate(&state.pool, email.as_str(), &password).await?;
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
