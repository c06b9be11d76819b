//! Exports and their offline verification (#14): every format that carries hashes, the
//! tampering an auditor must catch, filtered slices, the record of who exported what, and a
//! store rewritten by its owner after an export.

use std::path::{Path, PathBuf};

use chronicle::chain::{HashedFields, chain_hash};
use chronicle::export::{ExportCheck, ExportFormat, ExportRequest, check_export, sidecar_path};
use chronicle::{ActorType, Anchor, Error, NewEvent, Principal, TimelineFilter};
use serde_json::{Value, json};

use crate::support::{Backend, TestStore, patient, patient_updated};

const P: &str = "prac-x";

fn owner() -> Principal {
    Principal::user("owner-1")
}

/// A practice with staff and `patients` patients, each created then updated (a note that
/// needs escaping in every format), appended in batches.
async fn practice(t: &TestStore, patients: usize) {
    t.practice_with_staff(P, "owner-1").await;
    let mut batch = Vec::new();
    for i in 0..patients {
        batch.push(patient(P, &format!("pat-{i}"), "Ann"));
        batch.push(patient_updated(
            P,
            &format!("pat-{i}"),
            json!({"notes": format!("<script>alert({i})</script>, \"quoted\"; ünïcode\nline two")}),
        ));
        if batch.len() >= 1000 {
            t.store
                .append_batch(&owner(), std::mem::take(&mut batch))
                .await
                .unwrap();
        }
    }
    if !batch.is_empty() {
        t.store.append_batch(&owner(), batch).await.unwrap();
    }
}

async fn export_to(
    t: &TestStore,
    principal: &Principal,
    request: ExportRequest,
    path: &Path,
) -> chronicle::export::ExportManifest {
    let prepared = t.store.export(principal, P, request).await.unwrap();
    let mut file = tokio::fs::File::create(path).await.unwrap();
    let summary = prepared
        .write_to(&mut file, &mut |_, _| true)
        .await
        .unwrap();
    assert!(summary.complete);
    if prepared.format() == ExportFormat::Csv {
        std::fs::write(
            sidecar_path(path),
            serde_json::to_string(prepared.manifest()).unwrap(),
        )
        .unwrap();
    }
    summary.manifest
}

fn format_request(format: ExportFormat) -> ExportRequest {
    ExportRequest {
        format,
        ..ExportRequest::default()
    }
}

fn checked(path: &Path) -> ExportCheck {
    check_export(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The file's event lines (NDJSON, CSV: every line after the first; JSON: the lines between
/// the opening and the closing line), to tamper with.
fn event_lines(format: ExportFormat, text: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let lines: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
    match format {
        ExportFormat::Json => {
            let n = lines.len();
            (
                lines[..1].to_vec(),
                lines[1..n - 1].to_vec(),
                lines[n - 1..].to_vec(),
            )
        }
        _ => (lines[..1].to_vec(), lines[1..].to_vec(), Vec::new()),
    }
}

/// Rewrites an export with its event lines changed by `tamper`, keeping JSON's commas right.
fn tampered(
    format: ExportFormat,
    original: &Path,
    name: &str,
    tamper: impl FnOnce(&mut Vec<String>),
) -> PathBuf {
    let text = std::fs::read_to_string(original).unwrap();
    let (head, mut events, tail) = event_lines(format, &text);
    if format == ExportFormat::Json {
        for line in &mut events {
            *line = line.trim_end().trim_end_matches(',').to_string();
        }
    }
    tamper(&mut events);
    let body = if format == ExportFormat::Json {
        events.join(",\n") + "\n"
    } else {
        events.concat()
    };
    let path = original.with_file_name(format!("{name}.{}", format.extension()));
    std::fs::write(&path, head.concat() + &body + &tail.concat()).unwrap();
    if format == ExportFormat::Csv {
        std::fs::copy(sidecar_path(original), sidecar_path(&path)).unwrap();
    }
    path
}

/// The record on an event line, as JSON (CSV rows are rebuilt from their cells).
fn record_of(format: ExportFormat, line: &str) -> Value {
    match format {
        ExportFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let row = reader.records().next().unwrap().unwrap();
            json!({"seq": row[0].parse::<i64>().unwrap(), "id": &row[1], "hash": &row[12]})
        }
        _ => serde_json::from_str(line.trim_end().trim_end_matches(',')).unwrap(),
    }
}

/// A copy of the record on `line` claiming seq `seq` and id `id`, with a payload of its own
/// and its hash recomputed: what a forger who knows the recipe writes.
fn forged(format: ExportFormat, line: &str, previous_hash: &str) -> String {
    let mut record = match format {
        ExportFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let row: Vec<String> = reader
                .records()
                .next()
                .unwrap()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect();
            row
        }
        _ => Vec::new(),
    };
    let payload = json!({"notes": "forged"});
    let payload_json = chronicle::chain::canonical_json(&payload);
    match format {
        ExportFormat::Csv => {
            record[1] = "forged-id".into();
            record[11] = payload_json.clone();
            record[13] = previous_hash.into();
            let created_at = record[2].parse().unwrap();
            record[12] = chain_hash(
                previous_hash,
                &HashedFields {
                    id: &record[1],
                    practice_id: &record[10],
                    seq: record[0].parse().unwrap(),
                    aggregate_type: &record[4],
                    aggregate_id: &record[5],
                    version: record[6].parse().unwrap(),
                    event_type: &record[3],
                    payload_json: &payload_json,
                    actor_type: record[7].parse().unwrap(),
                    actor_id: Some(&record[8])
                        .filter(|a| !a.is_empty())
                        .map(|a| a.as_str()),
                    created_at,
                    recorded_by: Some(&record[9])
                        .filter(|a| !a.is_empty())
                        .map(|a| a.as_str()),
                },
            );
            let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
            writer.write_record(&record).unwrap();
            String::from_utf8(writer.into_inner().unwrap()).unwrap()
        }
        _ => {
            let mut value: Value =
                serde_json::from_str(line.trim_end().trim_end_matches(',')).unwrap();
            value["id"] = json!("forged-id");
            value["payload"] = payload.clone();
            value["previousHash"] = json!(previous_hash);
            let text = |k: &str| value[k].as_str().unwrap().to_string();
            let hash = chain_hash(
                previous_hash,
                &HashedFields {
                    id: &text("id"),
                    practice_id: &text("practiceId"),
                    seq: value["seq"].as_i64().unwrap(),
                    aggregate_type: &text("aggregateType"),
                    aggregate_id: &text("aggregateId"),
                    version: value["version"].as_i64().unwrap(),
                    event_type: &text("eventType"),
                    payload_json: &payload_json,
                    actor_type: text("actorType").parse().unwrap(),
                    actor_id: value["actorId"].as_str(),
                    created_at: text("createdAt").parse().unwrap(),
                    recorded_by: value["recordedBy"].as_str(),
                },
            );
            value["hash"] = json!(hash);
            format!("{}\n", chronicle::chain::canonical_json(&value))
        }
    }
}

fn break_seq(check: &ExportCheck) -> Option<i64> {
    check.first_break.as_ref().and_then(|b| b.seq)
}

pub async fn every_tampering_of_a_10000_event_export_is_found_and_located(backend: Backend) {
    let t = TestStore::new(backend).await;
    practice(&t, 5000).await;
    let dir = tempfile::tempdir().unwrap();
    for format in [ExportFormat::Ndjson, ExportFormat::Json, ExportFormat::Csv] {
        let path = dir.path().join(format!("export.{}", format.extension()));
        let manifest = export_to(&t, &owner(), format_request(format), &path).await;
        assert!(manifest.event_count >= 10_000, "{manifest:?}");
        let clean = checked(&path);
        assert!(clean.intact, "{format}: {clean:?}");
        assert_eq!(clean.events_checked, manifest.event_count);
        assert_eq!(
            clean.digest, manifest.digest,
            "the digest is the same whatever the format"
        );

        let text = std::fs::read_to_string(&path).unwrap();
        let (_, events, _) = event_lines(format, &text);
        let seq_at = |i: usize| record_of(format, &events[i])["seq"].as_i64().unwrap();

        // One character of a payload.
        let edited = tampered(format, &path, "edited", |lines| {
            lines[4321] = lines[4321].replacen("Ann", "Ann!", 1);
            if !lines[4321].contains("Ann!") {
                lines[4321] = lines[4321].replacen("alert(", "alert(9", 1);
            }
        });
        let check = checked(&edited);
        assert!(!check.intact);
        assert_eq!(
            break_seq(&check),
            Some(seq_at(4321)),
            "{format} edit: {:?}",
            check.first_break
        );
        assert!(
            check
                .first_break
                .as_ref()
                .unwrap()
                .problem
                .contains("altered")
        );

        // A line deleted.
        let deleted = tampered(format, &path, "deleted", |lines| {
            lines.remove(5000);
        });
        let check = checked(&deleted);
        assert_eq!(
            break_seq(&check),
            Some(seq_at(5001)),
            "{format} deletion is found at the next event: {:?}",
            check.first_break
        );

        // Two lines swapped.
        let swapped = tampered(format, &path, "swapped", |lines| lines.swap(6000, 6001));
        let check = checked(&swapped);
        assert!(!check.intact);
        assert_eq!(
            break_seq(&check),
            Some(seq_at(6001)),
            "{format} swap: {:?}",
            check.first_break
        );

        // A forged event inserted in place of a real one, its hash recomputed by the recipe.
        let previous_hash = record_of(format, &events[6999])["hash"]
            .as_str()
            .unwrap()
            .to_string();
        let forgery = forged(format, &events[7000], &previous_hash);
        let inserted = tampered(format, &path, "forged", |lines| lines[7000] = forgery);
        let check = checked(&inserted);
        assert!(!check.intact);
        assert_eq!(
            break_seq(&check),
            Some(seq_at(7001)),
            "{format}: the forged event's hash does not lead on to the next real event: {:?}",
            check.first_break
        );

        // The end cut off.
        let truncated = tampered(format, &path, "truncated", |lines| lines.truncate(9000));
        let check = checked(&truncated);
        assert!(!check.intact);
        let broken = check.first_break.clone().expect("truncation is a break");
        assert_eq!(broken.seq, Some(seq_at(8999) + 1), "{format}: {broken:?}");
        assert!(broken.problem.contains("truncated"), "{broken:?}");

        // The manifest edited.
        let edited_manifest = dir
            .path()
            .join(format!("manifest-edited.{}", format.extension()));
        std::fs::copy(&path, &edited_manifest).unwrap();
        let count = manifest.event_count.to_string();
        if format == ExportFormat::Csv {
            let sidecar = std::fs::read_to_string(sidecar_path(&path)).unwrap();
            std::fs::write(
                sidecar_path(&edited_manifest),
                sidecar.replace(&format!("\"eventCount\":{count}"), "\"eventCount\":9999"),
            )
            .unwrap();
        } else {
            std::fs::write(
                &edited_manifest,
                text.replacen(&format!("\"eventCount\":{count}"), "\"eventCount\":9999", 1),
            )
            .unwrap();
        }
        let check = checked(&edited_manifest);
        assert!(!check.intact);
        assert_eq!(
            check
                .manifest_problems
                .iter()
                .map(|p| p.field.as_str())
                .collect::<Vec<_>>(),
            vec!["eventCount"],
            "{format}: {:?}",
            check.manifest_problems
        );
    }
}

pub async fn every_format_carries_the_manifest_and_csv_and_html_read_cleanly(backend: Backend) {
    let t = TestStore::new(backend).await;
    practice(&t, 20).await;
    let dir = tempfile::tempdir().unwrap();

    // CSV of one event type: a column per payload field, RFC 4180 quoting, an optional BOM.
    let path = dir.path().join("updates.csv");
    let request = ExportRequest {
        format: ExportFormat::Csv,
        csv_bom: true,
        filter: TimelineFilter {
            event_types: vec!["patient.updated".into()],
            ..TimelineFilter::default()
        },
    };
    let manifest = export_to(&t, &owner(), request, &path).await;
    assert_eq!(manifest.event_count, 20);
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "the BOM asked for"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "seq");
    assert!(headers.iter().any(|h| h == "payload.notes"), "{headers:?}");
    let notes = headers.iter().position(|h| h == "payload.notes").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(
        rows.len(),
        20,
        "one row per event, whatever the newlines and quotes inside"
    );
    assert_eq!(
        &rows[0][notes],
        "<script>alert(0)</script>, \"quoted\"; ünïcode\nline two"
    );
    let payload: Value = serde_json::from_str(&rows[0][11]).unwrap();
    assert_eq!(payload["notes"], rows[0][notes]);
    let check = checked(&path);
    assert!(check.intact, "{check:?}");
    assert_eq!(
        check.gaps.len(),
        19,
        "a filtered export lists the seqs it leaves out between its events"
    );

    // A readable column that says something else than the hashed payload is caught.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let misleading = dir.path().join("misleading.csv");
    std::fs::write(&misleading, text.replacen("line two\",", "line 2\",", 1)).unwrap();
    std::fs::copy(sidecar_path(&path), sidecar_path(&misleading)).unwrap();
    let check = checked(&misleading);
    assert!(
        check
            .first_break
            .as_ref()
            .is_some_and(|b| b.problem.contains("payload.notes")),
        "{check:?}"
    );

    // HTML: the manifest first, every value escaped, no script.
    let html = dir.path().join("report.html");
    let manifest = export_to(&t, &owner(), format_request(ExportFormat::Html), &html).await;
    let report = std::fs::read_to_string(&html).unwrap();
    let cover = report.find("data-testid=\"manifest\"").unwrap();
    let first_row = report.find("<tbody>").unwrap();
    assert!(cover < first_row && report[cover..first_row].contains(&manifest.digest));
    assert!(!report.contains("<script>alert"), "payloads are escaped");
    assert!(
        report.contains("&#60;script&#62;alert(0)") || report.contains("&lt;script&gt;alert(0)")
    );
    assert!(report.contains("@media print"));
    assert!(
        check_export(&html).is_err(),
        "a report is not a verification format"
    );

    // JSON: the manifest field, then the events.
    let json_path = dir.path().join("all.json");
    export_to(&t, &owner(), format_request(ExportFormat::Json), &json_path).await;
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(document["manifest"]["kind"], "chronicle-export");
    assert_eq!(
        document["events"].as_array().unwrap().len() as i64,
        document["manifest"]["eventCount"].as_i64().unwrap()
    );
    assert!(checked(&json_path).intact);
}

pub async fn exports_are_recorded_and_open_to_every_member_only(backend: Backend) {
    let t = TestStore::new(backend).await;
    practice(&t, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let viewer = Principal::user("viewer-1");
    let head_before = t.store.chain_head(&viewer, P).await.unwrap();
    let path = dir.path().join("v.ndjson");
    let manifest = export_to(&t, &viewer, format_request(ExportFormat::Ndjson), &path).await;
    assert_eq!(
        (manifest.exported_by.as_str(), manifest.head_seq),
        ("viewer-1", head_before.seq)
    );
    assert_eq!(manifest.head_hash, head_before.hash);

    let recorded = t.all_events(P).await.pop().unwrap();
    assert_eq!(
        (
            recorded.event_type.as_str(),
            recorded.recorded_by.as_deref(),
            recorded.aggregate_id.as_str()
        ),
        (
            "audit.export_created",
            Some("viewer-1"),
            manifest.export_id.as_str()
        ),
        "the history shows who exported what"
    );
    assert_eq!(recorded.payload["digest"], json!(manifest.digest));
    assert_eq!(recorded.payload["eventCount"], json!(manifest.event_count));
    assert_eq!(recorded.payload["format"], "ndjson");

    let stranger = t
        .store
        .export(&Principal::user("stranger"), P, ExportRequest::default())
        .await
        .err()
        .expect("a non-member exports nothing");
    assert!(
        matches!(stranger, Error::PracticeNotFound { .. }),
        "{stranger}"
    );
    let by_hand = t
        .store
        .append(
            &owner(),
            NewEvent::new(
                P,
                "audit",
                "x",
                "audit.export_created",
                recorded.payload.value().clone(),
                ActorType::Human,
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&by_hand, Error::Invalid { violations } if violations[0].path == "/eventType"),
        "an export record is the store's: {by_hand}"
    );
    let bad_filter = t
        .store
        .export(
            &owner(),
            P,
            ExportRequest {
                filter: TimelineFilter {
                    aggregate_id: Some("pat\u{7}1".into()),
                    ..TimelineFilter::default()
                },
                ..ExportRequest::default()
            },
        )
        .await
        .err()
        .expect("a malformed aggregate id is refused");
    assert!(
        matches!(&bad_filter, Error::Invalid { violations } if violations[0].path == "/aggregateId")
    );

    // One aggregate's timeline.
    let one = dir.path().join("one.ndjson");
    let request = ExportRequest {
        filter: TimelineFilter {
            aggregate_type: Some("patient".into()),
            aggregate_id: Some("pat-1".into()),
            ..TimelineFilter::default()
        },
        ..ExportRequest::default()
    };
    let manifest = export_to(&t, &owner(), request, &one).await;
    assert_eq!(manifest.event_count, 2);
    let check = checked(&one);
    assert!(check.intact && check.events_checked == 2, "{check:?}");
}

pub async fn a_store_rewritten_after_an_export_no_longer_reaches_its_head(backend: Backend) {
    let t = TestStore::new(backend).await;
    practice(&t, 50).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("before.ndjson");
    let manifest = export_to(&t, &owner(), format_request(ExportFormat::Ndjson), &path).await;
    let anchor = Anchor {
        seq: Some(manifest.head_seq),
        hash: manifest.head_hash.clone(),
    };
    let report = t
        .store
        .verify_chain_against(&owner(), P, Some(&anchor))
        .await
        .unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        report.anchor.as_ref().unwrap().found_at_seq,
        Some(manifest.head_seq)
    );

    // The database's owner rewrites seq 20 and recomputes every hash after it, head included.
    t.raw(match backend {
        Backend::Sqlite => {
            "DROP TRIGGER events_reject_update; DROP TRIGGER practice_heads_update_follows_events;"
        }
        Backend::Postgres => {
            "ALTER TABLE events DISABLE TRIGGER events_reject_update_delete; \
             DROP TRIGGER practice_heads_follow_events ON practice_heads;"
        }
    })
    .await
    .unwrap();
    let events = t.all_events(P).await;
    let mut previous = events[18].hash.clone();
    for (i, event) in events.iter().enumerate().skip(19) {
        let payload = if i == 19 {
            json!({"notes": "rewritten"})
        } else {
            event.payload.value().clone()
        };
        let payload_json = chronicle::chain::canonical_json(&payload);
        let hash = chain_hash(
            &previous,
            &HashedFields {
                id: &event.id,
                practice_id: &event.practice_id,
                seq: event.seq,
                aggregate_type: &event.aggregate_type,
                aggregate_id: &event.aggregate_id,
                version: event.version,
                event_type: &event.event_type,
                payload_json: &payload_json,
                actor_type: event.actor_type,
                actor_id: event.actor_id.as_deref(),
                created_at: event.created_at,
                recorded_by: event.recorded_by.as_deref(),
            },
        );
        t.raw(&format!(
            "UPDATE events SET payload_json = '{}', hash = '{hash}' WHERE practice_id = '{P}' AND seq = {}",
            payload_json.replace('\'', "''"),
            event.seq
        ))
        .await
        .unwrap();
        previous = hash;
    }
    t.raw(&format!(
        "UPDATE practice_heads SET hash = '{previous}' WHERE practice_id = '{P}'"
    ))
    .await
    .unwrap();

    let rewritten = t.store.verify_chain(&owner(), P).await.unwrap();
    assert!(
        rewritten.is_intact(),
        "a rewrite with every hash recomputed is a consistent chain: {rewritten:?}"
    );
    let against = t
        .store
        .verify_chain_against(&owner(), P, Some(&anchor))
        .await
        .unwrap();
    assert!(!against.is_intact());
    let check = against.anchor.unwrap();
    assert!(!check.held);
    assert!(check.problem.unwrap().contains("rewritten"));
    let by_hash_only = t
        .store
        .verify_chain_against(
            &owner(),
            P,
            Some(&Anchor {
                seq: None,
                hash: manifest.head_hash,
            }),
        )
        .await
        .unwrap();
    assert!(!by_hash_only.anchor.unwrap().held);
}

/// A whole-practice export takes its manifest from the digest state the head keeps, so its
/// first line needs no pass over the events: the manifest agrees with the file, a practice
/// without a state (events from before the store kept one) is surveyed as before, and a
/// state copied from another practice makes the export fail instead of lying.
pub async fn a_whole_practice_manifest_comes_from_the_head_and_agrees_with_the_events(
    backend: Backend,
) {
    let t = TestStore::new(backend).await;
    practice(&t, 300).await;
    let dir = tempfile::tempdir().unwrap();
    let whole = |name: &str| dir.path().join(name);
    let head = t.store.chain_head(&owner(), P).await.unwrap();
    let manifest = export_to(
        &t,
        &owner(),
        format_request(ExportFormat::Ndjson),
        &whole("a.ndjson"),
    )
    .await;
    assert_eq!(
        (manifest.event_count, manifest.first_seq, manifest.last_seq),
        (head.seq, Some(1), Some(head.seq))
    );
    assert_eq!(manifest.chain_forms, vec![2]);
    let check = checked(&whole("a.ndjson"));
    assert!(check.intact, "{check:?}");
    assert_eq!(check.digest, manifest.digest, "the file's own digest");

    // The same slice asked for with a filter is surveyed: the same digest.
    let everything = ExportRequest {
        format: ExportFormat::Ndjson,
        filter: TimelineFilter {
            from: Some("2000-01-01T00:00:00Z".parse().unwrap()),
            before_seq: Some(head.seq + 1),
            ..TimelineFilter::default()
        },
        ..ExportRequest::default()
    };
    let surveyed = export_to(&t, &owner(), everything, &whole("b.ndjson")).await;
    assert_eq!(
        (surveyed.event_count, &surveyed.digest),
        (manifest.event_count, &manifest.digest)
    );

    // Another practice's state in this head: the manifest is built from it, and the export
    // refuses to finish a file its digest does not describe.
    t.practice_with_staff("prac-other", "owner-1").await;
    let table = "practice_heads";
    t.raw(&format!(
        "UPDATE {table} SET export_digest_state = (SELECT export_digest_state FROM {table} WHERE practice_id = 'prac-other') \
         WHERE practice_id = '{P}'"
    ))
    .await
    .unwrap();
    let prepared = t
        .store
        .export(&owner(), P, format_request(ExportFormat::Ndjson))
        .await
        .unwrap();
    let mut sink = Vec::new();
    let refused = prepared
        .write_to(&mut sink, &mut |_, _| true)
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Conflict { .. }), "{refused}");

    // No state (as for events from before the store kept one): surveyed, and appends keep it
    // unknown rather than starting one that would miss the earlier events.
    t.raw(&format!(
        "UPDATE {table} SET export_digest_state = NULL WHERE practice_id = '{P}'"
    ))
    .await
    .unwrap();
    t.store
        .append(&owner(), patient(P, "pat-late", "Late"))
        .await
        .unwrap();
    let still_unknown = t
        .raw(&format!(
            "UPDATE {table} SET seq = seq WHERE practice_id = '{P}' AND export_digest_state IS NULL"
        ))
        .await
        .unwrap();
    assert_eq!(still_unknown, 1);
    let manifest = export_to(
        &t,
        &owner(),
        format_request(ExportFormat::Ndjson),
        &whole("c.ndjson"),
    )
    .await;
    let check = checked(&whole("c.ndjson"));
    assert!(check.intact, "{check:?}");
    assert_eq!(check.digest, manifest.digest);
}
