//! The one error type that crosses from the server to the browser.
//!
//! Its messages are written for people: nothing from the database or the server internals ever
//! reaches a screen. The server logs the detail and sends one of these.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request was understood but a value in it is not acceptable.
    #[error("{message}")]
    InvalidInput { field: String, message: String },
    #[error("We could not find what you were looking for.")]
    NotFound,
    /// Something failed on the server; the detail is in the server log, not here.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The browser could not talk to the server (offline, timed out, ...).
    #[error("Could not reach Box Office. Check your connection and try again.")]
    Unreachable,
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput { field: field.into(), message: message.into() }
    }

    pub fn status_code(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unreachable => StatusCode::BAD_GATEWAY,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Raised in the browser when the request never got an answer.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unreachable,
            // The server could not read the arguments: the caller sent something malformed.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                AppError::invalid("request", format!("The request was malformed: {detail}"))
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failed outside its body");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::Internal
            }
        }
    }
}
