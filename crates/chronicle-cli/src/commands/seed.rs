//! `chronicle seed`: test data, with a progress bar. Two kinds, one command:
//! - without `--practice`, the deterministic demo data set (practices, staff with every
//!   role, patients, appointments …), as before;
//! - with `--practice P`, events of the chosen `--types` generated from the registry's
//!   schemas into that one practice, through the API layer's `generate_events` (the same
//!   operation as `POST /v1/practices/{id}/generate` and the desktop's "Generate events").
//!
//! One subcommand rather than two because both answer "fill a store with test data"; the
//! flags of one kind are refused with the other.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chronicle::api::{self, GenerateRequest, UserId};
use chronicle::demo::{self, DemoOptions};
use indicatif::{ProgressBar, ProgressStyle};

use super::{DbArgs, Failure, Outcome};

const DEMO_ONLY: [&str; 4] = ["practices", "events", "days", "batch_size"];

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Generate from the schemas into this practice (created, owned by --as, when it has
    /// no events). Without it: the demo data set.
    #[arg(long, value_name = "P", conflicts_with_all = DEMO_ONLY)]
    pub practice: Option<String>,
    /// With --practice: the event types, comma-separated. Default: every type except the
    /// practice's own and the membership types.
    #[arg(long, value_name = "A,B,...", requires = "practice")]
    pub types: Option<String>,
    /// With --practice: how many events (1 to 100000), aggregates' creation events included.
    #[arg(long, default_value_t = 1000, value_name = "N", requires = "practice")]
    pub count: u32,
    /// With --practice: generate as this user (access rules apply); default: the system principal.
    #[arg(long = "as", value_name = "USER", value_parser = super::user_id, requires = "practice")]
    pub user: Option<UserId>,
    /// Demo data: number of practices.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub practices: usize,
    /// Demo data: events in total, spread evenly over the practices (at least 10 per practice).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub events: usize,
    /// Random seed: the same seed writes the same data (demo: ids, times and hashes too;
    /// --practice: the same payloads and aggregates on the same practice contents).
    #[arg(long, default_value_t = 7, value_name = "S")]
    pub seed: u64,
    /// Demo data: days of history, ending now.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub days: i64,
    /// Demo data: events per append batch.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub batch_size: usize,
}

pub async fn run(args: Args) -> Outcome {
    if let Some(practice) = args.practice.clone() {
        return generate(args, practice).await;
    }
    if args.practices == 0 {
        return Err(Failure::usage("--practices must be at least 1"));
    }
    if args.batch_size == 0 {
        return Err(Failure::usage("--batch-size must be at least 1"));
    }
    if args.days < 1 {
        return Err(Failure::usage("--days must be at least 1"));
    }
    let store = args.db.open().await?;
    let options = DemoOptions {
        practices: args.practices,
        events_per_practice: args.events.div_ceil(args.practices),
        seed: args.seed,
        batch_size: args.batch_size,
        days: args.days,
        ..DemoOptions::default()
    };
    let total = demo::total_events(&options);
    let bar = events_bar(total as u64);
    let started = Instant::now();
    let practices =
        demo::seed_with_progress(&store, &options, |written| bar.set_position(written as u64))
            .await;
    bar.finish_and_clear();
    let practices = practices?;
    let seconds = started.elapsed().as_secs_f64();
    super::print_line(format_args!(
        "wrote {total} events to {} practices in {seconds:.1} s ({:.0} events/s) on {} at {}",
        practices.len(),
        total as f64 / seconds.max(1e-9),
        store.backend_name(),
        store.location()
    ));
    super::print_line(format_args!(
        "demo users (one per role, in every practice): {}",
        demo::DEMO_USERS
            .map(|(user, role, _)| format!("{user} ({role})"))
            .join(", ")
    ));
    for practice in practices {
        super::print_line(format_args!("practice {practice}"));
    }
    Ok(())
}

/// `--practice`: events generated from the schemas, with a progress bar.
async fn generate(args: Args, practice: String) -> Outcome {
    let store = args.db.open().await?;
    let caller = super::principal(args.user);
    let request = GenerateRequest {
        event_types: args
            .types
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(String::from)
            .collect(),
        count: args.count,
        seed: Some(args.seed),
    };
    let bar = events_bar(u64::from(args.count));
    let started = Instant::now();
    let never = AtomicBool::new(false);
    let generated = api::generate_events(
        &store,
        &caller,
        &practice,
        request,
        &mut |progress| bar.set_position(u64::from(progress.written)),
        &never,
    )
    .await;
    bar.finish_and_clear();
    let generated = generated?;
    let seconds = started.elapsed().as_secs_f64();
    super::print_line(format_args!(
        "wrote {} events to practice {practice} in {seconds:.1} s ({:.0} events/s) on {} at {}, seed {}",
        generated.written,
        f64::from(generated.written) / seconds.max(1e-9),
        store.backend_name(),
        store.location(),
        generated.seed
    ));
    for count in generated.counts {
        super::print_line(format_args!("{:>8}  {}", count.count, count.event_type));
    }
    Ok(())
}

/// A progress bar of events written, with the rate and the time left.
fn events_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bar:40} {pos}/{len} events ({per_sec}, eta {eta})",
        )
        .expect("valid progress template"),
    );
    bar
}
