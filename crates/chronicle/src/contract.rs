//! The engine's field rules written as JSON Schema, for documents that describe the API to
//! clients (the server's OpenAPI document). Each schema here says what one check in
//! [`crate::rules`] or the queries enforces, and the tests below hold both to the same
//! verdicts, so a document built from these cannot promise more or less than the engine does.

use serde_json::{Map, Value, json};

use crate::rules::{
    MAX_FILTER_EVENT_TYPES, MAX_ID_LEN, MAX_SAFE_INTEGER, MAX_TEXT_FILTER_LEN, MAX_TYPE_LEN,
};

/// Characters [`crate::rules::check_name`] refuses anywhere (`char::is_control`).
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// The white space `str::trim` removes, which may not start or end a name.
const EDGE_SPACE: &str = r"\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters a payload string or key may not hold: C0 except tab, newline, CR.
const PAYLOAD_CONTROL: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f";
/// End of the text. `$` alone would also match before a final newline in the regex dialects
/// of Python and Perl, which contract testers use to generate and check values.
const END: &str = r"$(?!\n)";

/// A name or id of at most `max_len` characters: present, no control characters, no white
/// space at either end ([`crate::rules::check_name`]). `first_excluded` adds characters the
/// first one may not be; `excluded` characters none may be.
fn name_schema(max_len: usize, first_excluded: &str, excluded: &str) -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": max_len,
        "pattern": format!(
            "^[^{excluded}{CONTROL}{EDGE_SPACE}{first_excluded}](?:[^{excluded}{CONTROL}]*[^{excluded}{CONTROL}{EDGE_SPACE}])?{END}"
        ),
    })
}

/// A practice, aggregate, event or actor id.
pub fn id_schema() -> Value {
    name_schema(MAX_ID_LEN, "", "")
}

/// An aggregate or event type name.
pub fn type_name_schema() -> Value {
    name_schema(MAX_TYPE_LEN, "", "")
}

/// A user id ([`crate::api::UserId`]): an id that does not start with `@`, which marks the
/// store's own recorders.
pub fn user_id_schema() -> Value {
    name_schema(MAX_ID_LEN, "@", "")
}

/// A list of event types as a query string writes it: an array sent comma-separated, so an
/// item cannot hold a comma.
pub fn event_type_list_schema() -> Value {
    json!({
        "type": "array",
        "items": name_schema(MAX_TYPE_LEN, "", ","),
        "maxItems": MAX_FILTER_EVENT_TYPES,
    })
}

/// The schema of a request-body field the engine checks by name, if it does: the fields of
/// [`field_schema`], the expected version (0 or more), and the seqs of a filter, which an
/// export records in its payload and so must stay within ±(2^53-1).
pub fn body_field_schema(name: &str) -> Option<Value> {
    match name {
        "expectedVersion" => Some(json!({ "type": "integer", "format": "int64", "minimum": 0 })),
        "afterSeq" | "beforeSeq" => Some(json!({
            "type": "integer",
            "format": "int64",
            "minimum": 0,
            "maximum": MAX_SAFE_INTEGER,
        })),
        _ => field_schema(name),
    }
}

/// The schema of a request field or parameter the engine checks by name, if it does.
pub fn field_schema(name: &str) -> Option<Value> {
    Some(match name {
        "practiceId" | "aggregateId" | "eventId" | "actorId" | "id" => id_schema(),
        "aggregateType" | "eventType" => type_name_schema(),
        "userId" | "x-user-id" => user_id_schema(),
        "text" => json!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_TEXT_FILTER_LEN,
        }),
        "idPrefix" => json!({
            "type": "string",
            "pattern": format!("^[^{CONTROL}]*{END}"),
        }),
        _ => return None,
    })
}

/// A registered payload schema with the rules every payload value must also meet
/// ([`crate::rules::check_new_event`]): no control characters other than tab, newline and
/// carriage return in strings and keys, and no integer beyond ±(2^53-1). `$schema` and `$id`
/// are dropped so the result can sit inside another document.
pub fn payload_schema(registered: &Value) -> Value {
    let mut schema = registered.clone();
    if let Value::Object(map) = &mut schema {
        map.remove("$schema");
        map.remove("$id");
    }
    add_value_rules(&mut schema);
    schema
}

fn add_value_rules(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if map.contains_key("enum") || map.contains_key("const") {
        return; // the listed values are the registry's own
    }
    // Children first: the rules added below are not schemas to walk again.
    for key in [
        "properties",
        "patternProperties",
        "$defs",
        "dependentSchemas",
    ] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            children.values_mut().for_each(add_value_rules);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            children.iter_mut().for_each(add_value_rules);
        }
    }
    for key in [
        "items",
        "additionalProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contains",
        "if",
        "then",
        "else",
    ] {
        if let Some(child) = map.get_mut(key) {
            add_value_rules(child);
        }
    }
    let types = declared_types(map);
    let allows = |name: &str| types.as_ref().is_none_or(|t| t.iter().any(|t| t == name));
    let text_rule = format!("^[^{PAYLOAD_CONTROL}]*{END}");
    if allows("string") {
        add_pattern(map, "pattern", &text_rule);
    }
    if allows("object") {
        match map.get_mut("propertyNames") {
            Some(Value::Object(names)) => add_pattern(names, "pattern", &text_rule),
            _ => {
                map.insert("propertyNames".into(), json!({ "pattern": text_rule }));
            }
        }
    }
    if allows("integer") || allows("number") {
        let bound = MAX_SAFE_INTEGER as i64;
        tighten(map, "maximum", bound, |existing, bound| existing <= bound);
        tighten(map, "minimum", -bound, |existing, bound| existing >= bound);
    }
}

fn declared_types(map: &Map<String, Value>) -> Option<Vec<String>> {
    match map.get("type")? {
        Value::String(t) => Some(vec![t.clone()]),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

/// Sets `pattern`, keeping one the schema already has: both must match.
fn add_pattern(map: &mut Map<String, Value>, key: &str, pattern: &str) {
    match map.remove(key) {
        Some(existing) => {
            let all_of = map.entry("allOf").or_insert_with(|| json!([]));
            if let Value::Array(all) = all_of {
                all.push(json!({ key: existing }));
            }
            map.insert(key.into(), json!(pattern));
        }
        None => {
            map.insert(key.into(), json!(pattern));
        }
    }
}

/// Sets a numeric bound unless the schema already has one at least as tight.
fn tighten(map: &mut Map<String, Value>, key: &str, bound: i64, as_tight: fn(f64, f64) -> bool) {
    if map
        .get(key)
        .and_then(Value::as_f64)
        .is_some_and(|existing| as_tight(existing, bound as f64))
    {
        return;
    }
    map.insert(key.into(), json!(bound));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::UserId;
    use crate::error::Violation;
    use crate::model::{ActorType, NewEvent};
    use crate::rules::{check_name, check_new_event};

    fn accepts(schema: &Value, value: &Value) -> bool {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(schema)
            .expect("the schema compiles")
            .is_valid(value)
    }

    /// Names at and around every edge of the rule.
    fn samples() -> Vec<String> {
        let mut samples: Vec<String> = [
            "",
            "a",
            "olivia.owner",
            "@system",
            "a@b",
            " a",
            "a ",
            "a b",
            "\u{a0}a",
            "a\u{3000}",
            "a\u{feff}",
            "\u{feff}a",
            "a\n",
            "a\nb",
            "a\tb",
            "\u{7f}",
            "a\u{85}",
            "a\u{9f}b",
            "é",
            "日本",
            "😀",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for len in [99, 100, 101, 254, 255, 256] {
            samples.push("x".repeat(len));
            samples.push("é".repeat(len));
        }
        samples
    }

    fn engine_accepts_name(value: &str, max_len: usize) -> bool {
        let mut out: Vec<Violation> = Vec::new();
        check_name("/x", value, max_len, &mut out);
        out.is_empty()
    }

    #[test]
    fn name_schemas_agree_with_the_engine_on_every_sample() {
        for sample in samples() {
            let value = json!(sample);
            assert_eq!(
                accepts(&id_schema(), &value),
                engine_accepts_name(&sample, MAX_ID_LEN),
                "id {sample:?}"
            );
            assert_eq!(
                accepts(&type_name_schema(), &value),
                engine_accepts_name(&sample, MAX_TYPE_LEN),
                "type name {sample:?}"
            );
            assert_eq!(
                accepts(&user_id_schema(), &value),
                UserId::parse_at("/u", &sample).is_ok(),
                "user id {sample:?}"
            );
        }
    }

    #[test]
    fn a_listed_event_type_is_a_type_name_without_a_comma() {
        let item = &event_type_list_schema()["items"];
        for sample in samples() {
            let expected = engine_accepts_name(&sample, MAX_TYPE_LEN) && !sample.contains(',');
            assert_eq!(accepts(item, &json!(sample)), expected, "{sample:?}");
        }
        assert!(!accepts(item, &json!("a.b,c.d")));
        assert!(accepts(item, &json!("a.b")));
    }

    fn engine_accepts_payload(payload: &Value) -> bool {
        let event = NewEvent::new(
            "p1",
            "patient",
            "a1",
            "patient.created",
            payload.clone(),
            ActorType::System,
        );
        check_new_event(&event).is_empty()
    }

    #[test]
    fn payload_schemas_carry_the_value_rules() {
        let registered = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "name": { "type": "string" },
                "phone": { "type": "string", "pattern": "^[0-9]+$" },
                "count": { "type": "integer", "minimum": 0 },
                "tags": { "type": "array", "items": { "type": "string" } },
                "extra": { "type": "object" },
            },
        });
        let schema = payload_schema(&registered);
        assert!(schema.get("$schema").is_none());
        let huge = MAX_SAFE_INTEGER + 1;
        for payload in [
            json!({}),
            json!({ "name": "Ann\tLee\nline two\r" }),
            json!({ "name": "bell\u{7}" }),
            json!({ "name": "nul\u{0}" }),
            json!({ "phone": "123" }),
            json!({ "count": 3 }),
            json!({ "count": MAX_SAFE_INTEGER }),
            json!({ "count": huge }),
            json!({ "tags": ["ok", "esc\u{1b}"] }),
            json!({ "extra": { "key\u{1}": 1 } }),
            json!({ "extra": { "fine": "value" } }),
        ] {
            assert_eq!(
                accepts(&schema, &payload),
                engine_accepts_payload(&payload),
                "{payload}"
            );
        }
        // The registry's own pattern still applies beside the value rule.
        assert!(!accepts(&schema, &json!({ "phone": "12a" })));
        assert!(!accepts(&schema, &json!({ "count": -1 })));
    }

    #[test]
    fn generated_payloads_of_every_registered_type_meet_the_contract() {
        use rand::SeedableRng;
        let registry = crate::registry::Registry::builtin().unwrap();
        let mut generator = crate::generate::PayloadGenerator::new(chrono::Utc::now());
        let references = crate::generate::References::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for entry in registry.types() {
            let schema = payload_schema(&entry.schema);
            for _ in 0..50 {
                let payload = generator
                    .payload(&entry.schema, &references, &mut rng)
                    .unwrap();
                assert!(
                    accepts(&schema, &payload),
                    "{}: {payload}",
                    entry.event_type
                );
            }
        }
    }
}
