//! The only SQL that differs between the backends. Everything else uses `$N` placeholders,
//! which both sqlx drivers accept.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::rows::unpadded_hash;
use crate::error::{Error, Result};
use crate::model::Role;

pub(crate) struct Dialect {
    /// Claims a projector checkpoint for one runner step. PostgreSQL skips a row another
    /// runner holds; SQLite's write lock already excludes other runners.
    pub claim_checkpoint: &'static str,
    /// Names of the user tables in the connected database/schema.
    pub list_tables: &'static str,
}

pub(crate) const SQLITE: Dialect = Dialect {
    claim_checkpoint: "SELECT last_seq, state, rate_window_start, rate_window_events FROM projector_checkpoints \
                       WHERE practice_id = $1 AND projector_name = $2",
    list_tables: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
};

/// PostgreSQL reads and locks the practice head first, so appends to one practice serialize
/// while other practices proceed. (SQLite holds the database's write lock already and reads
/// the head with the rest of the append context.)
pub(crate) const POSTGRES_LOCK_HEAD: &str = "SELECT seq, hash, last_event_at, export_digest_state FROM practice_heads WHERE practice_id = $1 FOR UPDATE";

pub(crate) const POSTGRES: Dialect = Dialect {
    claim_checkpoint: "SELECT last_seq, state, rate_window_start, rate_window_events FROM projector_checkpoints \
                       WHERE practice_id = $1 AND projector_name = $2 FOR UPDATE SKIP LOCKED",
    list_tables: "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
};

/// Columns of `events`, in the order an INSERT binds them (`push_event_values!`).
pub(crate) const EVENT_COLUMNS: &str = "practice_id, seq, id, aggregate_type, aggregate_id, version, event_type, payload_json, actor_type, actor_id, created_at, hash, recorded_by";

/// The columns every row of `events` has its own value in, first in every read.
macro_rules! own_columns {
    () => {
        "seq, id, version, event_type, payload_json, actor_type, actor_id, created_at, hash, recorded_by"
    };
}

/// Columns of `events` in the order [`crate::store::rows::EventRow`] reads them: the ones a
/// query can fix for all its rows come last, so a query that fixes them reads the columns
/// before them ([`crate::store::rows::RowScope::columns`]).
pub(crate) const READ_COLUMNS: &str = concat!(
    own_columns!(),
    ", aggregate_type, aggregate_id, practice_id"
);
/// [`READ_COLUMNS`] of one practice's rows.
pub(crate) const PRACTICE_READ_COLUMNS: &str =
    concat!(own_columns!(), ", aggregate_type, aggregate_id");
/// [`READ_COLUMNS`] of one aggregate's rows.
pub(crate) const AGGREGATE_READ_COLUMNS: &str = own_columns!();

/// One row of the append context query as the database returns it: `(kind, a, b, n, d)`,
/// `kind` being the literal tag the queries below select. [`ContextRow::decode`] reads it.
pub(crate) type RawContextRow = (
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// One row of the append context query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ContextRow {
    /// The practice head (`'h'`): last seq, its hash, its time and the export digest's
    /// resumable state (`None` where unknown).
    Head {
        seq: i64,
        hash: String,
        last_event_at: Option<DateTime<Utc>>,
        digest_state: Option<Vec<u8>>,
    },
    /// A membership (`'r'`) of a user the append involves.
    Role { user_id: String, role: Role },
    /// A stream the batch touches (`'v'`); `version` is `None` while it has no events.
    StreamVersion {
        aggregate_type: String,
        aggregate_id: String,
        version: Option<i64>,
    },
}

impl ContextRow {
    /// The one place that knows the tags: `('h', hash, time, seq, digest state in hex)` for the
    /// practice head, `('r', user, role, -, -)` for a membership, `('v', type, id, max version,
    /// -)` for a stream.
    pub(crate) fn decode(row: RawContextRow) -> Result<Self> {
        Ok(match row {
            (kind, Some(hash), time, Some(seq), digest_state) if kind == "h" => ContextRow::Head {
                seq,
                hash: unpadded_hash(&hash).to_string(),
                last_event_at: time
                    .map(|t| DateTime::parse_from_rfc3339(&t).map(|t| t.to_utc()))
                    .transpose()
                    .map_err(|e| Error::undecodable(format!("practice head time: {e}")))?,
                // SQLite's hex() of NULL is the empty text.
                digest_state: digest_state
                    .filter(|hex| !hex.is_empty())
                    .map(hex::decode)
                    .transpose()
                    .map_err(|e| Error::undecodable(format!("practice head digest state: {e}")))?,
            },
            (kind, Some(user_id), Some(role), _, _) if kind == "r" => ContextRow::Role {
                user_id,
                role: role.parse().map_err(Error::undecodable)?,
            },
            (kind, Some(aggregate_type), Some(aggregate_id), version, _) if kind == "v" => {
                ContextRow::StreamVersion {
                    aggregate_type,
                    aggregate_id,
                    version,
                }
            }
            other => {
                return Err(Error::undecodable(format!(
                    "unexpected append context row {other:?}"
                )));
            }
        })
    }
}

/// SQLite's append context: each stream's current version (`?2`, a JSON array of
/// `[aggregate_type, aggregate_id]`), the roles of the users involved (`?3`, a JSON array)
/// and the practice head (`?1`), as one JSON array of `(kind, a, b, n, d)` rows. One fixed
/// statement, prepared once; a scalar subquery per stream is an index probe whatever the
/// statistics say.
pub(crate) const SQLITE_APPEND_CONTEXT: &str = "SELECT json_group_array(json_array(k, a, b, n, d)) FROM (\
     SELECT 'v' AS k, s.value ->> 0 AS a, s.value ->> 1 AS b, \
     (SELECT version FROM events WHERE practice_id = ?1 AND aggregate_type = s.value ->> 0 \
      AND aggregate_id = s.value ->> 1 ORDER BY version DESC LIMIT 1) AS n, NULL AS d \
     FROM json_each(?2) AS s \
     UNION ALL SELECT 'r', user_id, role, NULL, NULL FROM memberships \
     WHERE practice_id = ?1 AND user_id IN (SELECT value FROM json_each(?3)) \
     UNION ALL SELECT 'h', hash, last_event_at, seq, hex(export_digest_state) \
     FROM practice_heads WHERE practice_id = ?1)";

/// PostgreSQL's append context: each stream's current version, the roles of the users
/// involved and (where asked) the practice head, in one round trip and one statement whose
/// plan is an index probe per stream.
pub(crate) fn postgres_append_context(
    practice_id: &str,
    streams: &[(&str, &str)],
    users: &[&str],
    with_head: bool,
) -> QueryBuilder<Postgres> {
    let mut q = QueryBuilder::new("SELECT 'v'::text, k.t, k.i, ");
    q.push("(SELECT version FROM events WHERE practice_id = ")
            .push_bind(practice_id.to_string())
            .push(" AND aggregate_type = k.t AND aggregate_id = k.i ORDER BY version DESC LIMIT 1), NULL::text FROM ");
    if let [(aggregate_type, aggregate_id)] = streams {
        // One stream, the common append: a row of parameters, which the planner knows is
        // one row, so the statement settles on its generic plan instead of planning anew
        // each time as it does for an array (estimated at 100 elements).
        q.push("(SELECT ")
            .push_bind(aggregate_type.to_string())
            .push("::text AS t, ")
            .push_bind(aggregate_id.to_string())
            .push("::text AS i) AS k");
    } else {
        let (types, ids): (Vec<String>, Vec<String>) = streams
            .iter()
            .map(|(t, i)| (t.to_string(), i.to_string()))
            .unzip();
        q.push("unnest(")
            .push_bind(types)
            .push("::text[], ")
            .push_bind(ids)
            .push("::text[]) AS k(t, i)");
    }
    q.push(" UNION ALL SELECT 'r', user_id, role, NULL::bigint, NULL::text FROM memberships WHERE practice_id = ");
    q.push_bind(practice_id.to_string())
        .push(" AND user_id = ANY(");
    q.push_bind(users.iter().map(|u| u.to_string()).collect::<Vec<_>>())
        .push("::text[])");
    if with_head {
        // The time as RFC 3339 in UTC with microseconds, whatever the session's DateStyle.
        q.push(
            " UNION ALL SELECT 'h', hash::text, \
                 to_char(last_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
                 seq, encode(export_digest_state, 'hex') FROM practice_heads WHERE practice_id = ",
        );
        q.push_bind(practice_id.to_string());
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: &str, a: Option<&str>, b: Option<&str>, n: Option<i64>) -> RawContextRow {
        (kind.into(), a.map(Into::into), b.map(Into::into), n, None)
    }

    #[test]
    fn context_rows_decode_by_their_tag() {
        let hash = "ab".repeat(32);
        assert_eq!(
            ContextRow::decode(raw(
                "h",
                Some(&format!("{hash}  ")),
                Some("2026-03-02T09:30:00.123456+00:00"),
                Some(7)
            ))
            .unwrap(),
            ContextRow::Head {
                seq: 7,
                hash: hash.clone(),
                last_event_at: Some("2026-03-02T09:30:00.123456Z".parse().unwrap()),
                digest_state: None,
            }
        );
        let mut with_state = raw("h", Some(&hash), None, Some(7));
        with_state.4 = Some("00ff".into());
        assert!(matches!(
            ContextRow::decode(with_state).unwrap(),
            ContextRow::Head { digest_state: Some(state), .. } if state == [0, 255]
        ));
        let mut sqlite_null = raw("h", Some(&hash), None, Some(7));
        sqlite_null.4 = Some(String::new());
        assert!(matches!(
            ContextRow::decode(sqlite_null).unwrap(),
            ContextRow::Head {
                digest_state: None,
                ..
            }
        ));
        assert_eq!(
            ContextRow::decode(raw("r", Some("alice"), Some("admin"), None)).unwrap(),
            ContextRow::Role {
                user_id: "alice".into(),
                role: Role::Admin
            }
        );
        assert_eq!(
            ContextRow::decode(raw("v", Some("patient"), Some("pa1"), None)).unwrap(),
            ContextRow::StreamVersion {
                aggregate_type: "patient".into(),
                aggregate_id: "pa1".into(),
                version: None
            }
        );
        for corrupt in [
            raw("x", Some("a"), Some("b"), Some(1)),
            raw("h", Some("hash"), Some("yesterday"), Some(1)),
            raw("r", Some("alice"), Some("janitor"), None),
        ] {
            assert!(
                matches!(
                    ContextRow::decode(corrupt.clone()),
                    Err(Error::Database(sqlx::Error::Decode(_)))
                ),
                "{corrupt:?} is refused as undecodable"
            );
        }
    }
}
