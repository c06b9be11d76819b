//! Offline verification of an export file (NDJSON, JSON or CSV), without the store: every
//! hash recomputed from the event's own fields and its `previousHash`; each contiguous run must
//! chain; a gap in a filtered export is listed, in an unfiltered one it is a removal; every
//! event must belong to the manifest's practice and slice; and the count, the seq range, the
//! head and the digest must be the manifest's. The whole file is checked, never a sample
//! (immudb's GHSA-672p is what sampling costs). The first event that breaks is named by seq,
//! id and line.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::formats::{CSV_COLUMNS, ExportFormat, payload_cell};
use super::manifest::{ExportManifest, MANIFEST_KIND, MANIFEST_VERSION};
use super::record::{ExportDigest, Record};
use crate::chain::{ZERO_HASH, canonical_json};

/// A file that cannot be checked at all (not an export, unreadable, no manifest): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

/// A run of seqs: `from` to `to`, both included.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeqRange {
    /// First seq.
    pub from: i64,
    /// Last seq.
    pub to: i64,
}

/// Where the file first stops being the history it claims to be.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileBreak {
    /// Seq of the event at fault (or where one is missing).
    pub seq: Option<i64>,
    /// Its id, when there is an event.
    pub event_id: Option<String>,
    /// Line of the file (NDJSON, CSV: the physical row; JSON: the element's position from 1).
    pub line: Option<u64>,
    /// What is wrong.
    pub problem: String,
}

/// A disagreement between the manifest and the events.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckProblem {
    /// The manifest field (`eventCount`, `digest`, …).
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

/// The result of checking an export file.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportCheck {
    /// Nothing missing, added or altered, and the manifest agrees.
    pub intact: bool,
    /// The file's format.
    pub format: ExportFormat,
    /// The manifest as read.
    pub manifest: ExportManifest,
    /// Events whose hash was recomputed.
    pub events_checked: i64,
    /// Seq of the first and last event read.
    pub first_seq: Option<i64>,
    /// Seq of the last event read.
    pub last_seq: Option<i64>,
    /// Seqs a filtered export leaves out, between its events.
    pub gaps: Vec<SeqRange>,
    /// The first event that breaks, if any.
    pub first_break: Option<FileBreak>,
    /// Where the manifest and the events disagree.
    pub manifest_problems: Vec<CheckProblem>,
    /// The digest of the events read.
    pub digest: String,
}

/// Reads the manifest of an export file: the first line (NDJSON), the `manifest` field (JSON)
/// or the sidecar `FILE.manifest.json` (CSV).
pub fn read_manifest(path: &Path) -> Result<ExportManifest, Unusable> {
    let (format, _) = sniff(path)?;
    match format {
        ExportFormat::Csv => read_sidecar(path),
        _ => read_leading_manifest(path, format),
    }
}

/// Checks an export file; `Err` when it cannot be checked at all.
pub fn check_export(path: &Path) -> Result<ExportCheck, Unusable> {
    let (format, reader) = sniff(path)?;
    match format {
        ExportFormat::Ndjson => check_ndjson(path, reader),
        ExportFormat::Json => check_json(path, reader),
        ExportFormat::Csv => check_csv(path, reader),
        ExportFormat::Html => Err(Unusable(format!(
            "{}: an HTML report is for reading and printing; verify the NDJSON, JSON or CSV export",
            path.display()
        ))),
    }
}

fn open(path: &Path) -> Result<BufReader<File>, Unusable> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 20, f))
        .map_err(|e| Unusable(format!("cannot read {}: {e}", path.display())))
}

/// The format from the file's first bytes (a byte order mark skipped).
fn sniff(path: &Path) -> Result<(ExportFormat, BufReader<File>), Unusable> {
    let mut reader = open(path)?;
    let start = reader
        .fill_buf()
        .map_err(|e| Unusable(format!("cannot read {}: {e}", path.display())))?;
    let start = start.strip_prefix("\u{feff}".as_bytes()).unwrap_or(start);
    let text = String::from_utf8_lossy(&start[..start.len().min(64)]).into_owned();
    let trimmed = text.trim_start();
    let format = if trimmed.starts_with("{\"manifest\":") {
        // NDJSON's first line is the manifest alone; the buffer holds it (a manifest is small).
        let first_line = start
            .iter()
            .position(|b| *b == b'\n')
            .map(|end| String::from_utf8_lossy(&start[..end]))
            .unwrap_or_default();
        if first_line.trim_end().ends_with("}}") && !first_line.contains("\"events\":") {
            ExportFormat::Ndjson
        } else {
            ExportFormat::Json
        }
    } else if trimmed.starts_with('{') {
        ExportFormat::Json
    } else if trimmed.starts_with("seq,") {
        ExportFormat::Csv
    } else if trimmed.to_ascii_lowercase().starts_with("<!doctype html") {
        ExportFormat::Html
    } else {
        return Err(Unusable(format!(
            "{} is not a Chronicle export (NDJSON, JSON or CSV)",
            path.display()
        )));
    };
    Ok((format, reader))
}

fn parse_manifest(value: serde_json::Value, at: &str) -> Result<ExportManifest, Unusable> {
    if value.get("kind").and_then(|k| k.as_str()) != Some(MANIFEST_KIND) {
        return Err(Unusable(format!("{at}: not a Chronicle export manifest")));
    }
    let version = value.get("version").and_then(|v| v.as_u64());
    if version != Some(u64::from(MANIFEST_VERSION)) {
        return Err(Unusable(format!(
            "{at}: manifest version {version:?}; this build reads version {MANIFEST_VERSION}"
        )));
    }
    serde_json::from_value(value).map_err(|e| Unusable(format!("{at}: malformed manifest: {e}")))
}

fn read_sidecar(path: &Path) -> Result<ExportManifest, Unusable> {
    let sidecar = sidecar_path(path);
    let text = std::fs::read_to_string(&sidecar).map_err(|e| {
        Unusable(format!(
            "a CSV export's manifest is beside it, in {}: {e}",
            sidecar.display()
        ))
    })?;
    let value = serde_json::from_str(&text)
        .map_err(|e| Unusable(format!("{}: not JSON: {e}", sidecar.display())))?;
    parse_manifest(value, &sidecar.display().to_string())
}

/// `FILE.manifest.json` beside a CSV export.
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

fn read_leading_manifest(path: &Path, format: ExportFormat) -> Result<ExportManifest, Unusable> {
    let mut reader = open(path)?;
    match format {
        ExportFormat::Ndjson => {
            let mut line = String::new();
            reader
                .read_line(&mut line)
                .map_err(|e| Unusable(format!("cannot read {}: {e}", path.display())))?;
            let value: serde_json::Value = serde_json::from_str(&line)
                .map_err(|e| Unusable(format!("{} line 1: not JSON: {e}", path.display())))?;
            parse_manifest(
                value["manifest"].clone(),
                &format!("{} line 1", path.display()),
            )
        }
        _ => {
            let mut checker = Checker::default();
            let mut de = serde_json::Deserializer::from_reader(reader);
            let stop_after_manifest = true;
            let result = ExportVisitor {
                checker: &mut checker,
                stop_after_manifest,
            }
            .deserialize(&mut de);
            match (checker.manifest.take(), result) {
                (Some(manifest), _) => Ok(manifest),
                (None, Err(e)) => Err(Unusable(format!("{}: {e}", path.display()))),
                (None, Ok(())) => Err(Unusable(format!("{}: no manifest", path.display()))),
            }
        }
    }
}

fn check_ndjson(path: &Path, mut reader: BufReader<File>) -> Result<ExportCheck, Unusable> {
    let mut checker = Checker::default();
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| Unusable(format!("cannot read {}: {e}", path.display())))?;
        if read == 0 {
            break;
        }
        number += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if number == 1 {
            let value: serde_json::Value =
                serde_json::from_str(text.trim_start_matches('\u{feff}'))
                    .map_err(|e| Unusable(format!("{} line 1: not JSON: {e}", path.display())))?;
            checker.manifest = Some(parse_manifest(
                value["manifest"].clone(),
                &format!("{} line 1", path.display()),
            )?);
            continue;
        }
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(text) {
            Ok(record) => checker.event(&record, Some(number)),
            Err(e) => checker.malformed(number, &e.to_string()),
        }
        if checker.first_break.is_some() {
            break;
        }
    }
    checker.finish(ExportFormat::Ndjson, path)
}

fn check_json(path: &Path, reader: BufReader<File>) -> Result<ExportCheck, Unusable> {
    let mut checker = Checker::default();
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = ExportVisitor {
        checker: &mut checker,
        stop_after_manifest: false,
    }
    .deserialize(&mut de);
    if let Err(error) = result {
        if checker.manifest.is_none() {
            return Err(Unusable(format!("{}: {error}", path.display())));
        }
        if checker.first_break.is_none() {
            checker.first_break = Some(FileBreak {
                seq: checker.previous.as_ref().map(|(seq, _)| seq + 1),
                event_id: None,
                line: Some(checker.position + 1),
                problem: format!(
                    "the file is not well-formed JSON after the last good event: {error}"
                ),
            });
        }
    }
    checker.finish(ExportFormat::Json, path)
}

fn check_csv(path: &Path, reader: BufReader<File>) -> Result<ExportCheck, Unusable> {
    let mut checker = Checker {
        manifest: Some(read_sidecar(path)?),
        ..Checker::default()
    };
    let mut bytes = reader;
    // The csv crate reads a byte order mark as part of the first header.
    if bytes
        .fill_buf()
        .is_ok_and(|b| b.starts_with("\u{feff}".as_bytes()))
    {
        bytes.consume(3);
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let headers = csv
        .headers()
        .map_err(|e| Unusable(format!("{}: unreadable CSV header: {e}", path.display())))?
        .clone();
    let column: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    for name in CSV_COLUMNS {
        if !column.contains_key(name) {
            return Err(Unusable(format!("{}: no {name:?} column", path.display())));
        }
    }
    let payload_columns: Vec<(String, usize)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.strip_prefix("payload.").map(|f| (f.to_string(), i)))
        .collect();
    for row in csv.records() {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                checker.malformed(line, &e.to_string());
                break;
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        let cell = |name: &str| row.get(column[name]).unwrap_or_default();
        let optional = |name: &str| Some(cell(name).to_string()).filter(|v| !v.is_empty());
        let number = |name: &str| cell(name).parse::<i64>();
        let (Ok(seq), Ok(version)) = (number("seq"), number("version")) else {
            checker.malformed(line, "seq and version must be whole numbers");
            break;
        };
        let payload = match serde_json::value::RawValue::from_string(cell("payload").to_string()) {
            Ok(raw) => raw,
            Err(e) => {
                checker.malformed(line, &format!("payload is not JSON: {e}"));
                break;
            }
        };
        let record = Record {
            id: cell("id").to_string(),
            practice_id: cell("practiceId").to_string(),
            seq,
            aggregate_type: cell("aggregateType").to_string(),
            aggregate_id: cell("aggregateId").to_string(),
            version,
            event_type: cell("eventType").to_string(),
            payload,
            actor_type: cell("actorType").to_string(),
            actor_id: optional("actorId"),
            created_at: cell("createdAt").to_string(),
            hash: cell("hash").to_string(),
            previous_hash: cell("previousHash").to_string(),
            recorded_by: optional("recordedBy"),
        };
        checker.event(&record, Some(line));
        if checker.first_break.is_none() && !payload_columns.is_empty() {
            // The readable columns must say what the hashed payload says.
            let payload: serde_json::Value =
                serde_json::from_str(record.payload.get()).unwrap_or_default();
            if let Some((field, _)) = payload_columns.iter().find(|(field, i)| {
                row.get(*i).unwrap_or_default() != payload_cell(payload.get(field))
            }) {
                checker.broken(
                    &record,
                    Some(line),
                    format!("column payload.{field} differs from the payload's {field:?}"),
                );
            }
        }
        if checker.first_break.is_some() {
            break;
        }
    }
    checker.finish(ExportFormat::Csv, path)
}

/// Reads `{"manifest": …, "events": [ … ]}` one event at a time.
struct ExportVisitor<'c> {
    checker: &'c mut Checker,
    stop_after_manifest: bool,
}

impl<'de> DeserializeSeed<'de> for ExportVisitor<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ExportVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Chronicle export: {\"manifest\": …, \"events\": […]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "manifest" => {
                    let value: serde_json::Value = map.next_value()?;
                    let manifest = parse_manifest(value, "manifest")
                        .map_err(|e| serde::de::Error::custom(e.0))?;
                    self.checker.manifest = Some(manifest);
                    if self.stop_after_manifest {
                        return Ok(());
                    }
                }
                "events" => {
                    if self.checker.manifest.is_none() {
                        return Err(serde::de::Error::custom(
                            "the manifest must come before the events",
                        ));
                    }
                    map.next_value_seed(EventsSeed(self.checker))?;
                }
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "unexpected field {other:?} in an export"
                    )));
                }
            }
        }
        Ok(())
    }
}

struct EventsSeed<'c>(&'c mut Checker);

impl<'de> DeserializeSeed<'de> for EventsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of exported events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut position = 0u64;
        loop {
            position += 1;
            self.0.position = position;
            match seq.next_element::<serde_json::Value>()? {
                None => return Ok(()),
                Some(value) => {
                    if self.0.first_break.is_some() {
                        continue;
                    }
                    match serde_json::from_value::<Record>(value) {
                        Ok(record) => self.0.event(&record, Some(position)),
                        Err(e) => self.0.malformed(position, &e.to_string()),
                    }
                }
            }
        }
    }
}

/// The format-independent checks, fed one event at a time.
#[derive(Default)]
struct Checker {
    manifest: Option<ExportManifest>,
    previous: Option<(i64, String)>,
    digest: ExportDigest,
    count: i64,
    first_seq: Option<i64>,
    gaps: Vec<SeqRange>,
    first_break: Option<FileBreak>,
    form_2_began: bool,
    position: u64,
}

impl Checker {
    fn broken(&mut self, record: &Record, line: Option<u64>, problem: String) {
        if self.first_break.is_none() {
            self.first_break = Some(FileBreak {
                seq: Some(record.seq),
                event_id: Some(record.id.clone()),
                line,
                problem,
            });
        }
    }

    fn malformed(&mut self, line: u64, problem: &str) {
        if self.first_break.is_none() {
            self.first_break = Some(FileBreak {
                seq: self.previous.as_ref().map(|(seq, _)| seq + 1),
                event_id: None,
                line: Some(line),
                problem: format!("not an exported event: {problem}"),
            });
        }
    }

    fn event(&mut self, record: &Record, line: Option<u64>) {
        let Some(manifest) = self.manifest.as_ref() else {
            return;
        };
        let unfiltered = manifest.is_unfiltered();
        if record.practice_id != manifest.practice_id {
            let problem = format!(
                "belongs to practice {:?}; the export is of {:?}",
                record.practice_id, manifest.practice_id
            );
            return self.broken(record, line, problem);
        }
        if let Some(problem) = outside_slice(manifest, record) {
            return self.broken(record, line, problem);
        }
        match self.previous.clone() {
            None => {
                if let Some(first) = manifest.first_seq
                    && record.seq != first
                {
                    let problem = format!(
                        "the export starts at seq {} but its manifest says seq {first}: events before it were removed or it was added",
                        record.seq
                    );
                    return self.broken(record, line, problem);
                }
                if record.seq == 1 && record.previous_hash != ZERO_HASH {
                    return self.broken(record, line, "seq 1 must chain from the zero hash".into());
                }
            }
            Some((previous_seq, previous_hash)) => {
                if record.seq <= previous_seq {
                    let problem = format!(
                        "seq {} comes after seq {previous_seq}: events are out of order or repeated",
                        record.seq
                    );
                    return self.broken(record, line, problem);
                }
                if record.seq == previous_seq + 1 {
                    if record.previous_hash != previous_hash {
                        let problem = format!(
                            "previousHash {} is not the hash of seq {previous_seq} ({previous_hash}): an event was inserted, removed or replaced here",
                            record.previous_hash
                        );
                        return self.broken(record, line, problem);
                    }
                } else {
                    let gap = SeqRange {
                        from: previous_seq + 1,
                        to: record.seq - 1,
                    };
                    if unfiltered {
                        let missing = if gap.from == gap.to {
                            format!("seq {} is", gap.from)
                        } else {
                            format!("seq {} to {} are", gap.from, gap.to)
                        };
                        let problem = format!(
                            "{missing} missing before this event in an export of the whole timeline: events were removed or moved"
                        );
                        return self.broken(record, line, problem);
                    }
                    self.gaps.push(gap);
                }
            }
        }
        if record.recorded_by.is_some() {
            self.form_2_began = true;
        } else if self.form_2_began {
            return self.broken(
                record,
                line,
                "recordedBy is missing after the chain moved to form 2".into(),
            );
        }
        let recomputed = match record.recomputed_hash(record.payload.get()) {
            Ok(hash) => hash,
            Err(problem) => return self.broken(record, line, problem),
        };
        if recomputed != record.hash {
            // The same content written differently (an editor re-saved the file) still verifies.
            let canonical = serde_json::from_str::<serde_json::Value>(record.payload.get())
                .ok()
                .map(|v| canonical_json(&v));
            let same_content = canonical.is_some_and(|payload| {
                record
                    .recomputed_hash(&payload)
                    .is_ok_and(|h| h == record.hash)
            });
            if !same_content {
                let problem = format!(
                    "its fields give hash {recomputed}, but it says {}: the event was altered",
                    record.hash
                );
                return self.broken(record, line, problem);
            }
        }
        self.digest.add(record.seq, &record.hash);
        self.count += 1;
        self.first_seq.get_or_insert(record.seq);
        self.previous = Some((record.seq, record.hash.clone()));
    }

    fn finish(self, format: ExportFormat, path: &Path) -> Result<ExportCheck, Unusable> {
        let Some(manifest) = self.manifest else {
            return Err(Unusable(format!("{}: no manifest", path.display())));
        };
        let last = self.previous.clone();
        let mut first_break = self.first_break;
        let mut problems = Vec::new();
        let digest = self.digest.finish();
        if first_break.is_none() {
            if let (Some(expected), Some((last_seq, last_hash))) = (manifest.last_seq, &last) {
                if *last_seq < expected {
                    first_break = Some(FileBreak {
                        seq: Some(last_seq + 1),
                        event_id: None,
                        line: None,
                        problem: format!(
                            "the export ends at seq {last_seq} but its manifest says it runs to seq {expected}: it was truncated"
                        ),
                    });
                } else if *last_seq > expected {
                    problems.push(CheckProblem {
                        field: "lastSeq".into(),
                        problem: format!("says {expected}; the events run to {last_seq}"),
                    });
                }
                if *last_seq == manifest.head_seq && *last_hash != manifest.head_hash {
                    problems.push(CheckProblem {
                        field: "headHash".into(),
                        problem: format!(
                            "says {}; the head event (seq {last_seq}) has hash {last_hash}",
                            manifest.head_hash
                        ),
                    });
                }
            } else if manifest.event_count > 0 && last.is_none() {
                first_break = Some(FileBreak {
                    seq: manifest.first_seq,
                    event_id: None,
                    line: None,
                    problem: format!(
                        "the file holds no events; its manifest says {}: it was truncated",
                        manifest.event_count
                    ),
                });
            }
            if self.count != manifest.event_count {
                problems.push(CheckProblem {
                    field: "eventCount".into(),
                    problem: format!(
                        "says {}; the file holds {}",
                        manifest.event_count, self.count
                    ),
                });
            }
            if self.first_seq != manifest.first_seq {
                problems.push(CheckProblem {
                    field: "firstSeq".into(),
                    problem: format!(
                        "says {:?}; the events start at {:?}",
                        manifest.first_seq, self.first_seq
                    ),
                });
            }
            if let Some((last_seq, _)) = &last
                && *last_seq > manifest.head_seq
            {
                problems.push(CheckProblem {
                    field: "headSeq".into(),
                    problem: format!("says {}; an event has seq {last_seq}", manifest.head_seq),
                });
            }
            if digest != manifest.digest {
                problems.push(CheckProblem {
                    field: "digest".into(),
                    problem: format!("says {}; the events give {digest}", manifest.digest),
                });
            }
        }
        Ok(ExportCheck {
            intact: first_break.is_none() && problems.is_empty(),
            format,
            events_checked: self.count,
            first_seq: self.first_seq,
            last_seq: last.map(|(seq, _)| seq),
            gaps: self.gaps,
            first_break,
            manifest_problems: problems,
            digest,
            manifest,
        })
    }
}

/// Why an event is outside the manifest's slice, if it is.
fn outside_slice(manifest: &ExportManifest, record: &Record) -> Option<String> {
    let f = &manifest.filter;
    let miss = |what: &str| Some(format!("is outside the export's slice ({what})"));
    if record.seq > manifest.head_seq {
        return Some(format!(
            "has seq {}, after the head at export time (seq {})",
            record.seq, manifest.head_seq
        ));
    }
    if !f.event_types.is_empty() && !f.event_types.contains(&record.event_type) {
        return miss("event type");
    }
    if f.actor_type
        .is_some_and(|t| t.as_str() != record.actor_type)
    {
        return miss("actor type");
    }
    if f.actor_id.is_some() && f.actor_id != record.actor_id {
        return miss("actor");
    }
    if f.aggregate_type
        .as_ref()
        .is_some_and(|t| *t != record.aggregate_type)
        || f.aggregate_id
            .as_ref()
            .is_some_and(|id| *id != record.aggregate_id)
    {
        return miss("aggregate");
    }
    if f.after_seq.is_some_and(|s| record.seq <= s) || f.before_seq.is_some_and(|s| record.seq >= s)
    {
        return miss("seq range");
    }
    if f.from.is_some() || f.to.is_some() {
        let at = chrono::DateTime::parse_from_rfc3339(&record.created_at)
            .ok()?
            .to_utc();
        if f.from.is_some_and(|from| at < from) || f.to.is_some_and(|to| at >= to) {
            return miss("time range");
        }
    }
    if let Some(text) = &f.text
        && !record
            .payload
            .get()
            .to_lowercase()
            .contains(&text.to_lowercase())
    {
        return miss("payload text");
    }
    None
}
