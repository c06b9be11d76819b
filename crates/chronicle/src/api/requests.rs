//! What each operation takes besides the caller and the ids in its path: the query string
//! over HTTP and the argument of the desktop command are the same type, so the two edges
//! accept exactly the same options. Every field is optional; paging is `limit` (1–1000,
//! default 100) and `cursor` (the previous page's `nextCursor`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ActorType, NewEvent};
use crate::store::{AggregateFilter, Direction, PageRequest, TimelineFilter};

/// Filters and paging of a practice timeline.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct TimelineQuery {
    /// Any of these event types (comma-separated in a query string).
    #[serde(deserialize_with = "list::comma_separated")]
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>))]
    #[cfg_attr(feature = "specta", specta(type = Vec<String>))]
    pub event_types: Vec<String>,
    /// Only this actor type.
    pub actor_type: Option<ActorType>,
    /// Only this actor.
    pub actor_id: Option<String>,
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
    /// Only this aggregate id (of `aggregateType` when given, else of any type).
    pub aggregate_id: Option<String>,
    /// At or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339); at or before `from`, nothing is selected.
    pub to: Option<DateTime<Utc>>,
    /// Payload contains this text (ASCII case-insensitive).
    pub text: Option<String>,
    /// Only events after this seq (what is newer than a page already shown).
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub after_seq: Option<i64>,
    /// Only events before this seq.
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub before_seq: Option<i64>,
    /// `forward` (oldest first, the default) or `backward`.
    pub direction: Direction,
    /// Page size, 1 to 1000; default 100.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl TimelineQuery {
    /// The engine's filter, direction and page.
    pub fn into_parts(self) -> (TimelineFilter, Direction, PageRequest) {
        (
            TimelineFilter {
                event_types: self.event_types,
                actor_type: self.actor_type,
                actor_id: self.actor_id,
                aggregate_type: self.aggregate_type,
                aggregate_id: self.aggregate_id,
                from: self.from,
                to: self.to,
                text: self.text,
                after_seq: self.after_seq,
                before_seq: self.before_seq,
            },
            self.direction,
            PageRequest {
                cursor: self.cursor,
                limit: self.limit,
            },
        )
    }
}

/// Filters and paging of a practice's aggregates (by type, then id).
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AggregatesQuery {
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
    /// Aggregate ids starting with this.
    pub id_prefix: Option<String>,
    /// Page size, 1 to 1000; default 100.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl AggregatesQuery {
    /// The engine's filter and page.
    pub fn into_parts(self) -> (AggregateFilter, PageRequest) {
        (
            AggregateFilter {
                aggregate_type: self.aggregate_type,
                id_prefix: self.id_prefix,
            },
            PageRequest {
                cursor: self.cursor,
                limit: self.limit,
            },
        )
    }
}

/// Filter and paging of the most recently active aggregates.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RecentAggregatesQuery {
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
    /// Page size, 1 to 1000; default 100.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Where to start in an aggregate's stream, and paging.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AggregateEventsQuery {
    /// Start at this version (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub from_version: Option<i64>,
    /// Page size, 1 to 1000; default 100.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Paging alone.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PageQuery {
    /// Page size, 1 to 1000; default 100.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl From<PageQuery> for PageRequest {
    fn from(query: PageQuery) -> Self {
        PageRequest {
            cursor: query.cursor,
            limit: query.limit,
        }
    }
}

/// A range of UTC days, inclusive.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ActivityQuery {
    /// First day, `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", param(format = Date))]
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub from_day: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", param(format = Date))]
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub to_day: Option<String>,
}

/// Which projectors' status: one practice, or every practice the caller can read.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ProjectorStatusQuery {
    /// Only this practice.
    pub practice_id: Option<String>,
}

/// A batch to append: all or nothing, in order, one practice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The events, in order.
    pub events: Vec<NewEvent>,
}

/// How to append: for real, or as a dry run that answers what would be stored.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AppendOptions {
    /// Check and plan the append exactly as a real one, then roll it back: nothing is
    /// written, the chain does not move, and the answer is the would-be events.
    pub dry_run: bool,
}

/// What to generate into a practice from the registry's schemas.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateRequest {
    /// Event types to generate (an array, or one comma-separated string); empty or absent:
    /// every registered type except the practice's own and the membership types.
    #[serde(default, deserialize_with = "list::comma_separated")]
    #[cfg_attr(feature = "specta", specta(type = Vec<String>))]
    pub event_types: Vec<String>,
    /// How many events, 1 to 100,000, opening events (`*.created`) included.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100_000))]
    #[serde(deserialize_with = "super::json::whole_number")]
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub count: u32,
    /// Random seed: the same seed on the same practice contents gives the same payloads.
    /// Absent: one is chosen and returned.
    #[serde(default, deserialize_with = "super::json::optional_whole_number")]
    #[cfg_attr(feature = "specta", specta(type = Option<u64>))]
    pub seed: Option<u64>,
}

/// Verify a practice's chain, and optionally that it still reaches a head recorded earlier.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct VerifyQuery {
    /// A head hash recorded earlier (an export's `headHash`): 64 lowercase hex digits.
    #[cfg_attr(feature = "openapi", param(pattern = "^[0-9a-f]{64}$"))]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub against_hash: Option<String>,
    /// Its seq (an export's `headSeq`), when known.
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub against_seq: Option<i64>,
}

impl VerifyQuery {
    /// The anchor asked about, checked.
    pub fn anchor(&self) -> Result<Option<crate::store::Anchor>, crate::Error> {
        match (&self.against_hash, self.against_seq) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(crate::Error::invalid(
                "/againstHash",
                "is needed with againstSeq: an anchor is a hash (and its seq)",
            )),
            (Some(hash), seq) => {
                if hash.len() != 64
                    || !hash
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(crate::Error::invalid(
                        "/againstHash",
                        "must be a SHA-256 hash: 64 lowercase hex digits",
                    ));
                }
                if seq.is_some_and(|s| s < 0) {
                    return Err(crate::Error::invalid("/againstSeq", "must be 0 or more"));
                }
                Ok(Some(crate::store::Anchor {
                    seq,
                    hash: hash.clone(),
                }))
            }
        }
    }
}

/// Skip the event a projector failed on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkipRequest {
    /// The event the projector failed on (its checkpoint's `errorEventId`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 255))]
    pub event_id: String,
    /// Why it is safe to pass over; recorded in the skip event.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}

mod list {
    use serde::Deserializer;
    use serde::de::{SeqAccess, Visitor};

    /// A list given either as an array (JSON) or as one comma-separated string (a query
    /// string: OpenAPI's `form` style without `explode`, where an empty string is an empty
    /// list). Items are taken as given, as in an array: the engine names a blank or padded one.
    pub fn comma_separated<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<String>, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of strings, or one comma-separated string")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
                if value.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(value.split(',').map(String::from).collect())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(items)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
        }
        deserializer.deserialize_any(List)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_come_as_an_array_or_a_comma_separated_string() {
        let from_json: TimelineQuery =
            serde_json::from_str(r#"{"eventTypes":["a.b","c.d"],"limit":5}"#).unwrap();
        let from_query: TimelineQuery =
            serde_urlencoded::from_str("eventTypes=a.b,c.d&limit=5").unwrap();
        assert_eq!(from_json, from_query);
        assert_eq!(from_query.event_types, ["a.b", "c.d"]);
        assert_eq!(from_query.limit, Some(5));
        let empty: TimelineQuery = serde_urlencoded::from_str("eventTypes=").unwrap();
        assert!(empty.event_types.is_empty(), "an empty string is no filter");
    }

    #[test]
    fn listed_event_types_are_taken_as_given_for_the_engine_to_check() {
        let query: TimelineQuery = serde_urlencoded::from_str("eventTypes=a.b,%20c.d,").unwrap();
        assert_eq!(query.event_types, ["a.b", " c.d", ""]);
    }

    #[test]
    fn unknown_options_are_refused_by_name() {
        let error = serde_urlencoded::from_str::<TimelineQuery>("limt=5").unwrap_err();
        assert!(error.to_string().contains("limt"), "{error}");
    }
}
