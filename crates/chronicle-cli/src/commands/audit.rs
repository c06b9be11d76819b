//! `chronicle export`, `chronicle verify` and `chronicle head`: what auditors run.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use chronicle::api::{self, VerifyQuery};
use chronicle::export::{
    ExportCheck, ExportFile, ExportFormat, ExportRequest, check_export, read_manifest,
};
use chronicle::{ActorType, ChainReport, TimelineFilter};
use chronicle_cli::exit;
use chrono::{DateTime, Utc};
use tokio::io::AsyncWriteExt;

use super::{DbArgs, Failure, Outcome, principal, print_line};

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The practice.
    #[arg(long, value_name = "ID")]
    pub practice: String,
    /// One aggregate's timeline, as TYPE/ID (e.g. patient/pat-1).
    #[arg(long, value_name = "TYPE/ID")]
    pub aggregate: Option<String>,
    /// Only these event types (repeatable).
    #[arg(long = "event-type", value_name = "EVENT_TYPE")]
    pub event_types: Vec<String>,
    /// Only this actor type.
    #[arg(long, value_parser = |s: &str| s.parse::<ActorType>(), value_name = "human|ai|system")]
    pub actor_type: Option<ActorType>,
    /// Only this actor.
    #[arg(long, value_name = "ID")]
    pub actor_id: Option<String>,
    /// Only this aggregate type.
    #[arg(long, value_name = "TYPE", conflicts_with = "aggregate")]
    pub aggregate_type: Option<String>,
    /// At or after this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub to: Option<DateTime<Utc>>,
    /// Payload contains this text.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// ndjson (verifiable, the default), json (verifiable), csv (verifiable, with FILE.manifest.json), html (printable).
    #[arg(long, default_value = "ndjson", value_parser = |s: &str| s.parse::<ExportFormat>(), value_name = "FORMAT")]
    pub format: ExportFormat,
    /// Write to this file (CSV: and its manifest to FILE.manifest.json). Default: standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// CSV: start with a UTF-8 byte order mark (some spreadsheets need one).
    #[arg(long)]
    pub bom: bool,
    /// Export as this user (any member may export what they may read). Without it, the system principal.
    #[arg(long = "as", value_name = "USER", value_parser = super::user_id)]
    pub user: Option<chronicle::api::UserId>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// An export file to check offline (NDJSON, JSON, or CSV with FILE.manifest.json beside it).
    #[arg(value_name = "FILE", required_unless_present = "practice")]
    pub file: Option<PathBuf>,
    /// Verify the live store's chain of this practice instead (with --db).
    #[arg(long, value_name = "ID", conflicts_with = "file")]
    pub practice: Option<String>,
    /// With --practice: the store must still hold the chain up to this head: an export file
    /// (its manifest's head), a hash, or SEQ:HASH.
    #[arg(long, value_name = "FILE|HASH|SEQ:HASH", requires = "practice")]
    pub against: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
    /// As this user (with --practice).
    #[arg(long = "as", value_name = "USER", value_parser = super::user_id)]
    pub user: Option<chronicle::api::UserId>,
    /// Print the full report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct HeadArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The practice.
    #[arg(long, value_name = "ID")]
    pub practice: String,
    /// As this user. Without it, the system principal.
    #[arg(long = "as", value_name = "USER", value_parser = super::user_id)]
    pub user: Option<chronicle::api::UserId>,
}

pub async fn export(args: ExportArgs) -> Outcome {
    let (aggregate_type, aggregate_id) = match &args.aggregate {
        Some(aggregate) => {
            let (t, id) = aggregate.split_once('/').ok_or_else(|| {
                Failure::usage(format!(
                    "--aggregate {aggregate:?}: expected TYPE/ID, e.g. patient/pat-1"
                ))
            })?;
            (Some(t.to_string()), Some(id.to_string()))
        }
        None => (args.aggregate_type.clone(), None),
    };
    let request = ExportRequest {
        format: args.format,
        csv_bom: args.bom,
        filter: TimelineFilter {
            event_types: args.event_types.clone(),
            actor_type: args.actor_type,
            actor_id: args.actor_id.clone(),
            aggregate_type,
            aggregate_id,
            from: args.from,
            to: args.to,
            text: args.text.clone(),
            ..TimelineFilter::default()
        },
    };
    let store = args.db.open().await?;
    // The file first: a destination that cannot be written records no export in the practice.
    let file = match &args.out {
        Some(path) => Some(ExportFile::create(path).await.map_err(unwritable)?),
        None => None,
    };
    let prepared = match api::export(
        &store,
        &principal(args.user.clone()),
        &args.practice,
        request,
    )
    .await
    {
        Ok(prepared) => prepared,
        Err(error) => {
            if let Some(file) = file {
                file.discard();
            }
            return Err(error.into());
        }
    };
    let manifest = prepared.manifest().clone();
    let bar = indicatif::ProgressBar::new(manifest.event_count.max(0) as u64);
    if std::io::stderr().is_terminal() {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} events, {per_sec}, {eta} left",
            )
            .expect("a valid template"),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut progress = |written: i64, _total: i64| {
        bar.set_position(written.max(0) as u64);
        true
    };
    let manifest_text = serde_json::to_string(&manifest).expect("a manifest serializes");
    match (&args.out, file) {
        (Some(path), Some(file)) => {
            let written = prepared.write_to_file(file, &mut progress).await;
            bar.finish_and_clear();
            written.map_err(unwritable)?;
            print_line(&manifest_text);
            eprintln!(
                "exported {} events of {} to {}; digest {}; head seq {} hash {}",
                manifest.event_count,
                manifest.practice_id,
                path.display(),
                manifest.digest,
                manifest.head_seq,
                manifest.head_hash
            );
        }
        _ => {
            let mut stdout = tokio::io::stdout();
            prepared.write_to(&mut stdout, &mut progress).await?;
            stdout
                .flush()
                .await
                .map_err(|e| Failure::usage(format!("cannot write: {e}")))?;
            bar.finish_and_clear();
            if args.format == ExportFormat::Csv {
                eprintln!("{manifest_text}");
            }
        }
    }
    Ok(())
}

/// A file the export cannot write is a usage problem (exit 2), like an unreadable input.
fn unwritable(error: chronicle::Error) -> Failure {
    match error {
        chronicle::Error::Invalid { .. } => Failure::usage(error.to_string()),
        other => other.into(),
    }
}

pub async fn verify(args: VerifyArgs) -> Outcome {
    match (&args.file, &args.practice) {
        (Some(file), _) => {
            let path = file.clone();
            let check = tokio::task::spawn_blocking(move || check_export(&path))
                .await
                .map_err(|e| Failure::usage(format!("the check stopped: {e}")))?
                .map_err(|e| Failure::usage(e.0))?;
            report_file(&args, file, &check)
        }
        (None, Some(practice)) => {
            let query = match &args.against {
                None => VerifyQuery::default(),
                Some(against) => anchor_query(against)?,
            };
            let store = args.db.open().await?;
            let report =
                api::verify(&store, &principal(args.user.clone()), practice, query).await?;
            report_live(&args, &report)
        }
        (None, None) => Err(Failure::usage(
            "give an export FILE, or --practice to verify the store",
        )),
    }
}

/// `--against`: an export file (its manifest's head), `SEQ:HASH`, or a bare hash.
fn anchor_query(against: &str) -> Result<VerifyQuery, Failure> {
    let path = Path::new(against);
    if path.exists() {
        let manifest = read_manifest(path).map_err(|e| Failure::usage(e.0))?;
        return Ok(VerifyQuery {
            against_hash: Some(manifest.head_hash),
            against_seq: Some(manifest.head_seq),
        });
    }
    let (seq, hash) = match against.split_once(':') {
        Some((seq, hash)) => (
            Some(seq.parse::<i64>().map_err(|_| {
                Failure::usage(format!(
                    "--against {against:?}: expected FILE, HASH or SEQ:HASH"
                ))
            })?),
            hash,
        ),
        None => (None, against),
    };
    Ok(VerifyQuery {
        against_hash: Some(hash.to_string()),
        against_seq: seq,
    })
}

fn report_file(args: &VerifyArgs, file: &Path, check: &ExportCheck) -> Outcome {
    if args.json {
        print_line(serde_json::to_string(check).expect("a check serializes"));
    } else {
        print_line(format_args!(
            "{}: {} {} events of practice {} checked (seq {} to {}); digest {}",
            file.display(),
            check.format,
            check.events_checked,
            check.manifest.practice_id,
            check.first_seq.map_or("-".into(), |s| s.to_string()),
            check.last_seq.map_or("-".into(), |s| s.to_string()),
            check.digest
        ));
        for gap in &check.gaps {
            print_line(format_args!(
                "  not in this export (filtered out): seq {} to {}",
                gap.from, gap.to
            ));
        }
        if let Some(broken) = &check.first_break {
            print_line(format_args!(
                "BROKEN at seq {}{}{}: {}",
                broken.seq.map_or("?".into(), |s| s.to_string()),
                broken
                    .event_id
                    .as_deref()
                    .map_or(String::new(), |id| format!(" (event {id})")),
                broken.line.map_or(String::new(), |l| format!(", line {l}")),
                broken.problem
            ));
        }
        for problem in &check.manifest_problems {
            print_line(format_args!(
                "MANIFEST {}: {}",
                problem.field, problem.problem
            ));
        }
        if check.intact {
            print_line("intact: every hash recomputed, the chain and the manifest agree");
        }
    }
    if check.intact {
        Ok(())
    } else {
        Err(Failure {
            code: exit::REFUSED,
            message: format!("{} is not intact", file.display()),
            details: Vec::new(),
        })
    }
}

fn report_live(args: &VerifyArgs, report: &ChainReport) -> Outcome {
    if args.json {
        print_line(serde_json::to_string(report).expect("a report serializes"));
    } else {
        print_line(format_args!(
            "practice {}: {} events recomputed, head {}",
            report.practice_id, report.events_checked, report.head_hash
        ));
        if let Some(broken) = &report.first_break {
            print_line(format_args!(
                "BROKEN at seq {}: {}",
                broken.seq, broken.problem
            ));
        }
        for problem in &report.membership_problems {
            print_line(format_args!(
                "MEMBERSHIP {}: {}",
                problem.user_id, problem.problem
            ));
        }
        if let Some(anchor) = &report.anchor {
            match &anchor.problem {
                None => print_line(format_args!(
                    "anchor {} held at seq {}",
                    anchor.anchor.hash,
                    anchor.found_at_seq.unwrap_or_default()
                )),
                Some(problem) => {
                    print_line(format_args!("ANCHOR {}: {problem}", anchor.anchor.hash))
                }
            }
        }
        if report.is_intact() {
            print_line("intact");
        }
    }
    if report.is_intact() {
        Ok(())
    } else {
        Err(Failure {
            code: exit::REFUSED,
            message: format!("practice {} is not intact", report.practice_id),
            details: Vec::new(),
        })
    }
}

pub async fn head(args: HeadArgs) -> Outcome {
    let store = args.db.open().await?;
    let head = api::chain_head(&store, &principal(args.user), &args.practice).await?;
    print_line(serde_json::to_string(&head).expect("a head serializes"));
    Ok(())
}
