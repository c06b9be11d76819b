//! Appending events. Three steps, so the rules live in pure code:
//! 1. [`Store::prepare`] checks each event on its own (fields, registry, schema, actor);
//! 2. inside the write transaction the store reads what the rules need (the practice head,
//!    the roles involved, the streams' versions, events with the same ids) into an
//!    [`AppendContext`], and [`plan()`] decides everything: access, idempotency, versions,
//!    seq, time and hashes;
//! 3. the planned rows are written and the transaction commits, or nothing is written.
//!
//! This module holds step 1 and the dispatch; the pure decisions live in [`plan`](mod@plan),
//! and each backend's transaction (steps 2 and 3) in its own module: [`sqlite`], in-process on
//! a connection of its own, and [`postgres`], which [`unlocked`] first tries to avoid with two
//! statements that hold no lock across round trips.

mod dry_run;
mod group;
mod known;
mod plan;
mod postgres;
mod sqlite;
mod unlocked;

pub(crate) use self::dry_run::AppendMode;
pub(crate) use self::group::{CommitGroups, Work};
pub(crate) use self::sqlite::SqliteAppender;

use std::collections::HashSet;

use chrono::Utc;
use serde_json::Value;

pub(crate) use self::known::KnownPractices;
use self::plan::{AppendContext, Plan, Prepared, in_batch, plan};
use self::postgres::write_locked;
use self::unlocked::write_unlocked;
use super::sql::ContextRow;
use super::{Backend, Store, dispatch};
use crate::access::MEMBERSHIP_EVENT_TYPES;
use crate::chain::canonical_json;
use crate::error::{Error, Result};
use crate::model::{ActorType, Event, NewEvent, Principal, Role};
use crate::rules::check_new_event;

/// Which engine operation an append serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// An ordinary append, from any edge.
    Append,
    /// [`Store::skip_projector_event`], after its own checks.
    SkipProjectorEvent,
    /// [`Store::export`] recording an export by whoever may read the practice.
    RecordExport,
}

/// Event types only the store's own operations append: each with the operation that may
/// (the same types as [`crate::registry::STORE_APPENDED_TYPES`]; a test holds them equal).
pub(crate) const OPERATION_EVENT_TYPES: [(&str, Operation); 2] = [
    ("projector.event_skipped", Operation::SkipProjectorEvent),
    (crate::export::EXPORT_EVENT_TYPE, Operation::RecordExport),
];

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bind limits.
const INSERT_CHUNK: usize = 200;
/// Batches up to this size are checked on the calling task; larger ones on a blocking thread.
const PREPARE_INLINE: usize = 64;
/// How long a successful append lets its author skip the early access read.
const RECENT_WRITER: std::time::Duration = std::time::Duration::from_secs(10);
/// At most this many recent writers are remembered.
const RECENT_WRITERS_KEPT: usize = 10_000;

impl Store {
    /// Appends one event. See [`Store::append_batch`] for the rules.
    pub async fn append(&self, principal: &Principal, event: NewEvent) -> Result<Event> {
        let mut stored = self
            .append_batch(principal, vec![event])
            .await
            .map_err(|e| match e {
                Error::InBatch { source, .. } => *source,
                other => other,
            })?;
        Ok(stored.swap_remove(0))
    }

    /// Appends events to one practice, all or nothing, and returns one stored event per
    /// input (a reused id with identical content returns the event stored before).
    /// A `practice.created` by a user for a practice without events also appends a
    /// `membership.created` making that user owner. With [`AppendMode::DryRun`] everything
    /// happens the same way and the transaction is rolled back at the end.
    pub(crate) async fn append_batch_in(
        &self,
        principal: &Principal,
        events: Vec<NewEvent>,
        mode: AppendMode,
    ) -> Result<Vec<Event>> {
        self.append_events(principal, events, Operation::Append, mode)
            .await
    }

    /// Appends events for `operation`: an ordinary append refuses the event types that only
    /// an engine operation (such as a projector skip) writes after its own checks.
    pub(crate) async fn append_events(
        &self,
        principal: &Principal,
        events: Vec<NewEvent>,
        operation: Operation,
        mode: AppendMode,
    ) -> Result<Vec<Event>> {
        let practice_id = self.batch_practice(&events)?;
        // Refuse a caller who may not write here before any expensive work or lock, so a
        // stranger cannot make a practice's writers wait. The transaction decides again.
        if operation != Operation::RecordExport {
            self.refuse_early(principal, &practice_id, &events[0].event_type)
                .await?;
        }
        let prepared = if events.len() > PREPARE_INLINE {
            self.prepare_in_parallel(principal, &practice_id, events, operation)
                .await?
        } else {
            self.prepare_all(principal, &practice_id, 0, events, operation)?
        };
        let work = Work {
            principal: principal.clone(),
            practice_id,
            prepared,
        };
        self.write_prepared(work, mode).await
    }

    /// The checks of [`Store::append_batch`] that need no database, on the calling thread:
    /// a producer of batches (the generator) runs them while the store writes the batch
    /// before, then hands the result to [`Store::append_prepared`].
    pub(crate) fn prepare_batch(
        &self,
        principal: &Principal,
        events: Vec<NewEvent>,
    ) -> Result<Work> {
        let practice_id = self.batch_practice(&events)?;
        let prepared = self.prepare_all(principal, &practice_id, 0, events, Operation::Append)?;
        Ok(Work {
            principal: principal.clone(),
            practice_id,
            prepared,
        })
    }

    /// Appends a batch checked by [`Store::prepare_batch`], as [`Store::append_batch`] would.
    pub(crate) async fn append_prepared(&self, work: Work) -> Result<Vec<Event>> {
        let first_type = work.prepared.first().map(|p| p.event.event_type.as_str());
        self.refuse_early(
            &work.principal,
            &work.practice_id,
            first_type.unwrap_or_default(),
        )
        .await?;
        self.write_prepared(work, AppendMode::Commit).await
    }

    /// The practice a batch appends to, once its size is within the store's limits.
    fn batch_practice(&self, events: &[NewEvent]) -> Result<String> {
        let Some(first) = events.first() else {
            return Err(Error::invalid(
                "/events",
                "a batch needs at least one event",
            ));
        };
        let cap = self.options().max_batch_events;
        if events.len() > cap {
            return Err(Error::invalid(
                "/events",
                format!(
                    "a batch carries at most {cap} events (the store's max_batch_events); this one has {}: split it",
                    events.len()
                ),
            ));
        }
        Ok(first.practice_id.clone())
    }

    /// Commits (or dry-runs) one checked append and tells whoever listens.
    async fn write_prepared(&self, work: Work, mode: AppendMode) -> Result<Vec<Event>> {
        let practice_id = work.practice_id.clone();
        let principal = work.principal.clone();
        let plan = match mode {
            AppendMode::Commit => self.commit_in_group(work).await?,
            // Rolled back in any case: nothing to share a commit with.
            AppendMode::DryRun => self
                .write_appends(vec![work], mode)
                .await?
                .pop()
                .expect("one outcome per append")?,
        };
        if mode == AppendMode::DryRun {
            // Nothing was stored: nobody to tell, and no write that vouches for the author.
            return Ok(plan.into_results());
        }
        if let Some((last, _)) = plan.rows.last() {
            self.notify_appended(&practice_id, last.seq);
        }
        if let Some(user) = principal.user_id() {
            self.note_writer(&practice_id, user);
        }
        Ok(plan.into_results())
    }

    /// Writes appends that passed their own checks, and commits them (or rolls them back for
    /// a dry run, or when nothing is new). `work` is ordered by practice; each practice's
    /// appends are planned one after another against one read of its context, advanced by
    /// each plan, so each append meets exactly what the ones before it wrote. One outcome per
    /// append, in order: an append the rules refuse writes nothing and fails alone. An error
    /// from the database means nothing was written (the transaction is rolled back).
    ///
    /// On PostgreSQL a commit is first tried without the head locks ([`unlocked`]), one
    /// statement for every practice in it; the practices it could not write go through the
    /// locked transaction. Should that then fail, the unlocked part is already committed, so
    /// each remaining append is written on its own and keeps its own outcome.
    pub(super) async fn write_appends(
        &self,
        work: Vec<Work>,
        mode: AppendMode,
    ) -> Result<Vec<Result<Plan>>> {
        let (pool, known, writer) = match self.backend() {
            Backend::Sqlite { .. } => return self.write_appends_sqlite(work, mode).await,
            Backend::Postgres {
                pool,
                known,
                writer,
            } => (pool, known, writer),
        };
        if mode == AppendMode::DryRun {
            // Rolled back whatever happens, on a pooled connection: a dry run waits for no
            // commit, and its caller may stop waiting mid-transaction (commits run on tasks of
            // their own, which nobody cuts short).
            let mut pooled = pool.acquire().await?;
            return write_locked(&mut pooled, work, mode).await;
        }
        let mut connection = writer.lock().await;
        if pool.is_closed() {
            // Closed while this commit waited for the connection: refused as the pool would.
            return Err(Error::Database(sqlx::Error::PoolClosed));
        }
        if connection.is_none() {
            *connection = Some(pool.acquire().await?.detach());
        }
        let writing = connection.as_mut().expect("connected above");
        let unlocked = write_unlocked(writing, known, &work).await;
        let unlocked = keep_if_usable(&mut connection, unlocked)?;
        let wrote_unlocked = unlocked.iter().any(Option::is_some);
        let locked: Vec<Work> = work
            .into_iter()
            .zip(&unlocked)
            .filter(|(_, outcome)| outcome.is_none())
            .map(|(work, _)| work)
            .collect();
        if locked.is_empty() {
            return Ok(unlocked.into_iter().flatten().collect());
        }
        // The locked transaction moves heads this store's knowledge is not told about.
        let mut practices: Vec<String> = locked.iter().map(|w| w.practice_id.clone()).collect();
        practices.dedup();
        let spares = (wrote_unlocked && locked.len() > 1).then(|| locked.clone());
        let writing = connection.as_mut().expect("kept above");
        let written = write_locked(writing, locked, mode).await;
        let written = keep_if_usable(&mut connection, written);
        drop(connection);
        for practice_id in &practices {
            known.forget(practice_id);
        }
        let mut locked_outcomes = match (written, spares) {
            (Ok(outcomes), _) => outcomes,
            (Err(error), None) if !wrote_unlocked => return Err(error),
            (Err(error), None) => vec![Err(error)],
            (Err(_), Some(spares)) => self.write_each_alone(spares).await,
        }
        .into_iter();
        Ok(unlocked
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or_else(|| {
                    locked_outcomes
                        .next()
                        .expect("one outcome per locked append")
                })
            })
            .collect())
    }

    /// Every event's own checks, each error naming its position in the batch.
    fn prepare_all(
        &self,
        principal: &Principal,
        practice_id: &str,
        first_index: usize,
        events: Vec<NewEvent>,
        operation: Operation,
    ) -> Result<Vec<Prepared>> {
        events
            .into_iter()
            .zip(first_index..)
            .map(|(event, index)| {
                if event.practice_id != practice_id {
                    return Err(in_batch(index, Error::invalid(
                        "/practiceId",
                        format!("a batch appends to one practice; the first event targets {practice_id:?}"),
                    )));
                }
                self.prepare(principal, event, operation)
                    .map_err(|e| in_batch(index, e))
            })
            .collect()
    }

    /// [`Store::prepare_all`] for a large batch: validation, canonical JSON and schema checks
    /// are CPU work, so they run on blocking threads (off the async threads that serve everyone
    /// else), one part of the batch per core. The error is the first failing event's, as in
    /// order.
    async fn prepare_in_parallel(
        &self,
        principal: &Principal,
        practice_id: &str,
        mut events: Vec<NewEvent>,
        operation: Operation,
    ) -> Result<Vec<Prepared>> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let part = events.len().div_ceil(cores.clamp(1, 8)).max(PREPARE_INLINE);
        let mut parts = Vec::new();
        let mut first_index = 0;
        while !events.is_empty() {
            let rest = events.split_off(part.min(events.len()));
            let mine = std::mem::replace(&mut events, rest);
            let (store, principal, practice) =
                (self.clone(), principal.clone(), practice_id.to_string());
            let count = mine.len();
            parts.push(tokio::task::spawn_blocking(move || {
                store.prepare_all(&principal, &practice, first_index, mine, operation)
            }));
            first_index += count;
        }
        let mut prepared = Vec::with_capacity(first_index);
        for part in parts {
            prepared
                .extend(part.await.map_err(|e| {
                    Error::undecodable(format!("batch preparation stopped: {e}"))
                })??);
        }
        Ok(prepared)
    }

    /// Refuses, without taking the write lock, a user who cannot append to the practice
    /// whatever the batch holds: a non-member of a practice that exists (the same answer as
    /// for one that does not), or a viewer. Everything else is decided in the transaction.
    async fn refuse_early(
        &self,
        principal: &Principal,
        practice_id: &str,
        event_type: &str,
    ) -> Result<()> {
        let Principal::User(user) = principal else {
            return Ok(());
        };
        if self.wrote_lately(practice_id, user) {
            return Ok(());
        }
        match self.read_access(principal, practice_id).await {
            Ok(Some(Role::Viewer)) => {
                crate::access::authorize_append(practice_id, Some(Role::Viewer), event_type, None)
            }
            Ok(_) => Ok(()),
            // Creating a practice: the transaction makes its author the owner.
            Err(Error::PracticeNotFound { .. }) if !self.practice_exists(practice_id).await? => {
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// Whether `user` appended to the practice within [`RECENT_WRITER`]: a member who may
    /// append, then, unless their role changed since; the transaction checks again anyway.
    fn wrote_lately(&self, practice_id: &str, user: &str) -> bool {
        let writers = self
            .inner
            .recent_writers
            .lock()
            .expect("recent writers lock");
        writers
            .get(&(practice_id.to_string(), user.to_string()))
            .is_some_and(|at| at.elapsed() < RECENT_WRITER)
    }

    fn note_writer(&self, practice_id: &str, user: &str) {
        let mut writers = self
            .inner
            .recent_writers
            .lock()
            .expect("recent writers lock");
        if writers.len() >= RECENT_WRITERS_KEPT {
            writers.retain(|_, at| at.elapsed() < RECENT_WRITER);
            if writers.len() >= RECENT_WRITERS_KEPT {
                writers.clear();
            }
        }
        writers.insert(
            (practice_id.to_string(), user.to_string()),
            std::time::Instant::now(),
        );
    }

    async fn practice_exists(&self, practice_id: &str) -> Result<bool> {
        let head: Option<i64> = dispatch!(self, |pool, _sql| {
            sqlx::query_scalar("SELECT seq FROM practice_heads WHERE practice_id = $1 AND seq > 0")
                .bind(practice_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(head.is_some())
    }

    /// The checks one event must pass on its own, before any database work.
    pub(crate) fn prepare(
        &self,
        principal: &Principal,
        mut event: NewEvent,
        operation: Operation,
    ) -> Result<Prepared> {
        let violations = check_new_event(&event);
        if !violations.is_empty() {
            return Err(Error::Invalid { violations });
        }
        if let Some((_, only_by)) = OPERATION_EVENT_TYPES
            .iter()
            .find(|(event_type, _)| *event_type == event.event_type)
            && *only_by != operation
        {
            return Err(Error::invalid(
                "/eventType",
                match only_by {
                    Operation::SkipProjectorEvent => format!(
                        "{} is appended by the projector skip operation, which first checks that the projector failed on that event",
                        event.event_type
                    ),
                    _ => format!(
                        "{} is appended by the store when it exports, never by hand",
                        event.event_type
                    ),
                },
            ));
        }
        let payload_json = canonical_json(&event.payload);
        let limit = self.options().max_payload_bytes;
        if payload_json.len() > limit {
            return Err(Error::invalid(
                "/payload",
                format!(
                    "is {} bytes as canonical JSON; the limit is {limit} bytes",
                    payload_json.len()
                ),
            ));
        }
        self.registry()
            .validate(&event.event_type, &event.aggregate_type, &event.payload)?;
        check_actor(principal, &mut event)?;
        if event.created_at.is_some() && *principal != Principal::System {
            return Err(Error::invalid(
                "/createdAt",
                "is set by the store; only the system principal may import events with their own time",
            ));
        }
        if event.aggregate_type == "practice" && event.aggregate_id != event.practice_id {
            return Err(Error::invalid(
                "/aggregateId",
                format!(
                    "a practice event's aggregateId must be its practiceId {:?}",
                    event.practice_id
                ),
            ));
        }
        let membership = if MEMBERSHIP_EVENT_TYPES.contains(&event.event_type.as_str()) {
            // The schema guarantees both fields; the aggregate is the member's user id.
            let user = event.payload["userId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let role: Option<Role> = if event.event_type == "membership.removed" {
                None
            } else {
                Some(
                    event.payload["role"]
                        .as_str()
                        .unwrap_or_default()
                        .parse()
                        .map_err(|e: String| Error::invalid("/payload/role", e))?,
                )
            };
            if event.aggregate_id != user {
                return Err(Error::invalid(
                    "/aggregateId",
                    format!(
                        "a membership event's aggregateId must be the member's userId {user:?}"
                    ),
                ));
            }
            Some((user, role))
        } else {
            None
        };
        // Canonical form only changes how floats are written (1.0 becomes 1); reparse only then,
        // so the payload returned equals the one later read back.
        let payload = if has_float(&event.payload) {
            serde_json::from_str(&payload_json).expect("canonical JSON parses")
        } else {
            std::mem::take(&mut event.payload)
        };
        Ok(Prepared {
            by_reader: operation == Operation::RecordExport,
            event,
            payload,
            payload_json,
            membership,
        })
    }
}

impl AppendContext {
    /// Takes in one row of what the store read.
    fn absorb(&mut self, row: ContextRow) {
        match row {
            ContextRow::Head {
                seq,
                hash,
                last_event_at,
                digest_state,
            } => {
                self.head_seq = seq;
                self.head_hash = hash;
                self.head_time = last_event_at;
                self.head_digest = digest_state;
            }
            ContextRow::Role { user_id, role } => {
                self.roles.insert(user_id, role);
            }
            ContextRow::StreamVersion {
                aggregate_type,
                aggregate_id,
                version,
            } => {
                if let Some(version) = version {
                    self.versions
                        .insert((aggregate_type, aggregate_id), version);
                }
            }
        }
    }
}

/// Binds planned rows as the VALUES of `INSERT INTO events ({EVENT_COLUMNS})`, on either
/// backend's query builder.
macro_rules! push_event_values {
    ($query:expr, $rows:expr) => {
        $query.push_values($rows, |mut row, (event, payload_json)| {
            row.push_bind(&event.practice_id)
                .push_bind(event.seq)
                .push_bind(&event.id)
                .push_bind(&event.aggregate_type)
                .push_bind(&event.aggregate_id)
                .push_bind(event.version)
                .push_bind(&event.event_type)
                .push_bind(payload_json)
                .push_bind(event.actor_type.as_str())
                .push_bind(&event.actor_id)
                .push_bind(event.created_at)
                .push_bind(&event.hash)
                .push_bind(&event.recorded_by);
        })
    };
}
pub(super) use push_event_values;

/// What the append context is read for: one practice's run of appends.
pub(super) struct ContextKeys<'a> {
    /// The callers and the members whose roles change.
    pub users: Vec<&'a str>,
    /// The streams appended to.
    pub streams: Vec<(&'a str, &'a str)>,
    /// Event ids the callers chose (for idempotent retries).
    pub ids: Vec<&'a str>,
    /// Whether a membership event is among them.
    pub changes_memberships: bool,
}

impl<'a> ContextKeys<'a> {
    pub(super) fn of(run: &'a [Work]) -> Self {
        let all = || run.iter().flat_map(|w| w.prepared.iter());
        let mut users: Vec<&str> = all()
            .filter_map(|p| p.membership.as_ref().map(|m| m.0.as_str()))
            .chain(run.iter().filter_map(|w| w.principal.user_id()))
            .collect();
        users.sort_unstable();
        users.dedup();
        let mut streams: Vec<(&str, &str)> = all()
            .map(|p| {
                (
                    p.event.aggregate_type.as_str(),
                    p.event.aggregate_id.as_str(),
                )
            })
            .collect();
        streams.sort_unstable();
        streams.dedup();
        let mut ids: Vec<&str> = all().filter_map(|p| p.event.id.as_deref()).collect();
        ids.sort_unstable();
        ids.dedup();
        Self {
            users,
            streams,
            ids,
            changes_memberships: all().any(|p| p.membership.is_some()),
        }
    }
}

/// Passes `result` on, first dropping the commit connection when the error says the connection
/// itself failed (the next commit takes a fresh one from the pool); a statement the database
/// refused leaves it usable.
fn keep_if_usable<T>(connection: &mut Option<sqlx::PgConnection>, result: Result<T>) -> Result<T> {
    if let Err(Error::Database(error)) = &result
        && !matches!(error, sqlx::Error::Database(_))
    {
        connection.take();
    }
    result
}

/// The ranges of `work` (ordered by practice) that append to one practice each.
pub(super) fn practice_runs(work: &[Work]) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (index, w) in work.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if work[run.start].practice_id == w.practice_id => run.end = index + 1,
            _ => runs.push(index..index + 1),
        }
    }
    runs
}

/// Ids a later append of the run carries again: their first events are kept in the context
/// so the retry meets them as stored.
fn reused_ids(run: &[Work], ids: &[&str]) -> HashSet<String> {
    if run.len() > 1 {
        ids.iter().map(|id| id.to_string()).collect()
    } else {
        HashSet::new()
    }
}

/// Plans a practice's appends one after another against one context, advanced by each plan,
/// so each meets exactly what the ones before it would have written.
pub(super) fn plan_in_turn(
    run: &mut [Work],
    practice_id: &str,
    context: &mut AppendContext,
    reused: &HashSet<String>,
) -> Vec<Result<Plan>> {
    let mut plans = Vec::with_capacity(run.len());
    for w in run {
        let prepared = std::mem::take(&mut w.prepared);
        let planned = plan(&w.principal, practice_id, context, prepared, Utc::now());
        if let Ok(planned) = &planned {
            context.advance(planned, reused);
        }
        plans.push(planned);
    }
    plans
}

fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

/// A human event's actor is the principal: filled in when absent, refused when different.
fn check_actor(principal: &Principal, event: &mut NewEvent) -> Result<()> {
    if event.actor_type != ActorType::Human {
        return Ok(());
    }
    match (principal, &event.actor_id) {
        (Principal::User(user), None) => event.actor_id = Some(user.clone()),
        (Principal::User(user), Some(actor)) if actor != user => {
            return Err(Error::invalid(
                "/actorId",
                format!("a human event's actorId must be the principal {user:?}, not {actor:?}"),
            ));
        }
        (Principal::System, None) => {
            return Err(Error::invalid(
                "/actorId",
                "is required for human events appended by the system principal",
            ));
        }
        _ => {}
    }
    Ok(())
}
