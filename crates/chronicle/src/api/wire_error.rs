//! The one wire form of an error, for every edge: `{code, message, details}`. It is made here,
//! once, from [`crate::Error`]; HTTP wraps it as `{"error": …}` and adds a status, the desktop
//! app sends it as it is, the CLI prints it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Violation};

/// What went wrong, as a client sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    /// Stable code to branch on.
    pub code: ErrorCode,
    /// One sentence saying what was wrong.
    pub message: String,
    /// Each violation with its JSON pointer into the request.
    pub details: Vec<Violation>,
}

impl WireError {
    /// An error without details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// An error with one violation at `path`.
    pub fn at(code: ErrorCode, path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            code,
            message: format!("{}: {message}", if path.is_empty() { "/" } else { path }),
            details: vec![Violation::new(path, message)],
        }
    }
}

impl From<Error> for WireError {
    fn from(error: Error) -> Self {
        WireError::from(&error)
    }
}

impl From<&Error> for WireError {
    fn from(error: &Error) -> Self {
        let code = error.code();
        if code == ErrorCode::Internal {
            // Database internals stay in the log; clients learn only that it happened.
            tracing::error!(%error, "internal error");
            return WireError::new(code, "internal error; the log has the details");
        }
        let mut details = error.violations();
        let prefix = match error {
            Error::InBatch { index, .. } => format!("/events/{index}"),
            _ => String::new(),
        };
        match error.root() {
            Error::UnknownEventType { suggestions, .. } => {
                let hint = if suggestions.is_empty() {
                    "is not registered; the registry lists the types".to_string()
                } else {
                    format!(
                        "is not registered; did you mean {}?",
                        suggestions.join(", ")
                    )
                };
                details.push(Violation::new(format!("{prefix}/eventType"), hint));
            }
            Error::VersionConflict { current, .. } => details.push(Violation::new(
                format!("{prefix}/expectedVersion"),
                format!("the current version is {current}"),
            )),
            Error::NotFound { path, .. } => {
                details.push(Violation::new(path.clone(), "does not exist"))
            }
            Error::UnknownProjector { known, .. } => details.push(Violation::new(
                "/projectorName",
                format!("is not one of {}", known.join(", ")),
            )),
            _ => {}
        }
        WireError {
            code,
            message: error.to_string(),
            details,
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WireError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_conflict_names_the_current_version_at_its_pointer() {
        let error = Error::InBatch {
            index: 2,
            source: Box::new(Error::VersionConflict {
                aggregate_type: "patient".into(),
                aggregate_id: "p1".into(),
                expected: 1,
                current: 3,
            }),
        };
        let wire = WireError::from(&error);
        assert_eq!(wire.code, ErrorCode::VersionConflict);
        assert_eq!(
            wire.details,
            [Violation::new(
                "/events/2/expectedVersion",
                "the current version is 3"
            )]
        );
    }

    #[test]
    fn unknown_types_carry_their_suggestions() {
        let wire = WireError::from(Error::UnknownEventType {
            event_type: "patient.craeted".into(),
            suggestions: vec!["patient.created".into()],
        });
        assert_eq!(wire.code, ErrorCode::UnknownEventType);
        assert_eq!(wire.details[0].path, "/eventType");
        assert!(wire.details[0].message.contains("patient.created"));
    }

    #[test]
    fn database_internals_never_reach_the_wire() {
        let wire = WireError::from(Error::Database(sqlx::Error::Protocol(
            "secret table x".into(),
        )));
        assert_eq!(wire.code, ErrorCode::Internal);
        assert!(!wire.message.contains("secret"), "{}", wire.message);
    }

    #[test]
    fn codes_are_written_in_snake_case_as_documented() {
        assert_eq!(
            serde_json::to_value(ErrorCode::PracticeNotFound).unwrap(),
            "practice_not_found"
        );
        assert_eq!(ErrorCode::UnknownProjector.as_str(), "unknown_projector");
    }
}
