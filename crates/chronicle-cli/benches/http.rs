//! HTTP append throughput and latency with 1 and 16 concurrent clients on loopback, the
//! engine's own single-append figure in the same run, and `seed` throughput. Prints Markdown.
//!
//! Run with: `scripts/bench.sh` (both backends) or `cargo bench -p chronicle-cli --bench http`.

use std::time::{Duration, Instant};

use chronicle::demo::{self, DemoOptions};
use chronicle::{ActorType, NewEvent, Principal, Store};
use chronicle_cli::http::{self, ApiOptions};
use serde_json::json;
use sqlx::Connection;

const PRACTICE: &str = "bench";
const OWNER: &str = "bench-owner";

fn event(n: usize) -> serde_json::Value {
    json!({"practiceId": PRACTICE, "aggregateType": "patient", "aggregateId": format!("pat-{}", n % 1000),
           "eventType": "patient.updated", "payload": {"notes": format!("Call {n}: asked about whitening.")},
           "actorType": "human"})
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

async fn http_round(
    base: &str,
    clients: usize,
    per_client: usize,
    offset: usize,
) -> (Duration, Vec<Duration>) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        let url = format!("{base}/v1/events/append");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let body = event(offset + c * per_client + i);
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("x-user-id", OWNER)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                response.bytes().await.unwrap();
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    (started.elapsed(), latencies)
}

async fn bench(backend: &str, url: &str, total: usize) -> Vec<String> {
    let store = Store::open(url).await.unwrap();
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options = ApiOptions::for_store(&store);
    let server_store = store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(http::serve(listener, server_store, options, async {
        let _ = stopped.await;
    }));
    let mut rows = Vec::new();
    // Warm up connections and caches.
    http_round(&base, 4, 50, 10_000_000).await;
    let started = Instant::now();
    for i in 0..total {
        let body: NewEvent = serde_json::from_value(event(20_000_000 + i)).unwrap();
        store.append(&owner, body).await.unwrap();
    }
    let engine = started.elapsed();
    rows.push(format!(
        "| {backend} | engine append (in-process, no HTTP) | 1 | {total} | {:.0} | {:.0} | – |",
        total as f64 / engine.as_secs_f64(),
        engine.as_secs_f64() * 1e6 / total as f64
    ));
    for clients in [1usize, 16] {
        let (elapsed, mut latencies) =
            http_round(&base, clients, total / clients, clients * 1_000_000).await;
        latencies.sort();
        rows.push(format!(
            "| {backend} | HTTP POST /v1/events/append | {clients} | {} | {:.0} | {:.0} | {:.0} |",
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        ));
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let seed_total = total * 10;
    let options = DemoOptions {
        practices: 4,
        events_per_practice: seed_total / 4,
        seed: 3,
        batch_size: 1000,
        ..DemoOptions::default()
    };
    let started = Instant::now();
    demo::seed(&store, &options).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    rows.push(format!(
        "| {backend} | seed (batches of 1,000) | 1 | {seed_total} | {:.0} | – | – |",
        seed_total as f64 / seconds
    ));
    store.close().await;
    rows
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let total = if quick { 320 } else { 3200 };
    let dir = tempfile::tempdir().unwrap();
    let mut rows = bench(
        "sqlite",
        &format!("sqlite://{}", dir.path().join("http.db").display()),
        total,
    )
    .await;
    if let Ok(admin) = std::env::var("CHRONICLE_TEST_PG_URL") {
        let name = format!("bench_http_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        rows.extend(bench("postgres", &format!("{base}/{name}"), total).await);
    } else {
        eprintln!(
            "CHRONICLE_TEST_PG_URL not set: PostgreSQL skipped (scripts/bench.sh starts one)"
        );
    }
    println!("| backend | case | clients | requests | per second | p50 µs | p99 µs |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for row in rows {
        println!("{row}");
    }
}
