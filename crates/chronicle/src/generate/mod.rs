//! Test data from the registry's schemas: [`PayloadGenerator`] makes a valid payload for any
//! registered type from its JSON Schema alone, and [`seed_practice`] fills a practice with
//! events of chosen types, through the store's ordinary batch append, so every generated
//! event is validated, access-checked and chained like any other.
//!
//! Lifecycles: an aggregate type's *opening* type is `TYPE.created` where registered (else
//! the first of `requested`, `registered`, `opened`, `started`, `proposed`, `queued`).
//! Generated aggregates start with it: a later type is appended to an existing aggregate
//! of its type, or to a fresh one right after that one's opening event.
//!
//! Fresh aggregates get version-7 UUIDs (time-ordered from `now`), and a later event goes to
//! one of its type's most recently made aggregates.
//!
//! Deterministic: the same seed, options, time and practice contents give the same
//! payloads, aggregate ids and event order (the store still sets ids, times and hashes).

mod payload;
mod words;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

pub use self::payload::{PayloadGenerator, References, Unsupported};
use crate::access::MEMBERSHIP_EVENT_TYPES;
use crate::error::{Error, Result};
use crate::model::{ActorType, NewEvent, Principal};
use crate::registry::{EventType, Registry};
use crate::store::{AggregateFilter, Direction, PageRequest, Store, TimelineFilter, Work};

/// The most events one call may generate.
pub const MAX_GENERATED_EVENTS: usize = 100_000;
/// Events per append batch (the store's own cap applies when lower).
pub const GENERATE_BATCH: usize = 2_000;
/// Existing aggregates read to refer to, at most.
const KNOWN_AGGREGATES: usize = 20_000;
/// How often a later event goes to an existing aggregate rather than a fresh one.
const REUSE_AGGREGATE: f64 = 0.85;
/// A later event goes to one of the type's most recent aggregates, as activity does (an
/// appointment is booked, confirmed and completed within days), not to any of all time.
const RECENT_AGGREGATES: usize = 256;
/// After `created`, the suffixes that open an aggregate's life, in order of preference.
const OPENING_SUFFIXES: [&str; 7] = [
    "created",
    "requested",
    "registered",
    "opened",
    "started",
    "proposed",
    "queued",
];
/// Aggregate types whose ids read as user ids rather than UUIDs.
const PERSON_AGGREGATES: [&str; 2] = ["user", "membership"];

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Event types to generate; empty means every registered type except the practice's own
    /// and membership types (which change who may do what).
    pub event_types: Vec<String>,
    /// How many events, 1 to [`MAX_GENERATED_EVENTS`], opening events included.
    pub count: usize,
    /// Random seed.
    pub seed: u64,
    /// Dates "near now" are near this time.
    pub now: DateTime<Utc>,
    /// Events per append batch.
    pub batch_size: usize,
}

impl SeedOptions {
    /// `count` events of `event_types` from `seed`, near the current time.
    pub fn new(event_types: Vec<String>, count: usize, seed: u64) -> Self {
        Self {
            event_types,
            count,
            seed,
            now: Utc::now(),
            batch_size: GENERATE_BATCH,
        }
    }
}

/// What [`seed_practice`] wrote.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeedOutcome {
    /// Events written (all of them unless canceled).
    pub written: usize,
    /// Events written per event type, by name.
    pub counts: BTreeMap<String, usize>,
    /// Stopped early by the cancel flag; every batch written before stays.
    pub canceled: bool,
}

/// Generates `options.count` events into `practice_id` as `caller`, in batches through
/// [`Store::append_batch`]. `progress` hears (written, total) after each batch; setting
/// `cancel` stops before the next batch. A practice without events is first created (a
/// `practice.created`, which makes a user caller its owner).
pub async fn seed_practice(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    options: &SeedOptions,
    progress: &mut (dyn FnMut(usize, usize) + Send),
    cancel: &AtomicBool,
) -> Result<SeedOutcome> {
    if options.count == 0 || options.count > MAX_GENERATED_EVENTS {
        return Err(Error::invalid(
            "/count",
            format!(
                "generates 1 to {MAX_GENERATED_EVENTS} events at a time; {} asked",
                options.count
            ),
        ));
    }
    let registry = store.registry();
    let plan = TypePlan::new(registry, &options.event_types)?;
    let exists = !store
        .timeline(
            &Principal::System,
            practice_id,
            &TimelineFilter::default(),
            Direction::Forward,
            &PageRequest::first(1),
        )
        .await?
        .items
        .is_empty();
    let mut references = References::default();
    if exists {
        load_references(store, caller, practice_id, &mut references).await?;
    }
    let batch_size = options
        .batch_size
        .clamp(1, store.options().max_batch_events.max(1));
    // The next batch is generated, and given the checks that need no database
    // (`Store::prepare_batch`), on a thread of its own while the store writes this one; the
    // batches, and so the events, are the same as generated in turn.
    let (batches, mut next_batch) = tokio::sync::mpsc::channel::<Result<Work>>(1);
    let producer = {
        let store = store.clone();
        let practice_id = practice_id.to_string();
        let (seed, now, count) = (options.seed, options.now, options.count);
        let own_user = caller.user_id().map(str::to_string);
        let caller = caller.clone();
        let actor = match caller {
            Principal::User(_) => ActorType::Human,
            Principal::System => ActorType::System,
        };
        tokio::task::spawn_blocking(move || {
            let mut generator = Generator {
                registry: store.registry(),
                plan,
                payloads: PayloadGenerator::new(now),
                references,
                rng: ChaCha8Rng::seed_from_u64(seed),
                practice_id: &practice_id,
                actor,
                own_user,
                pending: Vec::new(),
                fresh_ids: 0,
            };
            if !exists && let Err(why) = generator.open_practice() {
                let _ = batches.blocking_send(Err(why));
                return;
            }
            let mut left = count;
            while left > 0 {
                let wanted = batch_size.min(left);
                left -= wanted;
                let batch = generator
                    .batch(wanted)
                    .and_then(|events| store.prepare_batch(&caller, events));
                let failed = batch.is_err();
                // A closed channel means the caller stopped: canceled, or an append failed.
                if batches.blocking_send(batch).is_err() || failed {
                    return;
                }
            }
        })
    };
    let mut outcome = SeedOutcome::default();
    while outcome.written < options.count {
        if cancel.load(Ordering::Relaxed) {
            outcome.canceled = true;
            break;
        }
        let Some(batch) = next_batch.recv().await else {
            break;
        };
        let stored = store.append_prepared(batch?).await?;
        outcome.written += stored.len();
        for event in stored {
            *outcome.counts.entry(event.event_type).or_default() += 1;
        }
        progress(outcome.written, options.count);
    }
    drop(next_batch);
    if let Err(stopped) = producer.await
        && stopped.is_panic()
    {
        std::panic::resume_unwind(stopped.into_panic());
    }
    Ok(outcome)
}

/// The types to draw from and each aggregate type's opening type.
struct TypePlan {
    drawn: Vec<String>,
    openings: BTreeMap<String, String>,
}

impl TypePlan {
    fn new(registry: &Registry, wanted: &[String]) -> Result<Self> {
        let mut drawn = Vec::new();
        if wanted.is_empty() {
            drawn.extend(
                registry
                    .types()
                    .filter(|t| {
                        t.aggregate_type != "practice"
                            && !MEMBERSHIP_EVENT_TYPES.contains(&t.event_type.as_str())
                            && t.appended_by.is_none()
                    })
                    .map(|t| t.event_type.clone()),
            );
        }
        for (index, name) in wanted.iter().enumerate() {
            let found = registry.get(name)?;
            if found.event_type == "practice.created" {
                return Err(Error::invalid(
                    format!("/eventTypes/{index}"),
                    "practice.created is written once, when a practice without events is seeded; leave it out",
                ));
            }
            if let Some(operation) = &found.appended_by {
                return Err(Error::invalid(
                    format!("/eventTypes/{index}"),
                    format!("{name} is appended only by {operation}; leave it out"),
                ));
            }
            if !drawn.contains(&found.event_type) {
                drawn.push(found.event_type.clone());
            }
        }
        let mut openings = BTreeMap::new();
        for event_type in registry.types() {
            let aggregate = &event_type.aggregate_type;
            if openings.contains_key(aggregate) {
                continue;
            }
            if let Some(opening) = OPENING_SUFFIXES
                .iter()
                .map(|suffix| format!("{aggregate}.{suffix}"))
                .find(|name| {
                    registry
                        .get(name)
                        .is_ok_and(|t| &t.aggregate_type == aggregate)
                })
            {
                openings.insert(aggregate.clone(), opening);
            }
        }
        Ok(Self { drawn, openings })
    }
}

/// Reads the practice's aggregates (the most recent first) for fields that refer to one.
async fn load_references(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    references: &mut References,
) -> Result<()> {
    let mut request = PageRequest::first(1000);
    let mut read = 0;
    loop {
        let page = store
            .aggregates(caller, practice_id, &AggregateFilter::default(), &request)
            .await?;
        read += page.items.len();
        for aggregate in page.items {
            references.add(&aggregate.aggregate_type, &aggregate.aggregate_id);
        }
        match page.next_cursor {
            Some(cursor) if read < KNOWN_AGGREGATES => request.cursor = Some(cursor),
            _ => return Ok(()),
        }
    }
}

struct Generator<'a> {
    registry: &'a Registry,
    plan: TypePlan,
    payloads: PayloadGenerator,
    references: References,
    rng: ChaCha8Rng,
    practice_id: &'a str,
    actor: ActorType,
    own_user: Option<String>,
    /// Events decided but not yet handed out (an opening event's follower).
    pending: Vec<NewEvent>,
    /// Fresh UUIDs drawn so far: each is a millisecond after the one before.
    fresh_ids: u64,
}

impl Generator<'_> {
    fn open_practice(&mut self) -> Result<()> {
        let practice_id = self.practice_id.to_string();
        let event = self.event("practice.created", &practice_id)?;
        self.pending.push(event);
        Ok(())
    }

    /// The next `size` events.
    fn batch(&mut self, size: usize) -> Result<Vec<NewEvent>> {
        let mut batch = Vec::with_capacity(size);
        while batch.len() < size {
            if !self.pending.is_empty() {
                batch.push(self.pending.remove(0));
                continue;
            }
            let Some(event_type) = self.plan.drawn.choose(&mut self.rng).cloned() else {
                return Err(Error::invalid("/eventTypes", "no event type to generate"));
            };
            self.next_of(&event_type)?;
        }
        Ok(batch)
    }

    /// Queues one event of `event_type`, after its aggregate's opening event when the
    /// aggregate is new.
    fn next_of(&mut self, event_type: &str) -> Result<()> {
        let registry = self.registry;
        let aggregate_type = &registry.get(event_type)?.aggregate_type;
        if aggregate_type == "practice" {
            let practice_id = self.practice_id.to_string();
            let event = self.event(event_type, &practice_id)?;
            self.pending.push(event);
            return Ok(());
        }
        let opening = self.plan.openings.get(aggregate_type).cloned();
        let opens = opening.as_deref() == Some(event_type);
        let existing = self.existing(aggregate_type);
        // A membership is changed or removed only on a member this seed added: one found in
        // the practice may have been removed since, or be an owner whose removal is refused.
        let reusable = aggregate_type != "membership";
        let aggregate_id = match existing {
            Some(id) if reusable && !opens && self.rng.random_bool(REUSE_AGGREGATE) => id,
            _ => {
                let id = self.fresh_id(aggregate_type);
                if let Some(opening) = opening.filter(|_| !opens) {
                    let first = self.event(&opening, &id)?;
                    self.pending.push(first);
                }
                id
            }
        };
        let event = self.event(event_type, &aggregate_id)?;
        self.pending.push(event);
        Ok(())
    }

    /// An aggregate of the type to add to; never the caller's own membership, so a seed
    /// cannot change the caller's role.
    fn existing(&mut self, aggregate_type: &str) -> Option<String> {
        let ids = self.references.ids(aggregate_type);
        if ids.is_empty() {
            return None;
        }
        let recent = ids.len().saturating_sub(RECENT_AGGREGATES);
        let id = &ids[self.rng.random_range(recent..ids.len())];
        (Some(id) != self.own_user.as_ref()).then(|| id.clone())
    }

    /// An id no aggregate of the type has yet: a second run with the same seed on the same
    /// practice draws the same ids first, and must not add to (or, for a membership, clash
    /// with) what the first run made.
    fn fresh_id(&mut self, aggregate_type: &str) -> String {
        loop {
            let id = if PERSON_AGGREGATES.contains(&aggregate_type) {
                payload::person_handle(&mut self.rng)
            } else {
                self.fresh_ids += 1;
                payload::time_ordered_uuid(self.payloads.now(), self.fresh_ids, &mut self.rng)
            };
            if !self.references.contains(aggregate_type, &id) {
                return id;
            }
        }
    }

    /// One event on an aggregate, its payload generated from the type's schema; the
    /// aggregate is remembered for later references.
    fn event(&mut self, event_type: &str, aggregate_id: &str) -> Result<NewEvent> {
        let registry = self.registry;
        let EventType {
            aggregate_type,
            schema,
            ..
        } = registry.get(event_type)?;
        let mut payload = self
            .payloads
            .payload(schema, &self.references, &mut self.rng)
            .map_err(|why| {
                Error::invalid(
                    "/eventTypes",
                    format!("cannot generate a {event_type} payload from its schema {why}"),
                )
            })?;
        let mut aggregate_id = aggregate_id.to_string();
        if MEMBERSHIP_EVENT_TYPES.contains(&event_type) {
            // A membership's aggregate is its member; the seed never hands out ownership, so
            // an admin can seed too and no practice gains owners by accident.
            payload["userId"] = Value::String(aggregate_id.clone());
            if payload.get("role").and_then(Value::as_str) == Some("owner") {
                payload["role"] = Value::String("frontdesk".into());
            }
            if payload.get("previousRole").and_then(Value::as_str) == Some("owner") {
                payload["previousRole"] = Value::String("admin".into());
            }
        } else if aggregate_type == "practice" {
            aggregate_id = self.practice_id.to_string();
        }
        self.references.add(aggregate_type, &aggregate_id);
        let mut event = NewEvent::new(
            self.practice_id,
            aggregate_type.clone(),
            aggregate_id,
            event_type,
            payload,
            self.actor,
        );
        if self.actor == ActorType::Human {
            event.actor_id = self.own_user.clone();
        }
        Ok(event)
    }
}
