//! The engine's one error type. Each variant names what was wrong and where, so the
//! HTTP API, the CLI and the desktop app can map it once to a status, an exit code or a
//! `{code, message, details}` shape without parsing text.

use serde::Serialize;

/// Shorthand for results of engine calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One rule broken at one place of the input.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Violation {
    /// JSON pointer into the request: `/aggregateId`, `/payload/email`, `/events/3/payload`.
    pub path: String,
    /// What rule was broken, in plain words.
    pub message: String,
}

impl Violation {
    /// A violation at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same violation, its path moved under `prefix` (e.g. a batch item).
    pub fn nested_under(mut self, prefix: &str) -> Self {
        self.path = format!("{prefix}{}", self.path);
        self
    }
}

fn list(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| {
            format!(
                "{}: {}",
                if v.path.is_empty() { "/" } else { &v.path },
                v.message
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every code a client can branch on, from every edge: the engine's errors
/// ([`Error::code`]) and the few that only an edge can produce (a missing identity, a body
/// over the limit, a timeout). The UI imports this list as a type.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field, parameter, header or body broke a rule; `details` name each.
    Invalid,
    /// No identity was given (the `x-user-id` header).
    Unauthenticated,
    /// The practice does not exist or the caller may not see it (deliberately one answer).
    PracticeNotFound,
    /// The caller is a member, but the role does not allow this.
    Forbidden,
    /// An event, event type or route that does not exist.
    NotFound,
    /// No projector has this name.
    UnknownProjector,
    /// The event type is not registered.
    UnknownEventType,
    /// The payload breaks its event type's schema.
    InvalidPayload,
    /// `expectedVersion` did not match.
    VersionConflict,
    /// An id reused with other content, a duplicate creation, a state that does not allow this.
    Conflict,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// The method is not allowed on this route.
    MethodNotAllowed,
    /// The request named a host this server does not answer for (DNS rebinding, a wrong name).
    HostNotAllowed,
    /// A page from another origin tried to change data or open a stream.
    OriginNotAllowed,
    /// The caller (or everyone together) holds as many live streams as allowed.
    TooManyRequests,
    /// The store cannot be reached.
    Unavailable,
    /// The store is not one this version can open.
    IncompatibleStore,
    /// A store URL that cannot be used.
    InvalidUrl,
    /// The request took longer than the server allows.
    Timeout,
    /// A registry file is malformed.
    Registry,
    /// An unexpected failure; the log has the details.
    Internal,
    /// The desktop app has no identity chosen yet.
    IdentityRequired,
    /// A settings value the desktop app cannot use.
    InvalidSettings,
    /// The desktop app could not save its settings.
    SettingsUnsaved,
    /// Demo data is only offered for an empty store.
    StoreNotEmpty,
}

impl ErrorCode {
    /// The code as it is written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "invalid",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::PracticeNotFound => "practice_not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::UnknownProjector => "unknown_projector",
            ErrorCode::UnknownEventType => "unknown_event_type",
            ErrorCode::InvalidPayload => "invalid_payload",
            ErrorCode::VersionConflict => "version_conflict",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::HostNotAllowed => "host_not_allowed",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::IncompatibleStore => "incompatible_store",
            ErrorCode::InvalidUrl => "invalid_url",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Registry => "registry",
            ErrorCode::Internal => "internal",
            ErrorCode::IdentityRequired => "identity_required",
            ErrorCode::InvalidSettings => "invalid_settings",
            ErrorCode::SettingsUnsaved => "settings_unsaved",
            ErrorCode::StoreNotEmpty => "store_not_empty",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything an engine call can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store URL could not be understood.
    #[error("cannot use store URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given, with any password removed.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot open the {backend} store at {location}: {reason}")]
    Unavailable {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// File path or host, never the password.
        location: String,
        /// What the driver reported.
        reason: String,
    },
    /// The database exists but is not one this build can use.
    #[error("{location} is not a Chronicle store this version can open: {reason}")]
    IncompatibleStore {
        /// File path or host.
        location: String,
        /// E.g. a newer schema version, or foreign tables.
        reason: String,
    },
    /// Field rules (lengths, characters, enums, limits) were broken.
    #[error("invalid request: {}", list(.violations))]
    Invalid {
        /// Every violation found.
        violations: Vec<Violation>,
    },
    /// The event type is not in the registry.
    #[error("unknown event type {event_type:?}{}", suggest(.suggestions))]
    UnknownEventType {
        /// The type that was asked for.
        event_type: String,
        /// Registered types with similar names, closest first.
        suggestions: Vec<String>,
    },
    /// The payload does not satisfy the event type's schema.
    #[error("payload of {event_type} does not match its schema: {}", list(.violations))]
    InvalidPayload {
        /// The event type whose schema was applied.
        event_type: String,
        /// Every violation, each with its JSON pointer into the payload.
        violations: Vec<Violation>,
    },
    /// The practice does not exist or the principal may not see it. Deliberately the
    /// same answer in both cases, so a non-member learns nothing.
    #[error("practice {practice_id:?} not found or no access")]
    PracticeNotFound {
        /// The practice asked for.
        practice_id: String,
    },
    /// The principal is a member but its role does not allow this.
    #[error("not allowed: {reason}")]
    Forbidden {
        /// The rule, naming role and action.
        reason: String,
    },
    /// `expectedVersion` did not match the aggregate's current version.
    #[error(
        "version conflict on {aggregate_type}/{aggregate_id}: expected version {expected}, current version is {current}"
    )]
    VersionConflict {
        /// Aggregate type of the stream.
        aggregate_type: String,
        /// Aggregate id of the stream.
        aggregate_id: String,
        /// What the caller expected.
        expected: i64,
        /// What the store holds.
        current: i64,
    },
    /// An event id was reused with different content, or a state conflict such as a
    /// second `practice.created`.
    #[error("conflict: {reason}")]
    Conflict {
        /// What clashed.
        reason: String,
    },
    /// A batch item failed; nothing of the batch was written.
    #[error("event {index} of the batch was refused, nothing was written: {source}")]
    InBatch {
        /// Zero-based position in the batch.
        index: usize,
        /// Why that event was refused.
        #[source]
        source: Box<Error>,
    },
    /// Something asked for by name or id does not exist (an event, an event type in a lookup).
    #[error("{message}")]
    NotFound {
        /// What was asked for and, where it helps, what exists instead.
        message: String,
        /// Where in the request the name was given (`/eventId`, `/eventType`).
        path: String,
    },
    /// The caller, or everyone together, holds as many live streams as allowed.
    #[error("too many live streams: {reason}")]
    TooManyStreams {
        /// Whose cap, and what to do.
        reason: String,
    },
    /// No projector has this name.
    #[error("no projector {name:?}; the projectors are {}", known.join(", "))]
    UnknownProjector {
        /// The name asked for.
        name: String,
        /// Every projector's name.
        known: Vec<String>,
    },
    /// A registry file is malformed or clashes with another.
    #[error("registry: {0}")]
    Registry(String),
    /// An unexpected database failure. The message never reaches HTTP clients.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

impl Error {
    /// A single-violation [`Error::Invalid`].
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            violations: vec![Violation::new(path, message)],
        }
    }

    /// A stored value this build cannot read back (a corrupt or foreign row).
    pub(crate) fn undecodable(
        reason: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Error::Database(sqlx::Error::Decode(reason.into()))
    }

    /// The stable code clients branch on (the same over HTTP, in the app and in the CLI).
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidUrl { .. } => ErrorCode::InvalidUrl,
            Error::Unavailable { .. } => ErrorCode::Unavailable,
            Error::IncompatibleStore { .. } => ErrorCode::IncompatibleStore,
            Error::Invalid { .. } => ErrorCode::Invalid,
            Error::UnknownEventType { .. } => ErrorCode::UnknownEventType,
            Error::InvalidPayload { .. } => ErrorCode::InvalidPayload,
            Error::PracticeNotFound { .. } => ErrorCode::PracticeNotFound,
            Error::Forbidden { .. } => ErrorCode::Forbidden,
            Error::VersionConflict { .. } => ErrorCode::VersionConflict,
            Error::Conflict { .. } => ErrorCode::Conflict,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::UnknownProjector { .. } => ErrorCode::UnknownProjector,
            Error::TooManyStreams { .. } => ErrorCode::TooManyRequests,
            Error::InBatch { source, .. } => source.code(),
            Error::Registry(_) => ErrorCode::Registry,
            Error::Database(_) => ErrorCode::Internal,
        }
    }

    /// The violations behind this error (with batch positions prefixed), if any.
    pub fn violations(&self) -> Vec<Violation> {
        match self {
            Error::Invalid { violations } => violations.clone(),
            Error::InvalidPayload { violations, .. } => violations
                .iter()
                .cloned()
                .map(|v| v.nested_under("/payload"))
                .collect(),
            Error::InBatch { index, source } => source
                .violations()
                .into_iter()
                .map(|v| v.nested_under(&format!("/events/{index}")))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The message without the list of violations (for edges that print them one by one).
    pub fn summary(&self) -> String {
        match self {
            Error::Invalid { violations } if violations.len() == 1 => "invalid request".to_string(),
            Error::Invalid { violations } => {
                format!("invalid request ({} problems)", violations.len())
            }
            Error::InvalidPayload { event_type, .. } => {
                format!("payload of {event_type} does not match its schema")
            }
            Error::InBatch { index, source } => {
                format!(
                    "event {index} of the batch was refused, nothing was written: {}",
                    source.summary()
                )
            }
            other => other.to_string(),
        }
    }

    /// The error behind a batch position, if this is one.
    pub fn root(&self) -> &Error {
        match self {
            Error::InBatch { source, .. } => source.root(),
            other => other,
        }
    }
}
