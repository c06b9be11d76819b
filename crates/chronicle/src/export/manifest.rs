//! What every export says about itself, before its events: which practice and slice, who
//! exported it and when, how many events from which seq to which, the practice's chain head at
//! export time, the chain forms inside, and the digest of its events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::TimelineFilter;

/// Marks a JSON object as a Chronicle export manifest.
pub const MANIFEST_KIND: &str = "chronicle-export";
/// The manifest's own layout version; a verifier refuses one it does not know.
pub const MANIFEST_VERSION: u32 = 1;

/// An export's manifest. NDJSON: the first line, as `{"manifest": …}`; JSON: the `manifest`
/// field; CSV: a sidecar `FILE.manifest.json`; HTML: the first page. The same object is
/// recorded in the practice as the payload of the `audit.export_created` event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportManifest {
    /// Always `chronicle-export`.
    pub kind: String,
    /// The layout version of this manifest (1).
    pub version: u32,
    /// Unique id of this export; also the aggregate id of its `audit.export_created` event.
    pub export_id: String,
    /// The practice exported.
    pub practice_id: String,
    /// The slice: empty means the whole timeline up to the head.
    pub filter: TimelineFilter,
    /// Who exported it (as `recordedBy`: a user id, or `@system`).
    pub exported_by: String,
    /// When the export started (UTC).
    pub exported_at: DateTime<Utc>,
    /// Events in the export.
    pub event_count: i64,
    /// Seq of the first exported event.
    pub first_seq: Option<i64>,
    /// Seq of the last exported event.
    pub last_seq: Option<i64>,
    /// The practice's head when the export started: nothing after it is exported.
    pub head_seq: i64,
    /// Hash of the head event (the zero hash for an empty practice). Write it down somewhere
    /// the store's owner cannot reach, and `chronicle verify --against` proves the store still
    /// holds this history.
    pub head_hash: String,
    /// The chain's canonical forms among the exported events (1: without `recordedBy`, 2: with).
    pub chain_forms: Vec<u8>,
    /// `sha256:HEX` over `"{seq} {hash}\n"` of every exported event in seq order.
    pub digest: String,
}

impl ExportManifest {
    /// Whether the slice is the whole timeline, so any missing seq is a removal, not a gap.
    pub fn is_unfiltered(&self) -> bool {
        let f = &self.filter;
        f.event_types.is_empty()
            && f.actor_type.is_none()
            && f.actor_id.is_none()
            && f.aggregate_type.is_none()
            && f.aggregate_id.is_none()
            && f.from.is_none()
            && f.to.is_none()
            && f.text.is_none()
            && f.after_seq.is_none()
            && f.before_seq.is_none()
    }
}
