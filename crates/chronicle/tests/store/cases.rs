//! Test cases shared by both backends. Each takes the backend and opens its own store.

use std::collections::BTreeMap;
use std::sync::Arc;

use chronicle::{
    ActorType, AggregateFilter, CheckpointState, CheckpointUpdate, Direction, Error, NewEvent,
    PageRequest, Principal, Role, StoreOptions, TimelineFilter,
};
use serde_json::json;

use crate::support::{Backend, TestStore, membership, patient, patient_updated, practice_created};

const P: &str = "prac-1";

fn pr(cursor: Option<&str>, limit: Option<i64>) -> PageRequest {
    PageRequest {
        cursor: cursor.map(str::to_string),
        limit,
    }
}

fn owner() -> Principal {
    Principal::user("owner-1")
}

async fn head_seq(t: &TestStore, practice: &str) -> i64 {
    t.store
        .practices(&Principal::System)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.practice_id == practice)
        .map_or(0, |p| p.event_count)
}

pub async fn append_assigns_seq_version_hash_and_time(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let a1 = t
        .store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    let b1 = t
        .store
        .append(&owner(), patient(P, "pat-2", "Ben"))
        .await
        .unwrap();
    let a2 = t
        .store
        .append(
            &owner(),
            patient_updated(P, "pat-1", json!({"phone": "+44 20 1234 5678"})),
        )
        .await
        .unwrap();
    // practice.created, owner membership, three memberships = seq 1..=5
    assert_eq!(
        (a1.seq, b1.seq, a2.seq),
        (6, 7, 8),
        "seq is gapless within the practice"
    );
    assert_eq!(
        (a1.version, b1.version, a2.version),
        (1, 1, 2),
        "version counts within each aggregate"
    );
    assert_eq!(
        a1.actor_id.as_deref(),
        Some("owner-1"),
        "a human event's actor is filled in from the principal"
    );
    assert!(
        a1.created_at <= b1.created_at && b1.created_at <= a2.created_at,
        "time never goes backwards along seq"
    );
    assert_eq!(
        uuid::Uuid::parse_str(&a1.id).unwrap().get_version_num(),
        7,
        "store-made ids are UUIDv7"
    );
    assert_ne!(a1.hash, b1.hash);
    let report = t.store.verify_chain(&owner(), P).await.unwrap();
    assert!(report.is_intact(), "fresh chain verifies: {report:?}");
    assert_eq!(report.events_checked, 8);
    assert_eq!(
        report.head_hash, a2.hash,
        "the chain head is the last event's hash"
    );
    let stored = t
        .store
        .event(&owner(), P, &a2.id)
        .await
        .unwrap()
        .expect("event by id");
    assert_eq!(stored, a2, "what append returned is what is stored");
}

pub async fn practice_created_makes_the_author_owner(backend: Backend) {
    let t = TestStore::new(backend).await;
    let alice = Principal::user("alice");
    let created = t
        .store
        .append(&alice, practice_created("new-prac", "Alice Dental"))
        .await
        .unwrap();
    assert_eq!(created.seq, 1);
    let page = t
        .store
        .timeline(
            &alice,
            "new-prac",
            &TimelineFilter::default(),
            Direction::Forward,
            &pr(None, None),
        )
        .await
        .unwrap();
    let types: Vec<_> = page.items.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["practice.created", "membership.created"],
        "the owner membership is appended with it"
    );
    assert_eq!(
        page.items[1].payload,
        json!({"userId": "alice", "role": "owner"})
    );
    let practices = t.store.practices(&alice).await.unwrap();
    assert_eq!(practices.len(), 1);
    assert_eq!(practices[0].role, Some(Role::Owner));
    assert_eq!(practices[0].event_count, 2);
    let again = t
        .store
        .append(&alice, practice_created("new-prac", "Again"))
        .await
        .unwrap_err();
    assert!(
        matches!(again, Error::Conflict { .. }),
        "a second practice.created is a conflict for a member: {again}"
    );
    let stranger = t
        .store
        .append(
            &Principal::user("mallory"),
            practice_created("new-prac", "Mine"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(stranger, Error::PracticeNotFound { .. }),
        "a non-member cannot re-create it: {stranger}"
    );
}

pub async fn unknown_event_type_names_the_closest_types(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let mut e = patient(P, "pat-1", "Ann");
    e.event_type = "patient.craeted".into();
    let err = t.store.append(&owner(), e).await.unwrap_err();
    let Error::UnknownEventType {
        event_type,
        suggestions,
    } = &err
    else {
        panic!("got {err}")
    };
    assert_eq!(event_type, "patient.craeted");
    assert_eq!(
        suggestions[0], "patient.created",
        "closest registered type first"
    );
    assert!(
        err.to_string().contains("did you mean patient.created"),
        "{err}"
    );
}

pub async fn invalid_payload_reports_every_violation_and_writes_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let before = head_seq(&t, P).await;
    let e = NewEvent::new(
        P,
        "patient",
        "pat-1",
        "patient.created",
        json!({"firstName": "", "dateOfBirth": "17/05/1990", "email": "not-an-email", "shoeSize": 9}),
        ActorType::Human,
    );
    let err = t.store.append(&owner(), e).await.unwrap_err();
    assert!(matches!(err, Error::InvalidPayload { .. }), "got {err}");
    let paths: Vec<String> = err.violations().into_iter().map(|v| v.path).collect();
    for wanted in [
        "/payload",
        "/payload/firstName",
        "/payload/dateOfBirth",
        "/payload/email",
    ] {
        assert!(
            paths.iter().any(|p| p == wanted),
            "violation at {wanted} expected in {paths:?}"
        );
    }
    let mut wrong_aggregate = patient(P, "pat-1", "Ann");
    wrong_aggregate.aggregate_type = "appointment".into();
    let err = t.store.append(&owner(), wrong_aggregate).await.unwrap_err();
    assert_eq!(
        err.violations()[0].path,
        "/aggregateType",
        "aggregate type must match the schema's: {err}"
    );
    assert_eq!(head_seq(&t, P).await, before, "nothing was written");
}

pub async fn field_rules_name_the_field_and_the_rule(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let before = head_seq(&t, P).await;
    let cases: Vec<(&str, NewEvent, &str)> = vec![
        (
            "/aggregateId",
            {
                let mut e = patient(P, "x", "A");
                e.aggregate_id = String::new();
                e
            },
            "empty",
        ),
        (
            "/aggregateId",
            patient(P, &"x".repeat(256), "A"),
            "limit is 255",
        ),
        (
            "/eventType",
            {
                let mut e = patient(P, "x", "A");
                e.event_type = "p".repeat(101);
                e
            },
            "limit is 100",
        ),
        (
            "/aggregateId",
            patient(P, "bad\nid", "A"),
            "control character",
        ),
        (
            "/actorId",
            patient(P, "x", "A").with_actor_id("someone-else"),
            "must be the principal",
        ),
        (
            "/createdAt",
            {
                let mut e = patient(P, "x", "A");
                e.created_at = Some(chrono::Utc::now());
                e
            },
            "set by the store",
        ),
        (
            "/aggregateId",
            {
                let mut e = practice_created(P, "X");
                e.event_type = "practice.updated".into();
                e.aggregate_id = "other".into();
                e
            },
            "must be its practiceId",
        ),
        (
            "/aggregateId",
            {
                let mut e = membership(P, "u9", "viewer");
                e.aggregate_id = "u8".into();
                e
            },
            "member's userId",
        ),
        (
            "/expectedVersion",
            patient(P, "x", "A").expecting_version(-3),
            "positive",
        ),
        (
            "/payload",
            patient_updated(P, "x", json!({"notes": "x", "big": 18014398509481984u64})),
            "2^53",
        ),
    ];
    for (path, event, rule) in cases {
        let err = t.store.append(&owner(), event).await.expect_err(path);
        let v = err.violations();
        assert!(
            v.iter()
                .any(|v| v.path.starts_with(path) && v.message.contains(rule)),
            "expected a violation at {path} mentioning {rule:?}, got {err}"
        );
    }
    assert_eq!(
        head_seq(&t, P).await,
        before,
        "no refused event was written"
    );
}

pub async fn payload_size_limit_is_configurable(backend: Backend) {
    let options = StoreOptions {
        max_payload_bytes: 200,
        ..Default::default()
    };
    let t = TestStore::with_options(backend, options).await;
    t.practice_with_staff(P, "owner-1").await;
    let err = t
        .store
        .append(
            &owner(),
            patient_updated(P, "p", json!({"notes": "n".repeat(300)})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].path, "/payload");
    assert!(err.to_string().contains("limit is 200 bytes"), "{err}");
    t.store
        .append(&owner(), patient_updated(P, "p", json!({"notes": "short"})))
        .await
        .expect("small payload fits");
}

pub async fn append_only_is_enforced_by_the_database(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let e = t
        .store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    let update = t
        .raw(&format!(
            "UPDATE events SET payload_json = '{{}}' WHERE id = '{}'",
            e.id
        ))
        .await;
    assert!(
        update.as_ref().is_err_and(|m| m.contains("append-only")),
        "raw UPDATE must fail: {update:?}"
    );
    let delete = t
        .raw(&format!("DELETE FROM events WHERE id = '{}'", e.id))
        .await;
    assert!(
        delete.as_ref().is_err_and(|m| m.contains("append-only")),
        "raw DELETE must fail: {delete:?}"
    );
    let stored = t.store.event(&owner(), P, &e.id).await.unwrap().unwrap();
    assert_eq!(stored.payload, e.payload, "the event is unchanged");
    if backend == Backend::Postgres {
        let truncate = t.raw("TRUNCATE events").await;
        assert!(truncate.is_err(), "TRUNCATE must fail too: {truncate:?}");
    }
}

pub async fn non_members_learn_nothing_about_a_practice(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let mallory = Principal::user("mallory");
    let on_existing = t
        .store
        .timeline(
            &mallory,
            P,
            &TimelineFilter::default(),
            Direction::Forward,
            &pr(None, None),
        )
        .await
        .unwrap_err();
    let on_missing = t
        .store
        .timeline(
            &mallory,
            "no-such",
            &TimelineFilter::default(),
            Direction::Forward,
            &pr(None, None),
        )
        .await
        .unwrap_err();
    assert!(matches!(on_existing, Error::PracticeNotFound { .. }));
    assert_eq!(
        on_existing.to_string().replace(P, "ID"),
        on_missing.to_string().replace("no-such", "ID"),
        "the same answer whether or not the practice exists"
    );
    for err in [
        t.store
            .aggregate_events(&mallory, P, "practice", P, None, &pr(None, None))
            .await
            .unwrap_err(),
        t.store
            .events_by_type(&mallory, P, "practice.created", &pr(None, None))
            .await
            .unwrap_err(),
        t.store
            .aggregates(&mallory, P, &AggregateFilter::default(), &pr(None, None))
            .await
            .unwrap_err(),
        t.store.checkpoints(&mallory, P).await.unwrap_err(),
        t.store.verify_chain(&mallory, P).await.unwrap_err(),
        t.store
            .append(&mallory, patient(P, "x", "A"))
            .await
            .unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::PracticeNotFound { .. }),
            "every call hides the practice: {err}"
        );
    }
    // The check rides in the page's statement; a member's empty page is still a page.
    let none_yet = t
        .store
        .events_by_type(
            &Principal::user("owner-1"),
            P,
            "appointment.requested",
            &pr(None, None),
        )
        .await
        .unwrap();
    assert!(none_yet.items.is_empty() && none_yet.next_cursor.is_none());
    let err = t.store.event(&mallory, P, "whatever").await.unwrap_err();
    assert!(
        matches!(err, Error::PracticeNotFound { .. }),
        "an event lookup hides the practice too: {err}"
    );
    assert!(
        t.store.practices(&mallory).await.unwrap().is_empty(),
        "mallory sees no practices"
    );
}

pub async fn roles_decide_who_may_append_what(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let viewer = Principal::user("viewer-1");
    let desk = Principal::user("desk-1");
    let admin = Principal::user("admin-1");
    let page = t
        .store
        .timeline(
            &viewer,
            P,
            &TimelineFilter::default(),
            Direction::Forward,
            &pr(None, None),
        )
        .await;
    assert!(page.is_ok(), "any member reads");
    let err = t
        .store
        .append(&viewer, patient(P, "x", "A"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Forbidden { .. }),
        "viewer cannot append: {err}"
    );
    t.store
        .append(&desk, patient(P, "x", "A"))
        .await
        .expect("frontdesk appends everyday events");
    let err = t
        .store
        .append(&desk, membership(P, "new-1", "viewer"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Forbidden { .. }),
        "frontdesk cannot add members: {err}"
    );
    t.store
        .append(&admin, membership(P, "new-1", "viewer"))
        .await
        .expect("admin adds members");
    let err = t
        .store
        .append(&admin, membership(P, "new-2", "owner"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Forbidden { .. }),
        "only an owner grants owner: {err}"
    );
    t.store
        .append(&owner(), membership(P, "new-2", "owner"))
        .await
        .expect("owner grants owner");
    let err = t
        .store
        .append(&admin, membership(P, "new-1", "admin"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { .. }),
        "a second membership.created for a member conflicts: {err}"
    );
    let mut change = membership(P, "ghost", "viewer");
    change.event_type = "membership.role_changed".into();
    let err = t.store.append(&admin, change).await.unwrap_err();
    assert_eq!(
        err.violations()[0].path,
        "/payload/userId",
        "role change of a non-member: {err}"
    );
}

pub async fn role_changes_apply_to_the_very_next_append(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let viewer = Principal::user("viewer-1");
    let err = t
        .store
        .append(&viewer, patient(P, "x", "A"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Forbidden { .. }),
        "a viewer may not append: {err}"
    );
    let mut promote = membership(P, "viewer-1", "frontdesk");
    promote.event_type = "membership.role_changed".into();
    t.store.append(&owner(), promote).await.unwrap();
    t.store
        .append(&viewer, patient(P, "x", "A"))
        .await
        .expect("promoted member appends at once");
    let practices = t.store.practices(&viewer).await.unwrap();
    assert_eq!(practices[0].role, Some(Role::Frontdesk));
}

pub async fn aggregate_events_are_chronological_and_paged(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    t.store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    for i in 0..24 {
        t.store
            .append(
                &owner(),
                patient_updated(P, "pat-1", json!({"notes": format!("visit {i}")})),
            )
            .await
            .unwrap();
        t.store
            .append(&owner(), patient(P, &format!("noise-{i}"), "N"))
            .await
            .unwrap();
    }
    let mut versions = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = t
            .store
            .aggregate_events(
                &owner(),
                P,
                "patient",
                "pat-1",
                None,
                &pr(cursor.as_deref(), Some(10)),
            )
            .await
            .unwrap();
        versions.extend(page.items.iter().map(|e| e.version));
        assert!(
            page.items.iter().all(|e| e.aggregate_id == "pat-1"),
            "only that aggregate"
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        versions,
        (1..=25).collect::<Vec<_>>(),
        "every version once, in order, across pages"
    );
    let from = t
        .store
        .aggregate_events(&owner(), P, "patient", "pat-1", Some(20), &pr(None, None))
        .await
        .unwrap();
    assert_eq!(from.items.first().map(|e| e.version), Some(20));
    assert_eq!(from.items.len(), 6);
    // A page takes the practice and aggregate of its events from its query, not from each
    // row: names that differ from the stored ones only in case match nothing.
    for (aggregate_type, aggregate_id) in [("patient", "PAT-1"), ("Patient", "pat-1")] {
        let page = t
            .store
            .aggregate_events(
                &owner(),
                P,
                aggregate_type,
                aggregate_id,
                None,
                &pr(None, None),
            )
            .await
            .unwrap();
        assert!(
            page.items.is_empty(),
            "{aggregate_type}/{aggregate_id:?} is another aggregate"
        );
    }
    let err = t
        .store
        .aggregate_events(&owner(), P, "patient", "pat-1", Some(0), &pr(None, None))
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].path, "/fromVersion");
}

pub async fn events_by_type_pages_and_limits(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let batch: Vec<NewEvent> = (0..150)
        .map(|i| patient(P, &format!("pat-{i}"), "A"))
        .collect();
    t.store.append_batch(&owner(), batch).await.unwrap();
    let first = t
        .store
        .events_by_type(&owner(), P, "patient.created", &pr(None, None))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 100, "default limit is 100");
    let rest = t
        .store
        .events_by_type(
            &owner(),
            P,
            "patient.created",
            &pr(first.next_cursor.as_deref(), None),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 50);
    assert!(rest.next_cursor.is_none(), "no cursor after the last page");
    assert!(
        first.items.last().unwrap().seq < rest.items[0].seq,
        "pages continue in seq order"
    );
    let all = t
        .store
        .events_by_type(&owner(), P, "patient.created", &pr(None, Some(1000)))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 150);
    for bad in [0, 1001, -5] {
        let err = t
            .store
            .events_by_type(&owner(), P, "patient.created", &pr(None, Some(bad)))
            .await
            .unwrap_err();
        assert_eq!(
            err.violations()[0].path,
            "/limit",
            "limit {bad} is out of range: {err}"
        );
    }
    let err = t
        .store
        .events_by_type(&owner(), P, "patient.created", &pr(Some("garbage!"), None))
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].path, "/cursor");
}

pub async fn timeline_filters_and_pages_both_ways(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let desk = Principal::user("desk-1");
    t.store
        .append(&desk, patient(P, "pat-1", "Zelda"))
        .await
        .unwrap();
    let mut ai = NewEvent::new(
        P,
        "ai_action",
        "ai-1",
        "ai_action.proposed",
        json!({"action": "send_reminder", "targetAggregateType": "patient", "targetAggregateId": "pat-1",
               "rationale": "Due for a 100% checkup_reminder", "confidence": 0.9}),
        ActorType::Ai,
    );
    ai.actor_id = Some("agent-7".into());
    let ai = t.store.append(&owner(), ai).await.unwrap();
    let after_ai = chrono::Utc::now();
    t.store
        .append(&owner(), patient(P, "pat-2", "Yusuf"))
        .await
        .unwrap();
    let query = |filter: TimelineFilter| {
        let store = t.store.clone();
        async move {
            store
                .timeline(&owner(), P, &filter, Direction::Forward, &pr(None, None))
                .await
                .unwrap()
                .items
        }
    };
    let by_type = query(TimelineFilter {
        event_types: vec!["patient.created".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(by_type.len(), 2);
    let by_actor_type = query(TimelineFilter {
        actor_type: Some(ActorType::Ai),
        ..Default::default()
    })
    .await;
    assert_eq!(
        by_actor_type
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>(),
        vec![ai.id.clone()]
    );
    let by_actor = query(TimelineFilter {
        actor_id: Some("desk-1".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(by_actor.len(), 1);
    let by_aggregate = query(TimelineFilter {
        aggregate_type: Some("membership".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(by_aggregate.len(), 4, "owner + three staff memberships");
    let by_text = query(TimelineFilter {
        text: Some("ZELDA".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(by_text.len(), 1, "payload text search ignores ASCII case");
    let literal = query(TimelineFilter {
        text: Some("100%".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(literal.len(), 1, "% is matched literally");
    let underscore = query(TimelineFilter {
        text: Some("p_tient".into()),
        ..Default::default()
    })
    .await;
    assert!(
        underscore.is_empty(),
        "_ is matched literally, not as a wildcard"
    );
    let later = query(TimelineFilter {
        from: Some(after_ai),
        ..Default::default()
    })
    .await;
    assert_eq!(later.len(), 1, "time range from");
    let earlier = query(TimelineFilter {
        to: Some(after_ai),
        ..Default::default()
    })
    .await;
    assert_eq!(earlier.len(), 7, "time range to");
    let seqs = |events: Vec<chronicle::Event>| events.iter().map(|e| e.seq).collect::<Vec<_>>();
    let newer = query(TimelineFilter {
        after_seq: Some(5),
        ..Default::default()
    })
    .await;
    assert_eq!(
        seqs(newer),
        [6, 7, 8],
        "after a seq: what a live tail has not shown yet"
    );
    let window = query(TimelineFilter {
        after_seq: Some(2),
        before_seq: Some(5),
        ..Default::default()
    })
    .await;
    assert_eq!(seqs(window), [3, 4], "between two seqs");

    let mut forward = Vec::new();
    let mut cursor = None;
    loop {
        let page = t
            .store
            .timeline(
                &owner(),
                P,
                &TimelineFilter::default(),
                Direction::Forward,
                &pr(cursor.as_deref(), Some(3)),
            )
            .await
            .unwrap();
        forward.extend(page.items.iter().map(|e| e.seq));
        let Some(next) = page.next_cursor else { break };
        cursor = Some(next);
    }
    assert_eq!(forward, (1..=8).collect::<Vec<_>>());
    let mut backward = Vec::new();
    let mut cursor = None;
    loop {
        let page = t
            .store
            .timeline(
                &owner(),
                P,
                &TimelineFilter::default(),
                Direction::Backward,
                &pr(cursor.as_deref(), Some(3)),
            )
            .await
            .unwrap();
        backward.extend(page.items.iter().map(|e| e.seq));
        let Some(next) = page.next_cursor else { break };
        cursor = Some(next);
    }
    assert_eq!(backward, (1..=8).rev().collect::<Vec<_>>());
    let empty_range = TimelineFilter {
        from: Some(after_ai),
        to: Some(after_ai),
        ..Default::default()
    };
    let page = t
        .store
        .timeline(
            &owner(),
            P,
            &empty_range,
            Direction::Forward,
            &pr(None, None),
        )
        .await
        .unwrap();
    assert!(page.items.is_empty(), "a `to` at `from` selects nothing");
    let negative = TimelineFilter {
        after_seq: Some(-1),
        ..Default::default()
    };
    let err = t
        .store
        .timeline(&owner(), P, &negative, Direction::Forward, &pr(None, None))
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].path, "/afterSeq");
}

pub async fn aggregates_list_filters_and_pages(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let mut batch: Vec<NewEvent> = (0..12)
        .map(|i| patient(P, &format!("pat-{i:02}"), "A"))
        .collect();
    batch.push(patient_updated(P, "pat-03", json!({"notes": "x"})));
    batch.push(patient(P, "other-1", "B"));
    t.store.append_batch(&owner(), batch).await.unwrap();
    let filter = AggregateFilter {
        aggregate_type: Some("patient".into()),
        id_prefix: Some("pat-".into()),
    };
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = t
            .store
            .aggregates(&owner(), P, &filter, &pr(cursor.as_deref(), Some(5)))
            .await
            .unwrap();
        for a in &page.items {
            if a.aggregate_id == "pat-03" {
                assert_eq!(
                    (a.version, a.last_event_type.as_str()),
                    (2, "patient.updated")
                );
                assert!(a.first_event_at <= a.last_event_at);
            }
        }
        ids.extend(page.items.into_iter().map(|a| a.aggregate_id));
        let Some(next) = page.next_cursor else { break };
        cursor = Some(next);
    }
    let expected: Vec<String> = (0..12).map(|i| format!("pat-{i:02}")).collect();
    assert_eq!(
        ids, expected,
        "prefix filter, id order, every aggregate once across pages"
    );
    let all = t
        .store
        .aggregates(&owner(), P, &AggregateFilter::default(), &pr(None, None))
        .await
        .unwrap();
    let types: BTreeMap<String, usize> = all.items.iter().fold(BTreeMap::new(), |mut m, a| {
        *m.entry(a.aggregate_type.clone()).or_default() += 1;
        m
    });
    assert_eq!(types.get("membership"), Some(&4));
    assert_eq!(types.get("patient"), Some(&13));
    assert_eq!(types.get("practice"), Some(&1));
}

pub async fn checkpoints_read_write_and_refuse_bad_moves(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let update = |seq: i64, state: CheckpointState| CheckpointUpdate {
        practice_id: P.into(),
        projector_name: "aggregate_index".into(),
        last_seq: seq,
        state,
        last_error: None,
        error_event_id: None,
    };
    assert!(
        t.store
            .checkpoint(&owner(), P, "aggregate_index")
            .await
            .unwrap()
            .is_none()
    );
    let saved = t
        .store
        .save_checkpoint(&update(3, CheckpointState::CatchingUp))
        .await
        .unwrap();
    let third = t
        .store
        .timeline(
            &owner(),
            P,
            &TimelineFilter::default(),
            Direction::Forward,
            &pr(None, Some(3)),
        )
        .await
        .unwrap();
    assert_eq!(
        saved.last_event_id.as_deref(),
        Some(third.items[2].id.as_str()),
        "lastEventId is the event at lastSeq"
    );
    let read = t
        .store
        .checkpoint(&owner(), P, "aggregate_index")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, saved);
    let failed = CheckpointUpdate {
        last_error: Some("boom".into()),
        error_event_id: Some("e4".into()),
        ..update(3, CheckpointState::Failed)
    };
    let saved = t.store.save_checkpoint(&failed).await.unwrap();
    assert_eq!(
        (saved.state, saved.last_error.as_deref()),
        (CheckpointState::Failed, Some("boom"))
    );
    assert_eq!(
        saved.id, read.id,
        "one checkpoint row per (practice, projector)"
    );
    let err = t
        .store
        .save_checkpoint(&update(99, CheckpointState::CaughtUp))
        .await
        .unwrap_err();
    assert_eq!(
        err.violations()[0].path,
        "/lastSeq",
        "beyond the head: {err}"
    );
    let err = t
        .store
        .save_checkpoint(&update(2, CheckpointState::CaughtUp))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "backwards: {err}");
    t.store
        .reset_checkpoint(P, "aggregate_index")
        .await
        .unwrap();
    let reset = t
        .store
        .checkpoint(&owner(), P, "aggregate_index")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (reset.last_seq, reset.last_event_id, reset.state),
        (0, None, CheckpointState::CatchingUp)
    );
    let err = t
        .store
        .save_checkpoint(&CheckpointUpdate {
            projector_name: String::new(),
            ..update(1, CheckpointState::CaughtUp)
        })
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].path, "/projectorName");

    // A stopped projector is retryable, as the status says: the engine and the screens agree.
    t.store
        .save_checkpoint(&update(2, CheckpointState::Stopped))
        .await
        .unwrap();
    let status = t
        .store
        .projector_status(&owner(), Some(P), &["aggregate_index"])
        .await
        .unwrap();
    assert_eq!(
        (status[0].state, status[0].retryable),
        (CheckpointState::Stopped, true)
    );
    t.store
        .retry_projector(&owner(), P, "aggregate_index")
        .await
        .expect("a stopped projector can be retried");
    let retried = t
        .store
        .projector_status(&owner(), Some(P), &["aggregate_index"])
        .await
        .unwrap();
    assert_eq!(
        (retried[0].state, retried[0].retryable),
        (CheckpointState::CatchingUp, false)
    );
}

pub async fn expected_version_conflicts_under_concurrency(backend: Backend) {
    let t = Arc::new(TestStore::new(backend).await);
    t.practice_with_staff(P, "owner-1").await;
    t.store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    // Many writers race for each next version; exactly one may win each.
    const WRITERS: usize = 8;
    const ROUNDS: i64 = 6;
    for round in 0..ROUNDS {
        let expected = 1 + round;
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                let e = patient_updated(P, "pat-1", json!({"notes": format!("writer {w}")}))
                    .expecting_version(expected);
                t.store.append(&owner(), e).await
            }));
        }
        let mut wins = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(e) => {
                    wins += 1;
                    assert_eq!(e.version, expected + 1);
                }
                Err(Error::VersionConflict {
                    expected: e,
                    current,
                    ..
                }) => {
                    assert_eq!(
                        (e, current),
                        (expected, expected + 1),
                        "the conflict carries the current version"
                    );
                }
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!(
            wins,
            1,
            "round {round}: exactly one writer wins version {}",
            expected + 1
        );
    }
    let page = t
        .store
        .aggregate_events(&owner(), P, "patient", "pat-1", None, &pr(None, None))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|e| e.version).collect::<Vec<_>>(),
        (1..=ROUNDS + 1).collect::<Vec<_>>()
    );
    assert!(t.store.verify_chain(&owner(), P).await.unwrap().is_intact());
}

pub async fn retry_with_the_same_id_is_idempotent(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let id = "0190f1b2-0000-7000-8000-000000000001";
    let first = t
        .store
        .append(&owner(), patient(P, "pat-1", "Ann").with_id(id))
        .await
        .unwrap();
    let before = head_seq(&t, P).await;
    let retry = t
        .store
        .append(&owner(), patient(P, "pat-1", "Ann").with_id(id))
        .await
        .unwrap();
    assert_eq!(retry, first, "a retry returns the stored event");
    assert_eq!(head_seq(&t, P).await, before, "and writes nothing");
    let err = t
        .store
        .append(&owner(), patient(P, "pat-1", "Different").with_id(id))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { .. }),
        "same id, other content: {err}"
    );
    let twice = vec![
        patient(P, "a", "A").with_id("dup"),
        patient(P, "b", "B").with_id("dup"),
    ];
    let err = t.store.append_batch(&owner(), twice).await.unwrap_err();
    assert!(matches!(err, Error::InBatch { index: 1, .. }), "{err}");
    assert_eq!(err.violations()[0].path, "/events/1/id");
    let err = t
        .store
        .append(
            &Principal::user("mallory"),
            patient(P, "pat-1", "Ann").with_id(id),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::PracticeNotFound { .. }),
        "a non-member's retry learns nothing: {err}"
    );

    // Every field that defines the event makes a reuse of the id a conflict, not a retry.
    let mut other_aggregate = patient(P, "pat-9", "Ann").with_id(id);
    other_aggregate.aggregate_id = "pat-9".into();
    let other_type = patient_updated(P, "pat-1", json!({"notes": "x"})).with_id(id);
    let mut other_actor = patient(P, "pat-1", "Ann").with_id(id);
    other_actor.actor_type = ActorType::Ai;
    other_actor.actor_id = Some("triage-bot".into());
    let other_author = patient(P, "pat-1", "Ann").with_id(id);
    for (what, principal, event) in [
        ("another aggregate", owner(), other_aggregate),
        ("another event type", owner(), other_type),
        ("another actor", owner(), other_actor),
        ("another author", Principal::user("admin-1"), other_author),
    ] {
        let err = t.store.append(&principal, event).await.unwrap_err();
        assert!(
            matches!(err, Error::Conflict { .. }),
            "same id, {what}: a conflict, got {err}"
        );
    }
    assert_eq!(head_seq(&t, P).await, before, "none of them was written");

    // Ids are unique per practice (ADR 0002): the same client id in another practice is
    // another event, and learns nothing about the first.
    t.practice_with_staff("prac-2", "owner-1").await;
    let elsewhere = t
        .store
        .append(&owner(), patient("prac-2", "pat-1", "Ann").with_id(id))
        .await
        .expect("the same id in another practice is a new event");
    assert_eq!(elsewhere.practice_id, "prac-2");
    assert_ne!(elsewhere.hash, first.hash);
}

pub async fn batches_are_all_or_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let before = head_seq(&t, P).await;
    let mut batch: Vec<NewEvent> = (0..5).map(|i| patient(P, &format!("b-{i}"), "A")).collect();
    batch[3].payload = json!({"firstName": "NoLastName", "dateOfBirth": "1990-01-01"});
    let err = t.store.append_batch(&owner(), batch).await.unwrap_err();
    assert!(
        matches!(err, Error::InBatch { index: 3, .. }),
        "names the refused event: {err}"
    );
    assert!(
        err.violations()
            .iter()
            .any(|v| v.path == "/events/3/payload"),
        "{:?}",
        err.violations()
    );
    let mut conflict: Vec<NewEvent> = (0..3).map(|i| patient(P, &format!("c-{i}"), "A")).collect();
    conflict.push(patient_updated(P, "c-0", json!({"notes": "x"})).expecting_version(5));
    let err = t.store.append_batch(&owner(), conflict).await.unwrap_err();
    assert!(
        matches!(err.root(), Error::VersionConflict { current: 1, .. }),
        "in-batch versions count: {err}"
    );
    let mixed = vec![
        patient(P, "d-1", "A"),
        patient("other-practice", "d-2", "B"),
    ];
    let err = t.store.append_batch(&owner(), mixed).await.unwrap_err();
    assert_eq!(err.violations()[0].path, "/events/1/practiceId");
    let err = t.store.append_batch(&owner(), vec![]).await.unwrap_err();
    assert_eq!(err.violations()[0].path, "/events");
    assert_eq!(
        head_seq(&t, P).await,
        before,
        "no event of any refused batch was written"
    );
    let ok: Vec<NewEvent> = (0..1200)
        .map(|i| patient(P, &format!("ok-{i}"), "A"))
        .collect();
    let stored = t.store.append_batch(&owner(), ok).await.unwrap();
    assert_eq!(stored.len(), 1200);
    assert_eq!(
        stored.last().unwrap().seq,
        before + 1200,
        "a batch larger than one INSERT chunk and one context statement (SQLite: 500 compound terms) lands whole"
    );
    assert!(t.store.verify_chain(&owner(), P).await.unwrap().is_intact());
}

/// A column whose type was changed under the store (by whoever owns the database) fails
/// the read and names the column, instead of being read as something else. PostgreSQL's pages
/// check a result's column types once for all its rows; SQLite checks every value.
pub async fn a_column_retyped_under_the_store_fails_the_read_naming_it(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    for n in 0..3 {
        t.store
            .append(&owner(), patient(P, &format!("pat-{n}"), "Ann"))
            .await
            .unwrap();
    }
    let read = async |store: &chronicle::Store| {
        store
            .timeline(
                &owner(),
                P,
                &TimelineFilter::default(),
                Direction::Forward,
                &pr(None, None),
            )
            .await
    };
    assert_eq!(
        read(&t.store).await.unwrap().items.len(),
        8,
        "readable before"
    );
    let retype = match backend {
        // SQLite keeps a type per value: a BLOB where a time was.
        Backend::Sqlite => {
            "DROP TRIGGER events_reject_update; UPDATE events SET created_at = X'00' WHERE seq = 3"
        }
        Backend::Postgres => "ALTER TABLE events ALTER COLUMN created_at TYPE TEXT",
    };
    t.raw(retype).await.unwrap();
    // A connection that prepared the page before may meet PostgreSQL's own refusal ("cached
    // plan must not change result type"); either way nothing is read.
    read(&t.store)
        .await
        .expect_err("a retyped column is not read");
    // A store opened after the change prepares afresh, and its check names the column.
    let fresh = chronicle::Store::open(&t.url)
        .await
        .expect("a second store on the same database");
    let error = read(&fresh)
        .await
        .expect_err("a retyped column is not read");
    assert!(
        error.to_string().contains("created_at"),
        "names the column: {error}"
    );
    fresh.close().await;
}

pub async fn hash_chain_detects_an_edited_payload_and_a_deleted_event(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let target = t
        .store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    t.store
        .append(&owner(), patient(P, "pat-2", "Ben"))
        .await
        .unwrap();
    let (drop_triggers, restore) = match backend {
        Backend::Sqlite => (
            "DROP TRIGGER events_reject_update; DROP TRIGGER events_reject_delete;",
            None,
        ),
        Backend::Postgres => (
            "ALTER TABLE events DISABLE TRIGGER events_reject_update_delete",
            Some("ALTER TABLE events ENABLE TRIGGER events_reject_update_delete"),
        ),
    };
    t.raw(drop_triggers).await.unwrap();
    let edited = serde_json::to_string(
        &json!({"dateOfBirth": "1990-05-17", "firstName": "Eve", "lastName": "Smith"}),
    )
    .unwrap();
    t.raw(&format!(
        "UPDATE events SET payload_json = '{edited}' WHERE id = '{}'",
        target.id
    ))
    .await
    .unwrap();
    let report = t.store.verify_chain(&owner(), P).await.unwrap();
    let broken = report
        .first_break
        .expect("an edited payload breaks the chain");
    assert_eq!(
        (broken.seq, broken.event_id.as_deref()),
        (target.seq, Some(target.id.as_str())),
        "names the edited event"
    );
    assert_eq!(report.events_checked, target.seq - 1);

    let t2 = TestStore::new(backend).await;
    t2.practice_with_staff(P, "owner-1").await;
    let gone = t2
        .store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    t2.store
        .append(&owner(), patient(P, "pat-2", "Ben"))
        .await
        .unwrap();
    t2.raw(drop_triggers).await.unwrap();
    t2.raw(&format!("DELETE FROM events WHERE id = '{}'", gone.id))
        .await
        .unwrap();
    let broken = t2
        .store
        .verify_chain(&owner(), P)
        .await
        .unwrap()
        .first_break
        .expect("a deleted event breaks the chain");
    assert_eq!(
        broken.seq, gone.seq,
        "the gap is found where the event was: {broken:?}"
    );

    // The last event deleted: no gap in seq, but the head no longer matches.
    let t3 = TestStore::new(backend).await;
    t3.practice_with_staff(P, "owner-1").await;
    let last = t3
        .store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    t3.raw(drop_triggers).await.unwrap();
    t3.raw(&format!("DELETE FROM events WHERE id = '{}'", last.id))
        .await
        .unwrap();
    let report = t3.store.verify_chain(&owner(), P).await.unwrap();
    let broken = report
        .first_break
        .expect("a deleted last event breaks the chain at the head");
    assert_eq!(
        broken.seq, last.seq,
        "the head names the missing last event: {broken:?}"
    );
    assert_eq!(report.events_checked, last.seq - 1);
    if let Some(sql) = restore {
        t.raw(sql).await.unwrap();
    }
}

pub async fn system_principal_bypasses_membership_but_not_validation(backend: Backend) {
    let t = TestStore::new(backend).await;
    let mut e = patient("sys-prac", "pat-1", "Ann");
    let err = t
        .store
        .append(&Principal::System, e.clone())
        .await
        .unwrap_err();
    assert_eq!(
        err.violations()[0].path,
        "/actorId",
        "the system must name the human actor: {err}"
    );
    e.actor_id = Some("nurse-1".into());
    let stored = t
        .store
        .append(&Principal::System, e)
        .await
        .expect("no membership needed");
    assert_eq!(stored.seq, 1);
    let mut bad = patient("sys-prac", "pat-2", "Ann");
    bad.actor_type = ActorType::System;
    bad.payload = json!({});
    assert!(matches!(
        t.store.append(&Principal::System, bad).await,
        Err(Error::InvalidPayload { .. })
    ));
    let mut old = patient("sys-prac", "pat-3", "Old").with_actor_id("nurse-1");
    old.created_at = Some(chrono::Utc::now() - chrono::Duration::days(400));
    let err = t.store.append(&Principal::System, old).await.unwrap_err();
    assert_eq!(
        err.violations()[0].path,
        "/createdAt",
        "imported time cannot go backwards: {err}"
    );
    let visible = t.store.practices(&Principal::System).await.unwrap();
    assert_eq!(visible.len(), 1);
}

pub async fn reopening_a_store_keeps_its_events(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let last = t
        .store
        .append(&owner(), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    t.store.close().await;
    let reopened = chronicle::Store::open(&t.url).await.expect("reopen");
    let again = reopened
        .event(&owner(), P, &last.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, last);
    assert!(reopened.schema_version().await.unwrap() >= 20261126000001);
    let next = reopened
        .append(&owner(), patient(P, "pat-2", "Ben"))
        .await
        .unwrap();
    assert_eq!(next.seq, last.seq + 1, "seq continues after reopening");
}

pub async fn demo_data_is_deterministic_and_valid(backend: Backend) {
    let options = chronicle::demo::DemoOptions {
        practices: 2,
        events_per_practice: 400,
        seed: 42,
        end: chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
        ..Default::default()
    };
    let a = TestStore::new(backend).await;
    let b = TestStore::new(Backend::Sqlite).await;
    let ids_a = chronicle::demo::seed(&a.store, &options)
        .await
        .expect("demo data passes every rule");
    let ids_b = chronicle::demo::seed(&b.store, &options).await.unwrap();
    assert_eq!(ids_a, ids_b, "same seed, same practices");
    let heads_a = a.store.practices(&Principal::System).await.unwrap();
    let heads_b = b.store.practices(&Principal::System).await.unwrap();
    assert_eq!(
        heads_a
            .iter()
            .map(|p| (&p.head_hash, p.event_count))
            .collect::<Vec<_>>(),
        heads_b
            .iter()
            .map(|p| (&p.head_hash, p.event_count))
            .collect::<Vec<_>>(),
        "same seed, same chain heads"
    );
    let owner = Principal::user(chronicle::demo::DEMO_USERS[0].0);
    let mine = a.store.practices(&owner).await.unwrap();
    assert_eq!(
        mine.len(),
        2,
        "the demo owner is a member of every demo practice"
    );
    let ai = TimelineFilter {
        actor_type: Some(ActorType::Ai),
        ..Default::default()
    };
    assert!(
        !a.store
            .timeline(&owner, &ids_a[0], &ai, Direction::Forward, &pr(None, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

pub async fn extra_registry_folder_adds_types(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("invoice.issued.json"),
        r#"{"x-event-type": "invoice.issued", "x-aggregate-type": "invoice", "title": "Invoice issued",
            "description": "A bill.", "type": "object", "required": ["amountPence"],
            "properties": {"amountPence": {"type": "integer", "minimum": 0}}}"#,
    )
    .unwrap();
    let options = StoreOptions {
        registry_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let t = TestStore::with_options(backend, options).await;
    t.practice_with_staff(P, "owner-1").await;
    let e = NewEvent::new(
        P,
        "invoice",
        "inv-1",
        "invoice.issued",
        json!({"amountPence": 1250}),
        ActorType::System,
    );
    t.store
        .append(&owner(), e)
        .await
        .expect("extra type is registered");
    std::fs::write(
        dir.path().join("patient.created.json"),
        r#"{"x-event-type": "patient.created", "x-aggregate-type": "patient", "title": "t", "description": "d"}"#,
    )
    .unwrap();
    let err = chronicle::Registry::with_extra_dir(dir.path()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("builtin:patient.created.json") && text.contains("patient.created.json"),
        "names both files: {text}"
    );
    std::fs::remove_file(dir.path().join("patient.created.json")).unwrap();
    std::fs::write(
        dir.path().join("wrong-name.json"),
        r#"{"x-event-type": "a.b", "x-aggregate-type": "a", "title": "t", "description": "d"}"#,
    )
    .unwrap();
    let err = chronicle::Registry::with_extra_dir(dir.path()).unwrap_err();
    assert!(err.to_string().contains("must be a.b.json"), "{err}");
}

pub async fn payloads_read_back_exactly_as_appended(backend: Backend) {
    // Every read returns the payload the append answered with, whatever JSON it holds: pages
    // are read as JSON text on SQLite, rows on PostgreSQL.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("note.taken.json"),
        r#"{"x-event-type": "note.taken", "x-aggregate-type": "note", "title": "Note taken",
            "description": "Anything.", "type": "object"}"#,
    )
    .unwrap();
    let options = StoreOptions {
        registry_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let t = TestStore::with_options(backend, options).await;
    t.practice_with_staff(P, "owner-1").await;
    let payloads = [
        json!({"text": "é 日本 😀 \"quoted\" back\\slash\ttab\nline\r", "": "", "ключ": []}),
        json!({"floats": [1.5, 0.1, 1e-7, -2.5e30, 1.0], "ints": [0, -1, 9007199254740991_i64, -9007199254740991_i64]}),
        json!({"nested": {"a": [{"b": {"c": [null, true, false, {}]}}]}, "z": null}),
        json!({"html": "<script>alert(1)</script>", "unicodeEscapes": "\u{2028}\u{2029}\u{7f}"}),
    ];
    let mut stored = Vec::new();
    for (n, payload) in payloads.iter().enumerate() {
        let event = NewEvent::new(
            P,
            "note",
            "n-1",
            "note.taken",
            payload.clone(),
            ActorType::Human,
        );
        let appended = t.store.append(&owner(), event).await.unwrap();
        assert_eq!(appended.version, n as i64 + 1);
        stored.push(appended);
    }
    let by_aggregate = t
        .store
        .aggregate_events(&owner(), P, "note", "n-1", None, &pr(None, None))
        .await
        .unwrap()
        .items;
    let by_type = t
        .store
        .events_by_type(&owner(), P, "note.taken", &pr(None, None))
        .await
        .unwrap()
        .items;
    let filter = TimelineFilter {
        aggregate_type: Some("note".into()),
        ..TimelineFilter::default()
    };
    let forward = t
        .store
        .timeline(&owner(), P, &filter, Direction::Forward, &pr(None, None))
        .await
        .unwrap()
        .items;
    let mut backward = t
        .store
        .timeline(&owner(), P, &filter, Direction::Backward, &pr(None, None))
        .await
        .unwrap()
        .items;
    backward.reverse();
    for (what, read) in [
        ("aggregate", &by_aggregate),
        ("type", &by_type),
        ("timeline", &forward),
        ("timeline backwards", &backward),
    ] {
        assert_eq!(read, &stored, "read by {what}");
    }
    for event in &stored {
        let one = t.store.event(&owner(), P, &event.id).await.unwrap();
        assert_eq!(one.as_ref(), Some(event));
    }
    assert_eq!(
        stored[1].payload["floats"][4],
        json!(1),
        "1.0 is stored as 1"
    );
    assert!(t.store.verify_chain(&owner(), P).await.unwrap().is_intact());
}
