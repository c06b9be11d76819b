//! The projector runner and built-in read models, on both backends.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chronicle::projection::{
    AggregateIndex, ApplyFuture, Arg, ProjectionTx, Projector, ProjectorFailure, Runner,
    RunnerOptions, SharedProjector, builtin,
};
use chronicle::{ActorType, CheckpointState, Error, Event, NewEvent, PageRequest, Principal, Role};
use serde_json::json;
use sqlx::Connection;

use crate::support::{Backend, TestStore, patient, patient_updated};

const P: &str = "prac-1";

/// Everything the built-in read models hold for a practice, sorted.
#[derive(Debug, PartialEq)]
struct Snapshot {
    aggregates: Vec<(String, String, i64, i64, String)>,
    daily: Vec<(String, String, String, i64)>,
    practice: Vec<(Option<String>, i64)>,
    users: Vec<(String, Option<String>, Option<String>)>,
}

macro_rules! read_snapshot {
    ($conn:expr, $practice:expr) => {{
        let conn = $conn;
        Snapshot {
            aggregates: sqlx::query_as("SELECT aggregate_type, aggregate_id, version, event_count, last_event_type FROM rm_aggregate_index WHERE practice_id = $1 ORDER BY aggregate_type, aggregate_id")
                .bind($practice).fetch_all(&mut *conn).await.unwrap(),
            daily: sqlx::query_as("SELECT day, event_type, actor_type, events FROM rm_daily_activity WHERE practice_id = $1 ORDER BY day, event_type, actor_type")
                .bind($practice).fetch_all(&mut *conn).await.unwrap(),
            practice: sqlx::query_as("SELECT name, event_count FROM rm_practice_directory WHERE practice_id = $1")
                .bind($practice).fetch_all(&mut *conn).await.unwrap(),
            users: sqlx::query_as("SELECT user_id, email, role FROM rm_user_directory WHERE practice_id = $1 ORDER BY user_id")
                .bind($practice).fetch_all(&mut *conn).await.unwrap(),
        }
    }};
}

async fn snapshot(t: &TestStore, practice: &str) -> Snapshot {
    match t.backend {
        Backend::Sqlite => read_snapshot!(
            &mut sqlx::SqliteConnection::connect(&t.url).await.unwrap(),
            practice
        ),
        Backend::Postgres => read_snapshot!(
            &mut sqlx::PgConnection::connect(&t.url).await.unwrap(),
            practice
        ),
    }
}

/// The read models computed from scratch, straight from the events.
async fn expected(t: &TestStore, practice: &str) -> Snapshot {
    let events = t.all_events(practice).await;
    let mut aggregates: BTreeMap<(String, String), (i64, i64, String)> = BTreeMap::new();
    let mut daily: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    let mut users: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut name = None;
    for e in &events {
        let entry = aggregates
            .entry((e.aggregate_type.clone(), e.aggregate_id.clone()))
            .or_insert((0, 0, String::new()));
        *entry = (e.version, entry.1 + 1, e.event_type.clone());
        *daily
            .entry((
                e.created_at.format("%Y-%m-%d").to_string(),
                e.event_type.clone(),
                e.actor_type.to_string(),
            ))
            .or_default() += 1;
        match e.event_type.as_str() {
            "practice.created" | "practice.updated" => {
                if let Some(n) = e.payload["name"].as_str() {
                    name = Some(n.to_string());
                }
            }
            "user.created" => {
                users.entry(e.aggregate_id.clone()).or_default().0 =
                    e.payload["email"].as_str().map(String::from)
            }
            "membership.created" | "membership.role_changed" => {
                users
                    .entry(e.payload["userId"].as_str().unwrap().to_string())
                    .or_default()
                    .1 = e.payload["role"].as_str().map(String::from)
            }
            _ => {}
        }
    }
    Snapshot {
        aggregates: aggregates
            .into_iter()
            .map(|((t, i), (v, c, l))| (t, i, v, c, l))
            .collect(),
        daily: daily
            .into_iter()
            .map(|((d, e, a), n)| (d, e, a, n))
            .collect(),
        practice: vec![(name, events.len() as i64)],
        users: users.into_iter().map(|(u, (e, r))| (u, e, r)).collect(),
    }
}

fn runner(t: &TestStore, batch_size: i64) -> Runner {
    Runner::new(
        t.store.clone(),
        builtin(),
        RunnerOptions {
            batch_size,
            ..RunnerOptions::default()
        },
    )
}

async fn demo_practice(t: &TestStore, events: usize) -> String {
    let options = chronicle::demo::DemoOptions {
        practices: 2,
        events_per_practice: events,
        seed: 5,
        ..Default::default()
    };
    chronicle::demo::seed(&t.store, &options)
        .await
        .unwrap()
        .remove(0)
}

pub async fn projections_equal_a_fold_from_scratch(backend: Backend) {
    let t = TestStore::new(backend).await;
    let practice = demo_practice(&t, 700).await;
    let report = runner(&t, 97).run_until_caught_up().await.unwrap();
    assert_eq!(
        report.applied,
        4 * 1400,
        "every event applied once per projector, in odd-sized batches"
    );
    assert_eq!(
        snapshot(&t, &practice).await,
        expected(&t, &practice).await,
        "read models equal a fold from scratch"
    );
    let again = runner(&t, 97).run_until_caught_up().await.unwrap();
    assert_eq!(again.applied, 0, "a caught-up runner applies nothing twice");
}

pub async fn appends_racing_with_the_runner_are_all_applied(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let background = runner(&t, 7);
    let running = tokio::spawn(async move { background.run(stopped).await });
    for round in 0..20 {
        let batch = (0..10)
            .map(|i| patient(P, &format!("pat-{round}-{i}"), "Ann"))
            .collect();
        t.store
            .append_batch(&Principal::user("owner-1"), batch)
            .await
            .unwrap();
        t.store
            .append(
                &Principal::user("owner-1"),
                patient_updated(P, &format!("pat-{round}-0"), json!({"notes": "x"})),
            )
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut caught_up = false;
    for _ in 0..200 {
        let status = t
            .store
            .projector_status(
                &Principal::System,
                Some(P),
                // Every projector the snapshot compares, not only the slow ones.
                &[
                    "aggregate_index",
                    "daily_activity",
                    "practice_directory",
                    "user_directory",
                ],
            )
            .await
            .unwrap();
        if status.iter().all(|s| s.lag == 0) {
            caught_up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    assert!(
        caught_up,
        "the running runner catches up without being asked"
    );
    assert_eq!(snapshot(&t, P).await, expected(&t, P).await);
}

/// Fails on events whose payload notes say "poison" while `poisoned` is set; records every
/// seq it applies in `test_applied`, so double application is visible.
struct Picky {
    poisoned: Arc<AtomicBool>,
}

impl Projector for Picky {
    fn name(&self) -> &'static str {
        "picky"
    }
    fn handles(&self, event_type: &str) -> bool {
        event_type.starts_with("patient.")
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut ProjectionTx<'_>,
        practice_id: &'a str,
        events: &'a [Event],
    ) -> ApplyFuture<'a> {
        Box::pin(async move {
            let mut rows = Vec::new();
            for e in events {
                if self.poisoned.load(Ordering::SeqCst) && e.payload["notes"] == "poison" {
                    return Err(ProjectorFailure {
                        event_id: Some(e.id.clone()),
                        message: "cannot digest this event".into(),
                    });
                }
                rows.push(vec![Arg::Text(practice_id.into()), Arg::Int(e.seq)]);
            }
            tx.insert_rows("INSERT INTO test_applied (practice_id, seq)", rows, "")
                .await?;
            Ok(())
        })
    }
    fn reset<'a>(&'a self, tx: &'a mut ProjectionTx<'_>, practice_id: &'a str) -> ApplyFuture<'a> {
        Box::pin(async move {
            tx.execute(
                "DELETE FROM test_applied WHERE practice_id = $1",
                vec![Arg::Text(practice_id.into())],
            )
            .await?;
            Ok(())
        })
    }
}

pub async fn a_poison_event_stops_only_its_projector_and_retry_resumes(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.raw("CREATE TABLE test_applied (practice_id TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (practice_id, seq))").await.unwrap();
    t.practice_with_staff(P, "owner-1").await;
    t.practice_with_staff("other", "owner-2").await;
    let owner = Principal::user("owner-1");
    for i in 0..30 {
        t.store
            .append(&owner, patient(P, &format!("pat-{i}"), "Ann"))
            .await
            .unwrap();
    }
    let poison = t
        .store
        .append(
            &owner,
            patient_updated(P, "pat-3", json!({"notes": "poison"})),
        )
        .await
        .unwrap();
    for i in 30..40 {
        t.store
            .append(&owner, patient(P, &format!("pat-{i}"), "Ann"))
            .await
            .unwrap();
    }
    t.store
        .append(&Principal::user("owner-2"), patient("other", "o-1", "Bo"))
        .await
        .unwrap();
    let poisoned = Arc::new(AtomicBool::new(true));
    let mut projectors = builtin();
    projectors.push(Arc::new(Picky {
        poisoned: poisoned.clone(),
    }));
    let runner = Runner::new(
        t.store.clone(),
        projectors,
        RunnerOptions {
            batch_size: 8,
            ..RunnerOptions::default()
        },
    );
    let report = runner.run_until_caught_up().await.unwrap();
    assert_eq!(
        report.halted, 1,
        "exactly one (practice, projector) stopped"
    );
    let names = [
        "practice_directory",
        "user_directory",
        "aggregate_index",
        "daily_activity",
        "picky",
    ];
    let status = t
        .store
        .projector_status(&Principal::System, None, &names)
        .await
        .unwrap();
    for s in &status {
        if s.practice_id == P && s.projector_name == "picky" {
            assert_eq!(s.state, CheckpointState::Failed);
            assert!(s.retryable, "a failed projector offers a retry");
            assert_eq!(
                s.error_event_id.as_deref(),
                Some(poison.id.as_str()),
                "names the event"
            );
            assert!(s.last_error.as_deref().unwrap().contains("cannot digest"));
            assert!(s.last_seq < poison.seq && s.lag > 0);
        } else {
            assert_eq!(
                (s.state, s.lag, s.retryable),
                (CheckpointState::CaughtUp, 0, false),
                "{} of {} goes on",
                s.projector_name,
                s.practice_id
            );
        }
    }
    let viewer = t
        .store
        .retry_projector(&Principal::user("viewer-1"), P, "picky")
        .await
        .unwrap_err();
    assert!(
        matches!(viewer, Error::Forbidden { .. }),
        "only owners and admins operate projectors: {viewer}"
    );
    poisoned.store(false, Ordering::SeqCst);
    t.store
        .retry_projector(&Principal::user("admin-1"), P, "picky")
        .await
        .unwrap();
    runner.run_until_caught_up().await.unwrap();
    let patient_seqs: Vec<i64> = t
        .all_events(P)
        .await
        .iter()
        .filter(|e| e.event_type.starts_with("patient."))
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        picky_applied(&t).await,
        patient_seqs,
        "after retry every event applied exactly once, the poison one included"
    );
    let err = t
        .store
        .retry_projector(&owner, P, "picky")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { .. }),
        "nothing to retry when running: {err}"
    );
}

pub async fn reset_rebuilds_the_same_read_model(backend: Backend) {
    let t = TestStore::new(backend).await;
    let practice = demo_practice(&t, 300).await;
    let r = runner(&t, 50);
    r.run_until_caught_up().await.unwrap();
    let before = snapshot(&t, &practice).await;
    t.store
        .reset_projector(&Principal::System, &practice, &AggregateIndex)
        .await
        .unwrap();
    assert!(
        snapshot(&t, &practice).await.aggregates.is_empty(),
        "reset clears the practice's read model"
    );
    let status = t
        .store
        .projector_status(&Principal::System, Some(&practice), &["aggregate_index"])
        .await
        .unwrap();
    assert_eq!(status[0].last_seq, 0);
    r.run_until_caught_up().await.unwrap();
    assert_eq!(
        snapshot(&t, &practice).await,
        before,
        "rebuilt from seq 1 to the same read model"
    );
    let denied = t
        .store
        .reset_projector(
            &Principal::user("victor.viewer"),
            &practice,
            &AggregateIndex,
        )
        .await
        .unwrap_err();
    assert!(matches!(denied, Error::Forbidden { .. }));
}

pub async fn a_projector_added_later_catches_up_from_the_first_event(backend: Backend) {
    let t = TestStore::new(backend).await;
    let practice = demo_practice(&t, 250).await;
    Runner::new(
        t.store.clone(),
        vec![Arc::new(AggregateIndex)],
        RunnerOptions::default(),
    )
    .run_until_caught_up()
    .await
    .unwrap();
    assert!(
        snapshot(&t, &practice).await.daily.is_empty(),
        "daily_activity has not run yet"
    );
    let report = runner(&t, 100).run_until_caught_up().await.unwrap();
    assert_eq!(
        report.applied,
        3 * 500,
        "only the three new projectors work, from seq 1"
    );
    assert_eq!(snapshot(&t, &practice).await, expected(&t, &practice).await);
}

pub async fn status_reports_lag_while_behind_and_zero_when_caught_up(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let batch = (0..25)
        .map(|i| patient(P, &format!("pat-{i}"), "Ann"))
        .collect();
    t.store
        .append_batch(&Principal::user("owner-1"), batch)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let behind = t
        .store
        .projector_status(&Principal::user("viewer-1"), Some(P), &["aggregate_index"])
        .await
        .unwrap();
    assert_eq!(
        (behind[0].head_seq, behind[0].last_seq, behind[0].lag),
        (30, 0, 30)
    );
    assert!(
        behind[0].lag_seconds > 0.0,
        "the oldest unapplied event has an age"
    );
    runner(&t, 10).run_until_caught_up().await.unwrap();
    let caught_up = t
        .store
        .projector_status(&Principal::user("viewer-1"), Some(P), &["aggregate_index"])
        .await
        .unwrap();
    let s = &caught_up[0];
    assert_eq!(
        (s.last_seq, s.lag, s.lag_seconds, s.state),
        (30, 0, 0.0, CheckpointState::CaughtUp)
    );
    assert!(
        s.last_event_id.is_some() && s.events_per_second > 0.0,
        "{s:?}"
    );
    let hidden = t
        .store
        .projector_status(&Principal::user("mallory"), Some(P), &["aggregate_index"])
        .await
        .unwrap_err();
    assert!(matches!(hidden, Error::PracticeNotFound { .. }));
}

pub async fn read_model_queries_page_by_activity_and_scope_by_principal(backend: Backend) {
    let t = TestStore::new(backend).await;
    let practice = demo_practice(&t, 400).await;
    runner(&t, 100).run_until_caught_up().await.unwrap();
    let owner = Principal::user("olivia.owner");

    let listings = t.store.practice_directory(&owner).await.unwrap();
    assert_eq!(listings.len(), 2, "the demo owner sees both demo practices");
    let listing = listings.iter().find(|l| l.practice_id == practice).unwrap();
    assert_eq!(listing.event_count, 400);
    assert!(
        listing.name.as_deref().is_some_and(|n| !n.is_empty()),
        "named from practice.created"
    );
    assert!(
        t.store
            .practice_directory(&Principal::user("mallory"))
            .await
            .unwrap()
            .is_empty()
    );

    let mut seen = Vec::new();
    let mut request = PageRequest::first(37);
    loop {
        let page = t
            .store
            .recent_aggregates(&owner, &practice, None, &request)
            .await
            .unwrap();
        seen.extend(page.items);
        match page.next_cursor {
            Some(c) => request.cursor = Some(c),
            None => break,
        }
    }
    let total = t
        .store
        .aggregates(
            &owner,
            &practice,
            &Default::default(),
            &PageRequest::first(1000),
        )
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(seen.len(), total, "every aggregate once across pages");
    assert!(
        seen.windows(2)
            .all(|w| w[0].last_event_at >= w[1].last_event_at),
        "most recent first"
    );
    assert!(seen.iter().all(|a| a.event_count == a.version));
    let patients = t
        .store
        .recent_aggregates(
            &owner,
            &practice,
            Some("patient"),
            &PageRequest::first(1000),
        )
        .await
        .unwrap();
    assert!(
        !patients.items.is_empty() && patients.items.iter().all(|a| a.aggregate_type == "patient")
    );

    let days = t
        .store
        .daily_activity(&owner, &practice, None, None)
        .await
        .unwrap();
    assert_eq!(
        days.iter().map(|d| d.events).sum::<i64>(),
        400,
        "daily counts add up to every event"
    );
    let first_day = days[0].day.clone();
    let one_day = t
        .store
        .daily_activity(&owner, &practice, Some(&first_day), Some(&first_day))
        .await
        .unwrap();
    assert!(one_day.iter().all(|d| d.day == first_day));
    let err = t
        .store
        .daily_activity(&owner, &practice, Some("26/11/2026"), None)
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].path, "/fromDay");
    let hidden = t
        .store
        .recent_aggregates(
            &Principal::user("mallory"),
            &practice,
            None,
            &PageRequest::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(hidden, Error::PracticeNotFound { .. }));
}

/// Live screens learn of appends and checkpoint moves without polling; on PostgreSQL also of
/// those made by another process.
pub async fn live_feeds_report_appends_and_checkpoint_moves(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "olivia").await;
    let mut feed = t.store.append_feed().await.unwrap();
    let mut moves = t.store.checkpoint_feed().await.unwrap();

    let writer = match backend {
        // Another connection pool on the same server stands in for another process.
        Backend::Postgres => chronicle::Store::open(&t.url).await.unwrap(),
        Backend::Sqlite => t.store.clone(),
    };
    let appended = writer
        .append(&Principal::user("olivia"), patient(P, "pat-live", "Ada"))
        .await
        .unwrap();
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let next = feed.next().await.expect("the feed stays open");
            if next.seq == appended.seq {
                return next;
            }
        }
    })
    .await
    .expect("the append arrives on the feed");
    assert_eq!(seen.practice_id, P);

    let runner = Runner::new(writer.clone(), builtin(), RunnerOptions::default());
    runner.run_until_caught_up().await.unwrap();
    let moved = tokio::time::timeout(std::time::Duration::from_secs(10), moves.next())
        .await
        .expect("the runner's checkpoint move arrives")
        .expect("the feed stays open");
    assert_eq!(moved.practice_id, P);
    assert!(
        builtin().iter().any(|p| p.name() == moved.projector_name),
        "{} is a built-in projector",
        moved.projector_name
    );

    // Operator actions announce too: a reset by the other process.
    while tokio::time::timeout(std::time::Duration::from_millis(300), moves.next())
        .await
        .is_ok()
    {}
    writer
        .reset_projector(&Principal::System, P, builtin()[0].as_ref())
        .await
        .unwrap();
    let moved = tokio::time::timeout(std::time::Duration::from_secs(10), moves.next())
        .await
        .expect("the reset arrives")
        .expect("the feed stays open");
    assert_eq!(
        (moved.practice_id.as_str(), moved.projector_name.as_str()),
        (P, builtin()[0].name())
    );
}

/// Members come from the access rules (current at once), names from the user directory (once
/// the runner has applied `user.created`); both are scoped like every read.
pub async fn members_and_known_users_are_scoped_by_practice(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "olivia").await;
    t.practice_with_staff("p-other", "oscar").await;
    let olivia = Principal::user("olivia");
    let user_created = NewEvent::new(
        P,
        "user",
        "desk-1",
        "user.created",
        json!({"email": "desk@smile.example", "displayName": "Dee Desk"}),
        ActorType::Human,
    );
    t.store.append(&olivia, user_created).await.unwrap();

    let before = t.store.practice_members(&olivia, P).await.unwrap();
    assert_eq!(
        before
            .iter()
            .map(|m| (m.user_id.as_str(), m.role, m.display_name.as_deref()))
            .collect::<Vec<_>>(),
        [
            ("admin-1", Role::Admin, None),
            ("desk-1", Role::Frontdesk, None),
            ("olivia", Role::Owner, None),
            ("viewer-1", Role::Viewer, None),
        ],
        "roles are current before the runner has run; names are not"
    );
    Runner::new(t.store.clone(), builtin(), RunnerOptions::default())
        .run_until_caught_up()
        .await
        .unwrap();
    let desk = t
        .store
        .practice_members(&Principal::user("viewer-1"), P)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.user_id == "desk-1")
        .unwrap();
    assert_eq!(
        (desk.display_name.as_deref(), desk.email.as_deref()),
        (Some("Dee Desk"), Some("desk@smile.example"))
    );

    let denied = t
        .store
        .practice_members(&Principal::user("oscar"), P)
        .await
        .unwrap_err();
    assert!(matches!(denied, Error::PracticeNotFound { .. }), "{denied}");

    // Both practices have staff called admin-1, desk-1 and viewer-1; each owner sees only
    // the people of their own practices, the system principal everyone.
    assert_eq!(
        t.store.known_users(&olivia, 100).await.unwrap(),
        ["admin-1", "desk-1", "olivia", "viewer-1"]
    );
    assert_eq!(
        t.store
            .known_users(&Principal::user("oscar"), 100)
            .await
            .unwrap(),
        ["admin-1", "desk-1", "oscar", "viewer-1"]
    );
    assert_eq!(
        t.store.known_users(&Principal::System, 100).await.unwrap(),
        ["admin-1", "desk-1", "olivia", "oscar", "viewer-1"]
    );
    assert_eq!(
        t.store
            .known_users(&Principal::System, 2)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        t.store
            .known_users(&Principal::user("nobody"), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The seqs `Picky` applied to practice `P`, in order.
async fn picky_applied(t: &TestStore) -> Vec<i64> {
    let sql = "SELECT seq FROM test_applied WHERE practice_id = 'prac-1' ORDER BY seq";
    let rows: Vec<(i64,)> = match t.backend {
        Backend::Sqlite => sqlx::query_as(sql)
            .fetch_all(&mut sqlx::SqliteConnection::connect(&t.url).await.unwrap())
            .await
            .unwrap(),
        Backend::Postgres => sqlx::query_as(sql)
            .fetch_all(&mut sqlx::PgConnection::connect(&t.url).await.unwrap())
            .await
            .unwrap(),
    };
    rows.into_iter().map(|(seq,)| seq).collect()
}

pub async fn a_poison_event_can_be_skipped_and_every_replay_skips_it(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.raw("CREATE TABLE test_applied (practice_id TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (practice_id, seq))").await.unwrap();
    t.practice_with_staff(P, "owner-1").await;
    let owner = Principal::user("owner-1");
    let admin = Principal::user("admin-1");
    for i in 0..5 {
        t.store
            .append(&owner, patient(P, &format!("pat-{i}"), "Ann"))
            .await
            .unwrap();
    }
    let poison = t
        .store
        .append(
            &owner,
            patient_updated(P, "pat-3", json!({"notes": "poison"})),
        )
        .await
        .unwrap();
    let healthy = t
        .store
        .append(&owner, patient(P, "pat-9", "Ann"))
        .await
        .unwrap();
    // The projector keeps failing on it, however often it is retried.
    let picky: SharedProjector = Arc::new(Picky {
        poisoned: Arc::new(AtomicBool::new(true)),
    });
    let runner = Runner::new(
        t.store.clone(),
        vec![picky.clone()],
        RunnerOptions {
            batch_size: 4,
            ..RunnerOptions::default()
        },
    );
    assert_eq!(runner.run_until_caught_up().await.unwrap().halted, 1);
    t.store.retry_projector(&admin, P, "picky").await.unwrap();
    assert_eq!(
        runner.run_until_caught_up().await.unwrap().halted,
        1,
        "fails the same way"
    );

    let desk = t
        .store
        .skip_projector_event(
            &Principal::user("desk-1"),
            P,
            "picky",
            &poison.id,
            "why not",
        )
        .await
        .unwrap_err();
    assert!(matches!(desk, Error::Forbidden { .. }), "{desk}");
    let wrong = t
        .store
        .skip_projector_event(&admin, P, "picky", &healthy.id, "not the failed one")
        .await
        .unwrap_err();
    assert!(matches!(wrong, Error::Conflict { .. }), "{wrong}");
    let forged = t
        .store
        .append(
            &owner,
            NewEvent::new(
                P,
                "projector",
                "picky",
                "projector.event_skipped",
                json!({"projectorName": "picky", "eventId": healthy.id, "seq": healthy.seq, "reason": "hide it"}),
                ActorType::Human,
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&forged, Error::Invalid { violations } if violations[0].path == "/eventType"),
        "a skip is only appended by the skip operation: {forged}"
    );

    let skip = t
        .store
        .skip_projector_event(
            &admin,
            P,
            "picky",
            &poison.id,
            "malformed import; pat-3 is fixed by hand",
        )
        .await
        .unwrap();
    assert_eq!(
        (
            skip.event_type.as_str(),
            skip.recorded_by.as_deref(),
            skip.payload["seq"].as_i64()
        ),
        ("projector.event_skipped", Some("admin-1"), Some(poison.seq))
    );
    assert!(
        skip.payload["error"]
            .as_str()
            .unwrap()
            .contains("cannot digest")
    );
    assert_eq!(runner.run_until_caught_up().await.unwrap().halted, 0);
    let patient_seqs: Vec<i64> = t
        .all_events(P)
        .await
        .iter()
        .filter(|e| e.event_type.starts_with("patient.") && e.seq != poison.seq)
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        picky_applied(&t).await,
        patient_seqs,
        "every event but the skipped one"
    );
    let status = t
        .store
        .projector_status(&owner, Some(P), &["picky"])
        .await
        .unwrap();
    assert_eq!(status[0].state, CheckpointState::CaughtUp);
    assert_eq!(status[0].skipped.len(), 1);
    assert_eq!(
        (
            status[0].skipped[0].event_id.as_str(),
            status[0].skipped[0].skipped_by.as_deref(),
            status[0].skipped[0].skip_seq
        ),
        (poison.id.as_str(), Some("admin-1"), skip.seq),
        "the checkpoint shows the skip"
    );

    // A reset replays from the first event, and the skip with it.
    t.store
        .reset_projector(&owner, P, picky.as_ref())
        .await
        .unwrap();
    assert_eq!(runner.run_until_caught_up().await.unwrap().halted, 0);
    assert_eq!(picky_applied(&t).await, patient_seqs);
    assert!(t.store.verify_chain(&owner, P).await.unwrap().is_intact());
}

pub async fn a_runner_far_behind_doubles_its_batches_up_to_the_cap(backend: Backend) {
    let t = TestStore::new(backend).await;
    let practice = demo_practice(&t, 700).await;
    let mut moves = t.store.subscribe_checkpoints();
    let growing = Runner::new(
        t.store.clone(),
        vec![
            builtin()
                .into_iter()
                .find(|p| p.name() == "aggregate_index")
                .unwrap(),
        ],
        RunnerOptions {
            batch_size: 10,
            catch_up_batch_size: 80,
            ..RunnerOptions::default()
        },
    );
    let report = growing.run_until_caught_up().await.unwrap();
    assert_eq!(report.applied, 2 * 700, "both practices, every event once");
    let mut steps = 0;
    while let Ok(moved) = moves.try_recv() {
        if moved.practice_id == practice {
            steps += 1;
        }
    }
    // 10, 20, 40, then 80 at a time: 12 batches and the caught-up mark for 700 events, where
    // batches of 10 would take 70.
    assert!((10..=14).contains(&steps), "{steps} checkpoint moves");
    assert_eq!(
        snapshot(&t, &practice).await.aggregates,
        expected(&t, &practice).await.aggregates
    );
}
