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

/// Where to go after logging in: a page of this site, never another site. `next` is resolved
/// as a browser resolves a link on this site (the URL standard: tabs and newlines dropped,
/// backslashes read as slashes, dot segments removed) and kept only when it stays on this
/// site's origin; what is kept is its path, query and fragment, never the input as it came.
pub fn safe_next(next: Option<String>) -> String {
    // Any origin of our own serves: only "same origin or not" is asked of it.
    let site = url::Url::parse("http://this-site.invalid/").expect("a valid URL");
    let Some(target) = next.and_then(|next| site.join(&next).ok()) else { return "/".to_owned() };
    if target.origin() != site.origin() {
        return "/".to_owned();
    }
    let mut local = target.path().to_owned();
    if let Some(query) = target.query() {
        local = format!("{local}?{query}");
    }
    if let Some(fragment) = target.fragment() {
        local = format!("{local}#{fragment}");
    }
    // "//host" would leave the site again when the browser reads it ("/.//evil.example").
    if local.starts_with("//") { "/".to_owned() } else { local }
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
        assert_eq!(safe_next(Some("/bookings#latest".into())), "/bookings#latest");
        assert_eq!(safe_next(None), "/");
        assert_eq!(login_url("/admin"), "/login?next=%2Fadmin");
    }

    #[test]
    fn hostile_next_values_never_leave_the_site() {
        // As the router hands them over, i.e. already percent-decoded once.
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/.//evil.example",
            "/./\\evil.example",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "https:evil.example",
            "//evil.example/%2F..",
        ] {
            let next = safe_next(Some(hostile.to_owned()));
            assert!(next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'), "{hostile:?} -> {next:?}");
            let resolved = url::Url::parse("https://shop.example/").unwrap().join(&next).unwrap();
            assert_eq!(resolved.host_str(), Some("shop.example"), "{hostile:?} -> {next:?} leaves the site");
        }
        // Encoded slashes stay a path on this site.
        assert_eq!(safe_next(Some("/%2F%2Fevil.example".into())), "/%2F%2Fevil.example");
    }
}
