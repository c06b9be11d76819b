//! Recomputes a practice's hash chain from the stored rows, in pages (constant memory),
//! and names the first event that breaks it: an edited field, a gap or reorder in seq, an
//! event without `recordedBy` after the chain moved to form 2, or a head row that is missing
//! or does not match the last event. It trusts no derived table: every membership is rebuilt
//! from the membership events and compared with the rows access checks read.

use serde::{Deserialize, Serialize};

use super::rows::{EventRow, unpadded_hash};
use super::sql::READ_COLUMNS;
use super::{Store, dispatch};
use std::collections::BTreeMap;

use crate::chain::{HashedFields, ZERO_HASH, chain_hash};
use crate::error::{Error, Result};
use crate::model::{Principal, Role};

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
    /// Membership rows that differ from what the membership events say, by user id.
    pub membership_problems: Vec<MembershipProblem>,
    /// Whether the store still holds the chain up to a head recorded earlier, when asked.
    pub anchor: Option<AnchorCheck>,
}

impl ChainReport {
    /// True when nothing is missing or altered, every membership follows its events, and the
    /// chain still reaches the anchor asked about.
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
            && self.membership_problems.is_empty()
            && self.anchor.as_ref().is_none_or(|a| a.held)
    }
}

/// A chain head recorded outside the store (an export's manifest, a hash written down): the
/// store must still hold, unchanged, the history that led to it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchor {
    /// Its seq, when known; without it, any event with the hash will do.
    pub seq: Option<i64>,
    /// The head hash recorded.
    pub hash: String,
}

/// What became of an anchor.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchorCheck {
    /// The anchor asked about.
    pub anchor: Anchor,
    /// The store's event there recomputes to the anchored hash, and the chain up to it is intact.
    pub held: bool,
    /// Where it was found.
    pub found_at_seq: Option<i64>,
    /// Why it does not hold.
    pub problem: Option<String>,
}

/// A membership row that is not what the practice's membership events say.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipProblem {
    /// The member.
    pub user_id: String,
    /// The role the events give (`None`: not a member).
    pub expected_role: Option<Role>,
    /// The role the stored row gives (`None`: no row).
    pub stored_role: Option<Role>,
    /// What is wrong, in words.
    pub problem: String,
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
        self.verify_chain_against(principal, practice_id, None)
            .await
    }

    /// [`Store::verify_chain`], and whether the recomputed chain still reaches `anchor`: a head
    /// recorded before. A store whose owner rewrote history (guards dropped, events replaced,
    /// hashes recomputed) verifies as a consistent chain, but no longer reaches the anchor.
    pub async fn verify_chain_against(
        &self,
        principal: &Principal,
        practice_id: &str,
        anchor: Option<&Anchor>,
    ) -> Result<ChainReport> {
        self.read_access(principal, practice_id).await?;
        let mut anchored: Option<i64> = anchor
            .filter(|a| a.seq == Some(0) && a.hash == ZERO_HASH)
            .map(|_| 0);
        let mut previous = ZERO_HASH.to_string();
        let mut expected_seq = 1;
        let mut report = ChainReport {
            practice_id: practice_id.to_string(),
            events_checked: 0,
            head_hash: previous.clone(),
            first_break: None,
            membership_problems: self.membership_problems(practice_id).await?,
            anchor: None,
        };
        let settle = |report: &mut ChainReport, anchored: Option<i64>| {
            if let Some(anchor) = anchor {
                report.anchor = Some(anchor_check(anchor, anchored, report));
            }
        };
        let mut form_2_began = false;
        loop {
            let rows: Vec<EventRow> = dispatch!(self, |pool, _sql| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {READ_COLUMNS} FROM events WHERE practice_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
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
                    settle(&mut report, anchored);
                    return Ok(report);
                }
                if row.recorded_by.is_some() {
                    form_2_began = true;
                } else if form_2_began {
                    report.first_break = Some(broken(
                        "recordedBy is missing after the chain moved to form 2 (who appended it is hidden)"
                            .to_string(),
                    ));
                    settle(&mut report, anchored);
                    return Ok(report);
                }
                let Ok(actor_type) = row.actor_type.parse() else {
                    report.first_break =
                        Some(broken(format!("unknown actor type {:?}", row.actor_type)));
                    settle(&mut report, anchored);
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
                        recorded_by: row.recorded_by.as_deref(),
                    },
                );
                if recomputed != unpadded_hash(&row.hash) {
                    report.first_break = Some(broken(format!(
                        "stored hash {} does not match the recomputed {recomputed}: the event or one before it was altered",
                        unpadded_hash(&row.hash)
                    )));
                    settle(&mut report, anchored);
                    return Ok(report);
                }
                if let Some(anchor) = anchor
                    && anchored.is_none()
                    && anchor.seq.is_none_or(|seq| seq == row.seq)
                    && recomputed == anchor.hash
                {
                    anchored = Some(row.seq);
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
        if head.is_none() && report.events_checked > 0 {
            report.first_break = Some(ChainBreak {
                seq: report.events_checked,
                event_id: None,
                problem: format!(
                    "the practice head row is missing, but the events end at seq {} with hash {}",
                    report.events_checked, report.head_hash
                ),
            });
        } else if let Some((seq, hash)) = head
            && (seq != report.events_checked || unpadded_hash(&hash) != report.head_hash)
        {
            report.first_break = Some(ChainBreak {
                seq: report.events_checked + 1,
                event_id: None,
                problem: format!(
                    "the practice head says seq {seq} with hash {}, but the events end at seq {} with hash {}: events are missing or the head was altered",
                    unpadded_hash(&hash),
                    report.events_checked,
                    report.head_hash
                ),
            });
        }
        settle(&mut report, anchored);
        Ok(report)
    }

    /// Rebuilds every membership of the practice from its membership events and lists the
    /// stored rows that differ.
    async fn membership_problems(&self, practice_id: &str) -> Result<Vec<MembershipProblem>> {
        let events: Vec<(i64, String, String, String)> = dispatch!(self, |pool, _sql| {
            sqlx::query_as(
                "SELECT seq, event_type, aggregate_id, payload_json FROM events \
                 WHERE practice_id = $1 AND aggregate_type = 'membership' ORDER BY seq",
            )
            .bind(practice_id)
            .fetch_all(pool)
            .await?
        });
        let mut expected: BTreeMap<String, (Role, i64)> = BTreeMap::new();
        for (seq, event_type, user_id, payload_json) in events {
            if event_type == "membership.removed" {
                expected.remove(&user_id);
                continue;
            }
            let payload: serde_json::Value =
                serde_json::from_str(&payload_json).map_err(Error::undecodable)?;
            if let Some(role) = payload["role"].as_str().and_then(|r| r.parse().ok()) {
                expected.insert(user_id, (role, seq));
            }
        }
        let rows: Vec<(String, String, i64)> = dispatch!(self, |pool, _sql| {
            sqlx::query_as(
                "SELECT user_id, role, updated_seq FROM memberships WHERE practice_id = $1 ORDER BY user_id",
            )
            .bind(practice_id)
            .fetch_all(pool)
            .await?
        });
        let mut problems = Vec::new();
        let mut stored: BTreeMap<String, (Option<Role>, i64)> = BTreeMap::new();
        for (user_id, role, updated_seq) in rows {
            stored.insert(user_id, (role.parse().ok(), updated_seq));
        }
        for (user_id, (role, seq)) in &expected {
            match stored.get(user_id) {
                None => problems.push(MembershipProblem {
                    user_id: user_id.clone(),
                    expected_role: Some(*role),
                    stored_role: None,
                    problem: format!("the events make {user_id:?} {role} (seq {seq}), but no membership row exists"),
                }),
                Some((found, found_seq)) if *found != Some(*role) || found_seq != seq => {
                    problems.push(MembershipProblem {
                        user_id: user_id.clone(),
                        expected_role: Some(*role),
                        stored_role: *found,
                        problem: format!(
                            "the events make {user_id:?} {role} (seq {seq}), but the row says {} (seq {found_seq})",
                            found.map_or("an unknown role".to_string(), |r| r.to_string())
                        ),
                    })
                }
                Some(_) => {}
            }
        }
        for (user_id, (found, found_seq)) in &stored {
            if !expected.contains_key(user_id) {
                problems.push(MembershipProblem {
                    user_id: user_id.clone(),
                    expected_role: None,
                    stored_role: *found,
                    problem: format!(
                        "a membership row (seq {found_seq}) gives {user_id:?} access, but no membership event does"
                    ),
                });
            }
        }
        Ok(problems)
    }
}

/// Whether the walk reached the anchor, and if not, why.
fn anchor_check(anchor: &Anchor, found: Option<i64>, report: &ChainReport) -> AnchorCheck {
    let problem = match (found, &report.first_break, anchor.seq) {
        (Some(_), _, _) => None,
        (None, Some(broken), _) => Some(format!(
            "the chain breaks at seq {} before it reaches the anchor",
            broken.seq
        )),
        (None, None, Some(seq)) if seq > report.events_checked => Some(format!(
            "the store ends at seq {}, before the anchored seq {seq}: events were removed",
            report.events_checked
        )),
        (None, None, Some(seq)) => Some(format!(
            "the store's event at seq {seq} does not have the anchored hash {}: the history up to it was rewritten",
            anchor.hash
        )),
        (None, None, None) => Some(format!(
            "no event in the store has the anchored hash {}: the history was rewritten",
            anchor.hash
        )),
    };
    AnchorCheck {
        anchor: anchor.clone(),
        held: found.is_some(),
        found_at_seq: found,
        problem,
    }
}
