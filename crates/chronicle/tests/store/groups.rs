//! Appends that share a commit (group commit): each one still stands alone. Many callers
//! append at once, to one practice and to several, valid appends mixed with ones the rules
//! refuse; every accepted append is stored whole and contiguous, every refused one leaves
//! nothing, retries of one id answer one event, and the chains verify.

use std::collections::HashMap;
use std::sync::Arc;

use chronicle::{Error, Event, NewEvent, Principal};
use serde_json::json;

use crate::support::{Backend, TestStore, patient, patient_updated};

const PRACTICES: [&str; 3] = ["group-a", "group-b", "group-c"];

/// What one caller asks for, and what it must get.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ask {
    /// A batch of three new events: stored, contiguous.
    Valid,
    /// A batch whose second event expects a version its stream does not have: refused at 1.
    StaleSecond,
    /// One event with the shared retry id: every such caller gets the same stored event.
    Retry,
    /// The retry id with other content: a conflict (or, if it came first, the stored event).
    Clash,
    /// By a viewer: refused.
    Viewer,
}

pub async fn concurrent_appends_share_commits_and_each_stays_all_or_nothing(backend: Backend) {
    let t = Arc::new(TestStore::new(backend).await);
    for practice in PRACTICES {
        t.practice_with_staff(practice, "owner-1").await;
    }
    let asks = [
        Ask::Valid,
        Ask::Retry,
        Ask::StaleSecond,
        Ask::Valid,
        Ask::Viewer,
        Ask::Retry,
        Ask::Valid,
        Ask::Clash,
        Ask::Retry,
        Ask::Valid,
    ];
    let heads_before: HashMap<&str, i64> = {
        let mut heads = HashMap::new();
        for practice in PRACTICES {
            heads.insert(practice, t.all_events(practice).await.len() as i64);
        }
        heads
    };

    let mut tasks = Vec::new();
    for round in 0..4 {
        for practice in PRACTICES {
            for (n, ask) in asks.iter().copied().enumerate() {
                let t = t.clone();
                tasks.push(tokio::spawn(async move {
                    let outcome = append(&t, practice, ask, round, n).await;
                    (practice, ask, outcome)
                }));
            }
        }
    }
    let mut stored: HashMap<&str, Vec<Event>> = HashMap::new();
    let mut retried: HashMap<&str, Event> = HashMap::new();
    for task in tasks {
        let (practice, ask, outcome) = task.await.unwrap();
        match (ask, outcome) {
            (Ask::Valid, Ok(events)) => {
                assert_eq!(events.len(), 3);
                let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
                assert_eq!(
                    seqs,
                    (seqs[0]..seqs[0] + 3).collect::<Vec<_>>(),
                    "a batch is stored contiguously, whatever shared its commit"
                );
                stored.entry(practice).or_default().extend(events);
            }
            (Ask::StaleSecond, Err(Error::InBatch { index: 1, source })) => {
                assert!(matches!(*source, Error::VersionConflict { .. }), "{source}");
            }
            (Ask::Retry | Ask::Clash, Ok(mut events)) => {
                let event = events.remove(0);
                match retried.get(practice) {
                    Some(first) => assert_eq!(&event, first, "every retry answers one event"),
                    None => {
                        stored.entry(practice).or_default().push(event.clone());
                        retried.insert(practice, event);
                    }
                }
            }
            // Whichever of the two contents came first is the stored one; the other conflicts.
            (Ask::Retry | Ask::Clash, Err(Error::Conflict { .. })) => {}
            (Ask::Viewer, Err(Error::Forbidden { .. })) => {}
            (ask, outcome) => panic!("{practice}: {ask:?} answered {outcome:?}"),
        }
    }

    for practice in PRACTICES {
        let events = t.all_events(practice).await;
        let new: Vec<&Event> = events
            .iter()
            .filter(|e| e.seq > heads_before[practice])
            .collect();
        let mut answered: Vec<&Event> = stored[practice].iter().collect();
        answered.sort_by_key(|e| e.seq);
        assert_eq!(
            new, answered,
            "{practice}: exactly the accepted appends are stored, as they were answered"
        );
        assert_eq!(
            new.len(),
            4 * 4 * 3 + 1,
            "four rounds of four batches, one retry"
        );
        assert_eq!(
            events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=events.len() as i64).collect::<Vec<_>>(),
            "no gaps"
        );
        let report = t
            .store
            .verify_chain(&Principal::user("owner-1"), practice)
            .await
            .unwrap();
        assert!(report.is_intact(), "{practice}: {report:?}");
    }
}

async fn append(
    t: &TestStore,
    practice: &str,
    ask: Ask,
    round: usize,
    n: usize,
) -> chronicle::Result<Vec<Event>> {
    let owner = Principal::user("owner-1");
    let retry_id = format!("0190f1b2-0000-7000-8000-{:012}", practice.len());
    let stream = format!("pat-{round}-{n}");
    match ask {
        Ask::Valid => {
            let events = vec![
                patient(practice, &stream, "Ann"),
                patient_updated(practice, &stream, json!({"notes": "first"})),
                patient_updated(practice, &stream, json!({"notes": "second"})),
            ];
            t.store.append_batch(&owner, events).await
        }
        Ask::StaleSecond => {
            let events = vec![
                patient(practice, &stream, "Ann"),
                patient_updated(practice, &stream, json!({"notes": "late"})).expecting_version(7),
            ];
            t.store.append_batch(&owner, events).await
        }
        Ask::Retry | Ask::Clash => {
            let name = if ask == Ask::Retry { "Ann" } else { "Other" };
            let event: NewEvent = patient(practice, "retried", name).with_id(&retry_id);
            t.store.append(&owner, event).await.map(|e| vec![e])
        }
        Ask::Viewer => {
            let event = patient(practice, &stream, "Ann");
            t.store
                .append(&Principal::user("viewer-1"), event)
                .await
                .map(|e| vec![e])
        }
    }
}

/// A database error in a shared commit stays with the append that caused it: the group is
/// rolled back and each append written again on its own. The error here comes from a trigger
/// the test adds (the rules never plan a row the database refuses).
pub async fn a_database_error_fails_only_the_append_that_caused_it(backend: Backend) {
    let t = Arc::new(TestStore::new(backend).await);
    t.practice_with_staff("group-a", "owner-1").await;
    let poison = match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER test_poison BEFORE INSERT ON events WHEN NEW.aggregate_id = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        }
        Backend::Postgres => {
            "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.aggregate_id = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER test_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_poison()"
        }
    };
    t.raw(poison).await.unwrap();
    let owner = Principal::user("owner-1");
    let mut tasks = Vec::new();
    for n in 0..24 {
        let (t, owner) = (t.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            let id = if n % 8 == 3 {
                "poison".to_string()
            } else {
                format!("fine-{n}")
            };
            let outcome = t.store.append(&owner, patient("group-a", &id, "Ann")).await;
            (id, outcome)
        }));
    }
    let mut stored = 0;
    for task in tasks {
        match task.await.unwrap() {
            (id, Ok(event)) => {
                assert_ne!(id, "poison");
                assert_eq!(event.aggregate_id, id);
                stored += 1;
            }
            (id, Err(Error::Database(_))) => {
                assert_eq!(id, "poison", "only the poisoned append fails")
            }
            (id, Err(other)) => panic!("{id}: {other}"),
        }
    }
    assert_eq!(stored, 21);
    let events = t.all_events("group-a").await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.aggregate_id.starts_with("fine-"))
            .count(),
        21
    );
    let report = t
        .store
        .verify_chain(&Principal::user("owner-1"), "group-a")
        .await
        .unwrap();
    assert!(report.is_intact(), "{report:?}");
}

/// Callers who stop waiting at any moment (before their commit, during it, after it) leave
/// every append whole or absent, the chain intact, and the store writing for the next caller:
/// a lone append may commit on its caller's own task, which the caller can drop.
pub async fn callers_who_stop_waiting_leave_every_append_whole(backend: Backend) {
    const P: &str = "group-drop";
    let t = Arc::new(TestStore::new(backend).await);
    t.practice_with_staff(P, "owner-1").await;
    let before = t.all_events(P).await.len();
    let owner = Principal::user("owner-1");
    let mut tasks = Vec::new();
    for n in 0..48u64 {
        let (t, owner) = (t.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            let stream = format!("pat-{n}");
            let batch = vec![
                patient(P, &stream, "Ann"),
                patient_updated(P, &stream, json!({"notes": "second of two"})),
            ];
            // Patience from none to a few commits' worth, spread over the callers.
            let patience = std::time::Duration::from_micros(n * 1_777 % 40_000);
            let answer = tokio::time::timeout(patience, t.store.append_batch(&owner, batch)).await;
            (stream, answer)
        }));
        if n % 3 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let mut answered = HashMap::new();
    for task in tasks {
        let (stream, answer) = task.await.unwrap();
        if let Ok(outcome) = answer {
            let events = outcome.unwrap_or_else(|e| panic!("{stream}: {e}"));
            answered.insert(stream, events);
        }
    }
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        t.store.append(&owner, patient(P, "after", "Bo")),
    )
    .await;
    assert!(
        matches!(next, Ok(Ok(_))),
        "the store still writes after callers left mid-commit: {next:?}"
    );

    let events = t.all_events(P).await;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "no gaps"
    );
    let mut by_stream: HashMap<&str, Vec<&Event>> = HashMap::new();
    for event in &events[before..events.len() - 1] {
        by_stream
            .entry(&event.aggregate_id)
            .or_default()
            .push(event);
    }
    for (stream, stored) in &by_stream {
        assert_eq!(
            stored.len(),
            2,
            "{stream}: both events of the batch or neither"
        );
        assert_eq!(stored[1].seq, stored[0].seq + 1, "{stream}: contiguous");
    }
    for (stream, events) in &answered {
        let stored: Vec<Event> = by_stream[stream.as_str()]
            .iter()
            .map(|e| (*e).clone())
            .collect();
        assert_eq!(&stored, events, "{stream}: stored as answered");
    }
    let report = t.store.verify_chain(&owner, P).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
}
