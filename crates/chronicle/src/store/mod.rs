//! The event store: one API over SQLite (embedded) and PostgreSQL (shared). Backend
//! differences are confined to [`sql::Dialect`]; every query body is written once and
//! instantiated for both pools by the `dispatch!` macro, so the two backends cannot drift.

mod append;
mod blocking;
mod checkpoint;
mod export;
mod feed;
mod open;
mod projection;
mod query;
mod read_models;
mod rows;
mod sql;
mod sqlite_reads;
mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::{PgPool, SqlitePool};

use crate::registry::Registry;
use crate::rules::{DEFAULT_MAX_BATCH_EVENTS, DEFAULT_MAX_PAGE_BYTES, DEFAULT_MAX_PAYLOAD_BYTES};

#[cfg(test)]
pub(crate) use append::OPERATION_EVENT_TYPES;
pub(crate) use append::{AppendMode, CommitGroups, Operation, Work};
pub use checkpoint::{Checkpoint, CheckpointState, CheckpointUpdate};
pub use export::ChainHead;
pub(crate) use export::{ExportPage, ExportReader};
pub use feed::{Announcement, AppendFeed, CheckpointFeed, Feed};
pub(crate) use projection::Step;
pub use query::{AggregateFilter, Direction, PageRequest, TimelineFilter};
pub use read_models::{
    DailyCount, IndexedAggregate, MAX_KNOWN_USERS, Member, PracticeListing, RemovedMember,
};
pub(crate) use rows::{EventRow, unpadded_hash};
pub use verify::{Anchor, AnchorCheck, ChainBreak, ChainReport, MembershipProblem};

/// Runs `$body` with `$pool` bound to the backend's pool and `$sql` to its dialect.
macro_rules! dispatch {
    ($store:expr, |$pool:ident, $sql:ident| $body:expr) => {
        match $store.backend() {
            $crate::store::Backend::Sqlite { pool, .. } => {
                let $pool = pool;
                let $sql = &$crate::store::sql::SQLITE;
                $body
            }
            $crate::store::Backend::Postgres { pool, .. } => {
                let $pool = pool;
                let $sql = &$crate::store::sql::POSTGRES;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

/// Runs `$body` inside a write transaction bound to `$tx`, with `$sql` the dialect and
/// `$db` the sqlx database type. On SQLite
/// the transaction runs on the store's single writer connection (`BEGIN IMMEDIATE`); on
/// PostgreSQL on a pooled connection. The body commits; any early return rolls back.
macro_rules! in_write_transaction {
    ($store:expr, |$tx:ident, $sql:ident, $db:ident| $body:expr) => {
        match $store.backend() {
            $crate::store::Backend::Sqlite { writer, .. } => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let mut connection = writer.lock().await;
                let Some(connection) = connection.as_mut() else {
                    return Err($crate::Error::Unavailable {
                        backend: "sqlite",
                        location: $store.location().to_string(),
                        reason: "the store was closed".into(),
                    });
                };
                #[allow(unused_mut)]
                let mut $tx = sqlx::Connection::begin_with(connection, "BEGIN IMMEDIATE").await?;
                let $sql = &$crate::store::sql::SQLITE;
                $body
            }
            $crate::store::Backend::Postgres { pool, .. } => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await?;
                let $sql = &$crate::store::sql::POSTGRES;
                $body
            }
        }
    };
}
pub(crate) use in_write_transaction;

/// Sent to subscribers after an append commits: the practice and its new head seq. The
/// desktop app forwards it to the window as it is; over HTTP the live stream carries the
/// events themselves.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Appended {
    /// The practice that grew.
    pub practice_id: String,
    /// Its new last seq.
    #[serde(rename = "headSeq")]
    pub seq: i64,
}

/// Sent to subscribers after a projector checkpoint changes (a batch applied, caught up,
/// failed, retried or reset); see [`Store::checkpoint_feed`]. The same value reaches the
/// window (a Tauri event) and the web console (a `checkpointMoved` SSE event).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointMoved {
    /// The practice.
    pub practice_id: String,
    /// The projector whose checkpoint changed.
    pub projector_name: String,
}

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Extra event schemas to load beside the built-in ones.
    pub registry_dir: Option<PathBuf>,
    /// Largest canonical payload accepted, in bytes.
    pub max_payload_bytes: usize,
    /// Most events one batch append may carry; checked before any lock or validation.
    pub max_batch_events: usize,
    /// Payload bytes one page of events may hold: a page of large events ends early (its
    /// cursor continues), so no page is built bigger than this in memory.
    pub max_page_bytes: usize,
    /// Pool size.
    pub max_connections: u32,
    /// How long to wait for a connection (and for the server on open).
    pub connect_timeout: Duration,
    /// SQLite: when an acknowledged append is safe. PostgreSQL follows its server's own
    /// `synchronous_commit`.
    pub sqlite_durability: SqliteDurability,
}

/// When SQLite may acknowledge a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteDurability {
    /// `synchronous=FULL`: the write-ahead log is synced at every commit, so an acknowledged
    /// append survives power loss and an OS crash. What an audit store needs; the default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: commits are synced only at checkpoints, so the last acknowledged
    /// appends can be lost on power loss or an OS crash (never on an application crash, and the
    /// file is never corrupted). For throwaway stores: tests, demos, benchmarks of the rest.
    Normal,
}

impl std::str::FromStr for SqliteDurability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(SqliteDurability::Full),
            "normal" => Ok(SqliteDurability::Normal),
            other => Err(format!("{other:?} is not one of full, normal")),
        }
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            registry_dir: None,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            max_batch_events: DEFAULT_MAX_BATCH_EVENTS,
            max_page_bytes: DEFAULT_MAX_PAGE_BYTES,
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            sqlite_durability: SqliteDurability::Full,
        }
    }
}

pub(crate) enum Backend {
    Sqlite {
        pool: SqlitePool,
        /// SQLite has one writer at a time anyway. Writing through one dedicated connection
        /// queues writers in-process (instead of spinning on SQLITE_BUSY) and keeps that
        /// connection's page cache hot across appends. Other processes still wait on the
        /// file lock (busy timeout).
        writer: Arc<tokio::sync::Mutex<Option<sqlx::SqliteConnection>>>,
        /// Append transactions, in-process, while holding `writer` (see `append::sqlite`).
        appender: Arc<append::SqliteAppender>,
        /// Page reads, row by row in-process (see `sqlite_reads`).
        readers: Arc<sqlite_reads::SqliteReaders>,
    },
    Postgres {
        pool: PgPool,
        /// What unlocked appends know of each practice (see `append::known`).
        known: Arc<append::KnownPractices>,
        /// The connection commits write through, taken from the pool when first needed and
        /// kept (see `append::write_appends`): one commit is under way at a time anyway, and a
        /// pooled connection costs sqlx's ping on every release. Only commit tasks, which
        /// nobody cancels, use it.
        writer: Arc<tokio::sync::Mutex<Option<sqlx::PgConnection>>>,
    },
}

/// An open event store. Cheap to clone: every clone shares the pool and registry.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    /// Who appended to which practice lately: they skip the early access read (see
    /// `Store::refuse_early`). Only ever a shortcut past an early refusal, never a grant: the
    /// append's transaction decides with the roles it reads under the lock.
    recent_writers:
        std::sync::Mutex<std::collections::HashMap<(String, String), std::time::Instant>>,
    /// Appends waiting to share a commit (see `append::group`).
    commit_groups: append::CommitGroups,
    appended: tokio::sync::broadcast::Sender<Appended>,
    checkpoints: tokio::sync::broadcast::Sender<CheckpointMoved>,
    registry: Registry,
    options: StoreOptions,
    location: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .field("location", &self.inner.location)
            .finish()
    }
}

impl Store {
    fn backend(&self) -> &Backend {
        &self.inner.backend
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// Where the store lives (file path, or host/database), without credentials.
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// The registry this store validates against.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The options it was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    /// Notifications of appends made through this `Store` (and its clones) after they
    /// commit. A slow receiver may miss notifications (`Lagged`); since each one only says
    /// "the practice has grown to seq N", readers re-read from their last seq and lose nothing.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Appended> {
        self.inner.appended.subscribe()
    }

    pub(crate) fn notify_appended(&self, practice_id: &str, seq: i64) {
        // No subscribers is fine.
        let _ = self.inner.appended.send(Appended {
            practice_id: practice_id.to_string(),
            seq,
        });
    }

    /// Notifications of checkpoint changes made through this `Store` (and its clones), for
    /// screens that show projector progress without polling. Like [`Store::subscribe`], a
    /// slow receiver may miss some; each only says "re-read this checkpoint".
    pub fn subscribe_checkpoints(&self) -> tokio::sync::broadcast::Receiver<CheckpointMoved> {
        self.inner.checkpoints.subscribe()
    }

    pub(crate) fn notify_checkpoint(&self, practice_id: &str, projector_name: &str) {
        let _ = self.inner.checkpoints.send(CheckpointMoved {
            practice_id: practice_id.to_string(),
            projector_name: projector_name.to_string(),
        });
    }

    /// Closes every pooled connection; later calls fail.
    pub async fn close(&self) {
        match self.backend() {
            Backend::Sqlite {
                pool,
                writer,
                appender,
                readers,
            } => {
                readers.close();
                pool.close().await;
                let mut writer = writer.lock().await;
                appender.close();
                if let Some(connection) = writer.take() {
                    let _ = sqlx::Connection::close(connection).await;
                }
            }
            Backend::Postgres { pool, writer, .. } => {
                pool.close().await;
                if let Some(connection) = writer.lock().await.take() {
                    let _ = sqlx::Connection::close(connection).await;
                }
            }
        }
    }
}
