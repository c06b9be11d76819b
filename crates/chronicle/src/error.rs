//! The engine's one error type. Each variant names what was wrong and where, so the
//! HTTP API, the CLI and the desktop app can map it once to a status, an exit code or a
//! `{code, message, details}` shape without parsing text.

use serde::Serialize;

/// Shorthand for results of engine calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One rule broken at one place of the input.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

    /// A short stable code for clients that branch on the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "invalid_url",
            Error::Unavailable { .. } => "unavailable",
            Error::IncompatibleStore { .. } => "incompatible_store",
            Error::Invalid { .. } => "invalid",
            Error::UnknownEventType { .. } => "unknown_event_type",
            Error::InvalidPayload { .. } => "invalid_payload",
            Error::PracticeNotFound { .. } => "practice_not_found",
            Error::Forbidden { .. } => "forbidden",
            Error::VersionConflict { .. } => "version_conflict",
            Error::Conflict { .. } => "conflict",
            Error::InBatch { source, .. } => source.code(),
            Error::Registry(_) => "registry",
            Error::Database(_) => "internal",
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
