//! An event's payload as a read returns it: the canonical JSON text the store keeps, handed on
//! as written, and parsed only when a caller looks inside.
//!
//! Reads are most of what a store does, and most readers (the HTTP API, the desktop timeline,
//! exports, projectors that only count) pass a payload on without looking at it. Parsing every
//! payload into a [`Value`] and writing it out again was half of a page's cost.

use std::fmt;
use std::ops::Index;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON payload, held as text, as a parsed [`Value`], or both.
///
/// Indexing (`payload["name"]`) and [`Payload::value`] parse the text once, on first use.
/// Serializing writes the stored text untouched when there is one.
#[derive(Clone, Default)]
pub struct Payload {
    text: Option<Box<RawValue>>,
    parsed: OnceLock<Value>,
}

impl Payload {
    /// A payload read back from storage. The text is checked to be JSON (without building a
    /// [`Value`]), so a damaged row fails here, where it can be named, and not later.
    pub(crate) fn from_json(text: String) -> Result<Self, serde_json::Error> {
        Ok(Payload {
            text: Some(RawValue::from_string(text)?),
            parsed: OnceLock::new(),
        })
    }

    /// The payload as a JSON value, parsed from the text on first use.
    pub fn value(&self) -> &Value {
        self.parsed.get_or_init(|| {
            let text = self.text.as_ref().map_or("null", |raw| raw.get());
            serde_json::from_str(text).expect("a payload's text was checked to be JSON")
        })
    }

    /// The payload as an owned JSON value.
    pub fn into_value(mut self) -> Value {
        self.value();
        self.parsed.take().expect("value() just set it")
    }

    /// The payload as JSON text: the stored text when there is one.
    pub fn json(&self) -> std::borrow::Cow<'_, str> {
        match &self.text {
            Some(raw) => raw.get().into(),
            None => self.value().to_string().into(),
        }
    }
}

impl From<Value> for Payload {
    fn from(value: Value) -> Self {
        Payload {
            text: None,
            parsed: OnceLock::from(value),
        }
    }
}

impl<'a> Index<&'a str> for Payload {
    type Output = Value;

    fn index(&self, key: &'a str) -> &Value {
        &self.value()[key]
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.json())
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        match (&self.text, &other.text) {
            (Some(a), Some(b)) if a.get() == b.get() => true,
            _ => self.value() == other.value(),
        }
    }
}

impl PartialEq<Value> for Payload {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl PartialEq<Payload> for Value {
    fn eq(&self, other: &Payload) -> bool {
        self == other.value()
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.text {
            Some(raw) => raw.serialize(serializer),
            None => self.value().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Payload {
            text: Some(Box::<RawValue>::deserialize(deserializer)?),
            parsed: OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn stored_text_is_written_out_as_it_was_read() {
        let payload = Payload::from_json(r#"{"b":1,"a":[true,null]}"#.to_string()).unwrap();
        let event = json!({"payload": payload});
        assert_eq!(event["payload"], json!({"a": [true, null], "b": 1}));
        assert_eq!(
            serde_json::to_string(&payload).unwrap(),
            r#"{"b":1,"a":[true,null]}"#
        );
    }

    #[test]
    fn text_that_is_not_json_is_refused_where_it_is_read() {
        let error = Payload::from_json(r#"{"a":"#.to_string()).unwrap_err();
        assert!(error.to_string().contains("EOF"), "{error}");
    }

    #[test]
    fn a_payload_reads_and_compares_as_its_value_whatever_form_it_holds() {
        let stored = Payload::from_json(r#"{"name":"Smile","n":1}"#.to_string()).unwrap();
        let built = Payload::from(json!({"n": 1, "name": "Smile"}));
        assert_eq!(stored, built);
        assert_eq!(stored["name"], "Smile");
        assert_eq!(built, json!({"name": "Smile", "n": 1}));
        assert_ne!(stored, json!({"name": "Smile"}));
        assert_eq!(
            stored.clone().into_value(),
            json!({"name": "Smile", "n": 1})
        );
        assert_eq!(built.json(), r#"{"n":1,"name":"Smile"}"#);
    }

    #[test]
    fn a_payload_decoded_from_a_response_round_trips() {
        let text = r#"{"payload":{"x":"é\u0000","y":[1,2]}}"#;
        let decoded: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
        let from_value: Payload = serde_json::from_value(decoded["payload"].clone()).unwrap();
        let from_text: std::collections::HashMap<String, Payload> =
            serde_json::from_str(text).unwrap();
        assert_eq!(from_value, from_text["payload"]);
        assert_eq!(from_text["payload"]["x"], "é\u{0}");
    }
}
