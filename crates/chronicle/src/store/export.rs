//! What an export reads: the practice head, a first pass over `(seq, hash)` of the slice (for
//! the manifest's count, range and digest, which come before the events), and the events
//! themselves page by page, each with the hash of the event before it in the practice.
//! History is immutable and both passes stop at the head read first, so they see the same events.

use futures_util::TryStreamExt;
use sqlx::{ConnectOptions, QueryBuilder};

use super::query::{TimelineFilter, check_filter, push_timeline_filter};
use super::rows::unpadded_hash;
use super::sql::READ_COLUMNS;
use super::{Backend, Store, dispatch};
use crate::chain::ZERO_HASH;
use crate::error::Result;
use crate::export::{ExportDigest, ExportRow};
use crate::model::Principal;

/// The head of a practice's chain: what to write down to anchor its history elsewhere.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainHead {
    /// The practice.
    pub practice_id: String,
    /// Seq of the last event (0 for a practice without events).
    pub seq: i64,
    /// Its hash (the zero hash before the first event).
    pub hash: String,
    /// Its time.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The first pass of an export.
pub(crate) struct Survey {
    pub count: i64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub digest: String,
    pub forms: Vec<u8>,
}

type HeadRow = (i64, String, Option<chrono::DateTime<chrono::Utc>>);

/// Seqs per statement of a SQLite survey: the joined digest lines of a window stay a few MiB.
const SURVEY_WINDOW: i64 = 50_000;

impl Store {
    /// The practice's chain head, for members.
    pub async fn chain_head(&self, principal: &Principal, practice_id: &str) -> Result<ChainHead> {
        self.read_access(principal, practice_id).await?;
        let head: Option<HeadRow> = dispatch!(self, |pool, _sql| {
            sqlx::query_as(
                "SELECT seq, hash, last_event_at FROM practice_heads WHERE practice_id = $1",
            )
            .bind(practice_id)
            .fetch_optional(pool)
            .await?
        });
        let (seq, hash, at) = head.unwrap_or((0, ZERO_HASH.to_string(), None));
        Ok(ChainHead {
            practice_id: practice_id.to_string(),
            seq,
            hash: unpadded_hash(&hash).to_string(),
            at,
        })
    }

    /// On SQLite, a connection of the export's own: it reads the file through SQLite's small
    /// page cache instead of `mmap`, so a long export neither holds a pool connection nor
    /// maps hundreds of MiB of the database into its resident memory.
    pub(crate) async fn export_reader(&self) -> Result<ExportReader> {
        let Backend::Sqlite { .. } = self.backend() else {
            return Ok(ExportReader(None));
        };
        let connection = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(self.location())
            .read_only(true)
            .pragma("mmap_size", "0")
            .connect()
            .await?;
        Ok(ExportReader(Some(tokio::sync::Mutex::new(connection))))
    }

    /// The survey of the whole practice up to `head_seq` from the digest state its head keeps,
    /// without reading the events: `None` when the head has moved on or keeps no state (events
    /// from before the store kept one). A practice with a state was created since: its events
    /// run from seq 1 and all carry `recordedBy` (chain form 2). A forged state cannot make a
    /// manifest lie: the export digests what it writes and fails when the two differ.
    pub(crate) async fn whole_practice_survey(
        &self,
        practice_id: &str,
        head_seq: i64,
    ) -> Result<Option<Survey>> {
        let state: Option<Option<Vec<u8>>> = dispatch!(self, |pool, _sql| {
            sqlx::query_scalar(
                "SELECT export_digest_state FROM practice_heads WHERE practice_id = $1 AND seq = $2",
            )
            .bind(practice_id)
            .bind(head_seq)
            .fetch_optional(pool)
            .await?
        });
        let Some(digest) = state.flatten().as_deref().and_then(ExportDigest::resume) else {
            return Ok(None);
        };
        Ok((head_seq > 0).then(|| Survey {
            count: head_seq,
            first_seq: Some(1),
            last_seq: Some(head_seq),
            digest: digest.finish(),
            forms: vec![2],
        }))
    }

    /// Count, seq range, digest and chain forms of the slice up to `through_seq`.
    pub(crate) async fn export_survey(
        &self,
        reader: &ExportReader,
        practice_id: &str,
        filter: &TimelineFilter,
        through_seq: i64,
    ) -> Result<Survey> {
        check_filter(filter)?;
        let mut digest = ExportDigest::default();
        let (mut count, mut first_seq, mut last_seq) = (0i64, None, None);
        let (mut form_1, mut form_2) = (false, false);
        match self.backend() {
            Backend::Sqlite { .. } => {
                let mut connection = reader.sqlite().await;
                // A window of seqs per statement, the digest's lines joined by SQLite: one row
                // per window instead of one per event through sqlx's worker thread.
                let mut low = 0i64;
                while low < through_seq {
                    let high = (low + SURVEY_WINDOW).min(through_seq);
                    let mut q = QueryBuilder::new(
                        "SELECT COUNT(*), MIN(seq), MAX(seq), COALESCE(SUM(recorded_by IS NULL), 0), \
                         COALESCE(group_concat(seq || ' ' || hash || char(10), '' ORDER BY seq), '') \
                         FROM events WHERE practice_id = ",
                    );
                    q.push_bind(practice_id)
                        .push(" AND seq > ")
                        .push_bind(low)
                        .push(" AND seq <= ")
                        .push_bind(high);
                    push_timeline_filter!(q, filter, "");
                    let (n, first, last, unrecorded, lines): (
                        i64,
                        Option<i64>,
                        Option<i64>,
                        i64,
                        String,
                    ) = q.build_query_as().fetch_one(&mut *connection).await?;
                    digest.add_lines(lines.as_bytes());
                    count += n;
                    if first_seq.is_none() {
                        first_seq = first;
                    }
                    last_seq = last.or(last_seq);
                    form_1 |= unrecorded > 0;
                    form_2 |= n > unrecorded;
                    low = high;
                }
            }
            Backend::Postgres { pool, .. } => {
                let mut q = QueryBuilder::new(
                    "SELECT seq, hash, recorded_by IS NOT NULL FROM events WHERE practice_id = ",
                );
                q.push_bind(practice_id)
                    .push(" AND seq <= ")
                    .push_bind(through_seq);
                push_timeline_filter!(q, filter, "");
                q.push(" ORDER BY seq");
                let mut rows = q.build_query_as::<(i64, String, bool)>().fetch(pool);
                while let Some((seq, hash, recorded)) = rows.try_next().await? {
                    digest.add(seq, unpadded_hash(&hash));
                    count += 1;
                    first_seq.get_or_insert(seq);
                    last_seq = Some(seq);
                    if recorded {
                        form_2 = true;
                    } else {
                        form_1 = true;
                    }
                }
            }
        }
        let forms = [(1u8, form_1), (2u8, form_2)]
            .into_iter()
            .filter_map(|(form, present)| present.then_some(form))
            .collect();
        Ok(Survey {
            count,
            first_seq,
            last_seq,
            digest: digest.finish(),
            forms,
        })
    }

    /// Up to `limit` events of the slice after `after_seq` and up to `through_seq`, in seq
    /// order, each with the hash of the event before it in the practice when `previous` is
    /// asked for (a slice with gaps); a contiguous slice carries it over from the row before.
    pub(crate) async fn export_page(
        &self,
        reader: &ExportReader,
        practice_id: &str,
        filter: &TimelineFilter,
        (after_seq, through_seq): (i64, i64),
        limit: i64,
        previous: bool,
    ) -> Result<ExportPage> {
        let previous_hash = if previous {
            "(SELECT p.hash FROM events p WHERE p.practice_id = e.practice_id AND p.seq = e.seq - 1)"
        } else {
            "NULL"
        };
        // The event's columns in the order `ExportRow` reads them, then the previous hash.
        let mut columns: String = READ_COLUMNS
            .split(", ")
            .map(|column| format!("e.{column}, "))
            .collect();
        columns.push_str(previous_hash);
        columns.push_str(" AS previous_hash");
        match self.backend() {
            Backend::Sqlite { .. } => {
                let mut connection = reader.sqlite().await;
                // One JSON array per page: sqlx's SQLite driver hands every row from its worker
                // thread through a channel and copies every value, which profiling showed to
                // cost several times what SQLite spends reading the rows.
                let mut q = QueryBuilder::new(
                    "SELECT json_group_array(json_array(seq, id, aggregate_type, aggregate_id, version, event_type, \
                     payload_json, actor_type, actor_id, created_at, hash, recorded_by, previous_hash) ORDER BY seq) FROM (SELECT ",
                );
                q.push(&columns)
                    .push(" FROM events e WHERE e.practice_id = ");
                q.push_bind(practice_id)
                    .push(" AND e.seq > ")
                    .push_bind(after_seq)
                    .push(" AND e.seq <= ")
                    .push_bind(through_seq);
                push_timeline_filter!(q, filter, "e.");
                q.push(" ORDER BY e.seq LIMIT ").push_bind(limit).push(")");
                let text: String = q.build_query_scalar().fetch_one(&mut *connection).await?;
                Ok(ExportPage::Json(text))
            }
            Backend::Postgres { pool, .. } => {
                let mut q = QueryBuilder::new("SELECT ");
                q.push(&columns)
                    .push(" FROM events e WHERE e.practice_id = ");
                q.push_bind(practice_id)
                    .push(" AND e.seq > ")
                    .push_bind(after_seq)
                    .push(" AND e.seq <= ")
                    .push_bind(through_seq);
                push_timeline_filter!(q, filter, "e.");
                q.push(" ORDER BY e.seq LIMIT ").push_bind(limit);
                Ok(ExportPage::Rows(q.build_query_as().fetch_all(pool).await?))
            }
        }
    }
}

/// A page of an export as the backend hands it over.
pub(crate) enum ExportPage {
    /// PostgreSQL: rows.
    Rows(Vec<ExportRow>),
    /// SQLite: one JSON array of `[seq, id, aggregateType, aggregateId, version, eventType,
    /// payloadJson, actorType, actorId, createdAt, hash, recordedBy, previousHash]` rows.
    Json(String),
}

/// The connection an export reads through (SQLite), or none (PostgreSQL reads from the pool).
pub(crate) struct ExportReader(Option<tokio::sync::Mutex<sqlx::SqliteConnection>>);

impl ExportReader {
    async fn sqlite(&self) -> tokio::sync::MutexGuard<'_, sqlx::SqliteConnection> {
        self.0
            .as_ref()
            .expect("a SQLite store's export has its own reader")
            .lock()
            .await
    }
}
