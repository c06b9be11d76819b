//! `chronicle seed`: deterministic demo data, with a progress bar.

use std::time::Instant;

use chronicle::demo::{self, DemoOptions};
use indicatif::{ProgressBar, ProgressStyle};

use super::{DbArgs, Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Number of practices.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub practices: usize,
    /// Events in total, spread evenly over the practices (at least 10 per practice).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub events: usize,
    /// Random seed: the same seed writes the same events (ids, times and hashes).
    #[arg(long, default_value_t = 7, value_name = "S")]
    pub seed: u64,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub days: i64,
    /// Events per append batch.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub batch_size: usize,
}

pub async fn run(args: Args) -> Outcome {
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
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bar:40} {pos}/{len} events ({per_sec}, eta {eta})",
        )
        .expect("valid progress template"),
    );
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
