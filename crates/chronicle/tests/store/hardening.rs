//! What one caller may cost the store, and what a payload may hold: the engine's side of the
//! hardening (docs/security.md).

use std::time::Duration;

use chronicle::projection::{Runner, builtin};
use chronicle::{Direction, Error, PageRequest, Principal, StoreOptions, TimelineFilter};
use serde_json::json;
use sqlx::Connection;

use crate::support::{Backend, TestStore, patient, patient_updated};

const P: &str = "prac-1";

fn owner() -> Principal {
    Principal::user("owner-1")
}

/// Holds the practice's write lock from another connection, as a long append would: on
/// PostgreSQL its head row, on SQLite the database's one writer.
enum HeldLock {
    #[expect(
        dead_code,
        reason = "held open, never read: the lock lasts as long as the connection"
    )]
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl HeldLock {
    async fn take(t: &TestStore, practice: &str) -> Self {
        match t.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&t.url).await.unwrap();
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                HeldLock::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&t.url).await.unwrap();
                sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
                sqlx::query("SELECT seq FROM practice_heads WHERE practice_id = $1 FOR UPDATE")
                    .bind(practice)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                HeldLock::Postgres(conn)
            }
        }
    }

    /// Also holds every projector checkpoint row (PostgreSQL), so a runner that tried to
    /// claim one would find it busy.
    async fn with_checkpoints(mut self) -> Self {
        if let HeldLock::Postgres(conn) = &mut self {
            sqlx::raw_sql("SELECT * FROM projector_checkpoints FOR UPDATE")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        self
    }
}

/// Bounds a call that must not wait for the held lock: it would otherwise wait as long as
/// the lock is held (on SQLite, the busy timeout, then fail with "database is locked").
async fn without_waiting<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .unwrap_or_else(|_| panic!("{what} waited for another writer's lock"))
}

pub async fn batches_over_the_cap_are_refused_naming_it(backend: Backend) {
    let options = StoreOptions {
        max_batch_events: 3,
        ..StoreOptions::default()
    };
    let t = TestStore::with_options(backend, options).await;
    t.practice_with_staff(P, "owner-1").await;
    let events: Vec<_> = (0..4)
        .map(|i| patient(P, &format!("p{i}"), "Ann"))
        .collect();
    let err = t.store.append_batch(&owner(), events).await.unwrap_err();
    let violations = err.violations();
    assert_eq!(violations[0].path, "/events", "{err}");
    assert!(
        violations[0].message.contains("at most 3 events")
            && violations[0].message.contains("has 4"),
        "names the cap and the size: {err}"
    );
    let three: Vec<_> = (0..3)
        .map(|i| patient(P, &format!("p{i}"), "Ann"))
        .collect();
    assert_eq!(
        t.store.append_batch(&owner(), three).await.unwrap().len(),
        3
    );
}

pub async fn strangers_and_viewers_are_refused_without_waiting_for_the_write_lock(
    backend: Backend,
) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let _lock = HeldLock::take(&t, P).await;
    let stranger = without_waiting(
        "a stranger's append",
        t.store
            .append(&Principal::user("mallory"), patient(P, "x", "Eve")),
    )
    .await;
    assert!(
        matches!(stranger, Err(Error::PracticeNotFound { .. })),
        "{stranger:?}"
    );
    let batch: Vec<_> = (0..200)
        .map(|i| patient(P, &format!("v{i}"), "Vic"))
        .collect();
    let viewer = without_waiting(
        "a viewer's batch",
        t.store.append_batch(&Principal::user("viewer-1"), batch),
    )
    .await;
    assert!(matches!(viewer, Err(Error::Forbidden { .. })), "{viewer:?}");
}

pub async fn control_characters_never_reach_the_store(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let before = t.store.practices(&Principal::System).await.unwrap()[0].event_count;
    for payload in [
        json!({"notes": "nul\u{0}inside"}),
        json!({"notes": "ok", "bad\u{1}key": 1}),
    ] {
        let err = t
            .store
            .append(&owner(), patient_updated(P, "pat-1", payload))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err}");
        assert!(err.violations()[0].path.starts_with("/payload/"), "{err}");
    }
    let ok = t
        .store
        .append(
            &owner(),
            patient_updated(P, "pat-1", json!({"notes": "tab\there\nnew line\r\n"})),
        )
        .await;
    assert!(
        ok.is_ok(),
        "tab, newline and carriage return are text: {ok:?}"
    );
    let after = t.store.practices(&Principal::System).await.unwrap()[0].event_count;
    assert_eq!(after, before + 1, "only the well-formed event was stored");
    // Regression (found by the HTTP fuzz test on PostgreSQL): an event id with a NUL was sent
    // to the database, which refused it as text, and the read answered 500.
    let err = t.store.event(&owner(), P, "nul\u{0}id").await.unwrap_err();
    assert_eq!(err.violations()[0].path, "/eventId", "{err}");
}

pub async fn pages_end_early_at_their_byte_budget_and_continue(backend: Backend) {
    let options = StoreOptions {
        max_page_bytes: 1000,
        ..StoreOptions::default()
    };
    let t = TestStore::with_options(backend, options).await;
    t.practice_with_staff(P, "owner-1").await;
    for i in 0..5 {
        t.store
            .append(
                &owner(),
                patient_updated(
                    P,
                    "pat-1",
                    json!({"notes": format!("{i}{}", "x".repeat(400))}),
                ),
            )
            .await
            .unwrap();
    }
    let filter = TimelineFilter {
        aggregate_type: Some("patient".into()),
        ..TimelineFilter::default()
    };
    let mut request = PageRequest::first(100);
    let mut sizes = Vec::new();
    let mut notes = Vec::new();
    loop {
        let page = t
            .store
            .timeline(&owner(), P, &filter, Direction::Forward, &request)
            .await
            .unwrap();
        sizes.push(page.items.len());
        notes.extend(
            page.items
                .iter()
                .map(|e| e.payload["notes"].as_str().unwrap()[..1].to_string()),
        );
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(sizes, [2, 2, 1], "about 400 bytes each, 1000 bytes a page");
    assert_eq!(
        notes,
        ["0", "1", "2", "3", "4"],
        "nothing skipped or repeated"
    );

    let by_type = t
        .store
        .events_by_type(&owner(), P, "patient.updated", &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(by_type.items.len(), 2);
    assert!(by_type.next_cursor.is_some());
}

pub async fn the_unpaged_aggregate_read_stops_at_its_cap(backend: Backend) {
    // One event a page: the unpaged read then stops after its ten pages.
    let options = StoreOptions {
        max_page_bytes: 1,
        ..StoreOptions::default()
    };
    let t = TestStore::with_options(backend, options).await;
    t.practice_with_staff(P, "owner-1").await;
    for i in 0..10 {
        t.store
            .append(
                &owner(),
                patient_updated(P, "pat-1", json!({"notes": format!("{i}")})),
            )
            .await
            .unwrap();
    }
    let all = t
        .store
        .all_aggregate_events(&owner(), P, "patient", "pat-1", None)
        .await
        .unwrap();
    assert_eq!(all.len(), 10, "within the cap: every event");
    t.store
        .append(
            &owner(),
            patient_updated(P, "pat-1", json!({"notes": "one more"})),
        )
        .await
        .unwrap();
    let err = t
        .store
        .all_aggregate_events(&owner(), P, "patient", "pat-1", None)
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].path, "/limit", "{err}");
    assert!(err.to_string().contains("ask for pages"), "{err}");
}

pub async fn a_runner_pass_over_idle_practices_writes_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    for practice in ["a", "b", "c"] {
        t.practice_with_staff(practice, "owner-1").await;
    }
    let runner = Runner::new(t.store.clone(), builtin(), Default::default());
    runner.run_until_caught_up().await.unwrap();
    // Every practice caught up: a pass must not open a write transaction (SQLite would wait
    // for the held writer and fail) nor claim a checkpoint (PostgreSQL would find it busy).
    let _lock = HeldLock::take(&t, "a").await.with_checkpoints().await;
    let pass = without_waiting("an idle pass", runner.run_once()).await;
    let pass = pass.expect("an idle pass reads only");
    assert_eq!((pass.applied, pass.busy, pass.halted), (0, 0, 0));
}
