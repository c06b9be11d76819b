//! One exported event: the stored event plus the hash of the event before it in the practice
//! (`previousHash`), so any contiguous run of an export verifies on its own. Written as the
//! RFC 8785 form of the record (keys sorted, no whitespace), with the stored canonical payload
//! text passed through, never re-parsed.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};

use crate::chain::{HashedFields, ZERO_HASH, chain_hash, format_timestamp, write_json_string};
use crate::model::ActorType;
use crate::store::EventRow;

/// An event as an export reads it from the store through sqlx.
#[derive(sqlx::FromRow)]
pub(crate) struct ExportRow {
    #[sqlx(flatten)]
    pub event: EventRow,
    /// `None` for seq 1 (it chains from the zero hash).
    pub previous_hash: Option<String>,
}

impl ExportRow {
    pub fn hash(&self) -> &str {
        crate::store::unpadded_hash(&self.event.hash)
    }

    /// The record to write, with `previous` as the previous hash when the row carries none.
    pub fn record<'a>(&'a self, previous: Option<&'a str>) -> ExportRecord<'a> {
        let e = &self.event;
        ExportRecord {
            practice_id: &e.practice_id,
            seq: e.seq,
            id: &e.id,
            aggregate_type: &e.aggregate_type,
            aggregate_id: &e.aggregate_id,
            version: e.version,
            event_type: &e.event_type,
            payload_json: &e.payload_json,
            actor_type: &e.actor_type,
            actor_id: e.actor_id.as_deref(),
            created_at: e.created_at,
            hash: self.hash(),
            previous_hash: self
                .previous_hash
                .as_deref()
                .map(crate::store::unpadded_hash)
                .or(previous)
                .unwrap_or(ZERO_HASH),
            recorded_by: e.recorded_by.as_deref(),
        }
    }
}

/// One event to write, borrowed from wherever the export read it.
pub(crate) struct ExportRecord<'a> {
    pub practice_id: &'a str,
    pub seq: i64,
    pub id: &'a str,
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub version: i64,
    pub event_type: &'a str,
    /// The stored canonical payload text.
    pub payload_json: &'a str,
    pub actor_type: &'a str,
    pub actor_id: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub hash: &'a str,
    pub previous_hash: &'a str,
    pub recorded_by: Option<&'a str>,
}

/// Appends the record's canonical JSON (no newline).
pub(crate) fn write_record(out: &mut Vec<u8>, e: &ExportRecord<'_>) {
    let string = write_json_string;
    out.extend_from_slice(b"{\"actorId\":");
    match e.actor_id {
        Some(actor) => string(out, actor),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"actorType\":");
    string(out, e.actor_type);
    out.extend_from_slice(b",\"aggregateId\":");
    string(out, e.aggregate_id);
    out.extend_from_slice(b",\"aggregateType\":");
    string(out, e.aggregate_type);
    out.extend_from_slice(b",\"createdAt\":\"");
    out.extend_from_slice(format_timestamp(e.created_at).as_bytes());
    out.extend_from_slice(b"\",\"eventType\":");
    string(out, e.event_type);
    out.extend_from_slice(b",\"hash\":\"");
    out.extend_from_slice(e.hash.as_bytes());
    out.extend_from_slice(b"\",\"id\":");
    string(out, e.id);
    out.extend_from_slice(b",\"payload\":");
    out.extend_from_slice(e.payload_json.as_bytes());
    out.extend_from_slice(b",\"practiceId\":");
    string(out, e.practice_id);
    out.extend_from_slice(b",\"previousHash\":\"");
    out.extend_from_slice(e.previous_hash.as_bytes());
    out.push(b'"');
    if let Some(recorder) = e.recorded_by {
        out.extend_from_slice(b",\"recordedBy\":");
        string(out, recorder);
    }
    out.extend_from_slice(b",\"seq\":");
    out.extend_from_slice(e.seq.to_string().as_bytes());
    out.extend_from_slice(b",\"version\":");
    out.extend_from_slice(e.version.to_string().as_bytes());
    out.push(b'}');
}

/// An exported event as a verifier reads it back, from any format.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Record {
    pub id: String,
    pub practice_id: String,
    pub seq: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub version: i64,
    pub event_type: String,
    pub payload: Box<RawValue>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub created_at: String,
    pub hash: String,
    pub previous_hash: String,
    #[serde(default)]
    pub recorded_by: Option<String>,
}

impl Record {
    /// The chain hash its fields give, chained from its `previousHash`; `Err` names a field
    /// that cannot be hashed at all.
    pub fn recomputed_hash(&self, payload_json: &str) -> Result<String, String> {
        let actor_type: ActorType = self.actor_type.parse()?;
        let created_at: DateTime<Utc> = DateTime::parse_from_rfc3339(&self.created_at)
            .map_err(|e| format!("createdAt {:?} is not a timestamp: {e}", self.created_at))?
            .to_utc();
        Ok(chain_hash(
            &self.previous_hash,
            &HashedFields {
                id: &self.id,
                practice_id: &self.practice_id,
                seq: self.seq,
                aggregate_type: &self.aggregate_type,
                aggregate_id: &self.aggregate_id,
                version: self.version,
                event_type: &self.event_type,
                payload_json,
                actor_type,
                actor_id: self.actor_id.as_deref(),
                created_at,
                recorded_by: self.recorded_by.as_deref(),
            },
        ))
    }
}

/// The digest of an export: SHA-256 over `"{seq} {hash}\n"` for each exported event in seq
/// order. Each hash covers its event's content and the hash before it, so the digest binds
/// every exported event; and it is the same whatever the file format.
#[derive(Default, Clone)]
pub(crate) struct ExportDigest(Sha256);

impl ExportDigest {
    pub fn add(&mut self, seq: i64, hash: &str) {
        self.0.update(seq.to_string().as_bytes());
        self.0.update(b" ");
        self.0.update(hash.as_bytes());
        self.0.update(b"\n");
    }

    /// Lines already in the digest's form, `"{seq} {hash}\n"` each, in seq order.
    pub fn add_lines(&mut self, lines: &[u8]) {
        self.0.update(lines);
    }

    pub fn finish(self) -> String {
        format!("sha256:{}", hex::encode(self.0.finalize()))
    }

    /// The digest so far as a state [`ExportDigest::resume`] continues from: what the practice
    /// head keeps, so a whole-practice export knows its digest without reading every event.
    pub fn state(&self) -> Vec<u8> {
        use sha2::digest::common::hazmat::SerializableState;
        self.0.serialize().to_vec()
    }

    /// Continues from a [`ExportDigest::state`]; `None` when `state` is not one.
    pub fn resume(state: &[u8]) -> Option<Self> {
        use sha2::digest::common::hazmat::SerializableState;
        let state = state.try_into().ok()?;
        Sha256::deserialize(state).ok().map(Self)
    }
}
