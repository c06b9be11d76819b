//! The values that cross the engine's API: events as asked for and as stored, principals,
//! roles and actor types. Field names serialize in the seed's camelCase.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::payload::Payload;

/// Who performed the action an event records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorType {
    /// An authenticated person.
    Human,
    /// An AI agent.
    Ai,
    /// The system itself (scheduled tasks, imports).
    System,
}

impl ActorType {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::Human => "human",
            ActorType::Ai => "ai",
            ActorType::System => "system",
        }
    }
}

impl fmt::Display for ActorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for ActorType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "human" => Ok(ActorType::Human),
            "ai" => Ok(ActorType::Ai),
            "system" => Ok(ActorType::System),
            other => Err(format!("{other:?} is not one of human, ai, system")),
        }
    }
}

/// A member's role in a practice, from most to least powerful.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Full control, including granting owner.
    Owner,
    /// Manages members (except owners) and appends events.
    Admin,
    /// Appends everyday events.
    Frontdesk,
    /// Reads only.
    Viewer,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Frontdesk => "frontdesk",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "frontdesk" => Ok(Role::Frontdesk),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "{other:?} is not one of owner, admin, frontdesk, viewer"
            )),
        }
    }
}

/// On whose behalf an engine call runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A user id (the `x-user-id` header, or the app's "view as" identity).
    User(String),
    /// Local tools that already hold the database: bypasses membership, never validation.
    System,
}

impl Principal {
    /// A user principal.
    pub fn user(id: impl Into<String>) -> Self {
        Principal::User(id.into())
    }

    /// What its appends record as `recordedBy`.
    pub fn recorder(&self) -> &str {
        match self {
            Principal::User(id) => id,
            Principal::System => SYSTEM_RECORDER,
        }
    }

    /// The user id, if this is a user.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Principal::User(id) => Some(id),
            Principal::System => None,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(id) => write!(f, "user {id:?}"),
            Principal::System => f.write_str("the system principal"),
        }
    }
}

/// An event as a client asks to append it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewEvent {
    /// Client-chosen id for safe retries; the store makes a UUIDv7 when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The tenant.
    pub practice_id: String,
    /// E.g. `patient`; must match the event type's registered aggregate type.
    pub aggregate_type: String,
    /// The stream within the aggregate type.
    pub aggregate_id: String,
    /// A registered event type, e.g. `patient.created`.
    pub event_type: String,
    /// Validated against the event type's schema.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Value,
    /// Who did it.
    pub actor_type: ActorType,
    /// For humans, the principal (filled in when absent).
    #[serde(default)]
    pub actor_id: Option<String>,
    /// Optimistic concurrency: the aggregate's version the client last saw (0 = new).
    #[serde(default, deserialize_with = "crate::api::json::optional_whole_number")]
    #[cfg_attr(feature = "specta", specta(type = Option<i64>))]
    pub expected_version: Option<i64>,
    /// Only the system principal may set it (imports and demo data); otherwise the store does.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

impl NewEvent {
    /// An event with the required fields; the rest default to absent.
    pub fn new(
        practice_id: impl Into<String>,
        aggregate_type: impl Into<String>,
        aggregate_id: impl Into<String>,
        event_type: impl Into<String>,
        payload: Value,
        actor_type: ActorType,
    ) -> Self {
        Self {
            id: None,
            practice_id: practice_id.into(),
            aggregate_type: aggregate_type.into(),
            aggregate_id: aggregate_id.into(),
            event_type: event_type.into(),
            payload,
            actor_type,
            actor_id: None,
            expected_version: None,
            created_at: None,
        }
    }

    /// With a client-chosen id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// With an actor id.
    pub fn with_actor_id(mut self, actor_id: impl Into<String>) -> Self {
        self.actor_id = Some(actor_id.into());
        self
    }

    /// With an expected aggregate version.
    pub fn expecting_version(mut self, version: i64) -> Self {
        self.expected_version = Some(version);
        self
    }
}

/// An event as stored: the seed's fields plus its position and chain hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unique within the practice.
    pub id: String,
    /// The tenant.
    pub practice_id: String,
    /// Gapless position within the practice, from 1.
    pub seq: i64,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Position within the aggregate's stream, from 1.
    pub version: i64,
    /// Registered event type.
    pub event_type: String,
    /// The payload, as canonical JSON was stored.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[cfg_attr(feature = "specta", specta(type = serde_json::Value))]
    pub payload: Payload,
    /// Who did it.
    pub actor_type: ActorType,
    /// Who exactly, when known.
    pub actor_id: Option<String>,
    /// Set by the store, UTC, microsecond precision; never decreases along `seq`.
    pub created_at: DateTime<Utc>,
    /// Hex SHA-256 over the previous event's hash and this event's canonical bytes.
    pub hash: String,
    /// The authenticated principal that appended it: a user id, [`SYSTEM_RECORDER`] (local
    /// tools holding the database) or [`STORE_RECORDER`] (the store's own events). Set by
    /// the store, never by the client, and covered by the hash (chain form 2). `None` only
    /// on events stored before Chronicle recorded it (chain form 1).
    pub recorded_by: Option<String>,
}

/// `recordedBy` of events appended by the system principal (local tools holding the database).
/// User ids may not start with `@`, so no user can be confused with it.
pub const SYSTEM_RECORDER: &str = "@system";
/// `recordedBy` of the events the store makes itself (a new practice's owner grant).
pub const STORE_RECORDER: &str = "@store";

/// A page of results and the cursor for the next one: the one envelope of every paged
/// answer, over HTTP and in the app.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items, in the order asked for.
    pub items: Vec<T>,
    /// Pass back to continue; `None` when there is nothing more.
    pub next_cursor: Option<String>,
}

/// One aggregate stream of a practice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct AggregateSummary {
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Current version (= number of events).
    pub version: i64,
    /// Time of the first event.
    pub first_event_at: DateTime<Utc>,
    /// Time of the last event.
    pub last_event_at: DateTime<Utc>,
    /// Type of the last event.
    pub last_event_type: String,
    /// Practice seq of the last event.
    pub last_seq: i64,
}

/// A practice the principal can see.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PracticeSummary {
    /// The practice id.
    pub practice_id: String,
    /// The principal's role; `None` for the system principal.
    pub role: Option<Role>,
    /// Number of events (= head seq).
    pub event_count: i64,
    /// Time of the last event, if any.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Hash of the last event (the chain head).
    pub head_hash: String,
    /// What the principal may do here, from the engine's role table.
    pub capabilities: crate::access::Capabilities,
}
