//! Recomputes a practice's hash chain from the stored rows, in pages (constant memory),
//! and names the first event that breaks it: an edited field, a gap or reorder in seq, or
//! a head that does not match the last event.

use serde::{Deserialize, Serialize};

use super::rows::{EventRow, unpadded_hash};
use super::sql::EVENT_COLUMNS;
use super::{Store, dispatch};
use crate::chain::{HashedFields, ZERO_HASH, chain_hash};
use crate::error::Result;
use crate::model::Principal;

const VERIFY_PAGE: i64 = 1000;

/// The outcome of a chain check.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainReport {
    /// The practice checked.
    pub practice_id: String,
    /// Events recomputed before stopping.
    pub events_checked: i64,
    /// The last good hash.
    pub head_hash: String,
    /// The first problem, if any.
    pub first_break: Option<ChainBreak>,
}

impl ChainReport {
    /// True when nothing is missing or altered.
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Where the chain breaks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainBreak {
    /// Seq at which it breaks.
    pub seq: i64,
    /// The event found there, if any.
    pub event_id: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl Store {
    /// Recomputes every hash of the practice and compares with what is stored.
    pub async fn verify_chain(
        &self,
        principal: &Principal,
        practice_id: &str,
    ) -> Result<ChainReport> {
        self.read_access(principal, practice_id).await?;
        let mut previous = ZERO_HASH.to_string();
        let mut expected_seq = 1;
        let mut report = ChainReport {
            practice_id: practice_id.to_string(),
            events_checked: 0,
            head_hash: previous.clone(),
            first_break: None,
        };
        loop {
            let rows: Vec<EventRow> = dispatch!(self, |pool, _sql| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE practice_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
                )))
                .bind(practice_id)
                .bind(expected_seq)
                .bind(VERIFY_PAGE)
                .fetch_all(pool)
                .await?
            });
            let done = (rows.len() as i64) < VERIFY_PAGE;
            for row in rows {
                let broken = |problem: String| ChainBreak {
                    seq: expected_seq,
                    event_id: Some(row.id.clone()),
                    problem,
                };
                if row.seq != expected_seq {
                    report.first_break = Some(broken(format!(
                        "seq {expected_seq} is missing; the next event has seq {}",
                        row.seq
                    )));
                    return Ok(report);
                }
                let Ok(actor_type) = row.actor_type.parse() else {
                    report.first_break =
                        Some(broken(format!("unknown actor type {:?}", row.actor_type)));
                    return Ok(report);
                };
                let recomputed = chain_hash(
                    &previous,
                    &HashedFields {
                        id: &row.id,
                        practice_id: &row.practice_id,
                        seq: row.seq,
                        aggregate_type: &row.aggregate_type,
                        aggregate_id: &row.aggregate_id,
                        version: row.version,
                        event_type: &row.event_type,
                        payload_json: &row.payload_json,
                        actor_type,
                        actor_id: row.actor_id.as_deref(),
                        created_at: row.created_at,
                    },
                );
                if recomputed != unpadded_hash(&row.hash) {
                    report.first_break = Some(broken(format!(
                        "stored hash {} does not match the recomputed {recomputed}: the event or one before it was altered",
                        unpadded_hash(&row.hash)
                    )));
                    return Ok(report);
                }
                previous = recomputed;
                report.events_checked += 1;
                report.head_hash = previous.clone();
                expected_seq += 1;
            }
            if done {
                break;
            }
        }
        let head: Option<(i64, String)> = dispatch!(self, |pool, _sql| {
            sqlx::query_as("SELECT seq, hash FROM practice_heads WHERE practice_id = $1")
                .bind(practice_id)
                .fetch_optional(pool)
                .await?
        });
        if let Some((seq, hash)) = head
            && (seq != report.events_checked || unpadded_hash(&hash) != report.head_hash)
        {
            report.first_break = Some(ChainBreak {
                seq: report.events_checked + 1,
                event_id: None,
                problem: format!(
                    "the practice head says seq {seq} with hash {}, but the events end at seq {} with hash {}: events are missing",
                    unpadded_hash(&hash),
                    report.events_checked,
                    report.head_hash
                ),
            });
        }
        Ok(report)
    }
}
