//! Who is signed in, as every component sees it: one resource, refetched whenever someone
//! logs in, registers or logs out.

use leptos::prelude::*;

use crate::api::accounts::{Login, Logout, Register, me};
use crate::domain::user::{Role, User};
use crate::error::AppError;

#[derive(Clone, Copy)]
pub struct Session {
    pub user: Resource<Result<Option<User>, AppError>>,
    pub login: ServerAction<Login>,
    pub register: ServerAction<Register>,
    pub logout: ServerAction<Logout>,
}

impl Session {
    /// The signed-in user, once known (None while loading or for a guest).
    pub fn signed_in(&self) -> Option<User> {
        self.user.get().and_then(Result::ok).flatten()
    }

    pub fn is_admin(&self) -> bool {
        self.signed_in().is_some_and(|user| user.role == Role::Admin)
    }
}

pub fn provide_session() {
    let login = ServerAction::<Login>::new();
    let register = ServerAction::<Register>::new();
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(
        move || (login.version().get(), register.version().get(), logout.version().get()),
        |_| me(),
    );
    provide_context(Session { user, login, register, logout });
}

pub fn use_session() -> Session {
    expect_context()
}

/// Where to go after logging in: a path on this site, never another site (`//evil.example`).
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path,
        _ => "/".to_owned(),
    }
}

/// The login page, coming back to `path` afterwards.
pub fn login_url(path: &str) -> String {
    format!("/login?next={}", form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/shows/3?seats=1,2".into())), "/shows/3?seats=1,2");
        assert_eq!(safe_next(Some("//evil.example".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(Some("/\\evil.example".into())), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(login_url("/admin"), "/login?next=%2Fadmin");
    }
}
