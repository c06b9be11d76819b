//! The side-by-side workload of issue #15, W1–W5, against the engine in-process and over HTTP
//! on both backends, with raw baselines (plain inserts and reads of the same payloads: SQLite
//! through rusqlite at synchronous=NORMAL and FULL, as the issue's table, and PostgreSQL
//! through sqlx) in the same run. Prints events/s and
//! each figure's ratio to its backend's raw baseline, as Markdown for BENCHMARKS.md.
//!
//! - W1: 5,000 single-event appends, 1 writer, round-robin over 500 streams; one commit each.
//! - W2: 8 concurrent writers × 2,000 single-event appends, each writer on its own 50 streams,
//!   all in one practice; W2p the same with each writer in a practice of its own (eight).
//! - W3: 200 atomic batches of 100 events, each batch to its own stream.
//! - W4: read one 1,000-event stream start to end, 200 times, decoding every event.
//! - W5: read the whole store (42,000 events) in its global order, pages of 1,000. The raw
//!   tables have no practices, so their W5 also reads W2p's 16,000 events.
//!
//! Reads decode every event: the engine returns typed events, and the HTTP client decodes
//! each page into the same type, as a Rust client of the API would.
//!
//! Payload: a 200-byte JSON object `{"stream","seq","tenant","kind","pad"}`, registered as the
//! `bench.recorded` event type; every engine append is validated, access-checked and chained.
//!
//! Each figure is the median of `--runs N` runs (default 3), each on a fresh store.
//!
//! After the table: what HTTP costs whatever the store does (an exchange that does no work,
//! serializing and parsing a W4 page), and the share of the engine's rate that leaves HTTP at
//! most, for the issue's HTTP targets (single appends ≥ 80% of the engine, reads ≥ 60%).
//!
//! Run with: `scripts/bench-workload.sh` (starts PostgreSQL) or
//! `cargo bench -p chronicle-cli --bench workload` (SQLite only). `-- --scale 10` divides every
//! count by 10 for a quick look.

use std::sync::Arc;
use std::time::Instant;

use chronicle::api::{self, AggregateEventsQuery, TimelineQuery};
use chronicle::{ActorType, Event, NewEvent, Page, Principal, Store, StoreOptions};
use serde_json::{Value, json};
use sqlx::{Connection, Executor};

const PRACTICE: &str = "workload";
/// W2p's writers each append to a practice of their own: `workload-0` … `workload-7`.
const W2P_PRACTICE: &str = "workload-";
const OWNER: &str = "bench-owner";
const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "x-event-type": "bench.recorded", "x-aggregate-type": "stream",
  "title": "Benchmark event", "description": "The payload of the side-by-side workload.",
  "type": "object",
  "properties": {"stream": {"type": "string"}, "seq": {"type": "integer"}, "tenant": {"type": "string"},
                 "kind": {"type": "string"}, "pad": {"type": "string"}},
  "required": ["stream", "seq", "tenant", "kind", "pad"], "additionalProperties": false
}"#;

struct Counts {
    w1: usize,
    w2_writers: usize,
    w2_each: usize,
    w3_batches: usize,
    w3_size: usize,
    w4_stream: usize,
    w4_reads: usize,
}

fn payload(practice: &str, stream: &str, seq: usize) -> Value {
    let base =
        json!({"stream": stream, "seq": seq, "tenant": practice, "kind": "recorded", "pad": ""});
    let pad = 200usize.saturating_sub(base.to_string().len());
    json!({"stream": stream, "seq": seq, "tenant": practice, "kind": "recorded", "pad": "x".repeat(pad)})
}

fn event(practice: &str, stream: &str, seq: usize) -> NewEvent {
    NewEvent::new(
        practice,
        "stream",
        stream,
        "bench.recorded",
        payload(practice, stream, seq),
        ActorType::Human,
    )
}

/// Where a workload runs.
enum Target {
    Engine(Store),
    Http {
        base: String,
        client: reqwest::Client,
        /// Dropped with the target, which shuts its server down.
        _stop: tokio::sync::oneshot::Sender<()>,
    },
    /// One rusqlite connection, as the issue's raw SQLite baseline: no driver between the
    /// insert and SQLite.
    RawSqlite(Arc<std::sync::Mutex<rusqlite::Connection>>),
    RawPostgres(sqlx::PgPool),
}

impl Target {
    /// One single-event append; the raw tables have no practices, so their streams are named
    /// by practice instead.
    async fn append(&self, practice: &str, stream: &str, seq: usize) {
        match self {
            Target::Engine(store) => {
                store
                    .append(&Principal::user(OWNER), event(practice, stream, seq))
                    .await
                    .unwrap();
            }
            Target::Http { base, client, .. } => {
                let response = client
                    .post(format!("{base}/v1/events/append"))
                    .header("x-user-id", OWNER)
                    .json(&event(practice, stream, seq))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
            }
            Target::RawSqlite(connection) => {
                let row = (
                    format!("{practice}/{stream}"),
                    seq as i64,
                    payload(practice, stream, seq).to_string(),
                );
                on_raw_sqlite(connection, move |c| {
                    c.prepare_cached(
                        "INSERT INTO raw_events (stream, version, payload) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(row)?;
                    Ok(())
                });
            }
            Target::RawPostgres(pool) => {
                sqlx::query(
                    "INSERT INTO raw_events (stream, version, payload) VALUES ($1, $2, $3)",
                )
                .bind(format!("{practice}/{stream}"))
                .bind(seq as i64)
                .bind(payload(practice, stream, seq).to_string())
                .execute(pool)
                .await
                .unwrap();
            }
        }
    }

    async fn batch(&self, stream: &str, size: usize) {
        match self {
            Target::Engine(store) => {
                let events = (1..=size).map(|seq| event(PRACTICE, stream, seq)).collect();
                store
                    .append_batch(&Principal::user(OWNER), events)
                    .await
                    .unwrap();
            }
            Target::Http { base, client, .. } => {
                let events: Vec<NewEvent> =
                    (1..=size).map(|seq| event(PRACTICE, stream, seq)).collect();
                let response = client
                    .post(format!("{base}/v1/events/append-batch"))
                    .header("x-user-id", OWNER)
                    .json(&json!({"events": events}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
            }
            Target::RawSqlite(connection) => {
                let rows: Vec<_> = (1..=size)
                    .map(|seq| {
                        let payload = payload(PRACTICE, stream, seq).to_string();
                        (stream.to_string(), seq as i64, payload)
                    })
                    .collect();
                on_raw_sqlite(connection, move |c| {
                    let tx = c.transaction()?;
                    {
                        let mut insert = tx.prepare_cached(
                            "INSERT INTO raw_events (stream, version, payload) VALUES (?1, ?2, ?3)",
                        )?;
                        for row in rows {
                            insert.execute(row)?;
                        }
                    }
                    tx.commit()
                });
            }
            Target::RawPostgres(pool) => {
                let mut tx = pool.begin().await.unwrap();
                let mut q =
                    sqlx::QueryBuilder::new("INSERT INTO raw_events (stream, version, payload) ");
                q.push_values(1..=size, |mut row, seq| {
                    row.push_bind(stream)
                        .push_bind(seq as i64)
                        .push_bind(payload(PRACTICE, stream, seq).to_string());
                });
                q.build().execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        }
    }

    /// Reads a stream start to end; returns the events decoded.
    async fn read_stream(&self, stream: &str) -> usize {
        match self {
            Target::Engine(store) => {
                let query = AggregateEventsQuery { limit: Some(1000), ..AggregateEventsQuery::default() };
                api::aggregate_events(store, &Principal::user(OWNER), PRACTICE, "stream", stream, query)
                    .await
                    .unwrap()
                    .items
                    .len()
            }
            Target::Http { base, client, .. } => {
                let page: Page<Event> = client
                    .get(format!("{base}/v1/practices/{PRACTICE}/aggregates/stream/{stream}/events?limit=1000"))
                    .header("x-user-id", OWNER)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                page.items.len()
            }
            Target::RawSqlite(connection) => {
                let stream = stream.to_string();
                decode(on_raw_sqlite(connection, move |c| {
                    c.prepare_cached(
                        "SELECT stream, version, payload FROM raw_events WHERE stream = ?1 ORDER BY version",
                    )?
                    .query_map([stream], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                    .collect()
                }))
            }
            Target::RawPostgres(pool) => decode(
                sqlx::query_as::<_, (String, i64, String)>(
                    "SELECT stream, version, payload FROM raw_events WHERE stream = $1 ORDER BY version",
                )
                .bind(stream)
                .fetch_all(pool)
                .await
                .unwrap(),
            ),
        }
    }

    /// Reads everything in global order, pages of 1,000; returns the events decoded.
    async fn read_all(&self) -> usize {
        let mut total = 0;
        match self {
            Target::Engine(store) => {
                let mut cursor = None;
                loop {
                    let query = TimelineQuery {
                        limit: Some(1000),
                        cursor: cursor.clone(),
                        ..TimelineQuery::default()
                    };
                    let page = api::timeline(store, &Principal::user(OWNER), PRACTICE, query)
                        .await
                        .unwrap();
                    total += page.items.len();
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => return total,
                    }
                }
            }
            Target::Http { base, client, .. } => {
                let mut cursor: Option<String> = None;
                loop {
                    let mut url = format!("{base}/v1/practices/{PRACTICE}/events?limit=1000");
                    if let Some(c) = &cursor {
                        url.push_str(&format!("&cursor={c}"));
                    }
                    let page: Page<Event> = client
                        .get(url)
                        .header("x-user-id", OWNER)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    total += page.items.len();
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => return total,
                    }
                }
            }
            Target::RawSqlite(connection) => {
                let mut after = 0i64;
                loop {
                    let rows: Vec<(i64, String, String)> = on_raw_sqlite(connection, move |c| {
                        c.prepare_cached(
                            "SELECT id, stream, payload FROM raw_events WHERE id > ?1 ORDER BY id LIMIT 1000",
                        )?
                        .query_map([after], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                        .collect()
                    });
                    let Some(last) = rows.last() else {
                        return total;
                    };
                    after = last.0;
                    total += decode(rows.into_iter().map(|(_, s, p)| (s, 0, p)).collect());
                }
            }
            Target::RawPostgres(pool) => {
                let mut after = 0i64;
                loop {
                    let rows: Vec<(i64, String, String)> = sqlx::query_as(
                        "SELECT id, stream, payload FROM raw_events WHERE id > $1 ORDER BY id LIMIT 1000",
                    )
                    .bind(after)
                    .fetch_all(pool)
                    .await
                    .unwrap();
                    let Some(last) = rows.last() else {
                        return total;
                    };
                    after = last.0;
                    total += decode(rows.into_iter().map(|(_, s, p)| (s, 0, p)).collect());
                }
            }
        }
    }
}

fn decode(rows: Vec<(String, i64, String)>) -> usize {
    rows.iter()
        .map(|(_, _, p)| serde_json::from_str::<Value>(p).unwrap())
        .filter(|v| v.is_object())
        .count()
}

/// The columns every row prints.
const COLUMNS: usize = 6;

/// W1, W2, W2p, W3, W4 and W5 on one target; events/s each.
async fn workload(target: Arc<Target>, c: &Counts) -> [f64; COLUMNS] {
    let started = Instant::now();
    for i in 0..c.w1 {
        target
            .append(PRACTICE, &format!("w1-{}", i % 500), i / 500 + 1)
            .await;
    }
    let w1 = c.w1 as f64 / started.elapsed().as_secs_f64();

    let w2 = concurrent_writers(&target, c, |_| PRACTICE.to_string()).await;
    let w2p = concurrent_writers(&target, c, |w| format!("{W2P_PRACTICE}{w}")).await;

    let started = Instant::now();
    for b in 0..c.w3_batches {
        target.batch(&format!("w3-{b}"), c.w3_size).await;
    }
    let w3 = (c.w3_batches * c.w3_size) as f64 / started.elapsed().as_secs_f64();

    target.batch("w4", c.w4_stream).await;
    let started = Instant::now();
    let mut read = 0;
    for _ in 0..c.w4_reads {
        read += target.read_stream("w4").await;
    }
    assert_eq!(read, c.w4_reads * c.w4_stream);
    let w4 = read as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let all = target.read_all().await;
    let w5 = all as f64 / started.elapsed().as_secs_f64();
    [w1, w2, w2p, w3, w4, w5]
}

/// W2's writers, writer `w` appending to `practice(w)`; events/s.
async fn concurrent_writers(
    target: &Arc<Target>,
    c: &Counts,
    practice: impl Fn(usize) -> String,
) -> f64 {
    let started = Instant::now();
    let writers: Vec<_> = (0..c.w2_writers)
        .map(|w| {
            let target = target.clone();
            let each = c.w2_each;
            let practice = practice(w);
            tokio::spawn(async move {
                for i in 0..each {
                    target
                        .append(&practice, &format!("w2-{w}-{}", i % 50), i / 50 + 1)
                        .await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    (c.w2_writers * c.w2_each) as f64 / started.elapsed().as_secs_f64()
}

async fn engine_store(url: &str, registry: &std::path::Path) -> Store {
    let options = StoreOptions {
        registry_dir: Some(registry.to_path_buf()),
        max_connections: 16,
        ..StoreOptions::default()
    };
    let store = Store::open_with(url, options).await.unwrap();
    let practices =
        std::iter::once(PRACTICE.to_string()).chain((0..8).map(|w| format!("{W2P_PRACTICE}{w}")));
    for practice in practices {
        store
            .append(
                &Principal::user(OWNER),
                NewEvent::new(
                    &practice,
                    "practice",
                    &practice,
                    "practice.created",
                    json!({"name": "Workload"}),
                    ActorType::Human,
                ),
            )
            .await
            .unwrap();
    }
    store
}

async fn serve(store: Store) -> Target {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options = chronicle_cli::http::ApiOptions::for_store(&store);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(chronicle_cli::http::serve(
        listener,
        store,
        options,
        async move {
            let _ = stopped.await;
        },
    ));
    Target::Http {
        base,
        client: reqwest::Client::new(),
        _stop: stop,
    }
}

const RAW_TABLE_SQLITE: &str = "CREATE TABLE raw_events (id INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL, payload TEXT NOT NULL); \
                                CREATE UNIQUE INDEX raw_by_stream ON raw_events (stream, version)";
const RAW_TABLE_POSTGRES: &str = "CREATE TABLE raw_events (id BIGSERIAL PRIMARY KEY, stream TEXT NOT NULL, version BIGINT NOT NULL, payload TEXT NOT NULL); \
                                  CREATE UNIQUE INDEX raw_by_stream ON raw_events (stream, version)";

async fn raw_sqlite(path: std::path::PathBuf, synchronous: &'static str) -> Target {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .unwrap();
    connection
        .pragma_update(None, "synchronous", synchronous)
        .unwrap();
    connection.execute_batch(RAW_TABLE_SQLITE).unwrap();
    Target::RawSqlite(Arc::new(std::sync::Mutex::new(connection)))
}

/// Runs `call` on the raw SQLite connection in place, as the store runs its SQLite calls
/// (ADR 0016).
fn on_raw_sqlite<T>(
    connection: &std::sync::Mutex<rusqlite::Connection>,
    call: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T>,
) -> T {
    tokio::task::block_in_place(|| call(&mut connection.lock().unwrap()).unwrap())
}

async fn fresh_postgres(admin: &str) -> String {
    let name = format!("workload_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}

fn row(name: &str, figures: [f64; COLUMNS], baseline: Option<[f64; COLUMNS]>) -> String {
    let cells: Vec<String> = figures
        .iter()
        .enumerate()
        .map(|(i, f)| match baseline {
            Some(raw) => format!("{f:.0} ({:.0}%)", 100.0 * f / raw[i]),
            None => format!("{f:.0}"),
        })
        .collect();
    format!("| {name} | {} |", cells.join(" | "))
}

/// What HTTP costs on top of the engine whatever the store does, and the ratios to the engine
/// that leaves room for: an exchange that does no work (a GET the router answers 404, the
/// median of 2,000), and serializing and parsing one W4 page of 1,000 events (as axum's `Json`
/// and the client's `Page<Event>`, the median of 50 each). `engines` are the engine rows.
async fn http_floors(store: Store, engines: &[(&str, [f64; COLUMNS])]) -> Vec<String> {
    let events = (1..=1000)
        .map(|seq| event(PRACTICE, "floor", seq))
        .collect();
    store
        .append_batch(&Principal::user(OWNER), events)
        .await
        .unwrap();
    let query = AggregateEventsQuery {
        limit: Some(1000),
        ..AggregateEventsQuery::default()
    };
    let page = api::aggregate_events(
        &store,
        &Principal::user(OWNER),
        PRACTICE,
        "stream",
        "floor",
        query,
    )
    .await
    .unwrap();
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let mut serialize = Vec::new();
    let mut parse = Vec::new();
    let mut body = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        body = serde_json::to_vec(&page).unwrap();
        serialize.push(started.elapsed().as_secs_f64() * 1e6);
        let started = Instant::now();
        let parsed: Page<Event> = serde_json::from_slice(&body).unwrap();
        parse.push(started.elapsed().as_secs_f64() * 1e6);
        assert_eq!(parsed.items.len(), 1000);
    }
    let (serialize, parse) = (median(serialize), median(parse));

    let Target::Http {
        base,
        client,
        _stop,
    } = serve(store).await
    else {
        unreachable!("serve answers an HTTP target")
    };
    let mut exchanges = Vec::new();
    for _ in 0..2000 {
        let started = Instant::now();
        let response = client
            .get(format!("{base}/v1/no-such-route"))
            .header("x-user-id", OWNER)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        response.bytes().await.unwrap();
        exchanges.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let exchange = median(exchanges);

    let mut lines = vec![
        format!(
            "An HTTP exchange that does no work: {exchange:.0} µs. One W4 page ({} bytes of JSON): \
             serialized in {serialize:.0} µs, parsed into `Page<Event>` in {parse:.0} µs.",
            body.len()
        ),
        String::new(),
        "| Most HTTP can reach, % of the engine | single append (W1) | page read (W4) |".into(),
        "|---|---:|---:|".into(),
    ];
    for (name, engine) in engines {
        let append = 1e6 / engine[0];
        let page = 1e9 / engine[4];
        lines.push(format!(
            "| {name} | {:.0}% | {:.0}% |",
            100.0 * append / (append + exchange),
            100.0 * page / (page + exchange + serialize + parse)
        ));
    }
    lines
}

/// The workload `runs` times, each on a fresh target from `make(run)`; the median of each column.
async fn median_of<F, Fut>(runs: usize, c: &Counts, mut make: F) -> [f64; COLUMNS]
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Target>,
{
    let mut all = Vec::new();
    for run in 0..runs {
        all.push(workload(Arc::new(make(run).await), c).await);
    }
    std::array::from_fn(|column| {
        let mut figures: Vec<f64> = all.iter().map(|run| run[column]).collect();
        figures.sort_by(f64::total_cmp);
        figures[figures.len() / 2]
    })
}

fn argument(name: &str, default: usize) -> usize {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
        .max(1)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let scale = argument("--scale", 1);
    let runs = argument("--runs", 3);
    let c = Counts {
        w1: 5000 / scale,
        w2_writers: 8,
        w2_each: 2000 / scale,
        w3_batches: 200 / scale,
        w3_size: 100,
        w4_stream: 1000,
        w4_reads: 200 / scale,
    };
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::write(registry.join("bench.recorded.json"), SCHEMA).unwrap();
    let file = |name: &str, run: usize| dir.path().join(format!("{name}-{run}.db"));

    let mut rows = Vec::new();
    let normal = median_of(runs, &c, |run| {
        raw_sqlite(file("raw-normal", run), "NORMAL")
    })
    .await;
    rows.push(row(
        "raw SQLite insert, WAL, synchronous=NORMAL (rusqlite)",
        normal,
        None,
    ));
    let full = median_of(runs, &c, |run| raw_sqlite(file("raw-full", run), "FULL")).await;
    rows.push(row(
        "raw SQLite insert, WAL, synchronous=FULL (rusqlite)",
        full,
        None,
    ));
    let engine = median_of(runs, &c, |run| {
        let url = format!("sqlite://{}", file("engine", run).display());
        let registry = registry.clone();
        async move { Target::Engine(engine_store(&url, &registry).await) }
    })
    .await;
    rows.push(row(
        "**Chronicle engine, SQLite (FULL)** (% of raw FULL)",
        engine,
        Some(full),
    ));
    let http = median_of(runs, &c, |run| {
        let url = format!("sqlite://{}", file("http", run).display());
        let registry = registry.clone();
        async move { serve(engine_store(&url, &registry).await).await }
    })
    .await;
    rows.push(row(
        "**Chronicle over HTTP, SQLite (FULL)** (% of engine)",
        http,
        Some(engine),
    ));

    let mut engines = vec![("engine, SQLite (FULL)", engine)];
    match std::env::var("CHRONICLE_TEST_PG_URL") {
        Ok(admin) => {
            let raw = median_of(runs, &c, |_| async {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(16)
                    .test_before_acquire(false)
                    .connect(&fresh_postgres(&admin).await)
                    .await
                    .unwrap();
                pool.execute(RAW_TABLE_POSTGRES).await.unwrap();
                Target::RawPostgres(pool)
            })
            .await;
            rows.push(row("raw PostgreSQL insert (sqlx)", raw, None));
            let engine = median_of(runs, &c, |_| async {
                Target::Engine(engine_store(&fresh_postgres(&admin).await, &registry).await)
            })
            .await;
            rows.push(row(
                "**Chronicle engine, PostgreSQL** (% of raw)",
                engine,
                Some(raw),
            ));
            engines.push(("engine, PostgreSQL", engine));
            let http = median_of(runs, &c, |_| async {
                serve(engine_store(&fresh_postgres(&admin).await, &registry).await).await
            })
            .await;
            rows.push(row(
                "**Chronicle over HTTP, PostgreSQL** (% of engine)",
                http,
                Some(engine),
            ));
        }
        Err(_) => eprintln!(
            "CHRONICLE_TEST_PG_URL not set: PostgreSQL skipped (scripts/bench-workload.sh starts one)"
        ),
    }
    let floors = {
        let url = format!("sqlite://{}", file("floors", 0).display());
        http_floors(engine_store(&url, &registry).await, &engines).await
    };
    println!("Median of {runs} runs each; every run on a fresh store.");
    println!();
    println!("| events/s | W1 | W2 | W2p | W3 | W4 | W5 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
    println!();
    for line in floors {
        println!("{line}");
    }
}
