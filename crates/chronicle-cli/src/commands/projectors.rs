//! `chronicle projectors`: status, run, reset, retry, skip.

use chronicle::api::{self, ProjectorStatusQuery};
use chronicle::projection::{Runner, RunnerOptions, builtin, find_builtin};

use super::{DbArgs, Failure, Outcome, principal, print_line};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Where every (practice, projector) stands: checkpoint, head, lag, state, last error.
    #[command(after_help = "Example:\n  chronicle projectors status --format table")]
    Status(StatusArgs),
    /// Run the projectors: continuously until SIGTERM/Ctrl-C, or until every checkpoint is at its head.
    #[command(after_help = "Example:\n  chronicle projectors run --until-caught-up")]
    Run(RunArgs),
    /// Clear one practice's read model of a projector and rebuild it from the first event.
    #[command(
        after_help = "Example:\n  chronicle projectors reset --practice p1 --projector aggregate_index"
    )]
    Reset(TargetArgs),
    /// Let a failed projector run again from the event it stopped at.
    #[command(
        after_help = "Example:\n  chronicle projectors retry --practice p1 --projector aggregate_index"
    )]
    Retry(TargetArgs),
    /// Pass over the event a failed projector keeps failing on: recorded as a
    /// projector.event_skipped event, obeyed by every replay (owner or admin).
    #[command(
        after_help = "Example:\n  chronicle projectors skip --practice p1 --projector aggregate_index --event 0190… --reason \"malformed import, fixed by hand\" --as olivia.owner"
    )]
    Skip(SkipArgs),
}

#[derive(Debug, clap::Args)]
pub struct SkipArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The event the projector failed on (its checkpoint's error event).
    #[arg(long = "event", value_name = "ID")]
    pub event_id: String,
    /// Why it is safe to pass over; recorded in the skip event.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per checkpoint, one per line.
    Json,
    /// A readable table.
    Table,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Only this practice.
    #[arg(long, value_name = "ID")]
    pub practice: Option<String>,
    /// As this user (only their practices). Without it, the system principal: every practice.
    #[arg(long = "as", value_name = "USER", value_parser = super::user_id)]
    pub user: Option<chronicle::api::UserId>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Exit once every checkpoint has reached its practice's head.
    #[arg(long)]
    pub until_caught_up: bool,
    /// Events per transaction at the head.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub batch_size: i64,
    /// Most events per transaction while catching up (batches double up to it): larger is
    /// faster, and holds SQLite's writer longer per step.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub catch_up_batch_size: i64,
    /// Run only these projectors (repeatable); default all.
    #[arg(long = "projector", value_name = "NAME")]
    pub projectors: Vec<String>,
    /// Seconds between polls when no append notification arrives.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub poll_interval: u64,
}

#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The practice.
    #[arg(long, value_name = "ID")]
    pub practice: String,
    /// The projector (practice_directory, user_directory, aggregate_index, daily_activity).
    #[arg(long, value_name = "NAME")]
    pub projector: String,
    /// As this user (owner or admin). Without it, the system principal.
    #[arg(long = "as", value_name = "USER", value_parser = super::user_id)]
    pub user: Option<chronicle::api::UserId>,
}

pub async fn run(command: Command) -> Outcome {
    match command {
        Command::Status(args) => status(args).await,
        Command::Run(args) => run_projectors(args).await,
        Command::Reset(args) => {
            find_builtin(&args.projector)?;
            let store = args.db.open().await?;
            api::reset_projector(
                &store,
                &principal(args.user),
                &args.practice,
                &args.projector,
            )
            .await?;
            print_line(format_args!(
                "reset {} of practice {}; it rebuilds from the first event when projectors run",
                args.projector, args.practice
            ));
            Ok(())
        }
        Command::Skip(args) => {
            let SkipArgs {
                target,
                event_id,
                reason,
            } = args;
            find_builtin(&target.projector)?;
            let store = target.db.open().await?;
            let recorded = api::skip_projector_event(
                &store,
                &principal(target.user),
                &target.practice,
                &target.projector,
                api::SkipRequest { event_id, reason },
            )
            .await?;
            print_line(format_args!(
                "{} of practice {} skips event {}; recorded as seq {} ({})",
                target.projector,
                target.practice,
                recorded.payload["eventId"].as_str().unwrap_or_default(),
                recorded.seq,
                recorded.id
            ));
            Ok(())
        }
        Command::Retry(args) => {
            find_builtin(&args.projector)?;
            let store = args.db.open().await?;
            api::retry_projector(
                &store,
                &principal(args.user),
                &args.practice,
                &args.projector,
            )
            .await?;
            print_line(format_args!(
                "{} of practice {} will resume from the event it stopped at",
                args.projector, args.practice
            ));
            Ok(())
        }
    }
}

async fn status(args: StatusArgs) -> Outcome {
    let store = args.db.open().await?;
    let query = ProjectorStatusQuery {
        practice_id: args.practice,
    };
    let statuses = api::projector_status(&store, &principal(args.user), query)
        .await?
        .projectors;
    match args.format {
        Format::Json => {
            for status in &statuses {
                print_line(serde_json::to_string(status).expect("status serializes"));
            }
        }
        Format::Table => {
            print_line(format_args!(
                "{:<38}  {:<18}  {:<11}  {:>8}  {:>8}  {:>7}  {:>8}  {:>9}  ERROR",
                "PRACTICE", "PROJECTOR", "STATE", "LAST SEQ", "HEAD", "LAG", "LAG (s)", "EVENTS/s"
            ));
            for s in &statuses {
                print_line(format_args!(
                    "{:<38}  {:<18}  {:<11}  {:>8}  {:>8}  {:>7}  {:>8.1}  {:>9.0}  {}",
                    s.practice_id,
                    s.projector_name,
                    s.state,
                    s.last_seq,
                    s.head_seq,
                    s.lag,
                    s.lag_seconds,
                    s.events_per_second,
                    s.last_error.as_deref().unwrap_or("")
                ));
            }
        }
    }
    Ok(())
}

async fn run_projectors(args: RunArgs) -> Outcome {
    if args.batch_size < 1 {
        return Err(Failure::usage("--batch-size must be at least 1"));
    }
    let store = args.db.open().await?;
    if args.catch_up_batch_size < args.batch_size {
        return Err(Failure::usage(
            "--catch-up-batch-size must be at least --batch-size",
        ));
    }
    let options = RunnerOptions {
        batch_size: args.batch_size,
        catch_up_batch_size: args.catch_up_batch_size,
        poll_interval: std::time::Duration::from_secs(args.poll_interval.max(1)),
    };
    let projectors = if args.projectors.is_empty() {
        builtin()
    } else {
        args.projectors
            .iter()
            .map(|name| find_builtin(name))
            .collect::<Result<Vec<_>, _>>()?
    };
    let runner = Runner::new(store.clone(), projectors, options);
    if args.until_caught_up {
        let report = runner.run_until_caught_up().await?;
        print_line(format_args!(
            "caught up: applied {} events; {} projector(s) stopped on a failure",
            report.applied, report.halted
        ));
        return if report.halted > 0 {
            Err(Failure::refused(
                "some projectors are failed; see `chronicle projectors status`",
            ))
        } else {
            Ok(())
        };
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        super::serve::shutdown_signal().await;
        let _ = stop.send(true);
    });
    print_line("chronicle: projectors running; stop with Ctrl-C or SIGTERM");
    runner.run(stopped).await;
    store.close().await;
    Ok(())
}
