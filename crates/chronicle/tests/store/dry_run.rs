//! Dry runs: the append's own rules, planned in a transaction that is rolled back.

use chronicle::{ActorType, Error, NewEvent, Principal};
use serde_json::json;

use crate::support::{Backend, TestStore, membership, patient, patient_updated, practice_created};

const P: &str = "prac-dry";

fn owner() -> Principal {
    Principal::user("owner-1")
}

/// The practice's head seq and hash, read through the engine.
async fn head(t: &TestStore, practice: &str) -> (i64, String) {
    t.store
        .practices(&Principal::System)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.practice_id == practice)
        .map(|p| (p.event_count, p.head_hash))
        .unwrap_or_default()
}

pub async fn a_dry_run_answers_the_planned_event_and_writes_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    t.store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    let before = head(&t, P).await;
    let events_before = t.all_events(P).await;

    let update = patient_updated(P, "pat-1", json!({"notes": "prefers mornings"}));
    let planned = t
        .store
        .dry_run(&owner(), update.clone().expecting_version(1))
        .await
        .expect("a valid append passes its dry run");
    assert_eq!(planned.seq, before.0 + 1, "the next seq of the practice");
    assert_eq!(planned.version, 2, "the next version of the aggregate");
    assert_eq!(
        planned.actor_id.as_deref(),
        Some("owner-1"),
        "the actor is filled in as on append"
    );
    assert_eq!(planned.hash.len(), 64, "the planned chain hash");
    assert!(planned.created_at >= events_before.last().unwrap().created_at);

    let batch = t
        .store
        .dry_run_batch(&owner(), vec![update.clone(), update.clone()])
        .await
        .unwrap();
    assert_eq!(
        batch.iter().map(|e| (e.seq, e.version)).collect::<Vec<_>>(),
        [(before.0 + 1, 2), (before.0 + 2, 3)],
        "a batch is planned in order, each event chained to the one before"
    );
    assert_eq!(batch[1].hash.len(), 64);

    assert_eq!(
        head(&t, P).await,
        before,
        "the head seq and hash did not move"
    );
    assert_eq!(t.all_events(P).await, events_before, "no event was written");
    let stored = t.store.append(&owner(), update).await.unwrap();
    assert_eq!(
        (stored.seq, stored.version),
        (planned.seq, planned.version),
        "the real append takes the place the dry run planned"
    );
    assert!(t.store.verify_chain(&owner(), P).await.unwrap().is_intact());
}

/// With the id and time fixed (the system principal may import both), the dry run's answer
/// is the stored event field for field, hash included: it is the same plan.
pub async fn a_dry_run_plans_exactly_what_the_append_stores(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let event = patient(P, "pat-2", "Bea")
        .with_id("evt-fixed")
        .with_actor_id("owner-1");
    let planned = t
        .store
        .dry_run(&Principal::System, event.clone())
        .await
        .unwrap();
    let stored = t
        .store
        .append(
            &Principal::System,
            NewEvent {
                created_at: Some(planned.created_at),
                ..event
            },
        )
        .await
        .unwrap();
    assert_eq!(stored, planned, "every field, the hash included");
}

pub async fn a_dry_run_refuses_what_the_append_refuses(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    t.store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    let before = head(&t, P).await;
    let refused = [
        (
            "a payload that breaks its schema",
            owner(),
            patient_updated(P, "pat-1", json!({"dateOfBirth": "31/12/1990"})),
        ),
        (
            "a stale expected version",
            owner(),
            patient_updated(P, "pat-1", json!({"notes": "x"})).expecting_version(0),
        ),
        (
            "a viewer's append",
            Principal::user("viewer-1"),
            patient(P, "pat-3", "Cy"),
        ),
        (
            "a stranger's append",
            Principal::user("stranger"),
            patient(P, "pat-3", "Cy"),
        ),
        (
            "a frontdesk member granting a role",
            Principal::user("desk-1"),
            membership(P, "new-1", "admin"),
        ),
        (
            "an unknown event type",
            owner(),
            NewEvent::new(
                P,
                "patient",
                "pat-1",
                "patient.create",
                json!({}),
                ActorType::Human,
            ),
        ),
    ];
    for (what, caller, event) in refused {
        let dry = t.store.dry_run(&caller, event.clone()).await.unwrap_err();
        let real = t.store.append(&caller, event).await.unwrap_err();
        assert_eq!(
            dry.code(),
            real.code(),
            "{what}: the same error code ({dry} / {real})"
        );
        assert_eq!(
            dry.violations(),
            real.violations(),
            "{what}: the same violations, by pointer"
        );
        assert_eq!(
            dry.to_string(),
            real.to_string(),
            "{what}: the same message"
        );
    }
    let batch = vec![
        patient(P, "pat-4", "Di"),
        patient_updated(P, "pat-4", json!({"email": "not-an-email"})),
    ];
    let err = t.store.dry_run_batch(&owner(), batch).await.unwrap_err();
    assert!(
        matches!(err, Error::InBatch { index: 1, .. }),
        "a batch's dry run names the refused event: {err}"
    );
    assert!(
        err.violations()
            .iter()
            .any(|v| v.path == "/events/1/payload/email"),
        "{:?}",
        err.violations()
    );
    assert_eq!(
        head(&t, P).await,
        before,
        "no refused dry run or append wrote anything"
    );
}

/// A dry run of a new practice's first event plans it (and the author's ownership) but
/// leaves no trace: the practice still does not exist afterwards.
pub async fn a_dry_run_of_a_new_practice_leaves_no_trace(backend: Backend) {
    let t = TestStore::new(backend).await;
    let author = Principal::user("founder");
    let planned = t
        .store
        .dry_run(&author, practice_created("prac-new", "New Smile"))
        .await
        .unwrap();
    assert_eq!((planned.seq, planned.version), (1, 1));
    assert!(
        t.store.practices(&author).await.unwrap().is_empty(),
        "the dry run made nobody a member of anything"
    );
    assert_eq!(
        head(&t, "prac-new").await,
        (0, String::new()),
        "no practice row"
    );
    let stored = t
        .store
        .append(&author, practice_created("prac-new", "New Smile"))
        .await
        .expect("the practice can still be created for real");
    assert_eq!(stored.seq, 1);
}
