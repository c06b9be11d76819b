//! Exports for auditors: a practice's timeline, or any filtered slice, as a file they can hand
//! on, open in a spreadsheet, print, and prove later, offline and without the store, complete
//! and unaltered (`check`).
//!
//! An export reads the practice head first and never goes past it. A first pass over the
//! slice's `(seq, hash)` gives the manifest (count, range, digest), which every format puts
//! before the events; the export is then recorded in the practice as an `audit.export_created`
//! event carrying the same manifest, and the events are written page by page, each with the
//! hash of the event before it so any contiguous run verifies alone. The second pass digests
//! what it writes and must end at the manifest's digest: a store changing under an export
//! (which append-only forbids) stops it with an error instead of a file that lies.

mod check;
mod file;
mod formats;
mod manifest;
mod record;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::store::ExportPage;
pub use check::sidecar_path;
pub use check::{
    CheckProblem, ExportCheck, FileBreak, SeqRange, Unusable, check_export, read_manifest,
};
pub use file::ExportFile;
pub use formats::ExportFormat;
pub use manifest::{ExportManifest, MANIFEST_KIND, MANIFEST_VERSION};
use record::ExportRecord;
pub(crate) use record::{ExportDigest, ExportRow};

use crate::error::{Error, Result};
use crate::model::{ActorType, NewEvent, Principal};
use crate::store::{Store, TimelineFilter};

/// Events read per page of the second pass.
const EXPORT_PAGE: i64 = 2000;
/// The event type that records an export.
pub const EXPORT_EVENT_TYPE: &str = "audit.export_created";

/// What to export and how.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ExportRequest {
    /// ndjson (default), json, csv or html.
    pub format: ExportFormat,
    /// The slice: the timeline's filters (an aggregate is `aggregateType` and `aggregateId`).
    pub filter: TimelineFilter,
    /// CSV only: start with a UTF-8 byte order mark (for spreadsheets that need one).
    pub csv_bom: bool,
}

/// How far an export got.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// The manifest written with it (and recorded in the practice).
    pub manifest: ExportManifest,
    /// Events written.
    pub written: i64,
    /// False when the caller stopped it (see [`Progress`]).
    pub complete: bool,
}

/// Told after each page: `(written, total)`; answering `false` stops the export.
pub type Progress<'a> = &'a mut (dyn FnMut(i64, i64) -> bool + Send);

/// An export whose manifest is known and recorded, ready to be written (see [`Store::export`]).
pub struct PreparedExport {
    store: Store,
    reader: crate::store::ExportReader,
    request: ExportRequest,
    manifest: ExportManifest,
}

impl PreparedExport {
    /// The manifest the file will carry (and the practice now records).
    pub fn manifest(&self) -> &ExportManifest {
        &self.manifest
    }

    /// The format being written.
    pub fn format(&self) -> ExportFormat {
        self.request.format
    }

    /// A file name for it: `chronicle-PRACTICE-EXPORTID.EXT`, with anything but ASCII letters,
    /// digits, `-`, `_` and `.` in the practice id replaced, so it is safe in a header or a path.
    pub fn file_name(&self) -> String {
        let practice: String = self
            .manifest
            .practice_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        format!(
            "chronicle-{practice}-{}.{}",
            self.manifest.export_id,
            self.request.format.extension()
        )
    }

    /// Writes the file to `out`, page by page, telling `progress` after each page.
    pub async fn write_to<W: AsyncWrite + Unpin + Send>(
        &self,
        out: &mut W,
        progress: Progress<'_>,
    ) -> Result<ExportSummary> {
        let (store, request, manifest) = (&self.store, &self.request, &self.manifest);
        let practice_id = manifest.practice_id.as_str();
        let payload_columns = store.payload_columns(request);
        let mut writer =
            formats::FormatWriter::new(request.format, request.csv_bom, payload_columns);
        let mut buffer = Vec::with_capacity(1 << 20);
        writer.begin(manifest, &mut buffer)?;
        let mut digest = ExportDigest::default();
        let mut written = 0i64;
        let mut after = 0i64;
        let mut complete = true;
        // The whole timeline is contiguous from seq 1: each event's previous hash is the hash of
        // the row before, with no lookup. A slice with gaps reads it beside each event.
        let contiguous = manifest.is_unfiltered();
        let mut carried: Option<String> = None;
        loop {
            let page = store
                .export_page(
                    &self.reader,
                    practice_id,
                    &request.filter,
                    (after, manifest.head_seq),
                    EXPORT_PAGE,
                    !contiguous,
                )
                .await?;
            let mut count = 0i64;
            let mut each = |record: ExportRecord<'_>| -> Result<()> {
                digest.add(record.seq, record.hash);
                writer.event(&record, &mut buffer)?;
                after = record.seq;
                count += 1;
                Ok(())
            };
            match &page {
                ExportPage::Rows(rows) => {
                    for row in rows {
                        let previous = carried.take();
                        each(row.record(previous.as_deref()))?;
                        carried = contiguous.then(|| row.hash().to_string());
                    }
                }
                ExportPage::Json(text) => {
                    let rows: Vec<JsonRow<'_>> =
                        serde_json::from_str(text).map_err(Error::undecodable)?;
                    for row in &rows {
                        let previous = carried.take();
                        each(row.record(practice_id, previous.as_deref())?)?;
                        carried = contiguous.then(|| row.hash.to_string());
                    }
                }
            }
            let done = count < EXPORT_PAGE;
            written += count;
            out.write_all(&buffer).await.map_err(write_failed)?;
            buffer.clear();
            if !progress(written, manifest.event_count) {
                complete = false;
                break;
            }
            if done {
                break;
            }
        }
        if complete {
            if written != manifest.event_count || digest.finish() != manifest.digest {
                return Err(Error::Conflict {
                    reason: format!(
                        "the events of practice {practice_id:?} up to seq {} changed while they were exported; \
                         history is append-only, so verify the store (its guards may have been removed)",
                        manifest.head_seq
                    ),
                });
            }
            writer.end(manifest, &mut buffer)?;
            out.write_all(&buffer).await.map_err(write_failed)?;
        }
        out.flush().await.map_err(write_failed)?;
        Ok(ExportSummary {
            manifest: manifest.clone(),
            written,
            complete,
        })
    }
}

impl Store {
    /// Starts an export of the practice: checks read access (every member may export what they
    /// may read), reads the head, surveys the slice for the manifest and records the export in
    /// the practice. Nothing is written yet: [`PreparedExport::write_to`] writes the file.
    pub async fn export(
        &self,
        principal: &Principal,
        practice_id: &str,
        request: ExportRequest,
    ) -> Result<PreparedExport> {
        let head = self.chain_head(principal, practice_id).await?;
        let reader = self.export_reader().await?;
        // The whole practice's manifest comes from the head's digest state, so the first line
        // goes out at once; a slice (or a practice older than the state) is surveyed first.
        let whole = if request.filter == TimelineFilter::default() {
            self.whole_practice_survey(practice_id, head.seq).await?
        } else {
            None
        };
        let survey = match whole {
            Some(survey) => survey,
            None => {
                self.export_survey(&reader, practice_id, &request.filter, head.seq)
                    .await?
            }
        };
        let manifest = ExportManifest {
            kind: MANIFEST_KIND.into(),
            version: MANIFEST_VERSION,
            export_id: uuid::Uuid::now_v7().to_string(),
            practice_id: practice_id.to_string(),
            filter: request.filter.clone(),
            exported_by: principal.recorder().to_string(),
            exported_at: chrono::DateTime::from_timestamp_micros(
                chrono::Utc::now().timestamp_micros(),
            )
            .expect("now is representable"),
            event_count: survey.count,
            first_seq: survey.first_seq,
            last_seq: survey.last_seq,
            head_seq: head.seq,
            head_hash: head.hash,
            chain_forms: survey.forms,
            digest: survey.digest,
        };
        self.record_export(principal, &manifest, request.format)
            .await?;
        Ok(PreparedExport {
            store: self.clone(),
            reader,
            request,
            manifest,
        })
    }

    /// Records the export in the practice as `audit.export_created`, by the exporter: any member
    /// may export what they may read, a viewer included.
    async fn record_export(
        &self,
        principal: &Principal,
        manifest: &ExportManifest,
        format: ExportFormat,
    ) -> Result<()> {
        let mut payload = serde_json::to_value(manifest).map_err(Error::undecodable)?;
        payload["format"] = serde_json::json!(format);
        let (actor_type, actor_id) = match principal {
            Principal::User(user) => (ActorType::Human, Some(user.clone())),
            Principal::System => (ActorType::System, None),
        };
        let mut event = NewEvent::new(
            &manifest.practice_id,
            "audit",
            &manifest.export_id,
            EXPORT_EVENT_TYPE,
            payload,
            actor_type,
        );
        event.actor_id = actor_id;
        self.append_events(
            principal,
            vec![event],
            crate::store::Operation::RecordExport,
            crate::store::AppendMode::Commit,
        )
        .await
        .map_err(|e| match e {
            Error::InBatch { source, .. } => *source,
            other => other,
        })?;
        Ok(())
    }

    /// CSV with one event type: that type's top-level payload fields, by name.
    fn payload_columns(&self, request: &ExportRequest) -> Vec<String> {
        if request.format != ExportFormat::Csv || request.filter.event_types.len() != 1 {
            return Vec::new();
        }
        self.registry()
            .get(&request.filter.event_types[0])
            .ok()
            .and_then(|t| t.schema.get("properties").and_then(|p| p.as_object()))
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// One event of a SQLite export page (see [`ExportPage::Json`]), borrowed from the page's text
/// wherever it needs no unescaping.
#[derive(Deserialize)]
struct JsonRow<'a> {
    seq: i64,
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    aggregate_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    aggregate_id: std::borrow::Cow<'a, str>,
    version: i64,
    #[serde(borrow)]
    event_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    payload_json: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    actor_type: std::borrow::Cow<'a, str>,
    actor_id: Option<String>,
    #[serde(borrow)]
    created_at: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    hash: std::borrow::Cow<'a, str>,
    recorded_by: Option<String>,
    previous_hash: Option<String>,
}

impl JsonRow<'_> {
    fn record<'r>(
        &'r self,
        practice_id: &'r str,
        previous: Option<&'r str>,
    ) -> Result<ExportRecord<'r>> {
        let created_at = chrono::DateTime::parse_from_rfc3339(&self.created_at)
            .map_err(|e| Error::undecodable(format!("event seq {}: createdAt: {e}", self.seq)))?
            .to_utc();
        Ok(ExportRecord {
            practice_id,
            seq: self.seq,
            id: &self.id,
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            version: self.version,
            event_type: &self.event_type,
            payload_json: &self.payload_json,
            actor_type: &self.actor_type,
            actor_id: self.actor_id.as_deref(),
            created_at,
            hash: &self.hash,
            previous_hash: self
                .previous_hash
                .as_deref()
                .or(previous)
                .unwrap_or(crate::chain::ZERO_HASH),
            recorded_by: self.recorded_by.as_deref(),
        })
    }
}

fn write_failed(error: std::io::Error) -> Error {
    Error::undecodable(format!("writing the export: {error}"))
}
