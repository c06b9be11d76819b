//! The one error shape that crosses the bridge, and the one place engine errors become it:
//! `{code, message, details: [{path, message}]}`. Codes are the engine's
//! ([`chronicle::Error::code`], the same names as over HTTP) plus the app's own: `identity_required`, `invalid_settings`,
//! `settings_unsaved`, `unknown_projector`, `store_not_empty`.

use chronicle::Violation;
use serde::Serialize;
use specta::Type;

/// An error a command returns; the UI branches on `code` and shows `message` and `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct CommandError {
    /// Stable code to branch on.
    pub code: String,
    /// One sentence saying what was wrong.
    pub message: String,
    /// Each violation with its JSON pointer into the arguments.
    pub details: Vec<Violation>,
}

impl CommandError {
    /// An error without details.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// An `invalid_settings` error naming the field.
    pub fn invalid_settings(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            code: "invalid_settings".into(),
            message: format!("{path}: {message}"),
            details: vec![Violation::new(path, message)],
        }
    }
}

impl From<chronicle::Error> for CommandError {
    fn from(error: chronicle::Error) -> Self {
        Self {
            code: error.code().to_string(),
            message: error.to_string(),
            details: error.violations(),
        }
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for CommandError {}

/// Shorthand for command results.
pub type CommandResult<T> = Result<T, CommandError>;
