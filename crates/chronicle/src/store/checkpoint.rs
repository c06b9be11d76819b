//! Projector checkpoints: how far each (practice, projector) has processed. The seed's
//! fields (`id, practiceId, projectorName, lastEventId, updatedAt`) plus the last seq, a
//! state and the last error. `lastEventId` is always the id of the event at `lastSeq`,
//! looked up by the store, so the two cannot disagree.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, dispatch, in_write_transaction};
use crate::error::{Error, Result};
use crate::model::Principal;
use crate::rules::{MAX_ID_LEN, MAX_TYPE_LEN, check_name};

/// Where a projector stands for a practice.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointState {
    /// Behind the head and working.
    CatchingUp,
    /// At the head.
    CaughtUp,
    /// Stopped on an event that failed; see the error.
    Failed,
    /// Stopped by an operator.
    Stopped,
}

impl CheckpointState {
    /// Stopped until an operator retries it: the states the engine's retry accepts.
    pub fn is_retryable(self) -> bool {
        matches!(self, CheckpointState::Failed | CheckpointState::Stopped)
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointState::CatchingUp => "catching_up",
            CheckpointState::CaughtUp => "caught_up",
            CheckpointState::Failed => "failed",
            CheckpointState::Stopped => "stopped",
        }
    }
}

impl fmt::Display for CheckpointState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for CheckpointState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "catching_up" => Ok(CheckpointState::CatchingUp),
            "caught_up" => Ok(CheckpointState::CaughtUp),
            "failed" => Ok(CheckpointState::Failed),
            "stopped" => Ok(CheckpointState::Stopped),
            other => Err(format!("{other:?} is not a checkpoint state")),
        }
    }
}

/// A stored checkpoint.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// Row id (UUIDv7).
    pub id: String,
    /// The practice.
    pub practice_id: String,
    /// The projector.
    pub projector_name: String,
    /// Id of the event at `last_seq`; `None` before the first event.
    pub last_event_id: Option<String>,
    /// Last seq applied; 0 before the first event.
    pub last_seq: i64,
    /// Where it stands.
    pub state: CheckpointState,
    /// Why it failed, if it did.
    pub last_error: Option<String>,
    /// The event that failed, if any.
    pub error_event_id: Option<String>,
    /// When this row last changed.
    pub updated_at: DateTime<Utc>,
}

/// A checkpoint move, as a projector runner reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointUpdate {
    /// The practice.
    pub practice_id: String,
    /// The projector.
    pub projector_name: String,
    /// Last seq applied (0 only through [`Store::reset_checkpoint`]).
    pub last_seq: i64,
    /// New state.
    pub state: CheckpointState,
    /// Error text when failed.
    pub last_error: Option<String>,
    /// Failing event when failed.
    pub error_event_id: Option<String>,
}

type CheckpointRow = (
    String,
    String,
    String,
    Option<String>,
    i64,
    String,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);

fn from_row(row: CheckpointRow) -> Result<Checkpoint> {
    let (
        id,
        practice_id,
        projector_name,
        last_event_id,
        last_seq,
        state,
        last_error,
        error_event_id,
        updated_at,
    ) = row;
    Ok(Checkpoint {
        id,
        practice_id,
        projector_name,
        last_event_id,
        last_seq,
        state: state.parse().map_err(Error::undecodable)?,
        last_error,
        error_event_id,
        updated_at,
    })
}

const CHECKPOINT_COLUMNS: &str = "id, practice_id, projector_name, last_event_id, last_seq, state, last_error, error_event_id, updated_at";

impl Store {
    /// The checkpoints of a practice, by projector name.
    pub async fn checkpoints(
        &self,
        principal: &Principal,
        practice_id: &str,
    ) -> Result<Vec<Checkpoint>> {
        self.read_access(principal, practice_id).await?;
        let rows: Vec<CheckpointRow> = dispatch!(self, |pool, _sql| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CHECKPOINT_COLUMNS} FROM projector_checkpoints WHERE practice_id = $1 ORDER BY projector_name"
            )))
            .bind(practice_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(from_row).collect()
    }

    /// One checkpoint, if the projector has ever run for the practice.
    pub async fn checkpoint(
        &self,
        principal: &Principal,
        practice_id: &str,
        projector_name: &str,
    ) -> Result<Option<Checkpoint>> {
        Ok(self
            .checkpoints(principal, practice_id)
            .await?
            .into_iter()
            .find(|c| c.projector_name == projector_name))
    }

    /// Records a projector's progress. Refuses a seq beyond the practice head, and a move
    /// backwards (only [`Store::reset_checkpoint`] goes back to 0). Runners hold the
    /// database already, so this takes no principal.
    pub async fn save_checkpoint(&self, update: &CheckpointUpdate) -> Result<Checkpoint> {
        let mut violations = Vec::new();
        check_name(
            "/practiceId",
            &update.practice_id,
            MAX_ID_LEN,
            &mut violations,
        );
        check_name(
            "/projectorName",
            &update.projector_name,
            MAX_TYPE_LEN,
            &mut violations,
        );
        if update.last_seq < 0 {
            violations.push(crate::error::Violation::new(
                "/lastSeq",
                "must not be negative",
            ));
        }
        if !violations.is_empty() {
            return Err(Error::Invalid { violations });
        }
        let saved: CheckpointRow = in_write_transaction!(self, |tx, _sql, _Db| {
            let head: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM practice_heads WHERE practice_id = $1")
                    .bind(&update.practice_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let head = head.unwrap_or(0);
            if update.last_seq > head {
                return Err(Error::invalid(
                    "/lastSeq",
                    format!(
                        "{} is beyond the practice's last event (seq {head})",
                        update.last_seq
                    ),
                ));
            }
            let current: Option<i64> = sqlx::query_scalar(
                "SELECT last_seq FROM projector_checkpoints WHERE practice_id = $1 AND projector_name = $2",
            )
            .bind(&update.practice_id)
            .bind(&update.projector_name)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(current) = current
                && update.last_seq < current
            {
                return Err(Error::Conflict {
                    reason: format!(
                        "checkpoint {}/{} would move backwards from seq {current} to {}; reset it instead",
                        update.practice_id, update.projector_name, update.last_seq
                    ),
                });
            }
            let last_event_id: Option<String> =
                sqlx::query_scalar("SELECT id FROM events WHERE practice_id = $1 AND seq = $2")
                    .bind(&update.practice_id)
                    .bind(update.last_seq)
                    .fetch_optional(&mut *tx)
                    .await?;
            let row: CheckpointRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO projector_checkpoints ({CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (practice_id, projector_name) DO UPDATE SET last_event_id = excluded.last_event_id, \
                 last_seq = excluded.last_seq, state = excluded.state, last_error = excluded.last_error, \
                 error_event_id = excluded.error_event_id, updated_at = excluded.updated_at \
                 RETURNING {CHECKPOINT_COLUMNS}"
            )))
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&update.practice_id)
            .bind(&update.projector_name)
            .bind(last_event_id)
            .bind(update.last_seq)
            .bind(update.state.as_str())
            .bind(&update.last_error)
            .bind(&update.error_event_id)
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            row
        });
        from_row(saved)
    }

    /// Puts a checkpoint back to seq 0 so its projector rebuilds from the first event.
    pub async fn reset_checkpoint(&self, practice_id: &str, projector_name: &str) -> Result<()> {
        in_write_transaction!(self, |tx, _sql, _Db| {
            sqlx::query(
                "UPDATE projector_checkpoints SET last_seq = 0, last_event_id = NULL, state = $4, \
                 last_error = NULL, error_event_id = NULL, updated_at = $3 WHERE practice_id = $1 AND projector_name = $2",
            )
            .bind(practice_id)
            .bind(projector_name)
            .bind(Utc::now())
            .bind(CheckpointState::CatchingUp.as_str())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
