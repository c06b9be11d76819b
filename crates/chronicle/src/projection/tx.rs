//! The transaction a projector writes its read model in: backend-neutral statements with
//! `$N` placeholders and typed arguments, so one projector runs on SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, QueryBuilder, SqliteConnection};

use crate::error::Result;

/// A statement argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Text.
    Text(String),
    /// Nullable text.
    OptText(Option<String>),
    /// Integer.
    Int(i64),
    /// Timestamp.
    Time(DateTime<Utc>),
    /// Nullable timestamp.
    OptTime(Option<DateTime<Utc>>),
}

pub(crate) enum Connection<'t> {
    Sqlite(&'t mut SqliteConnection),
    Postgres(&'t mut PgConnection),
}

/// The runner's open transaction, lent to a projector.
pub struct ProjectionTx<'t> {
    pub(crate) connection: Connection<'t>,
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(v) => query.bind(v),
                Arg::OptText(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Time(v) => query.bind(v),
                Arg::OptTime(v) => query.bind(v),
            };
        }
        query
    }};
}

macro_rules! push_all {
    ($row:expr, $args:expr) => {{
        for arg in $args {
            match arg {
                Arg::Text(v) => $row.push_bind(v),
                Arg::OptText(v) => $row.push_bind(v),
                Arg::Int(v) => $row.push_bind(v),
                Arg::Time(v) => $row.push_bind(v),
                Arg::OptTime(v) => $row.push_bind(v),
            };
        }
    }};
}

/// Rows per multi-row statement.
const ROWS_PER_STATEMENT: usize = 500;

impl ProjectionTx<'_> {
    /// Runs one statement; returns the rows affected.
    pub async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        Ok(match &mut self.connection {
            Connection::Sqlite(conn) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **conn)
                .await?
                .rows_affected(),
            Connection::Postgres(conn) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **conn)
                .await?
                .rows_affected(),
        })
    }

    /// `{insert} VALUES (row), (row), … {on_conflict}` in as few statements as possible.
    /// `insert` is `INSERT INTO table (columns)`; rows must have distinct conflict keys.
    pub async fn insert_rows(
        &mut self,
        insert: &str,
        rows: Vec<Vec<Arg>>,
        on_conflict: &str,
    ) -> Result<()> {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Arg>> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            match &mut self.connection {
                Connection::Sqlite(conn) => {
                    let mut q = QueryBuilder::<sqlx::Sqlite>::new(format!("{insert} "));
                    q.push_values(chunk, |mut row, args| push_all!(row, args));
                    q.push(format_args!(" {on_conflict}"));
                    q.build().execute(&mut **conn).await?;
                }
                Connection::Postgres(conn) => {
                    let mut q = QueryBuilder::<sqlx::Postgres>::new(format!("{insert} "));
                    q.push_values(chunk, |mut row, args| push_all!(row, args));
                    q.push(format_args!(" {on_conflict}"));
                    q.build().execute(&mut **conn).await?;
                }
            }
        }
        Ok(())
    }
}
