//! Generating events from the schemas into a practice, through the batch append.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chronicle::Principal;
use chronicle::generate::{SeedOptions, seed_practice};

use crate::support::{Backend, TestStore};

const P: &str = "prac-gen";

fn options(types: &[&str], count: usize, seed: u64) -> SeedOptions {
    let mut options = SeedOptions::new(types.iter().map(|t| t.to_string()).collect(), count, seed);
    options.batch_size = 100;
    options
}

pub async fn generated_aggregates_start_with_their_opening_event(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let before = t.all_events(P).await.len();
    let owner = Principal::user("owner-1");
    let never = AtomicBool::new(false);
    let mut heard = Vec::new();
    let outcome = seed_practice(
        &t.store,
        &owner,
        P,
        &options(
            &[
                "patient.updated",
                "appointment.status_changed",
                "membership.created",
                "membership.role_changed",
                "task.created",
            ],
            1000,
            21,
        ),
        &mut |written, total| heard.push((written, total)),
        &never,
    )
    .await
    .expect("every generated event is accepted by the append");
    assert_eq!(outcome.written, 1000);
    assert!(!outcome.canceled);
    assert_eq!(outcome.counts.values().sum::<usize>(), 1000);
    assert_eq!(heard.len(), 10, "one report per batch of 100: {heard:?}");
    assert_eq!(heard.last(), Some(&(1000, 1000)));

    let events = t.all_events(P).await;
    assert_eq!(events.len(), before + 1000);
    let mut first_of: BTreeMap<(String, String), String> = BTreeMap::new();
    for event in &events[before..] {
        first_of
            .entry((event.aggregate_type.clone(), event.aggregate_id.clone()))
            .or_insert_with(|| event.event_type.clone());
    }
    for ((aggregate_type, id), first) in &first_of {
        let wanted = match aggregate_type.as_str() {
            "patient" => "patient.created",
            "appointment" => "appointment.requested",
            "membership" => "membership.created",
            _ => continue,
        };
        let pre_existing = events[..before]
            .iter()
            .any(|e| &e.aggregate_type == aggregate_type && &e.aggregate_id == id);
        if !pre_existing {
            assert_eq!(
                first, wanted,
                "{aggregate_type}/{id} starts with its opening event"
            );
        }
    }
    let members = t.store.practice_members(&owner, P).await.unwrap();
    let owners: Vec<_> = members
        .iter()
        .filter(|m| m.role == chronicle::Role::Owner)
        .collect();
    assert_eq!(owners.len(), 1, "the seed grants no ownership: {owners:?}");
    assert_eq!(owners[0].user_id, "owner-1", "nor takes the caller's away");
    assert!(t.store.verify_chain(&owner, P).await.unwrap().is_intact());
}

pub async fn a_canceled_generation_keeps_the_batches_written_before(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let before = t.all_events(P).await.len();
    let cancel = AtomicBool::new(false);
    let outcome = seed_practice(
        &t.store,
        &Principal::System,
        P,
        &options(&["patient.created"], 1000, 1),
        &mut |_, _| cancel.store(true, Ordering::Relaxed),
        &cancel,
    )
    .await
    .unwrap();
    assert!(outcome.canceled);
    assert_eq!(outcome.written, 100, "the first batch, then the stop");
    assert_eq!(t.all_events(P).await.len(), before + 100);
}

pub async fn generation_is_refused_like_the_append_it_makes(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let never = AtomicBool::new(false);
    let run = |caller: &'static str, types: &'static [&'static str], count: usize| {
        let store = t.store.clone();
        let never = &never;
        async move {
            seed_practice(
                &store,
                &Principal::user(caller),
                P,
                &options(types, count, 1),
                &mut |_, _| {},
                never,
            )
            .await
            .unwrap_err()
        }
    };
    let before = t.all_events(P).await.len();
    let error = run("viewer-1", &["patient.created"], 10).await;
    assert_eq!(error.code(), chronicle::ErrorCode::Forbidden, "{error}");
    let error = run("desk-1", &["membership.created"], 10).await;
    assert_eq!(error.code(), chronicle::ErrorCode::Forbidden, "{error}");
    let error = run("stranger", &["patient.created"], 10).await;
    assert_eq!(
        error.code(),
        chronicle::ErrorCode::PracticeNotFound,
        "{error}"
    );
    let error = run("owner-1", &["patient.created"], 0).await;
    assert_eq!(error.violations()[0].path, "/count");
    let error = run("owner-1", &["patient.crated"], 10).await;
    assert!(error.to_string().contains("patient.created"), "{error}");
    assert_eq!(
        t.all_events(P).await.len(),
        before,
        "nothing refused was written"
    );
}

/// Regression: a second run with the same seed drew the same "fresh" ids, so it added to the
/// first run's aggregates and a membership.created clashed with an existing member.
pub async fn the_same_seed_twice_on_one_practice_makes_new_aggregates(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let owner = Principal::user("owner-1");
    let never = AtomicBool::new(false);
    for _ in 0..2 {
        seed_practice(
            &t.store,
            &owner,
            P,
            &options(&["membership.created", "patient.created"], 40, 7),
            &mut |_, _| {},
            &never,
        )
        .await
        .expect("the second run is accepted too");
    }
    let events = t.all_events(P).await;
    let created: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "patient.created" || e.event_type == "membership.created")
        .collect();
    assert!(
        created.iter().all(|e| e.version == 1),
        "every generated creation opens a new aggregate"
    );
}

/// The next batch is generated while the store writes the last one; the events must still be
/// exactly those of generating in turn: same seed and time, same events in the same order.
pub async fn the_same_seed_and_time_give_the_same_events_on_two_stores(backend: Backend) {
    let mut stored = Vec::new();
    for store_backend in [backend, Backend::Sqlite] {
        let t = TestStore::new(store_backend).await;
        t.practice_with_staff(P, "owner-1").await;
        let mut options = options(&[], 750, 99);
        options.now = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let outcome = seed_practice(
            &t.store,
            &Principal::user("owner-1"),
            P,
            &options,
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
        assert_eq!(outcome.written, 750);
        let events: Vec<_> = t
            .all_events(P)
            .await
            .into_iter()
            .map(|e| {
                (
                    e.aggregate_type,
                    e.aggregate_id,
                    e.version,
                    e.event_type,
                    e.payload,
                )
            })
            .collect();
        stored.push(events);
    }
    assert_eq!(stored[0].len(), stored[1].len());
    for (index, (a, b)) in stored[0].iter().zip(&stored[1]).enumerate() {
        assert_eq!(a, b, "event {index} differs between the two stores");
    }
}
