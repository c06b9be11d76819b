//! Opaque page cursors. A cursor is base64url of a small JSON value (a seq, a version, or
//! an aggregate key); clients pass it back unchanged. Garbage gets a clear error at `/cursor`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Encodes a position as a cursor.
pub fn encode<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).expect("cursor positions serialize"))
}

/// Decodes a cursor made by [`encode`] for the same kind of query.
pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T> {
    let invalid = || {
        Error::invalid(
            "/cursor",
            format!("{cursor:?} is not a cursor this query returned"),
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// Decodes a cursor that names an aggregate (a type and an id first, then anything else),
/// holding the names to the id rules: a cursor this store made always meets them, and a forged
/// one must not carry into a query what those rules keep out (PostgreSQL text cannot hold NUL).
pub fn decode_naming<T: DeserializeOwned>(
    cursor: &str,
    names: impl Fn(&T) -> [&str; 2],
) -> Result<T> {
    let position = decode::<T>(cursor)?;
    let [aggregate_type, aggregate_id] = names(&position);
    crate::rules::check_names(&[
        ("/cursor", aggregate_type, crate::rules::MAX_TYPE_LEN),
        ("/cursor", aggregate_id, crate::rules::MAX_ID_LEN),
    ])
    .map_err(|_| {
        Error::invalid(
            "/cursor",
            format!("{cursor:?} is not a cursor this query returned"),
        )
    })?;
    Ok(position)
}

/// Page-size rule shared by every query: default 100, from 1 to 1000.
pub fn page_limit(limit: Option<i64>) -> Result<i64> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(Error::invalid(
            "/limit",
            format!("must be between 1 and {MAX_LIMIT}, got {n}"),
        )),
    }
}

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: i64 = 100;
/// Largest page a query returns.
pub const MAX_LIMIT: i64 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_naming_a_malformed_aggregate_is_refused() {
        fn names(p: &(String, String)) -> [&str; 2] {
            [&p.0, &p.1]
        }
        let good = encode(&("patient", "p-1"));
        assert_eq!(
            decode_naming(&good, names).unwrap(),
            ("patient".to_string(), "p-1".to_string())
        );
        for forged in [("patient", "nul\u{0}"), ("", "p-1"), (" patient", "p-1")] {
            let error = decode_naming(&encode(&forged), names).unwrap_err();
            assert_eq!(error.violations()[0].path, "/cursor", "{forged:?}");
        }
    }

    #[test]
    fn cursors_round_trip() {
        let c = encode(&("patient", "p-1"));
        assert_eq!(
            decode::<(String, String)>(&c).unwrap(),
            ("patient".into(), "p-1".into())
        );
    }

    #[test]
    fn garbage_and_wrong_kind_cursors_are_refused_at_cursor() {
        for bad in ["%%%", "", &encode(&"text")] {
            let err = decode::<i64>(bad).unwrap_err();
            assert_eq!(err.violations()[0].path, "/cursor");
        }
    }

    #[test]
    fn limits_outside_1_to_1000_are_refused() {
        assert_eq!(page_limit(None).unwrap(), 100);
        assert_eq!(page_limit(Some(1000)).unwrap(), 1000);
        for bad in [0, 1001, -5] {
            let error = page_limit(Some(bad)).unwrap_err();
            assert_eq!(
                error.violations()[0].path,
                "/limit",
                "{bad} is refused at /limit: {error}"
            );
        }
    }
}
