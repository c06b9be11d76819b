//! Export and offline verification at scale: a 1,000,000-event practice on SQLite exported to
//! NDJSON (events/s and the exporting process's peak RSS), the file verified offline (events/s
//! and peak RSS), and the HTTP download's time to first byte. Each measured step runs in a
//! process of its own, so its peak RSS is its own. Prints Markdown for BENCHMARKS.md.
//!
//! Run with: `cargo bench -p chronicle-cli --bench export` (`-- --events N` for another size;
//! `CHRONICLE_BENCH_DIR=DIR` keeps the seeded store between runs).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chronicle::export::{ExportFormat, ExportRequest, check_export};
use chronicle::{ActorType, NewEvent, Principal, Store};
use serde_json::json;

const PRACTICE: &str = "bench-export";

/// A field of /proc/self/status, in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Peak resident set (VmHWM), which counts SQLite's memory-mapped database pages too.
fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// Samples the process's anonymous memory (heap, stacks: what it allocated, not the file
/// pages it maps) until dropped; the peak is what an export costs in memory of its own.
struct AnonPeak(
    std::sync::Arc<std::sync::atomic::AtomicU64>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
);

impl AnonPeak {
    fn start() -> Self {
        use std::sync::atomic::Ordering;
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let kib = (status_mib("RssAnon:") * 1024.0) as u64;
                p.fetch_max(kib, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        });
        AnonPeak(peak, stop)
    }

    fn mib(&self) -> f64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

async fn seed(url: &str, events: usize) {
    let store = Store::open(url).await.unwrap();
    let head = store.chain_head(&Principal::System, PRACTICE).await;
    if head.as_ref().is_ok_and(|h| h.seq as usize >= events) {
        return;
    }
    let started = Instant::now();
    let mut created = NewEvent::new(
        PRACTICE,
        "practice",
        PRACTICE,
        "practice.created",
        json!({"name": "Bench Dental"}),
        ActorType::System,
    );
    created.actor_id = None;
    store.append(&Principal::System, created).await.unwrap();
    let mut n = 1;
    while n < events {
        let batch: Vec<NewEvent> = (0..1000.min(events - n))
            .map(|i| {
                let k = n + i;
                let (event_type, payload) = if k % 2 == 1 {
                    ("patient.created", json!({"firstName": "Ann", "lastName": format!("Lee {k}"), "dateOfBirth": "1990-05-17"}))
                } else {
                    ("patient.updated", json!({"notes": format!("Call {k}: asked about whitening, prefers mornings.")}))
                };
                NewEvent::new(PRACTICE, "patient", format!("pat-{}", k / 2), event_type, payload, ActorType::System)
            })
            .collect();
        n += batch.len();
        store.append_batch(&Principal::System, batch).await.unwrap();
    }
    eprintln!(
        "seeded {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

impl Drop for AnonPeak {
    fn drop(&mut self) {
        self.1.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Child: export the practice to `out`; prints `seconds events peak_mib anon_peak_mib survey_seconds`.
async fn child_export(url: &str, out: &Path) {
    let store = Store::open(url).await.unwrap();
    let anon = AnonPeak::start();
    let started = Instant::now();
    let prepared = store
        .export(
            &Principal::System,
            PRACTICE,
            ExportRequest {
                format: ExportFormat::Ndjson,
                ..ExportRequest::default()
            },
        )
        .await
        .unwrap();
    let survey = started.elapsed().as_secs_f64();
    let file = tokio::fs::File::create(out).await.unwrap();
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let summary = prepared
        .write_to(&mut writer, &mut |_, _| true)
        .await
        .unwrap();
    println!(
        "{} {} {} {} {survey}",
        started.elapsed().as_secs_f64(),
        summary.written,
        peak_rss_mib(),
        anon.mib()
    );
}

/// Child: verify `file` offline; prints `seconds events peak_mib`.
fn child_verify(file: &Path) {
    let started = Instant::now();
    let check = check_export(file).unwrap();
    assert!(check.intact, "{:?}", check.first_break);
    println!(
        "{} {} {}",
        started.elapsed().as_secs_f64(),
        check.events_checked,
        peak_rss_mib()
    );
}

/// Child: time to the first byte and to the last of an HTTP export download.
async fn child_http(url: &str) {
    let store = Store::open(url).await.unwrap();
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = chronicle_cli::http::ApiOptions::for_store(&store);
    let router = chronicle_cli::http::router(store, &options, Some(port), shutdown);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let started_member = Instant::now();
    let mut response = client
        .post(format!(
            "http://127.0.0.1:{port}/v1/practices/{PRACTICE}/exports"
        ))
        .header("x-user-id", "bench-auditor")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let first = response.chunk().await.unwrap();
    let first_byte = started_member.elapsed();
    let mut bytes = first.map_or(0, |c| c.len());
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
    }
    println!(
        "{} {} {}",
        first_byte.as_secs_f64(),
        started_member.elapsed().as_secs_f64(),
        bytes
    );
}

fn run_child(mode: &str, dir: &Path) -> Vec<f64> {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("--child")
        .arg(mode)
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let keep = std::env::var_os("CHRONICLE_BENCH_DIR").map(PathBuf::from);
    let temp = tempfile::tempdir().unwrap();
    let dir = arg("--dir")
        .map(PathBuf::from)
        .or(keep)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("export-bench.db").display());
    let file = dir.join("export.ndjson");
    if let Some(mode) = arg("--child") {
        match mode.as_str() {
            "export" => child_export(&url, &file).await,
            "verify" => child_verify(&file),
            "http" => child_http(&url).await,
            other => panic!("unknown child {other}"),
        }
        return;
    }
    let events: usize = arg("--events")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    seed(&url, events).await;
    {
        // The HTTP caller must be a member.
        let store = Store::open(&url).await.unwrap();
        let member = NewEvent::new(
            PRACTICE,
            "membership",
            "bench-auditor",
            "membership.created",
            json!({"userId": "bench-auditor", "role": "viewer"}),
            ActorType::System,
        );
        let _ = store.append(&Principal::System, member).await;
    }
    let export = run_child("export", &dir);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let verify = run_child("verify", &dir);
    let http = run_child("http", &dir);
    println!(
        "| step | events | seconds | events/s | peak RSS (MiB) | peak anonymous memory (MiB) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| NDJSON export to a file ({:.0} MiB; manifest survey {:.2} s) | {} | {:.2} | {:.0} | {:.1} | {:.1} |",
        size as f64 / 1048576.0,
        export[4],
        export[1],
        export[0],
        export[1] / export[0],
        export[2],
        export[3]
    );
    println!(
        "| offline verify of that file | {} | {:.2} | {:.0} | {:.1} | – |",
        verify[1],
        verify[0],
        verify[1] / verify[0],
        verify[2]
    );
    println!(
        "\nHTTP export download: first byte after {:.1} ms, {:.0} MiB in {:.2} s",
        http[0] * 1000.0,
        http[2] / 1048576.0,
        http[1]
    );
}
