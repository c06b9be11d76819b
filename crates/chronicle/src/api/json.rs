//! JSON input read the same way at every edge: a request body over HTTP, a line of
//! `chronicle append`: the first problem is reported with its JSON pointer.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::rules::escape_pointer;

/// Parses `bytes` as one JSON value of type `T`, naming where it breaks.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("", "the input is empty; send a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let pointer = to_pointer(&e.path().to_string());
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            Error::invalid(pointer, format!("malformed JSON: {inner}"))
        } else {
            Error::invalid(pointer, inner.to_string())
        }
    })?;
    deserializer
        .end()
        .map_err(|e| Error::invalid("", format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// Converts an already parsed value into `T`, naming where it does not fit.
pub fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = to_pointer(&e.path().to_string());
        Error::invalid(pointer, e.into_inner().to_string())
    })
}

/// `events[3].payload` (a serde path) as `/events/3/payload` (a JSON pointer).
pub fn to_pointer(path: &str) -> String {
    if path == "." || path.is_empty() {
        return String::new();
    }
    path.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .fold(String::new(), |mut out, segment| {
            out.push('/');
            out.push_str(&escape_pointer(segment));
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_paths_become_json_pointers() {
        assert_eq!(to_pointer("events[3].payload"), "/events/3/payload");
        assert_eq!(to_pointer("."), "");
        assert_eq!(to_pointer("limit"), "/limit");
    }

    #[test]
    fn a_wrong_field_is_named_by_its_pointer() {
        let error =
            parse::<crate::api::BatchRequest>(br#"{"events":[{"practiceId":1}]}"#).unwrap_err();
        assert_eq!(
            error.violations()[0].path,
            "/events/0/practiceId",
            "{error}"
        );
        let empty = parse::<crate::api::BatchRequest>(b"  ").unwrap_err();
        assert!(empty.to_string().contains("empty"), "{empty}");
    }
}
