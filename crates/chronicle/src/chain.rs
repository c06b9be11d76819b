//! The tamper-evident chain. Each event's hash is
//! `SHA-256(previous hash bytes ‖ canonical bytes of the event)`, where the canonical bytes
//! are the RFC 8785 (JCS) serialization of the event's fields and payload. The first event
//! of a practice chains from [`ZERO_HASH`]. Any edit, gap or reorder changes every later
//! hash, so an auditor recomputing the chain finds the first event that breaks it.
//!
//! Two canonical forms exist. Form 1 (events stored before `recordedBy` existed) covers the
//! eleven fields below; form 2 adds `recordedBy`, the principal that appended the event. An
//! event is in form 2 exactly when it carries `recordedBy`; once a practice's chain has a
//! form-2 event, every later event must be form 2 (see ADR 0007).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::ActorType;

/// The hash the first event of every practice chains from.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The canonical form of events without `recordedBy`.
pub const CHAIN_FORM_1: u8 = 1;
/// The canonical form of events with `recordedBy`: what the store writes now.
pub const CHAIN_FORM_2: u8 = 2;

/// The canonical form an event is hashed in.
pub fn chain_form(recorded_by: Option<&str>) -> u8 {
    if recorded_by.is_some() {
        CHAIN_FORM_2
    } else {
        CHAIN_FORM_1
    }
}

/// The fields that the hash covers. `payload_json` is the payload's canonical text.
pub struct HashedFields<'a> {
    /// Event id.
    pub id: &'a str,
    /// Practice id.
    pub practice_id: &'a str,
    /// Practice position.
    pub seq: i64,
    /// Aggregate type.
    pub aggregate_type: &'a str,
    /// Aggregate id.
    pub aggregate_id: &'a str,
    /// Stream position.
    pub version: i64,
    /// Event type.
    pub event_type: &'a str,
    /// Canonical JSON text of the payload, exactly as stored.
    pub payload_json: &'a str,
    /// Actor type.
    pub actor_type: ActorType,
    /// Actor id.
    pub actor_id: Option<&'a str>,
    /// Store time.
    pub created_at: DateTime<Utc>,
    /// Who appended it; `None` for form-1 events, whose bytes omit the key.
    pub recorded_by: Option<&'a str>,
}

/// RFC 8785 text of a JSON value: sorted keys, no whitespace, shortest numbers.
pub fn canonical_json(value: &Value) -> String {
    if compact_text_is_canonical(value) {
        // Every append canonicalizes its payload, and the general canonicalizer re-sorts and
        // re-formats what is usually already in order: this path costs a fifth of it.
        return serde_json::to_string(value).expect("a serde_json::Value always serializes");
    }
    serde_json_canonicalizer::to_string(value)
        .expect("a serde_json::Value always serializes to canonical JSON")
}

/// Whether serde_json's compact text of `value` is already its RFC 8785 text: every object's
/// keys in strictly increasing order both as UTF-8 (how they are written) and as UTF-16 (how
/// RFC 8785 sorts; the two orders differ only between a key character from U+E000 to U+FFFF
/// and one past U+FFFF, so such keys take the general path), and no number that RFC 8785
/// writes differently (floats, and integers beyond ±(2^53 − 1), which it writes in
/// ECMAScript's double form). Strings are escaped the same way by both (see
/// [`write_json_string`]).
fn compact_text_is_canonical(value: &Value) -> bool {
    const EXACT: u64 = (1 << 53) - 1;
    match value {
        Value::Number(n) => {
            n.as_u64().is_some_and(|n| n <= EXACT)
                || n.as_i64().is_some_and(|n| n.unsigned_abs() <= EXACT)
        }
        Value::Array(items) => items.iter().all(compact_text_is_canonical),
        Value::Object(map) => {
            let mut previous: Option<&str> = None;
            map.iter().all(|(key, item)| {
                let in_order = previous.is_none_or(|p| p < key.as_str())
                    && !key.chars().any(|c| c >= '\u{E000}');
                previous = Some(key);
                in_order && compact_text_is_canonical(item)
            })
        }
        _ => true,
    }
}

/// The timestamp form that is hashed and exported: RFC 3339, microseconds, `Z`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Appends `value` as a JSON string, escaped exactly as RFC 8785 does: serde_json escapes `"`,
/// `\\` and control characters (short escapes or lowercase `\u00xx`) and nothing else; the unit
/// test below holds it to that.
pub(crate) fn write_json_string(out: &mut Vec<u8>, value: &str) {
    serde_json::to_writer(&mut *out, value).expect("writing to a Vec cannot fail");
}

/// The canonical bytes of an event: what its hash covers. Equal to the RFC 8785 form of
/// `{actorId, actorType, aggregateId, aggregateType, createdAt, eventType, id, payload,
/// practiceId, recordedBy, seq, version}` (`recordedBy` only in form 2); written out directly (keys already in canonical order) so
/// the stored payload text is hashed as is, without re-parsing it.
pub fn canonical_event_bytes(fields: &HashedFields<'_>) -> Vec<u8> {
    let string = write_json_string;
    let mut out = Vec::with_capacity(320 + fields.payload_json.len());
    out.extend_from_slice(b"{\"actorId\":");
    match fields.actor_id {
        Some(actor) => string(&mut out, actor),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"actorType\":");
    string(&mut out, fields.actor_type.as_str());
    out.extend_from_slice(b",\"aggregateId\":");
    string(&mut out, fields.aggregate_id);
    out.extend_from_slice(b",\"aggregateType\":");
    string(&mut out, fields.aggregate_type);
    out.extend_from_slice(b",\"createdAt\":\"");
    out.extend_from_slice(format_timestamp(fields.created_at).as_bytes());
    out.extend_from_slice(b"\",\"eventType\":");
    string(&mut out, fields.event_type);
    out.extend_from_slice(b",\"id\":");
    string(&mut out, fields.id);
    out.extend_from_slice(b",\"payload\":");
    out.extend_from_slice(fields.payload_json.as_bytes());
    out.extend_from_slice(b",\"practiceId\":");
    string(&mut out, fields.practice_id);
    if let Some(recorder) = fields.recorded_by {
        out.extend_from_slice(b",\"recordedBy\":");
        string(&mut out, recorder);
    }
    out.extend_from_slice(b",\"seq\":");
    out.extend_from_slice(fields.seq.to_string().as_bytes());
    out.extend_from_slice(b",\"version\":");
    out.extend_from_slice(fields.version.to_string().as_bytes());
    out.push(b'}');
    out
}

/// The chained hash of an event, hex encoded.
pub fn chain_hash(previous_hash: &str, fields: &HashedFields<'_>) -> String {
    let mut previous = [0u8; 32];
    // A malformed stored hash simply fails to match on verification.
    let _ = hex::decode_to_slice(previous_hash, &mut previous);
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(canonical_event_bytes(fields));
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(payload_json: &str) -> HashedFields<'_> {
        HashedFields {
            id: "e1",
            practice_id: "p1",
            seq: 1,
            aggregate_type: "practice",
            aggregate_id: "p1",
            version: 1,
            event_type: "practice.created",
            payload_json,
            actor_type: ActorType::Human,
            actor_id: Some("u1"),
            created_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            recorded_by: None,
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v: Value =
            serde_json::from_str(r#"{ "b": 1.0, "a": [ true, null ], "é": "x" }"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":[true,null],"b":1,"é":"x"}"#);
    }

    #[test]
    fn the_compact_path_writes_what_the_canonicalizer_writes() {
        let general = |v: &Value| serde_json_canonicalizer::to_string(v).unwrap();
        let mut values = vec![
            json!({"b": 1, "a": [true, null, {"z": "", "y": [[]]}], "é": "x", "": {}}),
            json!({"ctl": "\u{0}\u{1f}\u{7f}\t\n\r\u{8}\u{c}\"\\/", "u": "\u{2028}\u{2029}日本😀"}),
            json!({"big": 9007199254740991_u64, "neg": -9007199254740991_i64, "zero": 0}),
            json!({"past": 9007199254740993_u64, "negpast": -9007199254740993_i64}),
            json!({"max": u64::MAX, "min": i64::MIN}),
            json!({"f": [1.5, 0.1, 1e-7, -2.5e30, 1e21, 5e-324]}),
            json!({"\u{E000}": 1, "\u{10000}": 2, "\u{FFFF}": 3, "a": 4}),
            json!({"😀": {"\u{FB01}": 1}}),
            json!([1, "two", null, false, {"k": [1, 2.0]}]),
            json!("just a string"),
            json!(42),
        ];
        let registry = crate::registry::Registry::builtin().unwrap();
        let mut generator = crate::generate::PayloadGenerator::new(
            DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
        );
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
        let references = crate::generate::References::default();
        for event_type in registry.types() {
            for _ in 0..50 {
                if let Ok(payload) = generator.payload(&event_type.schema, &references, &mut rng) {
                    values.push(payload);
                }
            }
        }
        assert!(values.len() > 500, "generated payloads of every type");
        for value in &values {
            assert_eq!(canonical_json(value), general(value), "{value}");
        }
        assert!(compact_text_is_canonical(&values[0]));
        assert!(
            !compact_text_is_canonical(&values[3]),
            "integers past 2^53 go the general way"
        );
        assert!(
            !compact_text_is_canonical(&values[6]),
            "keys past U+E000 go the general way"
        );
    }

    #[test]
    fn hash_depends_on_previous_hash_and_every_field() {
        let payload = r#"{"name":"Smile"}"#;
        let base = chain_hash(ZERO_HASH, &fields(payload));
        assert_eq!(base.len(), 64);
        assert_ne!(
            base,
            chain_hash(&base, &fields(payload)),
            "previous hash is covered"
        );
        assert_ne!(
            base,
            chain_hash(ZERO_HASH, &fields(r#"{"name":"Smile!"}"#)),
            "payload is covered"
        );
        let mut moved = fields(payload);
        moved.seq = 2;
        assert_ne!(base, chain_hash(ZERO_HASH, &moved), "position is covered");
    }

    #[test]
    fn hand_written_event_bytes_equal_rfc_8785_of_the_event_object() {
        let payload = json!({"z": [1.5, "ünï\u{1}\u{1f}\t\"q\"/\u{7f}\u{2028}", 1e21], "a": null, "€": {"b": 2, "a": 1}});
        let text = canonical_json(&payload);
        for (actor_id, recorded_by) in [
            (Some("u1 \\ \"quoted\""), None),
            (None, Some("rée\\\"x\u{1}")),
        ] {
            let mut f = fields(&text);
            f.actor_id = actor_id;
            f.recorded_by = recorded_by;
            f.aggregate_id = "pat/\u{7f}é";
            let mut document = json!({
                "id": f.id, "practiceId": f.practice_id, "seq": f.seq, "aggregateType": f.aggregate_type,
                "aggregateId": f.aggregate_id, "version": f.version, "eventType": f.event_type,
                "payload": payload, "actorType": f.actor_type.as_str(), "actorId": f.actor_id,
                "createdAt": format_timestamp(f.created_at),
            });
            if let Some(recorder) = recorded_by {
                document["recordedBy"] = json!(recorder);
            }
            assert_eq!(
                String::from_utf8(canonical_event_bytes(&f)).unwrap(),
                canonical_json(&document),
                "auditors recompute hashes with any RFC 8785 library, so the bytes must match it exactly"
            );
        }
    }

    /// The recipe in docs/engine.md, as an independent implementation computes it
    /// (`tools/verify_chain.py`: Python's hashlib and the rfc8785 package): a change to the
    /// formula, the field set or the canonical form fails here, whatever the rest of the
    /// suite recomputes with this same code.
    #[test]
    fn the_chain_gives_the_known_answers_of_the_reference_verifier() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../tools/chain-known-answers.json"))
                .expect("the known answers parse");
        let mut previous = ZERO_HASH.to_string();
        for event in fixture["events"].as_array().expect("events") {
            let text = |field: &str| event[field].as_str().unwrap_or_else(|| panic!("{field}"));
            let payload_json = canonical_json(&event["payload"]);
            let fields = HashedFields {
                id: text("id"),
                practice_id: text("practiceId"),
                seq: event["seq"].as_i64().unwrap(),
                aggregate_type: text("aggregateType"),
                aggregate_id: text("aggregateId"),
                version: event["version"].as_i64().unwrap(),
                event_type: text("eventType"),
                payload_json: &payload_json,
                actor_type: text("actorType").parse().unwrap(),
                actor_id: event["actorId"].as_str(),
                created_at: text("createdAt").parse().unwrap(),
                recorded_by: event["recordedBy"].as_str(),
            };
            let hash = chain_hash(&previous, &fields);
            assert_eq!(
                hash,
                text("hash"),
                "event {} (seq {}): the engine and the reference verifier disagree",
                text("id"),
                fields.seq
            );
            previous = hash;
        }
    }
}
