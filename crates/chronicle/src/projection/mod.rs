//! Projectors fold events into read models. The runner ([`Runner`]) feeds each
//! (practice, projector) the events after its checkpoint in `seq` order, in batches, and
//! writes the read model and the checkpoint in one transaction: a crash at any instant
//! neither repeats nor skips an event. A projector that fails on an event stops only that
//! (practice, projector); operators retry it, or reset it to rebuild from seq 1.
//!
//! Adding a projector: implement [`Projector`] (a name, the event types it handles, `apply`
//! and `reset` over its own tables, created by a migration in both backends) and pass it to
//! [`Runner::new`] next to [`builtin()`].

mod builtin;
mod runner;
pub(crate) mod tx;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use builtin::{
    AggregateIndex, DailyActivity, PracticeDirectory, UserDirectory, builtin, builtin_names,
    find_builtin,
};
pub use runner::{PassReport, Runner, RunnerOptions};
pub use tx::{Arg, ProjectionTx};

use crate::model::Event;

/// Why a projector could not apply a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectorFailure {
    /// The event it failed on, when it is one event's fault.
    pub event_id: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl From<crate::Error> for ProjectorFailure {
    fn from(error: crate::Error) -> Self {
        ProjectorFailure {
            event_id: None,
            message: error.to_string(),
        }
    }
}

/// A boxed future, so projectors can be trait objects.
pub type ApplyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ProjectorFailure>> + Send + 'a>>;

/// A fold of events into a read model.
pub trait Projector: Send + Sync {
    /// Unique, stable name; it keys the checkpoints.
    fn name(&self) -> &'static str;
    /// Whether `apply` wants events of this type (others only move the checkpoint).
    fn handles(&self, event_type: &str) -> bool;
    /// Folds `events` (in seq order, all of one practice) into the read model, inside the
    /// runner's transaction.
    fn apply<'a>(
        &'a self,
        tx: &'a mut ProjectionTx<'_>,
        practice_id: &'a str,
        events: &'a [Event],
    ) -> ApplyFuture<'a>;
    /// Deletes the practice's rows of the read model (the runner then rebuilds from seq 1).
    fn reset<'a>(&'a self, tx: &'a mut ProjectionTx<'_>, practice_id: &'a str) -> ApplyFuture<'a>;
}

/// A shared projector.
pub type SharedProjector = Arc<dyn Projector>;

/// Where one (practice, projector) stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectorStatus {
    /// The practice.
    pub practice_id: String,
    /// The projector.
    pub projector_name: String,
    /// Id of the last event applied.
    pub last_event_id: Option<String>,
    /// Seq of the last event applied (0: none yet).
    pub last_seq: i64,
    /// The practice's last seq.
    pub head_seq: i64,
    /// Events not yet applied.
    pub lag: i64,
    /// Age in seconds of the oldest event not yet applied (0 when caught up).
    pub lag_seconds: f64,
    /// Events applied per second over the last minute.
    pub events_per_second: f64,
    /// catching_up, caught_up, failed or stopped.
    pub state: crate::CheckpointState,
    /// Whether the engine would accept a retry now (failed or stopped).
    pub retryable: bool,
    /// Why it failed.
    pub last_error: Option<String>,
    /// The event it failed on.
    pub error_event_id: Option<String>,
    /// When the checkpoint last moved.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Events an operator skipped for this projector, oldest first; every replay skips them.
    pub skipped: Vec<SkippedEvent>,
}

/// A poison event an operator told a projector to pass over (a `projector.event_skipped` event).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedEvent {
    /// The event skipped.
    pub event_id: String,
    /// Its seq.
    pub seq: i64,
    /// Why, as the operator gave it.
    pub reason: String,
    /// Seq of the `projector.event_skipped` event that records the skip.
    pub skip_seq: i64,
    /// Who skipped it (its `recordedBy`).
    pub skipped_by: Option<String>,
    /// When.
    pub skipped_at: chrono::DateTime<chrono::Utc>,
}
