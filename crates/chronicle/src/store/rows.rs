//! Database rows and their conversion into API values.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::Event;
use crate::payload::Payload;

/// An event as stored: the columns of [`super::sql::EVENT_COLUMNS`], first in every query
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

/// The columns of an [`EventRow`] read by position from an sqlx row with `$get` (`try_get`,
/// or `try_get_unchecked` where the column types were checked already).
macro_rules! event_row_by_position {
    ($row:expr, $get:ident) => {
        EventRow {
            practice_id: $row.$get(0)?,
            seq: $row.$get(1)?,
            id: $row.$get(2)?,
            aggregate_type: $row.$get(3)?,
            aggregate_id: $row.$get(4)?,
            version: $row.$get(5)?,
            event_type: $row.$get(6)?,
            payload_json: $row.$get(7)?,
            actor_type: $row.$get(8)?,
            actor_id: $row.$get(9)?,
            created_at: $row.$get(10)?,
            hash: $row.$get(11)?,
            recorded_by: $row.$get(12)?,
        }
    };
}

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
        Ok(event_row_by_position!(row, try_get))
    }
}

/// The rows of one PostgreSQL result, decoded as [`EventRow`]s with their column types checked
/// once. sqlx checks the type of every value it decodes (a tenth of reading a page), but
/// PostgreSQL describes a result's columns once for all its rows, so after the first check
/// the others say nothing new. (SQLite types each value on its own, so its rows keep the check
/// of every value.)
pub(crate) struct PostgresEventRows {
    checked: bool,
}

impl PostgresEventRows {
    pub fn new() -> Self {
        Self { checked: false }
    }

    pub fn decode(&mut self, row: &sqlx::postgres::PgRow) -> sqlx::Result<EventRow> {
        use sqlx::Row;
        if !self.checked {
            check_postgres_columns(row)?;
            self.checked = true;
        }
        Ok(event_row_by_position!(row, try_get_unchecked))
    }
}

/// The result's columns are the types [`EventRow`] reads, in [`super::sql::EVENT_COLUMNS`]'s
/// order.
fn check_postgres_columns(row: &sqlx::postgres::PgRow) -> sqlx::Result<()> {
    use sqlx::postgres::{PgTypeInfo, Postgres};
    use sqlx::{Column, Row, Type, TypeInfo};
    fn expect<T: Type<Postgres>>(
        row: &sqlx::postgres::PgRow,
        indexes: &[usize],
    ) -> sqlx::Result<()> {
        for &index in indexes {
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
    expect::<String>(row, &[0, 2, 3, 4, 6, 7, 8, 9, 11, 12])?;
    expect::<i64>(row, &[1, 5])?;
    expect::<DateTime<Utc>>(row, &[10])
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
