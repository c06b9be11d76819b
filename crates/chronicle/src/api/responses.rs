//! What operations answer besides a single value ([`crate::Event`], [`crate::ChainReport`],
//! …) or a [`crate::Page`]: named lists, so a JSON answer is an object a client can grow
//! without breaking. Both edges send these exact values.

use serde::{Deserialize, Serialize};

use crate::model::{Event, PracticeSummary};
use crate::projection::ProjectorStatus;
use crate::registry::EventType;
use crate::store::{DailyCount, Member, PracticeListing};

/// The practices the caller can read, with role, capabilities, event count and chain head.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PracticeList {
    /// By practice id.
    pub practices: Vec<PracticeSummary>,
}

/// The caller's practices with name and activity, from the practice directory.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryList {
    /// By practice id.
    pub practices: Vec<PracticeListing>,
}

/// A practice's members.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberList {
    /// By user id.
    pub members: Vec<Member>,
    /// Former members, most recently removed first.
    pub removed: Vec<crate::store::RemovedMember>,
}

/// User ids the caller shares a practice with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    /// By user id, at most 1000; the caller included when they belong to any practice.
    pub users: Vec<String>,
}

/// Events per day, event type and actor type.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityList {
    /// By day.
    pub days: Vec<DailyCount>,
}

/// Registered event types.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryList {
    /// By name, each with its schema.
    pub event_types: Vec<EventType>,
}

/// Where each projector stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectorStatusList {
    /// By practice, then in the catalog's order.
    pub projectors: Vec<ProjectorStatus>,
}

/// The events a batch stored, in input order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppendedEvents {
    /// One per input event (a retried id answers with the event stored before).
    pub events: Vec<Event>,
}

/// Liveness and the store behind the server.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Newest applied schema migration.
    pub schema_version: i64,
}

/// What a generation wrote.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedEvents {
    /// The practice written to.
    pub practice_id: String,
    /// Events written.
    pub written: u32,
    /// The seed used (pass it again to repeat the payloads).
    pub seed: u64,
    /// Events written per event type, by name.
    pub counts: Vec<EventTypeCount>,
    /// Stopped early on request; the batches written before stay.
    pub canceled: bool,
}

/// How many events of one type.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeCount {
    /// The event type.
    pub event_type: String,
    /// Events of it.
    pub count: u32,
}

/// Progress of a generation, after each batch written.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateProgress {
    /// The practice written to.
    pub practice_id: String,
    /// Events written so far.
    pub written: u32,
    /// Events asked for.
    pub total: u32,
}
