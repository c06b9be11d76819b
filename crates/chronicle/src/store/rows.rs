//! Database rows and their conversion into API values.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::Event;
use crate::payload::Payload;

/// An event as stored: the columns of [`super::sql::READ_COLUMNS`], first in every query
/// that reads one, in that order.
pub(crate) struct EventRow {
    pub practice_id: String,
    pub seq: i64,
    pub id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub version: i64,
    pub event_type: String,
    pub payload_json: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub hash: String,
    pub recorded_by: Option<String>,
}

/// Where `payload_json` is among [`super::sql::READ_COLUMNS`].
pub(crate) const PAYLOAD_COLUMN: usize = 4;
/// Where `created_at` is among [`super::sql::READ_COLUMNS`].
pub(crate) const CREATED_AT_COLUMN: usize = 7;

/// What every row of a query shares because its `WHERE` fixes it. Such a query does not read
/// those columns back: on an aggregate's page they are three of thirteen columns, which the
/// database sends and the client decodes once per row for nothing. Each event takes them
/// from here instead. `S` is `&str`, or `String` to move the scope to another thread.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowScope<S> {
    /// Rows of any practice: every column is read.
    Any,
    /// One practice's rows.
    Practice(S),
    /// One aggregate's rows.
    Aggregate {
        practice_id: S,
        aggregate_type: S,
        aggregate_id: S,
    },
}

impl<S: AsRef<str>> RowScope<S> {
    /// The same scope, borrowing its values.
    pub fn borrowed(&self) -> RowScope<&str> {
        self.map(|value| value.as_ref())
    }

    /// The same scope, owning its values.
    pub fn owned(&self) -> RowScope<String> {
        self.map(|value| value.as_ref().to_owned())
    }

    fn map<'s, T>(&'s self, value: impl Fn(&'s S) -> T) -> RowScope<T> {
        match self {
            RowScope::Any => RowScope::Any,
            RowScope::Practice(practice_id) => RowScope::Practice(value(practice_id)),
            RowScope::Aggregate {
                practice_id,
                aggregate_type,
                aggregate_id,
            } => RowScope::Aggregate {
                practice_id: value(practice_id),
                aggregate_type: value(aggregate_type),
                aggregate_id: value(aggregate_id),
            },
        }
    }

    /// The columns a query of this scope selects: [`super::sql::READ_COLUMNS`] less the ones
    /// the scope fixes, which come last.
    pub fn columns(&self) -> &'static str {
        use super::sql::{AGGREGATE_READ_COLUMNS, PRACTICE_READ_COLUMNS, READ_COLUMNS};
        match self {
            RowScope::Any => READ_COLUMNS,
            RowScope::Practice(_) => PRACTICE_READ_COLUMNS,
            RowScope::Aggregate { .. } => AGGREGATE_READ_COLUMNS,
        }
    }

    /// How many columns [`Self::columns`] has.
    fn width(&self) -> usize {
        self.columns().split(", ").count()
    }
}

/// The columns of an [`EventRow`] of `$scope` read by position from a row with `$get`
/// (`try_get` of an sqlx row, or `try_get_unchecked` where the column types were checked
/// already; `get` of a rusqlite row), `created_at` by `$created_at`; `?` converts their
/// errors.
macro_rules! event_row_by_position {
    ($row:expr, $get:ident, $scope:expr, $created_at:expr) => {{
        let row = $row;
        use $crate::store::rows::{EventRow, PAYLOAD_COLUMN, RowScope};
        let scope: RowScope<&str> = $scope;
        let (aggregate_type, aggregate_id, practice_id) = match scope {
            RowScope::Any => (row.$get(10)?, row.$get(11)?, row.$get(12)?),
            RowScope::Practice(practice_id) => {
                (row.$get(10)?, row.$get(11)?, practice_id.to_owned())
            }
            RowScope::Aggregate {
                practice_id,
                aggregate_type,
                aggregate_id,
            } => (
                aggregate_type.to_owned(),
                aggregate_id.to_owned(),
                practice_id.to_owned(),
            ),
        };
        EventRow {
            seq: row.$get(0)?,
            id: row.$get(1)?,
            version: row.$get(2)?,
            event_type: row.$get(3)?,
            payload_json: row.$get(PAYLOAD_COLUMN)?,
            actor_type: row.$get(5)?,
            actor_id: row.$get(6)?,
            created_at: $created_at,
            hash: row.$get(8)?,
            recorded_by: row.$get(9)?,
            aggregate_type,
            aggregate_id,
            practice_id,
        }
    }};
}
pub(crate) use event_row_by_position;

/// Read by position, not by name: sqlx finds a named column through a hash map, for every
/// column of every row, which cost a sixth of reading a page on PostgreSQL.
impl<'r, R> sqlx::FromRow<'r, R> for EventRow
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(event_row_by_position!(
            row,
            try_get,
            RowScope::Any,
            row.try_get(CREATED_AT_COLUMN)?
        ))
    }
}

/// The rows of one PostgreSQL result of `scope`, decoded as [`EventRow`]s with their column
/// types checked once. sqlx checks the type of every value it decodes (a tenth of reading a
/// page), but PostgreSQL describes a result's columns once for all its rows, so after the
/// first check the others say nothing new. (SQLite types each value on its own, so its rows
/// keep the check of every value.)
pub(crate) struct PostgresEventRows<'s> {
    scope: RowScope<&'s str>,
    checked: bool,
}

impl<'s> PostgresEventRows<'s> {
    pub fn new(scope: RowScope<&'s str>) -> Self {
        Self {
            scope,
            checked: false,
        }
    }

    pub fn decode(&mut self, row: &sqlx::postgres::PgRow) -> sqlx::Result<EventRow> {
        use sqlx::Row;
        if !self.checked {
            check_postgres_columns(row, self.scope)?;
            self.checked = true;
        }
        Ok(event_row_by_position!(
            row,
            try_get_unchecked,
            self.scope,
            row.try_get_unchecked(CREATED_AT_COLUMN)?
        ))
    }
}

/// The result has exactly the columns of `scope`, of the types [`EventRow`] reads, in
/// [`super::sql::READ_COLUMNS`]'s order.
fn check_postgres_columns(row: &sqlx::postgres::PgRow, scope: RowScope<&str>) -> sqlx::Result<()> {
    use sqlx::postgres::{PgTypeInfo, Postgres};
    use sqlx::{Column, Row, Type, TypeInfo};
    if row.len() != scope.width() {
        return Err(sqlx::Error::ColumnDecode {
            index: scope.width().to_string(),
            source: format!(
                "events are read as {} columns; the result has {}",
                scope.width(),
                row.len()
            )
            .into(),
        });
    }
    fn expect<T: Type<Postgres>>(
        row: &sqlx::postgres::PgRow,
        indexes: impl IntoIterator<Item = usize>,
    ) -> sqlx::Result<()> {
        for index in indexes {
            let column = row
                .columns()
                .get(index)
                .ok_or(sqlx::Error::ColumnIndexOutOfBounds {
                    index,
                    len: row.len(),
                })?;
            let found: &PgTypeInfo = column.type_info();
            if !T::compatible(found) {
                return Err(sqlx::Error::ColumnDecode {
                    index: format!("{index} ({})", column.name()),
                    source: format!(
                        "the column is {} in the database; events are read as {}",
                        found.name(),
                        T::type_info().name()
                    )
                    .into(),
                });
            }
        }
        Ok(())
    }
    expect::<String>(
        row,
        [1, 3, 4, 5, 6, 8, 9].into_iter().chain(10..scope.width()),
    )?;
    expect::<i64>(row, [0, 2])?;
    expect::<DateTime<Utc>>(row, [CREATED_AT_COLUMN])
}

impl EventRow {
    pub fn into_event(self) -> Result<Event> {
        let corrupt = |what: String| {
            Error::Database(sqlx::Error::Decode(
                format!(
                    "event {} (seq {}) of practice {}: {what}",
                    self.id, self.seq, self.practice_id
                )
                .into(),
            ))
        };
        let payload = Payload::from_json(self.payload_json)
            .map_err(|e| corrupt(format!("payload is not JSON: {e}")))?;
        let actor_type = self.actor_type.parse().map_err(corrupt)?;
        Ok(Event {
            id: self.id,
            practice_id: self.practice_id,
            seq: self.seq,
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            version: self.version,
            event_type: self.event_type,
            payload,
            actor_type,
            actor_id: self.actor_id,
            created_at: self.created_at,
            hash: {
                let mut hash = self.hash;
                hash.truncate(unpadded_hash(&hash).len());
                hash
            },
            recorded_by: self.recorded_by,
        })
    }
}

/// A hash as read from a `hash` column, without trailing spaces. The columns are `CHAR(64)`
/// on PostgreSQL, and CHAR(n) pads values shorter than n with spaces and returns them
/// padded (SQLite keeps the text as written). Every hash read back goes through here
/// before it is compared or returned.
pub(crate) fn unpadded_hash(stored: &str) -> &str {
    stored.trim_end()
}

pub(crate) fn into_events(rows: Vec<EventRow>) -> Result<Vec<Event>> {
    rows.into_iter().map(EventRow::into_event).collect()
}

/// The parts of an event that say who did what to which aggregate, and when: what the
/// People list and the projector status read from removal and skip events.
#[derive(sqlx::FromRow)]
pub(crate) struct RecordRow {
    pub aggregate_id: String,
    pub seq: i64,
    pub recorded_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub payload_json: String,
}

/// The columns of a [`RecordRow`].
pub(crate) const RECORD_COLUMNS: &str = "aggregate_id, seq, recorded_by, created_at, payload_json";

impl RecordRow {
    pub fn payload(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.payload_json).map_err(Error::undecodable)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HeadRow {
    pub seq: i64,
    pub hash: String,
    pub last_event_at: Option<DateTime<Utc>>,
    pub export_digest_state: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::{EVENT_COLUMNS, READ_COLUMNS};

    fn names(columns: &str) -> Vec<&str> {
        columns.split(", ").collect()
    }

    #[test]
    fn reads_select_every_column_of_events_with_the_fixable_ones_last() {
        let mut read = names(READ_COLUMNS);
        assert_eq!(read[PAYLOAD_COLUMN], "payload_json");
        assert_eq!(read[CREATED_AT_COLUMN], "created_at");
        assert_eq!(
            &read[10..],
            ["aggregate_type", "aggregate_id", "practice_id"]
        );
        let practice = RowScope::Practice("p");
        let aggregate = RowScope::Aggregate {
            practice_id: "p",
            aggregate_type: "t",
            aggregate_id: "i",
        };
        assert_eq!(names(practice.columns()), read[..12]);
        assert_eq!(names(aggregate.columns()), read[..10]);
        assert_eq!(
            (
                RowScope::<&str>::Any.width(),
                practice.width(),
                aggregate.width()
            ),
            (13, 12, 10)
        );
        let mut written = names(EVENT_COLUMNS);
        read.sort_unstable();
        written.sort_unstable();
        assert_eq!(read, written, "reads and INSERTs name the same columns");
    }
}
