//! Engine benchmarks against a raw sqlx baseline, on SQLite and (when
//! `CHRONICLE_TEST_PG_URL` is set) PostgreSQL. Prints a Markdown table for BENCHMARKS.md.
//!
//! Run with: `scripts/bench.sh` (starts PostgreSQL), or `cargo bench -p chronicle` (SQLite only).

use std::time::{Duration, Instant};

use chronicle::{ActorType, NewEvent, PageRequest, Principal, Store};
use serde_json::json;
use sqlx::Connection;

const PRACTICE: &str = "bench-practice";
const OWNER: &str = "bench-owner";

struct Row {
    backend: &'static str,
    case: &'static str,
    iterations: usize,
    events_per_op: usize,
    total: Duration,
}

impl Row {
    fn per_op_us(&self) -> f64 {
        self.total.as_secs_f64() * 1e6 / self.iterations as f64
    }
    fn events_per_sec(&self) -> f64 {
        (self.iterations * self.events_per_op) as f64 / self.total.as_secs_f64()
    }
}

fn payload(i: usize) -> serde_json::Value {
    json!({"notes": format!("Follow-up call number {i}: patient asked about whitening options."), "preferredContact": "sms"})
}

fn event(i: usize) -> NewEvent {
    NewEvent::new(
        PRACTICE,
        "patient",
        format!("pat-{}", i % 500),
        "patient.updated",
        payload(i),
        ActorType::Human,
    )
}

async fn time<F, Fut>(iterations: usize, mut op: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..iterations.min(20) {
        op(usize::MAX / 2 + i).await;
    }
    let start = Instant::now();
    for i in 0..iterations {
        op(i).await;
    }
    start.elapsed()
}

const RAW_TABLE_SQLITE: &str = "CREATE TABLE raw_events (practice_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, \
    aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, event_type TEXT NOT NULL, \
    payload_json TEXT NOT NULL, actor_type TEXT NOT NULL, actor_id TEXT, created_at TEXT NOT NULL, hash TEXT NOT NULL);";
const RAW_TABLE_POSTGRES: &str = "CREATE TABLE raw_events (practice_id VARCHAR(255) COLLATE \"C\" NOT NULL, seq BIGINT NOT NULL, \
    id VARCHAR(255) COLLATE \"C\" NOT NULL, aggregate_type VARCHAR(100) COLLATE \"C\" NOT NULL, aggregate_id VARCHAR(255) COLLATE \"C\" NOT NULL, \
    version BIGINT NOT NULL, event_type VARCHAR(100) COLLATE \"C\" NOT NULL, payload_json TEXT NOT NULL, actor_type VARCHAR(16) NOT NULL, \
    actor_id VARCHAR(255) COLLATE \"C\", created_at TIMESTAMPTZ NOT NULL, hash CHAR(64) NOT NULL, PRIMARY KEY (practice_id, seq));";
const RAW_INDEXES: &str = "CREATE UNIQUE INDEX raw_by_seq ON raw_events (practice_id, seq); \
    CREATE UNIQUE INDEX raw_by_id ON raw_events (practice_id, id); \
    CREATE UNIQUE INDEX raw_by_stream ON raw_events (practice_id, aggregate_type, aggregate_id, version); \
    CREATE INDEX raw_by_type ON raw_events (practice_id, event_type, seq); \
    CREATE INDEX raw_by_time ON raw_events (practice_id, created_at);";

/// Inserts `count` rows shaped like events in one transaction, without any engine work.
macro_rules! raw_insert {
    ($pool:expr, $next:expr, $count:expr) => {{
        let mut tx = $pool.begin().await.unwrap();
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO raw_events (practice_id, seq, id, aggregate_type, aggregate_id, version, event_type, payload_json, actor_type, actor_id, created_at, hash) ",
        );
        let start = $next;
        q.push_values(start..start + $count, |mut b, seq| {
            b.push_bind(PRACTICE)
                .push_bind(seq as i64)
                .push_bind(uuid::Uuid::now_v7().to_string())
                .push_bind("patient")
                .push_bind(format!("pat-{seq}"))
                .push_bind(1i64)
                .push_bind("patient.updated")
                .push_bind(serde_json::to_string(&payload(seq)).unwrap())
                .push_bind("human")
                .push_bind(OWNER)
                .push_bind(chrono::Utc::now())
                .push_bind("0".repeat(64));
        });
        q.build().execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        $next += $count;
    }};
}

async fn bench_backend(backend: &'static str, url: &str, scale: usize) -> Vec<Row> {
    let store = Store::open(url).await.expect("open bench store");
    let owner = Principal::user(OWNER);
    store
        .append(
            &owner,
            NewEvent::new(
                PRACTICE,
                "practice",
                PRACTICE,
                "practice.created",
                json!({"name": "Bench"}),
                ActorType::Human,
            ),
        )
        .await
        .unwrap();
    let mut rows = Vec::new();
    let mut row = |case, iterations, events_per_op, total| {
        rows.push(Row {
            backend,
            case,
            iterations,
            events_per_op,
            total,
        });
    };

    // Raw baseline: the same rows into a table with the same indexes, no rules, no hashing.
    // Baseline and engine run in alternating rounds so both see the same database size and
    // WAL state; the totals are summed over the rounds.
    let singles = 2000 / scale;
    let batches = 200 / scale;
    const ROUNDS: usize = 10;
    let mut next = 1usize;
    let (mut raw1, mut raw100, mut eng1, mut eng100) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    let mut engine_i = 0usize;
    macro_rules! rounds {
        ($pool:expr) => {
            for _ in 0..ROUNDS {
                let start = Instant::now();
                for _ in 0..singles / ROUNDS {
                    raw_insert!($pool, next, 1);
                }
                raw1 += start.elapsed();
                let start = Instant::now();
                for _ in 0..singles / ROUNDS {
                    store.append(&owner, event(engine_i)).await.unwrap();
                    engine_i += 1;
                }
                eng1 += start.elapsed();
                let start = Instant::now();
                for _ in 0..batches / ROUNDS {
                    raw_insert!($pool, next, 100);
                }
                raw100 += start.elapsed();
                let start = Instant::now();
                for _ in 0..batches / ROUNDS {
                    let batch = (0..100).map(|k| event(engine_i + k)).collect();
                    store.append_batch(&owner, batch).await.unwrap();
                    engine_i += 100;
                }
                eng100 += start.elapsed();
            }
        };
    }
    if backend == "sqlite" {
        // The engine's own connection settings (WAL, synchronous=NORMAL), so only the work differs.
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let options = options
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "{RAW_TABLE_SQLITE}{RAW_INDEXES}"
        )))
        .execute(&pool)
        .await
        .unwrap();
        rounds!(pool);
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "{RAW_TABLE_POSTGRES}{}",
            RAW_INDEXES.replace(
                "CREATE UNIQUE INDEX raw_by_seq ON raw_events (practice_id, seq); ",
                ""
            )
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        rounds!(pool);
    }
    let singles = singles / ROUNDS * ROUNDS;
    let batches = batches / ROUNDS * ROUNDS;
    row("raw insert, 1 row per transaction", singles, 1, raw1);
    row(
        "engine append, 1 event (validated, member check, hashed)",
        singles,
        1,
        eng1,
    );
    row("raw insert, 100 rows per transaction", batches, 100, raw100);
    row("engine append_batch, 100 events", batches, 100, eng100);

    let long: Vec<NewEvent> = (0..1000)
        .map(|i| {
            NewEvent::new(
                PRACTICE,
                "patient",
                "pat-long",
                "patient.updated",
                payload(i),
                ActorType::Human,
            )
        })
        .collect();
    for chunk in long.chunks(500) {
        store.append_batch(&owner, chunk.to_vec()).await.unwrap();
    }
    let reads = 200 / scale;
    let total = time(reads, |_| {
        let store = store.clone();
        let owner = owner.clone();
        async move {
            let page = store
                .aggregate_events(
                    &owner,
                    PRACTICE,
                    "patient",
                    "pat-long",
                    None,
                    &PageRequest::first(1000),
                )
                .await
                .unwrap();
            assert_eq!(page.items.len(), 1000);
        }
    })
    .await;
    row("read a 1,000-event aggregate", reads, 1000, total);

    let total = time(reads, |i| {
        let store = store.clone();
        let owner = owner.clone();
        async move {
            let first = store
                .events_by_type(
                    &owner,
                    PRACTICE,
                    "patient.updated",
                    &PageRequest::first(100),
                )
                .await
                .unwrap();
            assert_eq!(first.items.len(), 100);
            if i % 2 == 1 {
                let cursor = first.next_cursor.unwrap();
                let next = store
                    .events_by_type(
                        &owner,
                        PRACTICE,
                        "patient.updated",
                        &PageRequest::after(cursor, Some(100)),
                    )
                    .await
                    .unwrap();
                assert_eq!(next.items.len(), 100);
            }
        }
    })
    .await;
    row("read a 100-event type page", reads + reads / 2, 100, total);
    store.close().await;
    rows
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut rows = bench_backend("sqlite", &sqlite_url, scale).await;
    match std::env::var("CHRONICLE_TEST_PG_URL") {
        Ok(admin) => {
            let name = format!("bench_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            rows.extend(bench_backend("postgres", &format!("{base}/{name}"), scale).await);
        }
        Err(_) => eprintln!(
            "CHRONICLE_TEST_PG_URL not set: PostgreSQL skipped (scripts/bench.sh starts one)"
        ),
    }

    println!("| backend | case | ops | µs/op | events/s |");
    println!("|---|---|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.1} | {:.0} |",
            r.backend,
            r.case,
            r.iterations,
            r.per_op_us(),
            r.events_per_sec()
        );
    }
    println!();
    for backend in ["sqlite", "postgres"] {
        let find = |case: &str| {
            rows.iter()
                .find(|r| r.backend == backend && r.case.starts_with(case))
                .map(Row::events_per_sec)
        };
        if let (Some(raw1), Some(raw100), Some(eng1), Some(eng100)) = (
            find("raw insert, 1 "),
            find("raw insert, 100"),
            find("engine append, 1"),
            find("engine append_batch"),
        ) {
            println!(
                "{backend}: single append = {:.0}% of raw single insert (target ≥ 70% on SQLite); batch of 100 = {:.0}% of raw batch insert (target ≥ 50% on SQLite)",
                100.0 * eng1 / raw1,
                100.0 * eng100 / raw100
            );
        }
    }
}
