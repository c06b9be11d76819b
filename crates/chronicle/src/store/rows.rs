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
        Ok(EventRow {
            practice_id: row.try_get(0)?,
            seq: row.try_get(1)?,
            id: row.try_get(2)?,
            aggregate_type: row.try_get(3)?,
            aggregate_id: row.try_get(4)?,
            version: row.try_get(5)?,
            event_type: row.try_get(6)?,
            payload_json: row.try_get(7)?,
            actor_type: row.try_get(8)?,
            actor_id: row.try_get(9)?,
            created_at: row.try_get(10)?,
            hash: row.try_get(11)?,
            recorded_by: row.try_get(12)?,
        })
    }
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
