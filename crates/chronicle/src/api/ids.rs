//! Validated identifiers that cross the edges. Every edge (an HTTP header, the desktop's
//! chosen identity, a CLI `--as`) parses its input into these types, so one rule decides
//! what a well-formed id is: present, at most 255 characters, no control characters (tabs
//! included), no whitespace at either end, no leading `@` (the store's own recorders).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Principal;
use crate::rules::{MAX_ID_LEN, check_name};

/// A user id: who makes a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// Checks `value` against the id rules; the error names `path` (e.g. `/headers/x-user-id`).
    pub fn parse_at(path: &str, value: &str) -> Result<Self> {
        let mut violations = Vec::new();
        check_name(path, value, MAX_ID_LEN, &mut violations);
        if value.starts_with('@') {
            violations.push(crate::error::Violation::new(
                path,
                format!(
                    "{value:?} starts with '@', which is reserved for the store's own recorders ({}, {})",
                    crate::model::SYSTEM_RECORDER,
                    crate::model::STORE_RECORDER
                ),
            ));
        }
        if violations.is_empty() {
            Ok(UserId(value.to_string()))
        } else {
            Err(Error::Invalid { violations })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for UserId {
    type Err = Error;
    fn from_str(value: &str) -> Result<Self> {
        UserId::parse_at("/userId", value)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        UserId::parse_at("", &value).map_err(|e| {
            serde::de::Error::custom(
                e.violations()
                    .into_iter()
                    .map(|v| v.message)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<UserId> for Principal {
    fn from(user: UserId) -> Self {
        Principal::User(user.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_ids_are_accepted_as_given() {
        assert_eq!(
            UserId::parse_at("/u", "olivia.owner").unwrap().as_str(),
            "olivia.owner"
        );
        assert_eq!(
            UserId::parse_at("/u", &"é".repeat(255))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            255
        );
    }

    #[test]
    fn each_broken_rule_is_refused_at_the_given_path() {
        for (bad, why) in [
            ("", "must not be empty"),
            (" alice", "whitespace"),
            ("alice ", "whitespace"),
            ("al\tice", "control character U+0009"),
            ("al\u{0}ice", "control character U+0000"),
        ] {
            let error = UserId::parse_at("/headers/x-user-id", bad).unwrap_err();
            let violations = error.violations();
            assert_eq!(violations[0].path, "/headers/x-user-id", "{bad:?}");
            assert!(
                violations[0].message.contains(why),
                "{bad:?}: {violations:?}"
            );
        }
        let long = UserId::parse_at("/u", &"a".repeat(256)).unwrap_err();
        assert!(
            long.violations()[0].message.contains("limit is 255"),
            "{long}"
        );
    }
}
