//! The one error shape of the HTTP API, and the one place engine errors become statuses:
//! `{"error": {"code", "message", "details": [{"path", "message"}]}}`.
//!
//! | status | when |
//! |---|---|
//! | 400 | malformed JSON, missing or invalid fields, bad query parameters (`limit`, `cursor`) |
//! | 401 | no `x-user-id` header |
//! | 403 | not a member (same answer for an unknown practice), or a role that may not do this |
//! | 404 | an event, event type or route that does not exist |
//! | 409 | `expectedVersion` mismatch, an id reused with other content, a duplicate creation |
//! | 413 | body over the limit |
//! | 422 | unregistered event type, or a payload that breaks its schema |
//! | 503 | the store is unreachable, or the request timed out |

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chronicle::{Error, Violation};
use serde::Serialize;
use utoipa::ToSchema;

/// An API error: status plus the body every error path returns.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: ErrorBody,
}

/// `{"error": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code a client can branch on (`invalid`, `unauthenticated`, `practice_not_found`,
    /// `forbidden`, `not_found`, `version_conflict`, `conflict`, `payload_too_large`,
    /// `unknown_event_type`, `invalid_payload`, `unavailable`, `timeout`, `internal`).
    pub code: String,
    /// One sentence saying what was wrong.
    pub message: String,
    /// Each violation with its JSON pointer into the request.
    pub details: Vec<Violation>,
}

impl ApiError {
    /// An error with no details.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self::with_details(status, code, message, Vec::new())
    }

    /// An error with details.
    pub fn with_details(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        details: Vec<Violation>,
    ) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code: code.to_string(),
                    message: message.into(),
                    details,
                },
            },
        }
    }

    /// 400 with one violation at `path`.
    pub fn bad_request(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::with_details(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!("invalid request: {message}"),
            vec![Violation::new(path, message)],
        )
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let (status, code) = match error.root() {
            Error::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid"),
            Error::UnknownEventType { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_event_type")
            }
            Error::InvalidPayload { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_payload"),
            Error::PracticeNotFound { .. } => (StatusCode::FORBIDDEN, "practice_not_found"),
            Error::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
            Error::VersionConflict { .. } => (StatusCode::CONFLICT, "version_conflict"),
            Error::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            Error::Unavailable { .. } | Error::IncompatibleStore { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            Error::InvalidUrl { .. }
            | Error::Registry(_)
            | Error::Database(_)
            | Error::InBatch { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // Database internals stay in the server log.
            tracing::error!(error = %error, "internal error");
            return ApiError::new(
                status,
                code,
                "internal error; the server log has the details",
            );
        }
        let mut details = error.violations();
        let root = error.root();
        let prefix = match &error {
            Error::InBatch { index, .. } => format!("/events/{index}"),
            _ => String::new(),
        };
        match root {
            Error::UnknownEventType { suggestions, .. } => {
                let hint = if suggestions.is_empty() {
                    "is not registered; GET /v1/registry lists the types".to_string()
                } else {
                    format!(
                        "is not registered; did you mean {}?",
                        suggestions.join(", ")
                    )
                };
                details.push(Violation::new(format!("{prefix}/eventType"), hint));
            }
            Error::VersionConflict { current, .. } => {
                details.push(Violation::new(
                    format!("{prefix}/expectedVersion"),
                    format!("the current version is {current}"),
                ));
            }
            _ => {}
        }
        ApiError::with_details(status, code, error.to_string(), details)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
