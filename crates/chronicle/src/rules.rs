//! Field rules every event must satisfy before the registry or the database sees it:
//! lengths from the seed's columns, no control characters, I-JSON-safe numbers, a size
//! cap on the payload. Pure functions, so they are tested without a database.

use serde_json::Value;

use crate::error::Violation;
use crate::model::NewEvent;

/// Column lengths from the seed's schema (`@db.VarChar(n)`), in characters.
pub const MAX_TYPE_LEN: usize = 100;
/// Length cap for ids (aggregate, actor, practice, event).
pub const MAX_ID_LEN: usize = 255;
/// Default payload cap: 1 MiB of canonical JSON.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// Default cap on the events of one batch append.
pub const DEFAULT_MAX_BATCH_EVENTS: usize = 10_000;
/// Default payload bytes of one page of events (4 MiB).
pub const DEFAULT_MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Most events the seed's unpaged aggregate read returns; longer streams must be paged.
pub const MAX_UNPAGED_EVENTS: usize = 10_000;
/// Most event types one timeline filter may name.
pub const MAX_FILTER_EVENT_TYPES: usize = 100;
/// Longest text a timeline's payload-text filter may search for, in characters.
pub const MAX_TEXT_FILTER_LEN: usize = 200;
/// Largest integer a JSON number carries exactly through canonicalization (2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Checks an identifier-like field: present, bounded, printable.
pub fn check_name(path: &str, value: &str, max_len: usize, out: &mut Vec<Violation>) {
    if value.is_empty() {
        out.push(Violation::new(path, "must not be empty"));
        return;
    }
    let len = value.chars().count();
    if len > max_len {
        out.push(Violation::new(
            path,
            format!("is {len} characters long; the limit is {max_len}"),
        ));
    }
    if let Some((index, ch)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        out.push(Violation::new(
            path,
            format!(
                "contains control character U+{:04X} at position {index}",
                ch as u32
            ),
        ));
    }
    if value.trim() != value {
        out.push(Violation::new(
            path,
            "must not start or end with whitespace",
        ));
    }
}

/// [`check_name`] for each `(path, value, max_len)`: every broken rule, or nothing.
pub fn check_names(fields: &[(&str, &str, usize)]) -> crate::error::Result<()> {
    let mut violations = Vec::new();
    for (path, value, max_len) in fields {
        check_name(path, value, *max_len, &mut violations);
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(crate::error::Error::Invalid { violations })
    }
}

/// Every field rule of a new event except the payload schema and access rules.
pub fn check_new_event(event: &NewEvent) -> Vec<Violation> {
    let mut out = Vec::new();
    if let Some(id) = &event.id {
        check_name("/id", id, MAX_ID_LEN, &mut out);
    }
    check_name("/practiceId", &event.practice_id, MAX_ID_LEN, &mut out);
    check_name(
        "/aggregateType",
        &event.aggregate_type,
        MAX_TYPE_LEN,
        &mut out,
    );
    check_name("/aggregateId", &event.aggregate_id, MAX_ID_LEN, &mut out);
    check_name("/eventType", &event.event_type, MAX_TYPE_LEN, &mut out);
    if let Some(actor_id) = &event.actor_id {
        check_name("/actorId", actor_id, MAX_ID_LEN, &mut out);
    }
    if let Some(expected) = event.expected_version
        && expected < 0
    {
        out.push(Violation::new(
            "/expectedVersion",
            format!("must be 0 (a new aggregate) or a positive version, got {expected}"),
        ));
    }
    if !event.payload.is_object() {
        out.push(Violation::new(
            "/payload",
            format!("must be a JSON object, got {}", json_kind(&event.payload)),
        ));
    }
    check_payload_values(&event.payload, &mut vec![Segment::Key("payload")], &mut out);
    out
}

/// The first C0 control character other than tab, newline and carriage return, with its
/// position. U+0000 in particular cannot be stored in a PostgreSQL TEXT column: a projector
/// copying such a string into a read model would fail on that event forever.
fn forbidden_control(text: &str) -> Option<(usize, char)> {
    if text
        .bytes()
        .all(|b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return None; // the common case, without decoding characters
    }
    text.chars()
        .enumerate()
        .find(|(_, c)| (*c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
}

/// One step of a JSON pointer, kept borrowed until a violation needs the pointer written out.
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// One walk over the payload for the rules of its values: no control characters in strings
/// and keys, no integer that canonical JSON (RFC 8785, numbers as IEEE doubles) would silently
/// change. `path` holds the pointer's segments, joined only when a violation needs them, so
/// a valid payload costs no allocation per value.
fn check_payload_values<'a>(
    value: &'a Value,
    path: &mut Vec<Segment<'a>>,
    out: &mut Vec<Violation>,
) {
    let pointer = |path: &[Segment]| {
        path.iter().fold(String::new(), |mut pointer, segment| {
            pointer.push('/');
            match segment {
                Segment::Key(key) => pointer.push_str(&escape_pointer(key)),
                Segment::Index(i) => pointer.push_str(&i.to_string()),
            }
            pointer
        })
    };
    let control = |what: &str, (index, ch): (usize, char)| {
        format!(
            "{what} contains control character U+{:04X} at position {index}; only tab, newline and carriage return are allowed",
            ch as u32
        )
    };
    match value {
        Value::Number(n) => {
            let unsafe_int = n.as_u64().is_some_and(|v| v > MAX_SAFE_INTEGER)
                || n.as_i64()
                    .is_some_and(|v| v.unsigned_abs() > MAX_SAFE_INTEGER);
            if unsafe_int {
                out.push(Violation::new(
                    pointer(path),
                    format!("integer {n} is outside ±(2^53-1) and cannot be stored exactly; send it as a string"),
                ));
            }
        }
        Value::String(text) => {
            if let Some(found) = forbidden_control(text) {
                out.push(Violation::new(pointer(path), control("the text", found)));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if matches!(item, Value::Null | Value::Bool(_)) {
                    continue;
                }
                path.push(Segment::Index(i));
                check_payload_values(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let bad_key = forbidden_control(key);
                if bad_key.is_none() && matches!(item, Value::Null | Value::Bool(_)) {
                    continue;
                }
                path.push(Segment::Key(key));
                if let Some(found) = bad_key {
                    out.push(Violation::new(pointer(path), control("the key", found)));
                }
                check_payload_values(item, path, out);
                path.pop();
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Escapes one JSON-pointer segment (RFC 6901).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A word for the JSON type of a value, for error messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActorType;
    use serde_json::json;

    fn event(payload: Value) -> NewEvent {
        NewEvent::new(
            "p1",
            "patient",
            "a1",
            "patient.created",
            payload,
            ActorType::System,
        )
    }

    #[test]
    fn a_valid_event_has_no_violations() {
        assert!(check_new_event(&event(json!({"a": 1}))).is_empty());
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let mut e = event(json!([1]));
        e.practice_id = String::new();
        e.aggregate_type = "x".repeat(101);
        e.aggregate_id = "bad\u{7}id".into();
        e.actor_id = Some(" padded".into());
        e.expected_version = Some(-1);
        let paths: Vec<_> = check_new_event(&e).into_iter().map(|v| v.path).collect();
        assert_eq!(
            paths,
            [
                "/practiceId",
                "/aggregateType",
                "/aggregateId",
                "/actorId",
                "/expectedVersion",
                "/payload"
            ],
            "every broken field is reported, in field order"
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut e = event(json!({}));
        e.aggregate_type = "é".repeat(100);
        assert!(
            check_new_event(&e).is_empty(),
            "100 two-byte characters fit VarChar(100)"
        );
    }

    #[test]
    fn control_characters_in_payload_strings_and_keys_are_refused_with_their_pointer() {
        let v = check_new_event(&event(json!({
            "note": "fine\ttabs\nand\r\nlines",
            "name": "nul\u{0}byte",
            "list": ["ok", "bell\u{7}"],
            "k\u{1b}ey": 1,
        })));
        let found: Vec<(&str, bool)> = v
            .iter()
            .map(|x| (x.path.as_str(), x.message.contains("the key")))
            .collect();
        assert_eq!(
            found,
            [
                ("/payload/k\u{1b}ey", true),
                ("/payload/list/1", false),
                ("/payload/name", false)
            ],
            "every offending string and key, tab, newline and carriage return allowed: {v:?}"
        );
        assert!(
            v[2].message.contains("U+0000 at position 3"),
            "{}",
            v[2].message
        );
    }

    #[test]
    fn integers_beyond_2_pow_53_are_refused_with_their_pointer() {
        let v = check_new_event(&event(json!({"a/b": [1, 9007199254740993u64]})));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, "/payload/a~1b/1");
    }
}
