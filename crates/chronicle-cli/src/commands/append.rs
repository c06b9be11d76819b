//! `chronicle append`: one event, a JSON array, or NDJSON; all or nothing.

use std::io::Read;
use std::path::PathBuf;

use chronicle::api::BatchRequest;
use chronicle::{Error, NewEvent};

use super::{DbArgs, Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Read events from this file instead of standard input.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Append as this user (access rules apply). Without it, the system principal.
    #[arg(long = "as", value_name = "USER", value_parser = super::user_id)]
    pub user: Option<chronicle::api::UserId>,
}

/// Events parsed from the input, each with the line it started on.
struct Parsed {
    events: Vec<NewEvent>,
    lines: Vec<usize>,
}

pub async fn run(args: Args) -> Outcome {
    let input = match &args.file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
            text
        }
    };
    let parsed = parse(&input)?;
    let principal = super::principal(args.user);
    let store = args.db.open().await?;
    let batch = BatchRequest {
        events: parsed.events,
    };
    let stored = chronicle::api::append_batch(&store, &principal, batch)
        .await
        .map_err(|error| {
            let line = match &error {
                Error::InBatch { index, .. } => parsed.lines.get(*index).copied(),
                _ => None,
            };
            let mut failure = Failure::from(error);
            if let Some(line) = line {
                failure.message = format!("line {line}: {}", failure.message);
            }
            failure
        })?;
    for event in stored.events {
        println!(
            "{}",
            serde_json::to_string(&event).expect("events serialize")
        );
    }
    Ok(())
}

fn parse(input: &str) -> Result<Parsed, Failure> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(Failure::refused(
            "no events given: pass one JSON event, a JSON array, or NDJSON",
        ));
    }
    // One document (an object, possibly pretty-printed, or an array of events)?
    if let Ok(document) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let first_line = input.len() - input.trim_start().len();
        let first_line = input[..first_line].matches('\n').count() + 1;
        return match document {
            serde_json::Value::Array(items) => {
                let count = items.len();
                let events =
                    decode(serde_json::Value::Array(items)).map_err(|(path, message)| {
                        Failure::refused(format!("event {path}: {message}; nothing was written"))
                    })?;
                Ok(Parsed {
                    events,
                    lines: vec![first_line; count],
                })
            }
            object => {
                let event: NewEvent = decode(object).map_err(|(path, message)| {
                    Failure::refused(format!("line {first_line}: {path}: {message}"))
                })?;
                Ok(Parsed {
                    events: vec![event],
                    lines: vec![first_line],
                })
            }
        };
    }
    let mut parsed = Parsed {
        events: Vec::new(),
        lines: Vec::new(),
    };
    for (index, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            Failure::refused(format!(
                "line {number}: malformed JSON: {e}; nothing was written"
            ))
        })?;
        let event = decode(value).map_err(|(path, message)| {
            Failure::refused(format!(
                "line {number}: {path}: {message}; nothing was written"
            ))
        })?;
        parsed.events.push(event);
        parsed.lines.push(number);
    }
    Ok(parsed)
}

/// Decodes with the JSON pointer of the first problem.
fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, (String, String)> {
    chronicle::api::json::decode(value).map_err(|error| {
        let violation = error
            .violations()
            .into_iter()
            .next()
            .unwrap_or_else(|| chronicle::Violation::new("", error.to_string()));
        let path = if violation.path.is_empty() {
            "/".to_string()
        } else {
            violation.path
        };
        (path, violation.message)
    })
}
