//! The HTTP form of an error: the layer's [`WireError`] as `{"error": {code, message,
//! details}}`, with a status decided here, once, from its code.
//!
//! | status | codes |
//! |---|---|
//! | 400 | `invalid` (malformed JSON, fields, parameters, headers) |
//! | 401 | `unauthenticated` (no `x-user-id`) |
//! | 403 | `practice_not_found` (also for a practice that exists: a non-member learns nothing), `forbidden`, `origin_not_allowed` |
//! | 421 | `host_not_allowed` (a `Host` this server does not answer for) |
//! | 429 | `too_many_requests` (live streams over the caller's or the server's cap) |
//! | 404 | `not_found`, `unknown_projector` |
//! | 405 | `method_not_allowed` |
//! | 409 | `version_conflict`, `conflict` |
//! | 413 | `payload_too_large` |
//! | 422 | `unknown_event_type`, `invalid_payload` |
//! | 500 | `internal`, `registry`, `invalid_url` |
//! | 503 | `unavailable`, `incompatible_store`, `timeout` |

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chronicle::ErrorCode;
use chronicle::api::WireError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer: the wire error, sent with [`status_for`] its code.
#[derive(Debug)]
pub struct ApiError(pub WireError);

/// `{"error": {...}}`: the body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: WireError,
}

/// The status of every code.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Invalid => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::PracticeNotFound | ErrorCode::Forbidden | ErrorCode::OriginNotAllowed => {
            StatusCode::FORBIDDEN
        }
        ErrorCode::HostNotAllowed => StatusCode::MISDIRECTED_REQUEST,
        ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::NotFound | ErrorCode::UnknownProjector => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::VersionConflict | ErrorCode::Conflict | ErrorCode::StoreNotEmpty => {
            StatusCode::CONFLICT
        }
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnknownEventType | ErrorCode::InvalidPayload => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Unavailable | ErrorCode::IncompatibleStore | ErrorCode::Timeout => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorCode::Internal
        | ErrorCode::Registry
        | ErrorCode::InvalidUrl
        | ErrorCode::IdentityRequired
        | ErrorCode::InvalidSettings
        | ErrorCode::SettingsUnsaved => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// An error without details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(WireError::new(code, message))
    }

    /// A 400 with one violation at `path`.
    pub fn bad_request(path: &str, message: impl Into<String>) -> Self {
        ApiError(WireError::at(ErrorCode::Invalid, path, message))
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        status_for(self.0.code)
    }
}

impl From<chronicle::Error> for ApiError {
    fn from(error: chronicle::Error) -> Self {
        ApiError(WireError::from(error))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(ErrorBody { error: self.0 })).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_follows_the_code_the_engine_gave() {
        let incompatible = ApiError::from(chronicle::Error::IncompatibleStore {
            location: "x.db".into(),
            reason: "a newer schema".into(),
        });
        assert_eq!(
            (incompatible.0.code, incompatible.status()),
            (
                ErrorCode::IncompatibleStore,
                StatusCode::SERVICE_UNAVAILABLE
            ),
            "an incompatible store keeps its own code over HTTP"
        );
        let registry = ApiError::from(chronicle::Error::Registry("bad.json: not JSON".into()));
        assert_eq!(
            (registry.0.code, registry.status()),
            (ErrorCode::Registry, StatusCode::INTERNAL_SERVER_ERROR)
        );
        let unknown = ApiError::from(chronicle::Error::UnknownProjector {
            name: "x".into(),
            known: vec!["a".into()],
        });
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    }
}
