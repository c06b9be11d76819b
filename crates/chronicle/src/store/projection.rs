//! The storage side of projections: one runner step applies a batch of events to a read
//! model and advances its checkpoint in the same transaction; plus status, retry and reset.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::rows::{EventRow, RECORD_COLUMNS, RecordRow, into_events};
use super::sql::READ_COLUMNS;
use super::sqlite_reads::SqliteQuery;
use super::{Backend, Store, dispatch, in_write_transaction};
use crate::error::{Error, Result};
use crate::model::{ActorType, Event, NewEvent, Principal};
use crate::projection::{ProjectionTx, Projector, ProjectorFailure, ProjectorStatus, SkippedEvent};
use crate::store::CheckpointState;
use crate::store::append::Operation;

/// What one runner step did.
#[derive(Debug)]
pub(crate) enum Step {
    /// Applied this many events (and moved the checkpoint past them).
    Applied(usize),
    /// Nothing after the checkpoint.
    CaughtUp,
    /// Another runner holds this (practice, projector) right now.
    Busy,
    /// Failed or stopped earlier; waits for an operator.
    Halted,
    /// The projector refused a batch; the checkpoint is now `failed`.
    Failed(ProjectorFailure),
}

type Claim = (i64, String, Option<DateTime<Utc>>, i64);

/// The event type that records a skipped poison event.
const SKIP_EVENT_TYPE: &str = "projector.event_skipped";

#[derive(sqlx::FromRow)]
struct StatusRow {
    projector_name: String,
    last_event_id: Option<String>,
    last_seq: i64,
    state: String,
    last_error: Option<String>,
    error_event_id: Option<String>,
    updated_at: DateTime<Utc>,
    rate_window_start: Option<DateTime<Utc>>,
    rate_window_events: i64,
}

/// The rate window covers about the last minute of work.
const RATE_WINDOW_SECONDS: i64 = 60;

impl<'t> From<&'t mut sqlx::SqliteConnection> for ProjectionTx<'t> {
    fn from(connection: &'t mut sqlx::SqliteConnection) -> Self {
        ProjectionTx {
            connection: crate::projection::tx::Connection::Sqlite(connection),
        }
    }
}

impl<'t> From<&'t mut sqlx::PgConnection> for ProjectionTx<'t> {
    fn from(connection: &'t mut sqlx::PgConnection) -> Self {
        ProjectionTx {
            connection: crate::projection::tx::Connection::Postgres(connection),
        }
    }
}

impl Store {
    /// The practices where `projector` has something to do: events past its checkpoint, no
    /// checkpoint yet, or a state to settle (caught up, or halted for an operator). Idle
    /// practices are not returned, so a pass over them reads one index and writes nothing.
    pub(crate) async fn practices_with_work(&self, projector: &str) -> Result<Vec<String>> {
        Ok(dispatch!(self, |pool, _sql| {
            sqlx::query_scalar(
                "SELECT h.practice_id FROM practice_heads h LEFT JOIN projector_checkpoints c \
                 ON c.practice_id = h.practice_id AND c.projector_name = $1 \
                 WHERE h.seq > 0 AND (c.practice_id IS NULL OR c.last_seq < h.seq OR c.state <> $2) \
                 ORDER BY h.practice_id",
            )
            .bind(projector)
            .bind(CheckpointState::CaughtUp.as_str())
            .fetch_all(pool)
            .await?
        }))
    }

    /// One runner step for (practice, projector): claim the checkpoint, read up to
    /// `batch_size` events after it, apply them, advance the checkpoint, commit.
    pub(crate) async fn project_step(
        &self,
        practice_id: &str,
        projector: &dyn Projector,
        batch_size: i64,
    ) -> Result<Step> {
        let name = projector.name();
        let step = in_write_transaction!(self, |tx, sql, _Db| {
            let mut claim: Option<Claim> = sqlx::query_as(sql.claim_checkpoint)
                .bind(practice_id)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
            if claim.is_none() {
                let exists: Option<i64> = sqlx::query_scalar(
                    "SELECT last_seq FROM projector_checkpoints WHERE practice_id = $1 AND projector_name = $2",
                )
                .bind(practice_id)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
                if exists.is_some() {
                    return Ok(Step::Busy);
                }
                sqlx::query(
                    "INSERT INTO projector_checkpoints (id, practice_id, projector_name, last_seq, state, updated_at) \
                     VALUES ($1, $2, $3, 0, $5, $4) ON CONFLICT (practice_id, projector_name) DO NOTHING",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(practice_id)
                .bind(name)
                .bind(Utc::now())
                .bind(CheckpointState::CatchingUp.as_str())
                .execute(&mut *tx)
                .await?;
                claim = sqlx::query_as(sql.claim_checkpoint)
                    .bind(practice_id)
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            let Some((last_seq, state, window_start, window_events)) = claim else {
                return Ok(Step::Busy);
            };
            let state: CheckpointState = state.parse().map_err(Error::undecodable)?;
            if state.is_retryable() {
                tx.rollback().await?;
                return Ok(Step::Halted);
            }
            let events: Vec<Event> = match self.backend() {
                // Events are immutable and commits append whole runs of seqs, so a read
                // connection's snapshot gives the same batch (or a shorter one, caught up next
                // step), decoded in-process instead of row by row through sqlx's worker.
                Backend::Sqlite { readers, .. } => {
                    let mut q = SqliteQuery::new(format!(
                        "SELECT {READ_COLUMNS} FROM events WHERE practice_id = "
                    ));
                    q.push_bind(practice_id)
                        .push(" AND seq > ")
                        .push_bind(last_seq)
                        .push(" ORDER BY seq LIMIT ")
                        .push_bind(batch_size);
                    readers.events(q).await?
                }
                Backend::Postgres { .. } => {
                    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {READ_COLUMNS} FROM events WHERE practice_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                    )))
                    .bind(practice_id)
                    .bind(last_seq)
                    .bind(batch_size)
                    .fetch_all(&mut *tx)
                    .await?;
                    into_events(rows)?
                }
            };
            let now = Utc::now();
            if events.is_empty() {
                if state != CheckpointState::CaughtUp {
                    sqlx::query("UPDATE projector_checkpoints SET state = $4, updated_at = $3 WHERE practice_id = $1 AND projector_name = $2")
                        .bind(practice_id)
                        .bind(name)
                        .bind(now)
                        .bind(CheckpointState::CaughtUp.as_str())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    self.notify_checkpoint(practice_id, name);
                }
                return Ok(Step::CaughtUp);
            }
            // Poison events an operator skipped, read from the log itself so a reset skips them again.
            let skip_events: Vec<String> = sqlx::query_scalar(
                "SELECT payload_json FROM events WHERE practice_id = $1 AND event_type = $2 \
                 AND aggregate_type = 'projector' AND aggregate_id = $3",
            )
            .bind(practice_id)
            .bind(SKIP_EVENT_TYPE)
            .bind(name)
            .fetch_all(&mut *tx)
            .await?;
            let skipped: HashSet<i64> = skip_events
                .iter()
                .filter_map(|text| {
                    serde_json::from_str::<serde_json::Value>(text).ok()?["seq"].as_i64()
                })
                .collect();
            let applies = |e: &Event| projector.handles(&e.event_type) && !skipped.contains(&e.seq);
            let applied = {
                let handled: Vec<Event>;
                let to_apply: &[Event] = if events.iter().all(applies) {
                    &events
                } else {
                    handled = events.iter().filter(|e| applies(e)).cloned().collect();
                    &handled
                };
                if to_apply.is_empty() {
                    Ok(())
                } else {
                    let mut projection = ProjectionTx::from(&mut *tx);
                    projector
                        .apply(&mut projection, practice_id, to_apply)
                        .await
                }
            };
            if let Err(failure) = applied {
                tx.rollback().await?;
                Step::Failed(failure)
            } else {
                let last = events.last().expect("a non-empty batch");
                let (window_start, window_events) = match window_start {
                    Some(start) if now - start < Duration::seconds(RATE_WINDOW_SECONDS) => {
                        (start, window_events + events.len() as i64)
                    }
                    _ => (now, events.len() as i64),
                };
                let caught_up = (events.len() as i64) < batch_size;
                sqlx::query(
                    "UPDATE projector_checkpoints SET last_seq = $3, last_event_id = $4, state = $5, updated_at = $6, \
                     rate_window_start = $7, rate_window_events = $8, last_error = NULL, error_event_id = NULL \
                     WHERE practice_id = $1 AND projector_name = $2",
                )
                .bind(practice_id)
                .bind(name)
                .bind(last.seq)
                .bind(&last.id)
                .bind(if caught_up { CheckpointState::CaughtUp } else { CheckpointState::CatchingUp }.as_str())
                .bind(now)
                .bind(window_start)
                .bind(window_events)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Step::Applied(events.len())
            }
        });
        if let Step::Failed(failure) = &step {
            in_write_transaction!(self, |tx, _sql, _Db| {
                sqlx::query(
                    "UPDATE projector_checkpoints SET state = $6, last_error = $3, error_event_id = $4, updated_at = $5 \
                     WHERE practice_id = $1 AND projector_name = $2",
                )
                .bind(practice_id)
                .bind(name)
                .bind(&failure.message)
                .bind(&failure.event_id)
                .bind(Utc::now())
                .bind(CheckpointState::Failed.as_str())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            });
            tracing::warn!(practice_id, projector = name, error = %failure.message, "projector failed");
        }
        if matches!(step, Step::Applied(_) | Step::Failed(_)) {
            self.notify_checkpoint(practice_id, name);
        }
        Ok(step)
    }

    /// Only owners and admins (or the system principal) operate projectors.
    async fn operate_access(
        &self,
        principal: &Principal,
        practice_id: &str,
        action: &str,
    ) -> Result<()> {
        let role = self.read_access(principal, practice_id).await?;
        crate::access::authorize_projector_operation(role, action)
    }

    /// Lets a failed (or stopped) projector run again from where it stopped.
    pub async fn retry_projector(
        &self,
        principal: &Principal,
        practice_id: &str,
        projector_name: &str,
    ) -> Result<()> {
        self.operate_access(principal, practice_id, "retry").await?;
        let changed = in_write_transaction!(self, |tx, _sql, _Db| {
            let changed = sqlx::query(
                "UPDATE projector_checkpoints SET state = $4, last_error = NULL, error_event_id = NULL, \
                 updated_at = $3 WHERE practice_id = $1 AND projector_name = $2 AND state IN ($5, $6)",
            )
            .bind(practice_id)
            .bind(projector_name)
            .bind(Utc::now())
            .bind(CheckpointState::CatchingUp.as_str())
            // The retryable states (CheckpointState::is_retryable).
            .bind(CheckpointState::Failed.as_str())
            .bind(CheckpointState::Stopped.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            changed
        });
        if changed == 0 {
            return Err(Error::Conflict {
                reason: format!(
                    "projector {projector_name:?} of practice {practice_id:?} is not failed or stopped; nothing to retry"
                ),
            });
        }
        self.notify_checkpoint(practice_id, projector_name);
        Ok(())
    }

    /// Passes over the event a projector failed on, so one poison event cannot freeze its
    /// read model: owner or admin, and only the event the checkpoint is failed on. The skip is
    /// appended as a `projector.event_skipped` event (who, which projector, which event, why),
    /// which every later replay (a reset) obeys; then the projector runs on.
    pub async fn skip_projector_event(
        &self,
        principal: &Principal,
        practice_id: &str,
        projector_name: &str,
        event_id: &str,
        reason: &str,
    ) -> Result<Event> {
        self.operate_access(principal, practice_id, "skip an event of")
            .await?;
        let checkpoint = self
            .checkpoint(principal, practice_id, projector_name)
            .await?;
        let Some(checkpoint) = checkpoint.filter(|c| {
            c.state == CheckpointState::Failed && c.error_event_id.as_deref() == Some(event_id)
        }) else {
            return Err(Error::Conflict {
                reason: format!(
                    "projector {projector_name:?} of practice {practice_id:?} is not failed on event {event_id:?}; \
                     only the event a projector failed on can be skipped (retry it first if it may pass now)"
                ),
            });
        };
        let failed = self
            .event(principal, practice_id, event_id)
            .await?
            .ok_or_else(|| Error::NotFound {
                message: format!("event {event_id:?} is not in practice {practice_id:?}"),
                path: "/eventId".into(),
            })?;
        let mut payload = json!({
            "projectorName": projector_name,
            "eventId": event_id,
            "seq": failed.seq,
            "reason": reason,
        });
        if let Some(error) = &checkpoint.last_error {
            payload["error"] = json!(error.chars().take(4000).collect::<String>());
        }
        let actor_type = match principal {
            Principal::User(_) => ActorType::Human,
            Principal::System => ActorType::System,
        };
        let mut skip = NewEvent::new(
            practice_id,
            "projector",
            projector_name,
            SKIP_EVENT_TYPE,
            payload,
            actor_type,
        );
        skip.actor_id = principal.user_id().map(str::to_string);
        let recorded = self
            .append_events(
                principal,
                vec![skip],
                Operation::SkipProjectorEvent,
                crate::store::AppendMode::Commit,
            )
            .await
            .map_err(|e| match e {
                Error::InBatch { source, .. } => *source,
                other => other,
            })?
            .remove(0);
        self.retry_projector(principal, practice_id, projector_name)
            .await?;
        Ok(recorded)
    }

    /// The events an operator skipped for each projector of the practice, in seq order.
    async fn skipped_events(&self, practice_id: &str) -> Result<Vec<(String, SkippedEvent)>> {
        let rows: Vec<RecordRow> = dispatch!(self, |pool, _sql| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RECORD_COLUMNS} FROM events WHERE practice_id = $1 AND event_type = $2 ORDER BY seq"
            )))
            .bind(practice_id)
            .bind(SKIP_EVENT_TYPE)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| {
                let payload = row.payload()?;
                let text = |key: &str| payload[key].as_str().unwrap_or_default().to_string();
                Ok((
                    row.aggregate_id,
                    SkippedEvent {
                        event_id: text("eventId"),
                        seq: payload["seq"].as_i64().unwrap_or_default(),
                        reason: text("reason"),
                        skip_seq: row.seq,
                        skipped_by: row.recorded_by,
                        skipped_at: row.created_at,
                    },
                ))
            })
            .collect()
    }

    /// Clears the practice's read model of `projector` and puts its checkpoint back to 0,
    /// in one transaction; the runner then rebuilds it from the first event.
    pub async fn reset_projector(
        &self,
        principal: &Principal,
        practice_id: &str,
        projector: &dyn Projector,
    ) -> Result<()> {
        self.operate_access(principal, practice_id, "reset").await?;
        let name = projector.name();
        let failure = in_write_transaction!(self, |tx, _sql, _Db| {
            let cleared = {
                let mut projection = ProjectionTx::from(&mut *tx);
                projector.reset(&mut projection, practice_id).await
            };
            match cleared {
                Err(failure) => Some(failure),
                Ok(()) => {
                    sqlx::query(
                        "UPDATE projector_checkpoints SET last_seq = 0, last_event_id = NULL, state = $4, \
                         last_error = NULL, error_event_id = NULL, updated_at = $3, rate_window_start = NULL, rate_window_events = 0 \
                         WHERE practice_id = $1 AND projector_name = $2",
                    )
                    .bind(practice_id)
                    .bind(name)
                    .bind(Utc::now())
                    .bind(CheckpointState::CatchingUp.as_str())
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    None
                }
            }
        });
        match failure {
            Some(failure) => Err(Error::Conflict {
                reason: format!("resetting {name}: {}", failure.message),
            }),
            None => {
                self.notify_checkpoint(practice_id, name);
                Ok(())
            }
        }
    }

    /// Where each named projector stands in each practice the principal can see (or in
    /// `practice_id` only): checkpoint, head, lag in events and time, recent rate.
    pub async fn projector_status(
        &self,
        principal: &Principal,
        practice_id: Option<&str>,
        projector_names: &[&str],
    ) -> Result<Vec<ProjectorStatus>> {
        let practices: Vec<(String, i64)> = match practice_id {
            Some(id) => {
                self.read_access(principal, id).await?;
                let head: Option<i64> = dispatch!(self, |pool, _sql| {
                    sqlx::query_scalar("SELECT seq FROM practice_heads WHERE practice_id = $1")
                        .bind(id)
                        .fetch_optional(pool)
                        .await?
                });
                vec![(id.to_string(), head.unwrap_or(0))]
            }
            None => self
                .practices(principal)
                .await?
                .into_iter()
                .map(|p| (p.practice_id, p.event_count))
                .collect(),
        };
        let now = Utc::now();
        let mut statuses = Vec::new();
        for (practice, head_seq) in practices {
            let skipped = self.skipped_events(&practice).await?;
            // The checkpoints with their rate windows, in one read.
            let rows: Vec<StatusRow> = dispatch!(self, |pool, _sql| {
                sqlx::query_as(
                    "SELECT projector_name, last_event_id, last_seq, state, last_error, error_event_id, updated_at, \
                     rate_window_start, rate_window_events FROM projector_checkpoints WHERE practice_id = $1",
                )
                .bind(&practice)
                .fetch_all(pool)
                .await?
            });
            for name in projector_names {
                let checkpoint = rows.iter().find(|row| row.projector_name == *name);
                let last_seq = checkpoint.map_or(0, |c| c.last_seq);
                let lag = (head_seq - last_seq).max(0);
                let lag_seconds = if lag > 0 {
                    let oldest: Option<DateTime<Utc>> = dispatch!(self, |pool, _sql| {
                        sqlx::query_scalar(
                            "SELECT created_at FROM events WHERE practice_id = $1 AND seq = $2",
                        )
                        .bind(&practice)
                        .bind(last_seq + 1)
                        .fetch_optional(pool)
                        .await?
                    });
                    oldest.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
                } else {
                    0.0
                };
                let state = match checkpoint {
                    Some(c) => c.state.parse().map_err(Error::undecodable)?,
                    None => CheckpointState::CatchingUp,
                };
                let events_per_second = checkpoint
                    .and_then(|c| c.rate_window_start.map(|s| (s, c.rate_window_events)))
                    .filter(|(start, _)| now - *start < Duration::seconds(RATE_WINDOW_SECONDS))
                    .map_or(0.0, |(start, events)| {
                        events as f64 / ((now - start).num_milliseconds().max(1000) as f64 / 1000.0)
                    });
                statuses.push(ProjectorStatus {
                    practice_id: practice.clone(),
                    projector_name: name.to_string(),
                    last_event_id: checkpoint.and_then(|c| c.last_event_id.clone()),
                    last_seq,
                    head_seq,
                    lag,
                    lag_seconds,
                    events_per_second,
                    state,
                    retryable: state.is_retryable(),
                    last_error: checkpoint.and_then(|c| c.last_error.clone()),
                    error_event_id: checkpoint.and_then(|c| c.error_event_id.clone()),
                    updated_at: checkpoint.map(|c| c.updated_at),
                    skipped: skipped
                        .iter()
                        .filter(|(projector, _)| projector == name)
                        .map(|(_, skip)| skip.clone())
                        .collect(),
                });
            }
        }
        Ok(statuses)
    }
}
