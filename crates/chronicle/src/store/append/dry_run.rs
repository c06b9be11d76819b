//! Committing appends and dry runs: one code path, so a dry run checks exactly what an
//! append checks (access, schema, expected versions, ids) and plans exactly what it would
//! store (seq, version, createdAt, hash), because it *is* that append, with the write
//! transaction rolled back at the end instead of committed.

use crate::error::{Error, Result};
use crate::model::{Event, NewEvent, Principal};
use crate::store::Store;

/// Whether an append keeps what it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppendMode {
    /// Commit, announce the new head, remember the author as a recent writer.
    Commit,
    /// Write inside the transaction, then roll it back: nothing stays, nobody is told.
    DryRun,
}

impl Store {
    /// Appends events to one practice, all or nothing, and returns one stored event per
    /// input (a reused id with identical content returns the event stored before).
    /// A `practice.created` by a user for a practice without events also appends a
    /// `membership.created` making that user owner.
    pub async fn append_batch(
        &self,
        principal: &Principal,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Event>> {
        self.append_batch_in(principal, events, AppendMode::Commit)
            .await
    }

    /// What [`Store::append_batch`] would store, decided by the same rules inside a write
    /// transaction that is then rolled back: the same errors, and the events with the seq,
    /// version, createdAt and hash they would get if nothing else were appended first.
    /// Nothing is written and the practice's chain does not move.
    pub async fn dry_run_batch(
        &self,
        principal: &Principal,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Event>> {
        self.append_batch_in(principal, events, AppendMode::DryRun)
            .await
    }

    /// What [`Store::append`] would store; see [`Store::dry_run_batch`].
    pub async fn dry_run(&self, principal: &Principal, event: NewEvent) -> Result<Event> {
        let mut planned =
            self.dry_run_batch(principal, vec![event])
                .await
                .map_err(|e| match e {
                    Error::InBatch { source, .. } => *source,
                    other => other,
                })?;
        Ok(planned.swap_remove(0))
    }
}
