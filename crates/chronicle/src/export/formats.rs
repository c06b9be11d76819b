//! The four export formats, written a page at a time into a buffer so an export of any size
//! runs in constant memory. NDJSON and JSON carry each event as its canonical record; CSV
//! quotes by RFC 4180 (the `csv` crate) and adds one column per top-level payload field when
//! the export has one event type; HTML is a printable report rendered by askama templates,
//! which escape every value.

use std::fmt;
use std::str::FromStr;

use askama::Template;
use serde::{Deserialize, Serialize};

use super::manifest::ExportManifest;
use super::record::{ExportRecord, write_record};
use crate::chain::{canonical_json, format_timestamp};
use crate::error::{Error, Result};

/// How an export is written.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The manifest on the first line, then one canonical event record per line.
    #[default]
    Ndjson,
    /// `{"manifest": …, "events": [records]}`.
    Json,
    /// A header row and one row per event; the manifest goes beside it (`FILE.manifest.json`).
    Csv,
    /// A printable report: the manifest and digest on the first page, then one row per event.
    Html,
}

impl ExportFormat {
    /// The MIME type of a download.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "application/x-ndjson",
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Html => "text/html; charset=utf-8",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Html => "html",
        }
    }

    /// Whether `chronicle verify` can recompute the file's hashes (the report is for people).
    pub fn is_verifiable(self) -> bool {
        self != ExportFormat::Html
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.extension())
    }
}

impl FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "ndjson" => Ok(ExportFormat::Ndjson),
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            "html" => Ok(ExportFormat::Html),
            other => Err(format!("{other:?} is not one of ndjson, json, csv, html")),
        }
    }
}

/// The CSV columns every export has, in order; `payload.FIELD` columns follow.
pub(crate) const CSV_COLUMNS: [&str; 14] = [
    "seq",
    "id",
    "createdAt",
    "eventType",
    "aggregateType",
    "aggregateId",
    "version",
    "actorType",
    "actorId",
    "recordedBy",
    "practiceId",
    "payload",
    "hash",
    "previousHash",
];

/// Writes one export in one format.
pub(crate) struct FormatWriter {
    format: ExportFormat,
    csv_bom: bool,
    payload_columns: Vec<String>,
    written: u64,
}

#[derive(Template)]
#[template(path = "export/head.html")]
struct ReportHead<'a> {
    manifest: &'a ExportManifest,
    filter_text: String,
    exported_at: String,
}

#[derive(Template)]
#[template(path = "export/row.html")]
struct ReportRow<'a> {
    seq: i64,
    time: String,
    actor: String,
    recorded_by: &'a str,
    event_type: &'a str,
    aggregate: String,
    version: i64,
    fields: Vec<(String, String)>,
    hash: &'a str,
}

#[derive(Template)]
#[template(path = "export/tail.html")]
struct ReportTail<'a> {
    manifest: &'a ExportManifest,
}

impl FormatWriter {
    /// `payload_columns`: the top-level payload fields given their own CSV columns.
    pub fn new(format: ExportFormat, csv_bom: bool, payload_columns: Vec<String>) -> Self {
        Self {
            format,
            csv_bom,
            payload_columns,
            written: 0,
        }
    }

    pub fn begin(&mut self, manifest: &ExportManifest, out: &mut Vec<u8>) -> Result<()> {
        match self.format {
            ExportFormat::Ndjson => {
                out.extend_from_slice(b"{\"manifest\":");
                out.extend_from_slice(manifest_json(manifest).as_bytes());
                out.extend_from_slice(b"}\n");
            }
            ExportFormat::Json => {
                out.extend_from_slice(b"{\"manifest\":");
                out.extend_from_slice(manifest_json(manifest).as_bytes());
                out.extend_from_slice(b",\"events\":[");
            }
            ExportFormat::Csv => {
                if self.csv_bom {
                    out.extend_from_slice("\u{feff}".as_bytes());
                }
                let mut header: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
                header.extend(self.payload_columns.iter().map(|c| format!("payload.{c}")));
                write_csv(out, &header)?;
            }
            ExportFormat::Html => {
                let head = ReportHead {
                    manifest,
                    filter_text: describe_filter(manifest),
                    exported_at: format_timestamp(manifest.exported_at),
                };
                render(out, &head)?;
            }
        }
        Ok(())
    }

    pub fn event(&mut self, e: &ExportRecord<'_>, out: &mut Vec<u8>) -> Result<()> {
        match self.format {
            ExportFormat::Ndjson => {
                write_record(out, e);
                out.push(b'\n');
            }
            ExportFormat::Json => {
                if self.written > 0 {
                    out.push(b',');
                }
                out.push(b'\n');
                write_record(out, e);
            }
            ExportFormat::Csv => {
                let mut cells = vec![
                    e.seq.to_string(),
                    e.id.to_string(),
                    format_timestamp(e.created_at),
                    e.event_type.to_string(),
                    e.aggregate_type.to_string(),
                    e.aggregate_id.to_string(),
                    e.version.to_string(),
                    e.actor_type.to_string(),
                    e.actor_id.unwrap_or_default().to_string(),
                    e.recorded_by.unwrap_or_default().to_string(),
                    e.practice_id.to_string(),
                    e.payload_json.to_string(),
                    e.hash.to_string(),
                    e.previous_hash.to_string(),
                ];
                if !self.payload_columns.is_empty() {
                    let payload: serde_json::Value =
                        serde_json::from_str(e.payload_json).map_err(Error::undecodable)?;
                    cells.extend(
                        self.payload_columns
                            .iter()
                            .map(|field| payload_cell(payload.get(field))),
                    );
                }
                write_csv(out, &cells)?;
            }
            ExportFormat::Html => {
                let payload: serde_json::Value =
                    serde_json::from_str(e.payload_json).map_err(Error::undecodable)?;
                let fields = match &payload {
                    serde_json::Value::Object(map) => map
                        .iter()
                        .map(|(k, v)| (k.clone(), payload_cell(Some(v))))
                        .collect(),
                    other => vec![(String::new(), canonical_json(other))],
                };
                let report_row = ReportRow {
                    seq: e.seq,
                    time: format_timestamp(e.created_at),
                    actor: match e.actor_id {
                        Some(id) => format!("{} · {id}", e.actor_type),
                        None => e.actor_type.to_string(),
                    },
                    recorded_by: e.recorded_by.unwrap_or("(not recorded)"),
                    event_type: e.event_type,
                    aggregate: format!("{}/{}", e.aggregate_type, e.aggregate_id),
                    version: e.version,
                    fields,
                    hash: e.hash,
                };
                render(out, &report_row)?;
            }
        }
        self.written += 1;
        Ok(())
    }

    pub fn end(&mut self, manifest: &ExportManifest, out: &mut Vec<u8>) -> Result<()> {
        match self.format {
            ExportFormat::Ndjson | ExportFormat::Csv => {}
            ExportFormat::Json => out.extend_from_slice(b"\n]}\n"),
            ExportFormat::Html => render(out, &ReportTail { manifest })?,
        }
        Ok(())
    }
}

/// The manifest as canonical JSON, so the same export is byte-for-byte the same file.
pub(crate) fn manifest_json(manifest: &ExportManifest) -> String {
    canonical_json(&serde_json::to_value(manifest).expect("a manifest serializes"))
}

/// A payload field as a cell: strings as they are, anything else as canonical JSON, absent empty.
pub(crate) fn payload_cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None => String::new(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => canonical_json(other),
    }
}

fn write_csv(out: &mut Vec<u8>, cells: &[String]) -> Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(256));
    writer
        .write_record(cells)
        .map_err(|e| Error::undecodable(format!("writing a CSV row: {e}")))?;
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::undecodable(format!("writing a CSV row: {e}")))?;
    out.extend_from_slice(&bytes);
    Ok(())
}

fn render(out: &mut Vec<u8>, template: &impl Template) -> Result<()> {
    let text = template
        .render()
        .map_err(|e| Error::undecodable(format!("rendering the report: {e}")))?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// The manifest's filter in words, for the report's first page.
fn describe_filter(manifest: &ExportManifest) -> String {
    if manifest.is_unfiltered() {
        return "the whole timeline".into();
    }
    let f = &manifest.filter;
    let mut parts = Vec::new();
    if !f.event_types.is_empty() {
        parts.push(format!("event types {}", f.event_types.join(", ")));
    }
    if let Some(t) = f.actor_type {
        parts.push(format!("actor type {t}"));
    }
    if let Some(a) = &f.actor_id {
        parts.push(format!("actor {a}"));
    }
    match (&f.aggregate_type, &f.aggregate_id) {
        (Some(t), Some(id)) => parts.push(format!("aggregate {t}/{id}")),
        (Some(t), None) => parts.push(format!("aggregate type {t}")),
        _ => {}
    }
    if let Some(from) = f.from {
        parts.push(format!("from {}", format_timestamp(from)));
    }
    if let Some(to) = f.to {
        parts.push(format!("before {}", format_timestamp(to)));
    }
    if let Some(text) = &f.text {
        parts.push(format!("payload contains {text:?}"));
    }
    if let Some(after) = f.after_seq {
        parts.push(format!("after seq {after}"));
    }
    if let Some(before) = f.before_seq {
        parts.push(format!("before seq {before}"));
    }
    parts.join("; ")
}
