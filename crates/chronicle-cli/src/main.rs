//! `chronicle`: serve the HTTP API, append, query, seed demo data and migrate, on SQLite or
//! PostgreSQL. Exit codes: 0 success, 1 refused by a rule, 2 usage or connection problems.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Chronicle: an append-only, multi-tenant event store.
///
/// Every command takes --db (or CHRONICLE_DB): sqlite://PATH or postgres://USER@HOST/DB.
/// Without it, commands use the embedded store the desktop app uses
/// (~/.local/share/dev.chronicle.app/chronicle.db).
#[derive(Debug, Parser)]
#[command(name = "chronicle", version, about, long_about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "Examples:
  chronicle seed --practices 3 --events 1000
  chronicle seed --practice p1 --types patient.created,task.created --count 500 --as alice
  chronicle serve --listen 127.0.0.1:3001
  echo '{\"practiceId\":\"p1\",\"aggregateType\":\"practice\",\"aggregateId\":\"p1\",\"eventType\":\"practice.created\",\"payload\":{\"name\":\"Smile\"},\"actorType\":\"human\"}' | chronicle append --as alice
  chronicle events --practice p1 --as alice --format table";

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (the seed's /v1/events endpoints and more; OpenAPI at /openapi.json).
    ///
    /// The principal of every request is the x-user-id header, which only a trusted gateway
    /// should set; so by default the server listens on loopback only.
    #[command(
        after_help = "Example:\n  chronicle serve --db sqlite:///var/lib/chronicle/events.db --listen 127.0.0.1:3001"
    )]
    Serve(commands::serve::Args),
    /// Append one JSON event, or many as NDJSON (or a JSON array), all or nothing.
    ///
    /// Reads standard input or --file. Prints the stored events as JSON (one per line).
    #[command(after_help = "Example:\n  chronicle append --as alice --file events.ndjson")]
    Append(commands::append::Args),
    /// Query an aggregate's events, a type's events, or a practice's timeline.
    #[command(
        after_help = "Examples:\n  chronicle events --practice p1 --aggregate patient/pat-1\n  chronicle events --practice p1 --type appointment.requested --limit 20\n  chronicle events --practice p1 --actor-type ai --backward --format table"
    )]
    Events(Box<commands::events::Args>),
    /// Write test data: the deterministic demo data set, or (with --practice) events of
    /// chosen types generated from the registry's schemas.
    #[command(
        after_help = "Examples:\n  chronicle seed --practices 10 --events 100000 --seed 7\n  chronicle seed --practice p1 --types patient.created,appointment.requested --count 5000 --seed 3 --as alice"
    )]
    Seed(commands::seed::Args),
    /// Projector checkpoints and read models: status, run, reset, retry.
    #[command(subcommand)]
    Projectors(commands::projectors::Command),
    /// Apply schema migrations and print the schema version; on PostgreSQL, grant the app's
    /// runtime role what it needs (--app-role).
    #[command(
        after_help = "Example:\n  chronicle migrate --db postgres://owner@localhost/chronicle --app-role chronicle_app\n  chronicle serve --db postgres://chronicle_app@localhost/chronicle"
    )]
    Migrate(commands::MigrateArgs),
    /// Export a practice's timeline, or a filtered slice, as a file auditors can verify offline.
    ///
    /// NDJSON (default), JSON and CSV carry every event's hash and the hash before it; HTML is a
    /// printable report. Every file starts with a manifest (CSV: FILE.manifest.json) with the
    /// count, the head at export time and the digest; the export is recorded in the practice.
    #[command(
        after_help = "Examples:\n  chronicle export --practice p1 --as auditor --out p1.ndjson\n  chronicle export --practice p1 --aggregate patient/pat-1 --format html --out pat-1.html\n  chronicle export --practice p1 --event-type appointment.requested --format csv --bom --out appts.csv"
    )]
    Export(Box<commands::audit::ExportArgs>),
    /// Verify an export file offline, or the live store's chain (optionally against a head recorded earlier).
    ///
    /// Exit 0 intact, 1 broken (the first break is named by seq, id and line), 2 unusable input.
    #[command(
        after_help = "Examples:\n  chronicle verify p1.ndjson\n  chronicle verify --practice p1 --against p1.ndjson\n  chronicle verify --practice p1 --against 42:9f86d081884c7d65…"
    )]
    Verify(Box<commands::audit::VerifyArgs>),
    /// Print a practice's chain head (seq, hash, time) to write down outside the store.
    #[command(after_help = "Example:\n  chronicle head --practice p1")]
    Head(commands::audit::HeadArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("chronicle: cannot start the async runtime: {error}");
            return ExitCode::from(chronicle_cli::exit::USAGE);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Append(args) => commands::append::run(args).await,
            Command::Events(args) => commands::events::run(*args).await,
            Command::Seed(args) => commands::seed::run(args).await,
            Command::Projectors(command) => commands::projectors::run(command).await,
            Command::Migrate(args) => commands::migrate(args).await,
            Command::Export(args) => commands::audit::export(*args).await,
            Command::Verify(args) => commands::audit::verify(*args).await,
            Command::Head(args) => commands::audit::head(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::from(chronicle_cli::exit::OK),
        Err(failure) => {
            eprintln!("chronicle: {}", failure.message);
            for detail in &failure.details {
                eprintln!("  {detail}");
            }
            ExitCode::from(failure.code)
        }
    }
}
