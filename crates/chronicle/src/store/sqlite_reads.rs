//! Pages of events read from SQLite in-process, row by row.
//!
//! sqlx's SQLite driver runs each connection on a worker thread and hands every row to the
//! caller through a channel, copying each value: for a page of 1,000 events that costs
//! several times what SQLite spends reading them (profiled for the export, issue #14). Page
//! reads go through connections of their own instead (rusqlite, which links the same SQLite
//! library as sqlx), on a blocking thread, so each row is decoded where SQLite steps it.
//! The connections are `query_only`: no statement run through them can write.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};

use super::blocking::run_blocking;
use super::rows::{CREATED_AT_COLUMN, EventRow, PAYLOAD_COLUMN, RowScope, event_row_by_position};
use crate::error::{Error, Result};

/// The read connections of one SQLite store: opened when needed, kept while idle.
pub(crate) struct SqliteReaders {
    path: String,
    busy_timeout: Duration,
    most_idle: usize,
    /// `None` once the store is closed.
    idle: Mutex<Option<Vec<Connection>>>,
}

impl SqliteReaders {
    pub(crate) fn new(path: &str, busy_timeout: Duration, most_idle: usize) -> Self {
        Self {
            path: path.to_string(),
            busy_timeout,
            most_idle: most_idle.max(1),
            idle: Mutex::new(Some(Vec::new())),
        }
    }

    /// Runs `read` on a read connection ([`run_blocking`]).
    pub(crate) async fn read<T: Send + 'static>(
        self: &std::sync::Arc<Self>,
        read: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = self.clone();
        run_blocking("a SQLite read", move || {
            let connection = readers.take()?;
            let result = read(&connection);
            readers.give_back(connection);
            result
        })
        .await
    }

    fn take(&self) -> Result<Connection> {
        let closed = || Error::Unavailable {
            backend: "sqlite",
            location: self.path.clone(),
            reason: "the store was closed".into(),
        };
        let idle = self
            .idle
            .lock()
            .expect("sqlite readers lock")
            .as_mut()
            .ok_or_else(closed)?
            .pop();
        match idle {
            Some(connection) => Ok(connection),
            None => self.open().map_err(|e| Error::Unavailable {
                backend: "sqlite",
                location: self.path.clone(),
                reason: e.to_string(),
            }),
        }
    }

    fn give_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().expect("sqlite readers lock");
        if let Some(idle) = idle.as_mut()
            && idle.len() < self.most_idle
        {
            idle.push(connection);
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let connection = open_existing(&self.path, self.busy_timeout)?;
        connection.pragma_update(None, "query_only", true)?;
        // Reads come from the OS page cache through mmap, as on the pool's connections.
        connection.pragma_update(None, "mmap_size", 268_435_456)?;
        connection.set_prepared_statement_cache_capacity(64);
        Ok(connection)
    }

    /// Drops every connection; later reads fail as the rest of a closed store does.
    pub(crate) fn close(&self) {
        self.idle.lock().expect("sqlite readers lock").take();
    }
}

/// A connection of this process's own to the store's file, which it never creates: the store
/// opened (and migrated) it already.
pub(crate) fn open_existing(path: &str, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(busy_timeout)?;
    Ok(connection)
}

/// A statement and its parameters, built the way sqlx's `QueryBuilder` builds one (the same
/// `push` / `push_bind` / `separated` calls), so one macro body writes a query for either.
pub(crate) struct SqliteQuery {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl SqliteQuery {
    pub(crate) fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.sql, "{sql}");
        self
    }

    pub(crate) fn push_bind(&mut self, value: impl Bind) -> &mut Self {
        self.params.push(value.into_sql());
        self.sql.push('?');
        self
    }

    pub(crate) fn separated(&mut self, separator: &'static str) -> Separated<'_> {
        Separated {
            query: self,
            separator,
            first: true,
        }
    }
}

/// Values joined by a separator, as `QueryBuilder::separated`.
pub(crate) struct Separated<'a> {
    query: &'a mut SqliteQuery,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    pub(crate) fn push_bind(&mut self, value: impl Bind) -> &mut Self {
        if !self.first {
            self.query.sql.push_str(self.separator);
        }
        self.first = false;
        self.query.push_bind(value);
        self
    }
}

/// A value bound to a [`SqliteQuery`], encoded exactly as sqlx encodes it for SQLite, so
/// comparisons with the stored text agree.
pub(crate) trait Bind {
    fn into_sql(self) -> SqlValue;
}

impl Bind for &str {
    fn into_sql(self) -> SqlValue {
        SqlValue::Text(self.to_string())
    }
}

impl Bind for &String {
    fn into_sql(self) -> SqlValue {
        SqlValue::Text(self.clone())
    }
}

impl Bind for String {
    fn into_sql(self) -> SqlValue {
        SqlValue::Text(self)
    }
}

impl Bind for i64 {
    fn into_sql(self) -> SqlValue {
        SqlValue::Integer(self)
    }
}

impl Bind for DateTime<Utc> {
    fn into_sql(self) -> SqlValue {
        // sqlx's `Encode<Sqlite> for DateTime<Utc>`: the text every created_at is stored as.
        SqlValue::Text(self.to_rfc3339_opts(SecondsFormat::AutoSi, false))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Database(sqlx::Error::AnyDriverError(Box::new(error)))
    }
}

impl SqliteReaders {
    /// The rows of `query` (which selects `scope.columns()`) as `page` keeps them.
    pub(crate) async fn event_page(
        self: &std::sync::Arc<Self>,
        query: SqliteQuery,
        scope: RowScope<String>,
        mut page: super::query::PageFill,
    ) -> Result<super::query::PageFill> {
        self.read(move |connection| {
            let scope = scope.borrowed();
            let mut statement = connection.prepare_cached(&query.sql)?;
            let mut rows = statement.query(rusqlite::params_from_iter(query.params))?;
            while let Some(row) = rows.next()? {
                let payload_bytes = row
                    .get_ref(PAYLOAD_COLUMN)?
                    .as_bytes()
                    .map_err(rusqlite::Error::from)?
                    .len();
                if !page.offer(payload_bytes, || event_row(row, scope)?.into_event())? {
                    break;
                }
            }
            Ok(page)
        })
        .await
    }

    /// Every row of `query` (which selects [`super::sql::READ_COLUMNS`]), for readers that
    /// bound the count themselves (a projector's batch): a page without limit or byte budget.
    pub(crate) async fn events(
        self: &std::sync::Arc<Self>,
        query: SqliteQuery,
    ) -> Result<Vec<crate::model::Event>> {
        let unbounded = super::query::PageFill::new(i64::MAX, usize::MAX);
        Ok(self
            .event_page(query, RowScope::Any, unbounded)
            .await?
            .events)
    }
}

/// A row of `scope`'s columns of [`super::sql::READ_COLUMNS`], as the sqlx reads decode it,
/// so both become events through [`EventRow::into_event`].
pub(crate) fn event_row(row: &rusqlite::Row<'_>, scope: RowScope<&str>) -> Result<EventRow> {
    let created_at = row.get_ref(CREATED_AT_COLUMN)?;
    let created_at = created_at.as_str().map_err(|e| {
        Error::undecodable(format!(
            "created_at (column {CREATED_AT_COLUMN}) holds {}, not a time: {e}",
            created_at.data_type()
        ))
    })?;
    let created_at = match stored_time(created_at) {
        Some(time) => time,
        None => DateTime::parse_from_rfc3339(created_at)
            .map_err(|e| Error::undecodable(format!("createdAt {created_at:?}: {e}")))?
            .to_utc(),
    };
    Ok(event_row_by_position!(row, get, scope, created_at))
}

/// A `created_at` in the shape nearly every event's is stored in,
/// `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (the store keeps microseconds), read by position: a
/// tenth of chrono's general RFC 3339 parser, which reads every other spelling (`None`).
fn stored_time(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ];
    if b.len() != 32 || &b[26..] != b"+00:00" || separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let number = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let time = chrono::NaiveTime::from_hms_micro_opt(
        number(11, 13)?,
        number(14, 16)?,
        number(17, 19)?,
        number(20, 26)?,
    )?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActorType, NewEvent, Principal};
    use crate::store::Store;

    #[test]
    fn the_bundled_sqlite_is_built_with_the_workspace_options() {
        // .cargo/config.toml sets them; a build that loses them is slower, not wrong, so only
        // this test notices.
        let connection = Connection::open_in_memory().unwrap();
        let mut statement = connection.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for wanted in ["DEFAULT_MEMSTATUS=0", "USE_ALLOCA"] {
            assert!(
                options.iter().any(|option| option == wanted),
                "{wanted} missing from {options:?}"
            );
        }
    }

    #[test]
    fn stored_times_read_by_position_are_what_chrono_reads() {
        for text in [
            "2026-09-02T00:03:10.191738+00:00",
            "1970-01-01T00:00:00.000000+00:00",
            "2024-02-29T23:59:59.999999+00:00",
        ] {
            let chrono = DateTime::parse_from_rfc3339(text).unwrap().to_utc();
            assert_eq!(stored_time(text), Some(chrono), "{text}");
        }
        // Other spellings, and impossible dates, are left to chrono (which refuses the latter).
        for text in [
            "2026-09-02T00:03:10+00:00",
            "2026-09-02T00:03:10.191+00:00",
            "2026-09-02T00:03:10.191738Z",
            "2026-09-02T02:03:10.191738+02:00",
            "2025-02-29T00:00:00.000000+00:00",
            "2026-13-02T00:03:10.191738+00:00",
            "2026-09-02T00:03:60.191738+00:00",
            "2026-09-02T00:0a:10.191738+00:00",
            "+026-09-02T00:03:10.191738+00:00",
        ] {
            assert_eq!(stored_time(text), None, "{text}");
        }
    }

    #[tokio::test]
    async fn bound_times_are_the_text_sqlx_stores() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let mut times = Vec::new();
        for when in [
            "2026-03-02T09:30:00Z",
            "2026-03-02T09:30:00.123456Z",
            "2026-03-02T09:30:00.5Z",
        ] {
            let mut event = NewEvent::new(
                "p1",
                "practice",
                "p1",
                if times.is_empty() {
                    "practice.created"
                } else {
                    "practice.updated"
                },
                serde_json::json!({"name": "P"}),
                ActorType::System,
            );
            event.created_at = Some(when.parse().unwrap());
            let stored = store.append(&Principal::System, event).await.unwrap();
            times.push(stored.created_at);
        }
        let crate::store::Backend::Sqlite { pool, .. } = store.backend() else {
            unreachable!("a SQLite store")
        };
        let stored: Vec<String> = sqlx::query_scalar(
            "SELECT created_at FROM events WHERE practice_id = 'p1' ORDER BY seq",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let bound: Vec<String> = times
            .into_iter()
            .map(|t| match t.into_sql() {
                SqlValue::Text(text) => text,
                other => panic!("a time binds as text, not {other:?}"),
            })
            .collect();
        assert_eq!(bound, stored);
    }

    #[test]
    fn queries_build_like_sqlx_query_builder() {
        let mut q = SqliteQuery::new("SELECT 1 WHERE a = ");
        q.push_bind("x").push(" AND b IN (");
        let mut list = q.separated(", ");
        for n in [1i64, 2, 3] {
            list.push_bind(n);
        }
        q.push(")");
        assert_eq!(q.sql, "SELECT 1 WHERE a = ? AND b IN (?, ?, ?)");
        assert_eq!(
            q.params,
            vec![
                SqlValue::Text("x".into()),
                SqlValue::Integer(1),
                SqlValue::Integer(2),
                SqlValue::Integer(3)
            ]
        );
    }
}
