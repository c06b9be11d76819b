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

/// An integer field that also takes a JSON number with a zero fraction (`336.0`): JSON Schema
/// counts it as an integer, and some encoders write whole floats that way.
pub fn whole_number<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    let number = <serde_json::Number as serde::Deserialize>::deserialize(deserializer)?;
    whole::<T, D::Error>(&number)
}

/// [`whole_number`] for an optional field (use with `#[serde(default)]`).
pub fn optional_whole_number<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    let number = <Option<serde_json::Number> as serde::Deserialize>::deserialize(deserializer)?;
    number.map(|n| whole::<T, D::Error>(&n)).transpose()
}

fn whole<T, E>(number: &serde_json::Number) -> std::result::Result<T, E>
where
    T: TryFrom<i64> + TryFrom<u64>,
    E: serde::de::Error,
{
    let out_of_range = || E::custom(format!("{number} is out of range"));
    if let Some(n) = number.as_u64() {
        return T::try_from(n).map_err(|_| out_of_range());
    }
    if let Some(n) = number.as_i64() {
        return T::try_from(n).map_err(|_| out_of_range());
    }
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    match number.as_f64() {
        Some(f) if f.fract() != 0.0 || !f.is_finite() => {
            Err(E::custom(format!("expected a whole number, got {number}")))
        }
        Some(f) if (-TWO_POW_63..TWO_POW_63).contains(&f) => {
            T::try_from(f as i64).map_err(|_| out_of_range())
        }
        Some(f) if (0.0..2.0 * TWO_POW_63).contains(&f) => {
            T::try_from(f as u64).map_err(|_| out_of_range())
        }
        _ => Err(out_of_range()),
    }
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

    #[test]
    fn whole_numbers_may_carry_a_zero_fraction_but_nothing_else() {
        #[derive(serde::Deserialize, Debug)]
        struct Counts {
            #[serde(deserialize_with = "whole_number")]
            count: u32,
            #[serde(default, deserialize_with = "optional_whole_number")]
            version: Option<i64>,
        }
        let read = |text: &str| parse::<Counts>(text.as_bytes());
        let counts = read(r#"{"count": 336.0, "version": -2.0}"#).unwrap();
        assert_eq!((counts.count, counts.version), (336, Some(-2)));
        assert_eq!(read(r#"{"count": 7}"#).unwrap().version, None);
        for (bad, why) in [
            (r#"{"count": 1.5}"#, "whole number"),
            (r#"{"count": -1}"#, "out of range"),
            (r#"{"count": 1e300}"#, "out of range"),
            (r#"{"count": 4294967296}"#, "out of range"),
            (r#"{"count": "7"}"#, "invalid type"),
        ] {
            let error = read(bad).unwrap_err();
            assert_eq!(error.violations()[0].path, "/count", "{bad}");
            assert!(error.to_string().contains(why), "{bad}: {error}");
        }
    }
}
