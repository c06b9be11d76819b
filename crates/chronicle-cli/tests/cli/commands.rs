//! The built `chronicle` binary: success and failure paths, exit codes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Backend, fresh_url, patient, practice_created, projection_totals};

const BIN: &str = env!("CARGO_BIN_EXE_chronicle");

pub(crate) fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("CHRONICLE_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run chronicle");
    if let Err(error) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        // A command refused before it reads its input (a bad --as) closes the pipe first,
        // sooner or later depending on the machine's load: its exit code is the answer.
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub async fn append_prints_stored_events_and_events_reads_them(backend: Backend) {
    let (url, _dir) = fresh_url(backend).await;
    let created = run(
        &["append", "--db", &url, "--as", "alice"],
        &practice_created("p1").to_string(),
    );
    assert_eq!(
        created.status.code(),
        Some(0),
        "stderr: {}",
        text(&created.stderr)
    );
    let stored: Value = serde_json::from_str(text(&created.stdout).trim()).unwrap();
    assert_eq!(
        (stored["seq"].as_i64(), stored["actorId"].as_str()),
        (Some(1), Some("alice"))
    );

    let ndjson = format!("{}\n\n{}\n", patient("p1", "a"), patient("p1", "b"));
    let appended = run(&["append", "--db", &url, "--as", "alice"], &ndjson);
    assert_eq!(
        appended.status.code(),
        Some(0),
        "stderr: {}",
        text(&appended.stderr)
    );
    assert_eq!(
        text(&appended.stdout).lines().count(),
        2,
        "one JSON line per stored event"
    );

    let json_out = run(
        &["events", "--db", &url, "--practice", "p1", "--as", "alice"],
        "",
    );
    assert_eq!(json_out.status.code(), Some(0));
    let page: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        4,
        "practice.created, owner membership, two patients"
    );
    let table = run(
        &[
            "events",
            "--db",
            &url,
            "--practice",
            "p1",
            "--aggregate",
            "patient/a",
            "--format",
            "table",
        ],
        "",
    );
    let table = text(&table.stdout);
    assert!(
        table.contains("patient.created")
            && table.contains("patient/a")
            && table.contains("1 events"),
        "{table}"
    );
    let by_type = run(
        &[
            "events",
            "--db",
            &url,
            "--practice",
            "p1",
            "--type",
            "patient.created",
            "--limit",
            "1",
        ],
        "",
    );
    let page: Value = serde_json::from_slice(&by_type.stdout).unwrap();
    assert!(
        page["nextCursor"].is_string(),
        "limit 1 of 2 leaves a cursor"
    );

    let denied = run(
        &[
            "events",
            "--db",
            &url,
            "--practice",
            "p1",
            "--as",
            "mallory",
        ],
        "",
    );
    assert_eq!(denied.status.code(), Some(1), "access refusal exits 1");
    assert!(text(&denied.stderr).contains("not found or no access"));
    let bad_limit = run(
        &[
            "events",
            "--db",
            &url,
            "--practice",
            "p1",
            "--limit",
            "5000",
        ],
        "",
    );
    assert_eq!(bad_limit.status.code(), Some(1));
    assert!(
        text(&bad_limit.stderr).contains("/limit"),
        "{}",
        text(&bad_limit.stderr)
    );
    let migrated = run(&["migrate", "--db", &url], "");
    assert_eq!(migrated.status.code(), Some(0));
    assert!(
        text(&migrated.stdout).contains("schema version 2026"),
        "{}",
        text(&migrated.stdout)
    );
}

pub async fn a_bad_line_names_its_number_and_writes_nothing(backend: Backend) {
    let (url, _dir) = fresh_url(backend).await;
    run(
        &["append", "--db", &url, "--as", "alice"],
        &practice_created("p1").to_string(),
    );
    let mut invalid = patient("p1", "b");
    invalid["payload"] = json!({"firstName": "NoRest"});
    let input = format!(
        "{}\n{}\n{}\n",
        patient("p1", "a"),
        invalid,
        patient("p1", "c")
    );
    let refused = run(&["append", "--db", &url, "--as", "alice"], &input);
    assert_eq!(refused.status.code(), Some(1), "a rule refusal exits 1");
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("/events/1/payload"),
        "names the line and the field: {stderr}"
    );
    let malformed = run(
        &["append", "--db", &url, "--as", "alice"],
        &format!("{}\n{{not json\n", patient("p1", "a")),
    );
    assert_eq!(malformed.status.code(), Some(1));
    assert!(
        text(&malformed.stderr).contains("line 2"),
        "{}",
        text(&malformed.stderr)
    );
    let page = run(
        &[
            "events",
            "--db",
            &url,
            "--practice",
            "p1",
            "--type",
            "patient.created",
        ],
        "",
    );
    let page: Value = serde_json::from_slice(&page.stdout).unwrap();
    assert!(
        page["items"].as_array().unwrap().is_empty(),
        "nothing from a refused input was written"
    );
    let empty = run(&["append", "--db", &url], "  \n");
    assert_eq!(empty.status.code(), Some(1));
}

pub async fn seed_writes_deterministic_demo_data(backend: Backend) {
    let (url, _dir) = fresh_url(backend).await;
    let seeded = run(
        &[
            "seed",
            "--db",
            &url,
            "--practices",
            "2",
            "--events",
            "400",
            "--seed",
            "11",
        ],
        "",
    );
    assert_eq!(
        seeded.status.code(),
        Some(0),
        "stderr: {}",
        text(&seeded.stderr)
    );
    let out = text(&seeded.stdout);
    assert!(out.contains("wrote 400 events to 2 practices"), "{out}");
    let practices: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("practice "))
        .collect();
    assert_eq!(practices.len(), 2);
    let (other, _other_dir) = fresh_url(Backend::Sqlite).await;
    let again = run(
        &[
            "seed",
            "--db",
            &other,
            "--practices",
            "2",
            "--events",
            "400",
            "--seed",
            "11",
        ],
        "",
    );
    let again_practices: Vec<String> = text(&again.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("practice "))
        .map(String::from)
        .collect();
    assert_eq!(practices, again_practices, "same seed, same practices");
    let viewer = run(
        &[
            "events",
            "--db",
            &url,
            "--practice",
            practices[0],
            "--as",
            "victor.viewer",
            "--actor-type",
            "ai",
        ],
        "",
    );
    assert_eq!(
        viewer.status.code(),
        Some(0),
        "the demo viewer can read: {}",
        text(&viewer.stderr)
    );
}

#[test]
fn every_as_obeys_the_id_rules() {
    for command in [
        vec!["append"],
        vec!["events", "--practice", "p1"],
        vec!["projectors", "status"],
        vec![
            "projectors",
            "retry",
            "--practice",
            "p1",
            "--projector",
            "aggregate_index",
        ],
    ] {
        for bad in [" alice", "al\tice", "", "@system"] {
            let mut args = command.clone();
            args.extend(["--db", "sqlite:///nonexistent/never-opened.db", "--as", bad]);
            let refused = run(&args, "{}");
            assert_eq!(refused.status.code(), Some(2), "{args:?}");
            let stderr = text(&refused.stderr);
            assert!(
                stderr.contains("--as")
                    && (stderr.contains("whitespace")
                        || stderr.contains("U+0009")
                        || stderr.contains("empty")
                        || stderr.contains("reserved")),
                "{args:?} names the rule: {stderr}"
            );
        }
    }
}

#[test]
fn usage_and_connection_problems_exit_2() {
    let usage = run(&["events"], "");
    assert_eq!(usage.status.code(), Some(2), "missing --practice");
    let scheme = run(&["migrate", "--db", "mysql://x/y"], "");
    assert_eq!(scheme.status.code(), Some(2));
    assert!(
        text(&scheme.stderr).contains("unknown scheme"),
        "{}",
        text(&scheme.stderr)
    );
    let unreachable = run(
        &[
            "migrate",
            "--db",
            "postgres://chronicle:secret@127.0.0.1:1/x",
        ],
        "",
    );
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(
        !text(&unreachable.stderr).contains("secret"),
        "no password in messages"
    );
    let remote = run(
        &[
            "serve",
            "--db",
            "sqlite:///tmp/unused-chronicle.db",
            "--listen",
            "0.0.0.0:0",
        ],
        "",
    );
    assert_eq!(remote.status.code(), Some(2));
    assert!(
        text(&remote.stderr).contains("--allow-remote"),
        "{}",
        text(&remote.stderr)
    );
    let no_console = run(
        &[
            "serve",
            "--db",
            "sqlite:///tmp/unused-chronicle.db",
            "--listen",
            "127.0.0.1:0",
            "--ui-dir",
            "/nonexistent/ui/dist",
        ],
        "",
    );
    assert_eq!(no_console.status.code(), Some(2));
    assert!(
        text(&no_console.stderr).contains("no index.html")
            && text(&no_console.stderr).contains("npm run ui:build"),
        "{}",
        text(&no_console.stderr)
    );
    let missing_file = run(
        &[
            "append",
            "--db",
            "sqlite:///tmp/unused-chronicle.db",
            "--file",
            "/nonexistent/events.ndjson",
        ],
        "",
    );
    assert_eq!(missing_file.status.code(), Some(2));
    let no_practices = run(
        &[
            "seed",
            "--db",
            "sqlite:///tmp/unused-chronicle.db",
            "--practices",
            "0",
        ],
        "",
    );
    assert_eq!(no_practices.status.code(), Some(2));
    assert!(
        text(&no_practices.stderr).contains("--practices"),
        "{}",
        text(&no_practices.stderr)
    );
    let help = run(&["--help"], "");
    let help = text(&help.stdout);
    for command in ["serve", "append", "events", "seed", "migrate", "Examples:"] {
        assert!(help.contains(command), "--help mentions {command}");
    }
}

/// SIGTERM while appends are in flight: every acknowledged append is stored, exit 0.
/// How a server stopped, as its clients saw it.
struct Stopped {
    exit_code: Option<i32>,
    acknowledged: Vec<String>,
    /// How the live stream open at the stop ended: `Ok` when the server closed it properly.
    live_stream_end: Result<(), String>,
    /// Whether a new connection after the stop was refused.
    new_connection_refused: bool,
}

/// Starts `chronicle serve`, puts 8 writers and one live stream on it, sends `signal` once
/// some appends are acknowledged, and reports what the clients saw.
async fn stop_under_load(backend: Backend, signal: &str) -> (Stopped, String) {
    let (url, dir) = fresh_url(backend).await;
    std::mem::forget(dir); // the store outlives this function; the OS cleans the temp dir
    let mut server = Command::new(BIN)
        .args(["serve", "--db", &url, "--listen", "127.0.0.1:0", "--no-ui"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let base = first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("prints its address")
        .to_string();
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{base}/v1/events/append"))
        .header("x-user-id", "alice")
        .json(&practice_created("p1"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let live = client
        .get(format!("{base}/v1/practices/p1/live"))
        .header("x-user-id", "alice")
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let live_reader = tokio::spawn(async move {
        use futures_util::StreamExt;
        let mut body = live.bytes_stream();
        loop {
            match body.next().await {
                None => return Ok(()),
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err(format!("{error:?}")),
            }
        }
    });

    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, base, count) = (client.clone(), base.clone(), count.clone());
        writers.push(tokio::spawn(async move {
            // Every request gets a whole 201, or no answer at all once the server stops
            // (refused or closed before a response): never a 5xx or a half answer.
            let mut acknowledged = Vec::new();
            for i in 0..5000 {
                let sent = client
                    .post(format!("{base}/v1/events/append"))
                    .header("x-user-id", "alice")
                    .json(&patient("p1", &format!("w{w}-{i}")))
                    .send()
                    .await;
                match sent {
                    Ok(response) => {
                        assert_eq!(
                            response.status(),
                            201,
                            "an answered append is stored, never a 5xx"
                        );
                        let event: Value = response.json().await.expect("a whole answer");
                        acknowledged.push(event["id"].as_str().unwrap().to_string());
                        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count.load(std::sync::atomic::Ordering::Relaxed) < 100 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "appends are acknowledged before the stop"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = Command::new("kill")
        .args([signal, &server.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    // The grace period: in-flight requests finish well within it.
    let status = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || server.wait().unwrap()),
    )
    .await
    .expect("the server exits within 30 s of the signal")
    .unwrap();
    let live_stream_end = tokio::time::timeout(Duration::from_secs(30), live_reader)
        .await
        .expect("the live stream ends when the server stops")
        .unwrap();
    let new_connection_refused = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err();
    let stopped = Stopped {
        exit_code: status.code(),
        acknowledged,
        live_stream_end,
        new_connection_refused,
    };
    (stopped, url)
}

pub async fn a_graceful_stop_under_load_keeps_every_acknowledged_append(backend: Backend) {
    let (stopped, url) = stop_under_load(backend, "-TERM").await;
    assert_eq!(stopped.exit_code, Some(0), "a graceful stop exits 0");
    assert_eq!(
        stopped.live_stream_end,
        Ok(()),
        "the live stream open at the stop is closed cleanly, not cut"
    );
    assert!(
        stopped.new_connection_refused,
        "no new connections after the stop"
    );
    let store = chronicle::Store::open(&url).await.unwrap();
    for id in &stopped.acknowledged {
        let found = store
            .event(&chronicle::Principal::System, "p1", id)
            .await
            .unwrap();
        assert!(found.is_some(), "acknowledged event {id} must be stored");
    }
    assert!(
        store
            .verify_chain(&chronicle::Principal::System, "p1")
            .await
            .unwrap()
            .is_intact()
    );
}

/// The same shape, killed outright: told apart from a graceful stop by its exit and by the
/// live stream, which is cut rather than closed. What was acknowledged is stored all the same
/// (every acknowledgement follows a durable commit).
pub async fn an_abrupt_kill_is_told_apart_from_a_graceful_stop(backend: Backend) {
    let (stopped, url) = stop_under_load(backend, "-KILL").await;
    assert_eq!(stopped.exit_code, None, "killed by a signal, no exit code");
    assert!(
        stopped.live_stream_end.is_err(),
        "the live stream is cut, not closed: {:?}",
        stopped.live_stream_end
    );
    let store = chronicle::Store::open(&url).await.unwrap();
    for id in &stopped.acknowledged {
        let found = store
            .event(&chronicle::Principal::System, "p1", id)
            .await
            .unwrap();
        assert!(found.is_some(), "acknowledged event {id} must be stored");
    }
}

pub async fn projectors_commands_run_report_reset_and_retry(backend: Backend) {
    let (url, _dir) = fresh_url(backend).await;
    run(
        &["seed", "--db", &url, "--practices", "2", "--events", "600"],
        "",
    );
    let status = run(
        &["projectors", "status", "--db", &url, "--format", "json"],
        "",
    );
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let before: Vec<Value> = text(&status.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(before.len(), 8, "one object per (practice, projector)");
    for s in &before {
        for field in [
            "practiceId",
            "projectorName",
            "lastEventId",
            "lastSeq",
            "headSeq",
            "lag",
            "state",
            "lastError",
        ] {
            assert!(s.get(field).is_some(), "{field} in {s}");
        }
        assert_eq!(s["lag"], s["headSeq"], "nothing applied yet");
    }
    let ran = run(
        &[
            "projectors",
            "run",
            "--db",
            &url,
            "--until-caught-up",
            "--batch-size",
            "128",
        ],
        "",
    );
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    assert!(
        text(&ran.stdout).contains("applied 2400 events"),
        "{}",
        text(&ran.stdout)
    );
    for (practice, head, aggregated, daily, directory) in projection_totals(&url).await {
        assert_eq!(
            (aggregated, daily, directory),
            (head, head, head),
            "practice {practice}: every event applied once"
        );
    }
    let table = run(&["projectors", "status", "--db", &url], "");
    assert!(
        text(&table.stdout).contains("caught_up"),
        "{}",
        text(&table.stdout)
    );
    let practice = before[0]["practiceId"].as_str().unwrap();
    let reset = run(
        &[
            "projectors",
            "reset",
            "--db",
            &url,
            "--practice",
            practice,
            "--projector",
            "aggregate_index",
            "--as",
            "olivia.owner",
        ],
        "",
    );
    assert_eq!(reset.status.code(), Some(0), "{}", text(&reset.stderr));
    let denied = run(
        &[
            "projectors",
            "reset",
            "--db",
            &url,
            "--practice",
            practice,
            "--projector",
            "daily_activity",
            "--as",
            "victor.viewer",
        ],
        "",
    );
    assert_eq!(denied.status.code(), Some(1), "a viewer is refused");
    let unknown = run(
        &[
            "projectors",
            "reset",
            "--db",
            &url,
            "--practice",
            practice,
            "--projector",
            "nope",
        ],
        "",
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("aggregate_index"),
        "lists the projectors"
    );
    for (batch, catch_up, says) in [
        ("0", "20000", "--batch-size must be at least 1"),
        (
            "500",
            "100",
            "--catch-up-batch-size must be at least --batch-size",
        ),
    ] {
        let refused = run(
            &[
                "projectors",
                "run",
                "--db",
                &url,
                "--until-caught-up",
                "--batch-size",
                batch,
                "--catch-up-batch-size",
                catch_up,
            ],
            "",
        );
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
        assert!(
            text(&refused.stderr).contains(says),
            "{}",
            text(&refused.stderr)
        );
    }
    let retry = run(
        &[
            "projectors",
            "retry",
            "--db",
            &url,
            "--practice",
            practice,
            "--projector",
            "aggregate_index",
        ],
        "",
    );
    assert_eq!(
        retry.status.code(),
        Some(1),
        "nothing failed: {}",
        text(&retry.stderr)
    );
    run(
        &["projectors", "run", "--db", &url, "--until-caught-up"],
        "",
    );
    for (_, head, aggregated, daily, directory) in projection_totals(&url).await {
        assert_eq!(
            (aggregated, daily, directory),
            (head, head, head),
            "rebuilt after reset"
        );
    }
}

pub async fn a_runner_killed_mid_batch_resumes_without_repeating_or_skipping(backend: Backend) {
    let (url, _dir) = fresh_url(backend).await;
    let seeded = run(
        &[
            "seed",
            "--db",
            &url,
            "--practices",
            "2",
            "--events",
            "30000",
        ],
        "",
    );
    assert_eq!(seeded.status.code(), Some(0), "{}", text(&seeded.stderr));
    let mut runner = Command::new(BIN)
        .args([
            "projectors",
            "run",
            "--db",
            &url,
            "--batch-size",
            "300",
            "--catch-up-batch-size",
            "300",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once it is mid-way: some checkpoints moved, not all at the head.
    let store = chronicle::Store::open(&url).await.unwrap();
    let names = [
        "practice_directory",
        "user_directory",
        "aggregate_index",
        "daily_activity",
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = store
            .projector_status(&chronicle::Principal::System, None, &names)
            .await
            .unwrap();
        if status.iter().any(|s| s.last_seq > 0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the runner makes progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Command::new("kill")
        .args(["-KILL", &runner.id().to_string()])
        .status()
        .unwrap();
    runner.wait().unwrap();
    let status = store
        .projector_status(&chronicle::Principal::System, None, &names)
        .await
        .unwrap();
    assert!(
        status.iter().any(|s| s.lag > 0),
        "killed before the end (else this test proves nothing)"
    );
    let resumed = run(
        &["projectors", "run", "--db", &url, "--until-caught-up"],
        "",
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    for (practice, head, aggregated, daily, directory) in projection_totals(&url).await {
        assert_eq!(
            (aggregated, daily, directory),
            (head, head, head),
            "practice {practice}: nothing repeated or skipped"
        );
    }
}

/// Two runner processes on one PostgreSQL share the work and apply each event once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_postgres_apply_each_event_exactly_once() {
    let (url, _dir) = fresh_url(Backend::Postgres).await;
    let seeded = run(
        &[
            "seed",
            "--db",
            &url,
            "--practices",
            "6",
            "--events",
            "24000",
        ],
        "",
    );
    assert_eq!(seeded.status.code(), Some(0), "{}", text(&seeded.stderr));
    let spawn = || {
        Command::new(BIN)
            .args([
                "projectors",
                "run",
                "--db",
                &url,
                "--until-caught-up",
                "--batch-size",
                "200",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    assert_eq!(
        (first.status.code(), second.status.code()),
        (Some(0), Some(0)),
        "{} {}",
        text(&first.stderr),
        text(&second.stderr)
    );
    let applied = |out: &Output| -> usize {
        text(&out.stdout)
            .split("applied ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        applied(&first) + applied(&second),
        4 * 24000,
        "together they applied every event once per projector"
    );
    for (practice, head, aggregated, daily, directory) in projection_totals(&url).await {
        assert_eq!(
            (aggregated, daily, directory),
            (head, head, head),
            "practice {practice}: each event applied exactly once"
        );
    }
}

#[tokio::test]
async fn a_postgres_password_is_used_and_a_wrong_one_is_refused_clearly() {
    let (url, password) = chronicle_testing::password_role_database().await;
    let with_password = |secret: &str| {
        Command::new(BIN)
            .args(["migrate", "--db", &url])
            .env("PGPASSWORD", secret)
            .output()
            .unwrap()
    };
    let opened = with_password(&password);
    assert_eq!(
        opened.status.code(),
        Some(0),
        "PGPASSWORD opens the store: {}",
        text(&opened.stderr)
    );
    let refused = with_password("not-the-password");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("password authentication failed") && !stderr.contains("not-the-password"),
        "says why, without the password: {stderr}"
    );
    let in_url = url.replace("chronicle_pw@", "chronicle_pw:wr0ng-secret@");
    let refused = run(&["migrate", "--db", &in_url], "");
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        !stderr.contains("wr0ng-secret") && stderr.contains("password authentication failed"),
        "a password in the URL never reaches the message: {stderr}"
    );
}

/// `migrate --app-role`: the owner migrates and grants; the app then runs as a role that
/// appends and reads but cannot rewrite history, and never tries to migrate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_grants_a_runtime_role_that_cannot_rewrite_history() {
    use sqlx::Connection;
    let (url, _dir) = fresh_url(Backend::Postgres).await;
    let role = format!("app_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE ROLE {role} LOGIN")))
        .execute(&mut admin)
        .await
        .unwrap();
    let migrated = run(&["migrate", "--db", &url, "--app-role", &role], "");
    assert_eq!(
        migrated.status.code(),
        Some(0),
        "{}",
        text(&migrated.stderr)
    );
    assert!(
        text(&migrated.stdout).contains("granted"),
        "{}",
        text(&migrated.stdout)
    );

    let (base, database) = url.rsplit_once('/').unwrap();
    let host = base.rsplit_once('@').unwrap().1;
    let app_url = format!("postgres://{role}@{host}/{database}");
    let created = run(
        &["append", "--db", &app_url, "--as", "alice"],
        &practice_created("p1").to_string(),
    );
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let again = run(&["migrate", "--db", &app_url], "");
    assert_eq!(
        again.status.code(),
        Some(0),
        "an up-to-date schema needs no migration: {}",
        text(&again.stderr)
    );
    let mut app = sqlx::PgConnection::connect(&app_url).await.unwrap();
    let update = sqlx::raw_sql("UPDATE events SET payload_json = '{}'")
        .execute(&mut app)
        .await
        .unwrap_err();
    assert!(update.to_string().contains("permission denied"), "{update}");

    let unknown = run(&["migrate", "--db", &url, "--app-role", "nobody_here"], "");
    assert_ne!(unknown.status.code(), Some(0));
    assert!(
        text(&unknown.stderr).contains("no role"),
        "{}",
        text(&unknown.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("s.db").display());
    let refused = run(&["migrate", "--db", &sqlite, "--app-role", &role], "");
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        text(&refused.stderr).contains("PostgreSQL"),
        "{}",
        text(&refused.stderr)
    );
}

/// `chronicle export`, `verify FILE` (0 intact, 1 broken, 2 unusable), `verify --against` and
/// `head`, as an auditor runs them.
#[test]
fn export_verify_and_head_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let seeded = run(
        &["seed", "--db", &url, "--practices", "1", "--events", "400"],
        "",
    );
    assert_eq!(seeded.status.code(), Some(0), "{}", text(&seeded.stderr));
    let practice = text(&seeded.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("practice ")
                .map(|p| p.split_whitespace().next().unwrap().to_string())
        })
        .expect("seed names its practice");
    let head = run(&["head", "--db", &url, "--practice", &practice], "");
    assert_eq!(head.status.code(), Some(0), "{}", text(&head.stderr));
    let head: Value = serde_json::from_str(text(&head.stdout).trim()).unwrap();

    let file = dir.path().join("p.ndjson");
    let exported = run(
        &[
            "export",
            "--db",
            &url,
            "--practice",
            &practice,
            "--as",
            "victor.viewer",
            "--out",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(
        exported.status.code(),
        Some(0),
        "{}",
        text(&exported.stderr)
    );
    let manifest: Value = serde_json::from_str(text(&exported.stdout).trim()).unwrap();
    assert_eq!(manifest["headHash"], head["hash"]);
    assert_eq!(manifest["exportedBy"], "victor.viewer");

    let intact = run(&["verify", file.to_str().unwrap()], "");
    assert_eq!(intact.status.code(), Some(0), "{}", text(&intact.stdout));
    assert!(text(&intact.stdout).contains("intact"));

    let content = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<&str> = content.lines().collect();
    lines.remove(100);
    let broken_file = dir.path().join("broken.ndjson");
    std::fs::write(&broken_file, lines.join("\n") + "\n").unwrap();
    let broken = run(&["verify", broken_file.to_str().unwrap(), "--json"], "");
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken.stderr));
    let report: Value = serde_json::from_str(text(&broken.stdout).trim()).unwrap();
    assert_eq!(report["firstBreak"]["seq"], 101, "{report}");
    assert_eq!(report["firstBreak"]["line"], 101);

    let garbage = dir.path().join("garbage.txt");
    std::fs::write(&garbage, "not an export").unwrap();
    let unusable = run(&["verify", garbage.to_str().unwrap()], "");
    assert_eq!(
        unusable.status.code(),
        Some(2),
        "{}",
        text(&unusable.stderr)
    );
    let missing = run(
        &["verify", dir.path().join("nope.ndjson").to_str().unwrap()],
        "",
    );
    assert_eq!(missing.status.code(), Some(2));

    let html = dir.path().join("r.html");
    let report = run(
        &[
            "export",
            "--db",
            &url,
            "--practice",
            &practice,
            "--format",
            "html",
            "--out",
            html.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains(manifest["practiceId"].as_str().unwrap())
    );
    let csv = dir.path().join("c.csv");
    let exported = run(
        &[
            "export",
            "--db",
            &url,
            "--practice",
            &practice,
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(
        exported.status.code(),
        Some(0),
        "{}",
        text(&exported.stderr)
    );
    assert!(
        dir.path().join("c.csv.manifest.json").exists(),
        "the CSV's manifest beside it"
    );
    assert_eq!(
        run(&["verify", csv.to_str().unwrap()], "").status.code(),
        Some(0)
    );

    let held = run(
        &[
            "verify",
            "--db",
            &url,
            "--practice",
            &practice,
            "--against",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(held.status.code(), Some(0), "{}", text(&held.stdout));
    assert!(
        text(&held.stdout).contains("held at seq"),
        "{}",
        text(&held.stdout)
    );
    let other = format!("1:{}", "ab".repeat(32));
    let not_held = run(
        &[
            "verify",
            "--db",
            &url,
            "--practice",
            &practice,
            "--against",
            &other,
        ],
        "",
    );
    assert_eq!(
        not_held.status.code(),
        Some(1),
        "{}",
        text(&not_held.stdout)
    );
    let bad = run(
        &[
            "verify",
            "--db",
            &url,
            "--practice",
            &practice,
            "--against",
            "1:xyz",
        ],
        "",
    );
    assert_eq!(
        bad.status.code(),
        Some(1),
        "a malformed hash is refused: {}",
        text(&bad.stderr)
    );
    assert!(
        text(&bad.stderr).contains("againstHash"),
        "{}",
        text(&bad.stderr)
    );
    let stranger = run(
        &[
            "export",
            "--db",
            &url,
            "--practice",
            &practice,
            "--as",
            "nobody",
        ],
        "",
    );
    assert_eq!(stranger.status.code(), Some(1));
}
