//! SQLite append transactions, run in-process on a connection of their own.
//!
//! sqlx's SQLite driver runs each connection on a worker thread: every statement is a hop
//! there and back, and every bound value is copied into an argument buffer first. An append
//! is latency-bound, so the hops left the CPU idle between its steps (profiled for #13 and
//! #15). Here the whole transaction (context read, planning, the rows bound in place, the
//! head, the memberships, COMMIT) runs in one blocking call through rusqlite, which links the
//! same SQLite library ([`run_blocking`]: in place on a multi-thread runtime).
//!
//! The connection writes only while its caller holds the store's writer lock (the sqlx
//! writer's mutex), so in-process writers still queue instead of meeting SQLITE_BUSY, and
//! `BEGIN IMMEDIATE` makes other processes wait on the file lock as before. It is opened
//! with the store's own durability (`synchronous`), busy timeout and cache size.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::SecondsFormat;
use rusqlite::{Connection, TransactionBehavior};

use super::group::Work;
use super::plan::{AppendContext, Plan, accepted_rows, final_memberships};
use super::{AppendMode, ContextKeys, plan_in_turn, practice_runs, reused_ids};
use crate::error::{Error, Result};
use crate::store::blocking::run_blocking;
use crate::store::rows::RowScope;
use crate::store::sql::{
    ContextRow, EVENT_COLUMNS, READ_COLUMNS, RawContextRow, SQLITE_APPEND_CONTEXT,
};
use crate::store::sqlite_reads::{event_row, open_existing};
use crate::store::{Backend, SqliteDurability, Store};

/// The append connection of one SQLite store: opened at the first append, kept after.
pub(crate) struct SqliteAppender {
    path: String,
    busy_timeout: Duration,
    durability: SqliteDurability,
    /// `None` before the first append; the store's writer lock guards every use.
    connection: Mutex<Option<Connection>>,
}

impl SqliteAppender {
    pub(crate) fn new(path: &str, busy_timeout: Duration, durability: SqliteDurability) -> Self {
        Self {
            path: path.to_string(),
            busy_timeout,
            durability,
            connection: Mutex::new(None),
        }
    }

    /// Runs `work` on the connection, opening it first if needed.
    fn with_connection<T>(&self, work: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut connection = self.connection.lock().expect("sqlite appender lock");
        if connection.is_none() {
            *connection = Some(self.open().map_err(|e| Error::Unavailable {
                backend: "sqlite",
                location: self.path.clone(),
                reason: e.to_string(),
            })?);
        }
        work(connection.as_mut().expect("opened above"))
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let connection = open_existing(&self.path, self.busy_timeout)?;
        connection.pragma_update(
            None,
            "synchronous",
            match self.durability {
                SqliteDurability::Full => "FULL",
                SqliteDurability::Normal => "NORMAL",
            },
        )?;
        connection.pragma_update(None, "foreign_keys", true)?;
        connection.pragma_update(None, "mmap_size", 268_435_456)?;
        connection.pragma_update(None, "cache_size", -131_072)?;
        connection.set_prepared_statement_cache_capacity(32);
        Ok(connection)
    }

    /// Drops the connection; the store refuses later appends (its writer is gone).
    pub(crate) fn close(&self) {
        self.connection.lock().expect("sqlite appender lock").take();
    }
}

impl Store {
    /// [`Store::write_appends`] on SQLite: the transaction on the append connection.
    pub(super) async fn write_appends_sqlite(
        &self,
        work: Vec<Work>,
        mode: AppendMode,
    ) -> Result<Vec<Result<Plan>>> {
        self.on_append_connection(move |connection| write_appends(connection, work, mode))
            .await?
            .ok_or_else(|| Error::Unavailable {
                backend: "sqlite",
                location: self.location().to_string(),
                reason: "the store was closed".into(),
            })
    }

    /// Whether an append transaction, once started, runs to its end even if its caller stops
    /// waiting: on SQLite it is one blocking call ([`run_blocking`]) that holds the writer
    /// lock to its end. PostgreSQL's spans round trips a dropped caller would cut.
    pub(super) fn appends_run_to_their_end(&self) -> bool {
        matches!(self.backend(), Backend::Sqlite { .. })
    }

    /// The `synchronous` level SQLite appends commit with (see [`Store::sqlite_synchronous`]).
    pub(crate) async fn sqlite_append_synchronous(&self) -> Result<Option<i64>> {
        self.on_append_connection(|connection| {
            Ok(connection.pragma_query_value(None, "synchronous", |row| row.get(0))?)
        })
        .await
    }

    /// Runs `work` on the append connection ([`run_blocking`]), holding the store's writer
    /// lock until it ends (even should the caller stop waiting, so no other write starts
    /// inside it). `None` when the store is closed or is not SQLite.
    async fn on_append_connection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<Option<T>> {
        let Backend::Sqlite {
            writer, appender, ..
        } = self.backend()
        else {
            return Ok(None);
        };
        let writer = writer.clone().lock_owned().await;
        if writer.is_none() {
            return Ok(None);
        }
        let appender: Arc<SqliteAppender> = appender.clone();
        run_blocking("a SQLite append", move || {
            let done = appender.with_connection(work);
            drop(writer);
            done.map(Some)
        })
        .await
    }
}

/// Rows per INSERT statement (13 parameters each, under SQLite's 32,766). One statement opens
/// the table's and indexes' cursors once for all its rows; a prepared single-row INSERT
/// reopens them for every event, which measured 20% slower for generated batches even
/// though a multi-row INSERT into a table with a row trigger stages its rows in a
/// temporary table first.
const INSERT_ROWS: usize = 1_000;

/// `INSERT INTO events` with `rows` rows of anonymous parameters. `OR ROLLBACK`, with the insert
/// trigger's `RAISE(ROLLBACK)`, spares SQLite the statement journal it keeps so that a statement
/// could be undone alone: any error here rolls back the whole transaction anyway.
fn insert_events_sql(rows: usize) -> String {
    let mut sql = format!("INSERT OR ROLLBACK INTO events ({EVENT_COLUMNS}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    }
    sql
}

const UPSERT_HEAD: &str = "INSERT INTO practice_heads (practice_id, seq, hash, last_event_at, export_digest_state) VALUES (?1, ?2, ?3, ?4, ?5) \
                           ON CONFLICT (practice_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
                           last_event_at = excluded.last_event_at, export_digest_state = excluded.export_digest_state";

/// The time as sqlx stores a `DateTime<Utc>` in SQLite, so every `created_at` has one form
/// (the head trigger and time ranges compare the text).
fn stored_time(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// One transaction: each practice's run of appends planned in turn against one read of its
/// context, the rows written, then COMMIT (or ROLLBACK for a dry run or when nothing is new).
/// The same steps and outcomes as the PostgreSQL transaction in [`Store::write_appends`].
fn write_appends(
    connection: &mut Connection,
    mut work: Vec<Work>,
    mode: AppendMode,
) -> Result<Vec<Result<Plan>>> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes: Vec<Result<Plan>> = Vec::with_capacity(work.len());
    let mut wrote = false;
    for appends in practice_runs(&work) {
        let run = &mut work[appends];
        let practice_id = run[0].practice_id.clone();
        let keys = ContextKeys::of(run);
        let mut context = AppendContext::default();
        let streams = serde_json::to_string(&keys.streams).expect("strings serialize");
        let users = serde_json::to_string(&keys.users).expect("strings serialize");
        let rows: String = tx
            .prepare_cached(SQLITE_APPEND_CONTEXT)?
            .query_row((&practice_id, &streams, &users), |row| row.get(0))?;
        let found: Vec<RawContextRow> = serde_json::from_str(&rows).map_err(Error::undecodable)?;
        for row in found {
            context.absorb(ContextRow::decode(row)?);
        }
        if !keys.ids.is_empty() {
            let ids = serde_json::to_string(&keys.ids).expect("strings serialize");
            let mut existing = tx.prepare_cached(&format!(
                "SELECT {READ_COLUMNS} FROM events WHERE practice_id = ?1 \
                 AND id IN (SELECT value FROM json_each(?2))"
            ))?;
            let mut rows = existing.query((&practice_id, &ids))?;
            while let Some(row) = rows.next()? {
                let event = event_row(row, RowScope::Any)?.into_event()?;
                context.existing.insert(event.id.clone(), event);
            }
        }
        if keys.changes_memberships {
            // The last-owner rule needs the count; only membership changes pay for it.
            context.owners = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM memberships WHERE practice_id = ?1 AND role = 'owner'",
                )?
                .query_row([&practice_id], |row| row.get(0))?;
        }
        let reused = reused_ids(run, &keys.ids);
        let plans = plan_in_turn(run, &practice_id, &mut context, &reused);

        let rows = accepted_rows(&plans);
        for chunk in rows.chunks(INSERT_ROWS) {
            let mut insert = tx.prepare_cached(&insert_events_sql(chunk.len()))?;
            for (row, (event, payload_json)) in chunk.iter().map(|r| (&r.0, &r.1)).enumerate() {
                let at = row * 13;
                insert.raw_bind_parameter(at + 1, &event.practice_id)?;
                insert.raw_bind_parameter(at + 2, event.seq)?;
                insert.raw_bind_parameter(at + 3, &event.id)?;
                insert.raw_bind_parameter(at + 4, &event.aggregate_type)?;
                insert.raw_bind_parameter(at + 5, &event.aggregate_id)?;
                insert.raw_bind_parameter(at + 6, event.version)?;
                insert.raw_bind_parameter(at + 7, &event.event_type)?;
                insert.raw_bind_parameter(at + 8, payload_json)?;
                insert.raw_bind_parameter(at + 9, event.actor_type.as_str())?;
                insert.raw_bind_parameter(at + 10, &event.actor_id)?;
                insert.raw_bind_parameter(at + 11, stored_time(event.created_at))?;
                insert.raw_bind_parameter(at + 12, &event.hash)?;
                insert.raw_bind_parameter(at + 13, &event.recorded_by)?;
            }
            insert.raw_execute()?;
        }
        if let Some((last, _)) = rows.last() {
            tx.prepare_cached(UPSERT_HEAD)?.execute((
                &practice_id,
                last.seq,
                &last.hash,
                stored_time(last.created_at),
                &context.head_digest,
            ))?;
            wrote = true;
        }
        // After the events: the database accepts a membership row only when its member's
        // last membership event, already written, justifies it.
        for (user, role, seq) in final_memberships(&plans) {
            match role {
                Some(role) => tx
                    .prepare_cached(
                        "INSERT INTO memberships (practice_id, user_id, role, since_seq, updated_seq) VALUES (?1, ?2, ?3, ?4, ?4) \
                         ON CONFLICT (practice_id, user_id) DO UPDATE SET role = excluded.role, updated_seq = excluded.updated_seq",
                    )?
                    .execute((&practice_id, user, role.as_str(), seq))?,
                None => tx
                    .prepare_cached(
                        "DELETE FROM memberships WHERE practice_id = ?1 AND user_id = ?2",
                    )?
                    .execute((&practice_id, user))?,
            };
        }
        outcomes.extend(plans);
    }
    if wrote && mode == AppendMode::Commit {
        tx.commit()?;
    } else {
        tx.rollback()?;
    }
    Ok(outcomes)
}
