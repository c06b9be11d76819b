//! Generating events from the schemas: payloads alone, and into SQLite through the engine's
//! batch append (validated, access-checked, chained), plus a dry run against the append it
//! previews. Prints a Markdown table for BENCHMARKS.md.
//!
//! Generation into SQLite is the median of `--runs N` runs (default 3), each into a fresh
//! store, with the range beside it: one run swings with the disk and the neighbours.
//!
//! Run with: `cargo bench -p chronicle --bench generate [-- --runs N]`.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chronicle::generate::{PayloadGenerator, References, SeedOptions, seed_practice};
use chronicle::{NewEvent, Principal, Registry, Store};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Events generated into the store per measured run (the API's per-call maximum).
const EVENTS: usize = 100_000;

fn row(case: &str, events: usize, took: Duration) {
    println!(
        "| {case} | {events} | {:.2} | {:.0} | |",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64()
    );
}

/// The median of `runs` (sorted here) and the range of their rates.
fn median_row(case: &str, events: usize, mut runs: Vec<Duration>) {
    runs.sort();
    let rate = |took: &Duration| events as f64 / took.as_secs_f64();
    let median = runs[runs.len() / 2];
    println!(
        "| {case} | {events} | {:.2} | {:.0} | {:.0}–{:.0} over {} |",
        median.as_secs_f64(),
        rate(&median),
        rate(runs.last().expect("at least one run")),
        rate(&runs[0]),
        runs.len()
    );
}

async fn fresh_store(dir: &tempfile::TempDir, name: &str) -> Store {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    Store::open(&url).await.expect("store opens")
}

fn payloads_alone() {
    let registry = Registry::builtin().unwrap();
    let types: Vec<_> = registry.types().collect();
    let mut generator = PayloadGenerator::new(chrono::Utc::now());
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let refs = References::default();
    let started = Instant::now();
    for i in 0..EVENTS {
        let schema = &types[i % types.len()].schema;
        std::hint::black_box(generator.payload(schema, &refs, &mut rng).unwrap());
    }
    row(
        "payloads only, every built-in type in turn (no store)",
        EVENTS,
        started.elapsed(),
    );
    let payloads: Vec<_> = (0..EVENTS)
        .map(|i| {
            let t = types[i % types.len()];
            (t, generator.payload(&t.schema, &refs, &mut rng).unwrap())
        })
        .collect();
    let started = Instant::now();
    for (t, payload) in &payloads {
        registry
            .validate(&t.event_type, &t.aggregate_type, payload)
            .unwrap();
    }
    row(
        "schema validation alone of those payloads (what the append does per event)",
        EVENTS,
        started.elapsed(),
    );
    let started = Instant::now();
    for (_, payload) in &payloads {
        std::hint::black_box(chronicle::chain::canonical_json(payload));
    }
    row(
        "canonical JSON alone of those payloads",
        EVENTS,
        started.elapsed(),
    );
}

async fn into_sqlite(dir: &tempfile::TempDir, batch_size: usize, as_user: bool, runs: usize) {
    let mut took = Vec::new();
    for run in 0..runs {
        took.push(generate_once(dir, batch_size, as_user, run).await);
    }
    let who = if as_user {
        "a user (owner)"
    } else {
        "the system principal"
    };
    median_row(
        &format!("generate into SQLite, all default types, batches of {batch_size}, as {who}"),
        EVENTS,
        took,
    );
}

async fn generate_once(
    dir: &tempfile::TempDir,
    batch_size: usize,
    as_user: bool,
    run: usize,
) -> Duration {
    let store = fresh_store(dir, &format!("generate-{batch_size}-{as_user}-{run}.db")).await;
    let caller = if as_user {
        Principal::user("bench-owner")
    } else {
        Principal::System
    };
    let mut options = SeedOptions::new(Vec::new(), EVENTS, 7);
    options.batch_size = batch_size;
    let never = AtomicBool::new(false);
    let started = Instant::now();
    let outcome = seed_practice(&store, &caller, "bench", &options, &mut |_, _| {}, &never)
        .await
        .expect("generation succeeds");
    let took = started.elapsed();
    assert_eq!(outcome.written, EVENTS);
    store.close().await;
    took
}

async fn dry_run_against_append(dir: &tempfile::TempDir) {
    const ROUNDS: usize = 200;
    const BATCH: usize = 100;
    let store = fresh_store(dir, "dry-run.db").await;
    let owner = Principal::user("bench-owner");
    let mut options = SeedOptions::new(vec!["patient.created".into()], 1000, 3);
    options.batch_size = 1000;
    let never = AtomicBool::new(false);
    seed_practice(&store, &owner, "bench", &options, &mut |_, _| {}, &never)
        .await
        .unwrap();
    let batch = |round: usize| -> Vec<NewEvent> {
        (0..BATCH)
            .map(|i| {
                NewEvent::new(
                    "bench",
                    "patient",
                    format!("dry-{round}-{i}"),
                    "patient.created",
                    serde_json::json!({"firstName": "Ava", "lastName": "Patel", "dateOfBirth": "1990-05-17"}),
                    chronicle::ActorType::Human,
                )
            })
            .collect()
    };
    // Alternate, so both see the same table size and cache state.
    let (mut dry, mut real) = (Duration::ZERO, Duration::ZERO);
    for round in 0..ROUNDS {
        let started = Instant::now();
        store.dry_run_batch(&owner, batch(round)).await.unwrap();
        dry += started.elapsed();
        let started = Instant::now();
        store.append_batch(&owner, batch(round)).await.unwrap();
        real += started.elapsed();
    }
    row(
        "dry run of a 100-event batch (planned, written, rolled back)",
        ROUNDS * BATCH,
        dry,
    );
    row(
        "append of the same 100-event batch (committed)",
        ROUNDS * BATCH,
        real,
    );
    println!(
        "\ndry run / append time: {:.2} (the dry run costs no more than the append it previews when ≤ 1)",
        dry.as_secs_f64() / real.as_secs_f64()
    );
    store.close().await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let runs = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(3)
        .max(1);
    let dir = tempfile::tempdir().unwrap();
    println!("| case | events | seconds | events/s | events/s range |");
    println!("|---|---:|---:|---:|---|");
    payloads_alone();
    for batch_size in [1_000, 2_000, 5_000] {
        into_sqlite(&dir, batch_size, false, runs).await;
    }
    into_sqlite(&dir, 2_000, true, runs).await;
    dry_run_against_append(&dir).await;
}
