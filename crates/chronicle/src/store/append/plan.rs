//! The pure half of an append: given what the store read in the write transaction (an
//! [`AppendContext`]) and the events that passed their own checks ([`Prepared`]), [`plan`]
//! decides access, idempotency, versions, seq, createdAt and hashes. No database here, so
//! every rule is tested without one (see the tests below).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::access::{RoleChange, authorize_actor, authorize_append};
use crate::chain::{HashedFields, ZERO_HASH, canonical_json, chain_hash};
use crate::error::{Error, Result};
use crate::export::ExportDigest;
use crate::model::{ActorType, Event, NewEvent, Principal, Role, STORE_RECORDER};

/// An event that passed the checks that need no database.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(super) event: NewEvent,
    pub(super) payload: Value,
    pub(super) payload_json: String,
    /// For membership events: whose role, and which role (`None`: removed).
    pub(super) membership: Option<(String, Option<Role>)>,
    /// Appended for a member who may only read (the record of their export).
    pub(super) by_reader: bool,
}

/// What the rules need from the database, read inside the write transaction.
#[derive(Debug)]
pub(crate) struct AppendContext {
    pub head_seq: i64,
    pub head_hash: String,
    pub head_time: Option<DateTime<Utc>>,
    /// The export digest's state at the head (see [`ExportDigest::state`]); `None` where the
    /// practice has events from before the store kept it.
    pub head_digest: Option<Vec<u8>>,
    /// Roles of the principal and of every membership event's target.
    pub roles: HashMap<String, Role>,
    /// How many owners the practice has (read only when the batch changes memberships).
    pub owners: i64,
    /// Current version of each stream the batch touches (absent = 0).
    pub versions: HashMap<(String, String), i64>,
    /// Stored events whose ids the batch reuses.
    pub existing: HashMap<String, Event>,
}

impl Default for AppendContext {
    /// The context of a practice without events: seq 0, chaining from [`ZERO_HASH`].
    fn default() -> Self {
        Self {
            head_seq: 0,
            head_hash: ZERO_HASH.to_string(),
            head_time: None,
            head_digest: None,
            roles: HashMap::new(),
            owners: 0,
            versions: HashMap::new(),
            existing: HashMap::new(),
        }
    }
}

/// What became of one input event.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Appended as `rows[index]`.
    Appended(usize),
    /// A retry of an event stored before.
    Existing(Box<Event>),
}

/// What to write and what to answer.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// New rows, in seq order, with their canonical payload text.
    pub rows: Vec<(Event, String)>,
    /// One outcome per input event, in input order.
    pub results: Vec<Outcome>,
    /// Membership read-model changes: (user, role or `None` when removed, seq of the event).
    pub memberships: Vec<(String, Option<Role>, i64)>,
    /// The export digest's state after the new rows (`None` when the context had none).
    pub head_digest: Option<Vec<u8>>,
}

impl Plan {
    /// The stored event for each input, moving the new rows out.
    pub(super) fn into_results(self) -> Vec<Event> {
        let mut rows: Vec<Option<Event>> = self
            .rows
            .into_iter()
            .map(|(event, _)| Some(event))
            .collect();
        self.results
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Appended(index) => rows[index].take().expect("each row answers one input"),
                Outcome::Existing(event) => *event,
            })
            .collect()
    }
}

impl AppendContext {
    /// The context as it is once `plan` is written: what reading it again in the same
    /// transaction would give. Appends that share a commit are planned one after another
    /// against one context read once, so each sees exactly what the ones before it wrote.
    /// Only the stored events whose ids are in `reused_ids` (ids later appends carry) are
    /// kept, so a group without ids copies no event.
    pub(crate) fn advance(&mut self, plan: &Plan, reused_ids: &HashSet<String>) {
        if let Some((last, _)) = plan.rows.last() {
            self.head_seq = last.seq;
            self.head_hash.clone_from(&last.hash);
            self.head_time = Some(last.created_at);
            self.head_digest.clone_from(&plan.head_digest);
        }
        for (event, _) in &plan.rows {
            self.versions.insert(
                (event.aggregate_type.clone(), event.aggregate_id.clone()),
                event.version,
            );
            if reused_ids.contains(event.id.as_str()) {
                self.existing.insert(event.id.clone(), event.clone());
            }
        }
        for (user, granted, _) in &plan.memberships {
            let current = match granted {
                Some(role) => self.roles.insert(user.clone(), *role),
                None => self.roles.remove(user),
            };
            match (current == Some(Role::Owner), *granted == Some(Role::Owner)) {
                (true, false) => self.owners -= 1,
                (false, true) => self.owners += 1,
                _ => {}
            }
        }
    }
}

/// Each member's last change in these plans (the ones that succeeded), in seq order: a batch,
/// or the appends sharing a commit, may change one member twice, and the database accepts
/// only the row its member's last membership event justifies.
pub(super) fn final_memberships(plans: &[Result<Plan>]) -> Vec<(&str, Option<Role>, i64)> {
    let mut last: HashMap<&str, (Option<Role>, i64)> = HashMap::new();
    for plan in plans.iter().filter_map(|p| p.as_ref().ok()) {
        for (user, role, seq) in &plan.memberships {
            last.insert(user, (*role, *seq));
        }
    }
    let mut changes: Vec<_> = last
        .into_iter()
        .map(|(user, (role, seq))| (user, role, seq))
        .collect();
    changes.sort_unstable_by_key(|(_, _, seq)| *seq);
    changes
}

/// The new rows of the plans the rules accepted, in order: what the transaction writes.
pub(super) fn accepted_rows(plans: &[Result<Plan>]) -> Vec<&(Event, String)> {
    plans
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .flat_map(|p| p.rows.iter())
        .collect()
}

/// `error`, as the refusal of the batch's event at `index`.
pub(super) fn in_batch(index: usize, error: Error) -> Error {
    Error::InBatch {
        index,
        source: Box::new(error),
    }
}

/// Decides the whole append from the context: access, idempotency, concurrency, position,
/// time and hash of every event. Pure, so it runs the same on both backends.
pub(crate) fn plan(
    principal: &Principal,
    practice_id: &str,
    context: &AppendContext,
    prepared: Vec<Prepared>,
    now: DateTime<Utc>,
) -> Result<Plan> {
    let now = DateTime::from_timestamp_micros(now.timestamp_micros())
        .expect("current time is representable");
    let mut roles = context.roles.clone();
    let mut owners = context.owners;
    let mut versions = context.versions.clone();
    let mut seq = context.head_seq;
    let mut hash = context.head_hash.clone();
    let mut time = context.head_time;
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut plan = Plan::default();

    for (index, item) in prepared.into_iter().enumerate() {
        let at = |e| in_batch(index, e);
        let event = &item.event;
        let principal_role = principal.user_id().and_then(|u| roles.get(u).copied());
        let creates_practice = event.event_type == "practice.created" && seq == 0;

        if item.by_reader {
            if principal_role.is_none() && matches!(principal, Principal::User(_)) {
                return Err(at(Error::PracticeNotFound {
                    practice_id: practice_id.to_string(),
                }));
            }
        } else if let Principal::User(_) = principal
            && !creates_practice
        {
            let change = item.membership.as_ref().map(|(user, granted)| RoleChange {
                granted: *granted,
                current: roles.get(user).copied(),
            });
            authorize_append(practice_id, principal_role, &event.event_type, change).map_err(at)?;
            authorize_actor(principal_role, event.actor_type).map_err(at)?;
        }

        if let Some(id) = &event.id {
            if let Some(first) = seen_ids.insert(id.clone(), index) {
                return Err(at(Error::invalid(
                    "/id",
                    format!("{id:?} is used twice in this batch (also by event {first})"),
                )));
            }
            if let Some(stored) = context.existing.get(id) {
                if same_content(stored, &item) {
                    plan.results
                        .push(Outcome::Existing(Box::new(stored.clone())));
                    continue;
                }
                return Err(at(Error::Conflict {
                    reason: format!(
                        "event id {id:?} already exists in this practice with different content"
                    ),
                }));
            }
        }

        let stream = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let current = versions.get(&stream).copied().unwrap_or(0);
        if let Some(expected) = event.expected_version
            && expected != current
        {
            return Err(at(Error::VersionConflict {
                aggregate_type: stream.0,
                aggregate_id: stream.1,
                expected,
                current,
            }));
        }
        if event.event_type == "practice.created" && current > 0 {
            return Err(at(Error::Conflict {
                reason: format!("practice {practice_id:?} was already created"),
            }));
        }
        if let Some((user, granted)) = &item.membership {
            let current = roles.get(user).copied();
            match (event.event_type.as_str(), current) {
                ("membership.created", Some(existing)) => {
                    return Err(at(Error::Conflict {
                        reason: format!(
                            "user {user:?} is already a member of this practice (role {existing})"
                        ),
                    }));
                }
                ("membership.role_changed" | "membership.removed", None) => {
                    return Err(at(Error::invalid(
                        "/payload/userId",
                        format!(
                            "user {user:?} is not a member of this practice; append membership.created first"
                        ),
                    )));
                }
                _ => {}
            }
            if current == Some(Role::Owner) && *granted != Some(Role::Owner) {
                if owners <= 1 {
                    let what = if granted.is_some() {
                        "demoted"
                    } else {
                        "removed"
                    };
                    return Err(at(Error::Conflict {
                        reason: format!(
                            "{user:?} is the practice's last owner and cannot be {what}; make someone else owner first"
                        ),
                    }));
                }
                owners -= 1;
            } else if current != Some(Role::Owner) && *granted == Some(Role::Owner) {
                owners += 1;
            }
            match granted {
                Some(role) => roles.insert(user.clone(), *role),
                None => roles.remove(user),
            };
        }

        let created_at = match event.created_at {
            Some(given) => {
                if let Some(last) = time.filter(|last| given < *last) {
                    return Err(at(Error::invalid(
                        "/createdAt",
                        format!(
                            "{given} is earlier than the practice's last event ({last}); time never goes backwards along seq"
                        ),
                    )));
                }
                DateTime::from_timestamp_micros(given.timestamp_micros()).unwrap_or(given)
            }
            None => time.map_or(now, |last| last.max(now)),
        };
        seq += 1;
        let version = current + 1;
        versions.insert(stream, version);
        let stored = seal(
            SealInput {
                id: event
                    .id
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
                practice_id,
                seq,
                version,
                event_type: &event.event_type,
                aggregate_type: &event.aggregate_type,
                aggregate_id: &event.aggregate_id,
                payload: item.payload,
                payload_json: &item.payload_json,
                actor_type: event.actor_type,
                actor_id: event.actor_id.clone(),
                created_at,
                recorded_by: principal.recorder(),
            },
            &hash,
        );
        hash = stored.hash.clone();
        time = Some(created_at);
        if let Some((user, role)) = &item.membership {
            plan.memberships.push((user.clone(), *role, seq));
        }
        plan.results.push(Outcome::Appended(plan.rows.len()));
        plan.rows.push((stored, item.payload_json));

        if creates_practice && let Principal::User(user) = principal {
            // The author of a new practice becomes its owner, in the same transaction.
            seq += 1;
            let stream = ("membership".to_string(), user.clone());
            let version = versions.get(&stream).copied().unwrap_or(0) + 1;
            versions.insert(stream, version);
            let payload = json!({"role": "owner", "userId": user});
            let payload_json = canonical_json(&payload);
            let owner = seal(
                SealInput {
                    id: uuid::Uuid::now_v7().to_string(),
                    practice_id,
                    seq,
                    version,
                    event_type: "membership.created",
                    aggregate_type: "membership",
                    aggregate_id: user,
                    payload,
                    payload_json: &payload_json,
                    actor_type: ActorType::System,
                    actor_id: None,
                    created_at,
                    recorded_by: STORE_RECORDER,
                },
                &hash,
            );
            hash = owner.hash.clone();
            roles.insert(user.clone(), Role::Owner);
            owners += 1;
            plan.memberships
                .push((user.clone(), Some(Role::Owner), seq));
            plan.rows.push((owner, payload_json));
        }
    }
    if !plan.rows.is_empty() {
        // A practice's first events start the digest; after that it continues from the head's.
        let digest = if context.head_seq == 0 {
            Some(ExportDigest::default())
        } else {
            context
                .head_digest
                .as_deref()
                .and_then(ExportDigest::resume)
        };
        plan.head_digest = digest.map(|mut digest| {
            for (event, _) in &plan.rows {
                digest.add(event.seq, &event.hash);
            }
            digest.state()
        });
    }
    Ok(plan)
}

struct SealInput<'a> {
    id: String,
    practice_id: &'a str,
    seq: i64,
    version: i64,
    event_type: &'a str,
    aggregate_type: &'a str,
    aggregate_id: &'a str,
    payload: Value,
    payload_json: &'a str,
    actor_type: ActorType,
    actor_id: Option<String>,
    created_at: DateTime<Utc>,
    recorded_by: &'a str,
}

/// Builds the stored event and its chain hash.
fn seal(input: SealInput<'_>, previous_hash: &str) -> Event {
    let hash = chain_hash(
        previous_hash,
        &HashedFields {
            id: &input.id,
            practice_id: input.practice_id,
            seq: input.seq,
            aggregate_type: input.aggregate_type,
            aggregate_id: input.aggregate_id,
            version: input.version,
            event_type: input.event_type,
            payload_json: input.payload_json,
            actor_type: input.actor_type,
            actor_id: input.actor_id.as_deref(),
            created_at: input.created_at,
            recorded_by: Some(input.recorded_by),
        },
    );
    Event {
        id: input.id,
        practice_id: input.practice_id.to_string(),
        seq: input.seq,
        aggregate_type: input.aggregate_type.to_string(),
        aggregate_id: input.aggregate_id.to_string(),
        version: input.version,
        event_type: input.event_type.to_string(),
        payload: input.payload.into(),
        actor_type: input.actor_type,
        actor_id: input.actor_id,
        created_at: input.created_at,
        hash,
        recorded_by: Some(input.recorded_by.to_string()),
    }
}

/// A retry is the same event if everything the client chose is the same.
fn same_content(stored: &Event, item: &Prepared) -> bool {
    let event = &item.event;
    stored.aggregate_type == event.aggregate_type
        && stored.aggregate_id == event.aggregate_id
        && stored.event_type == event.event_type
        && stored.actor_type == event.actor_type
        && stored.actor_id == event.actor_id
        && stored.payload == item.payload
}

#[cfg(test)]
mod tests {
    //! Each test: given an [`AppendContext`] (what the store read), when these events are
    //! planned, then this plan or this refusal.

    use chrono::TimeDelta;

    use super::*;
    use crate::access::MEMBERSHIP_EVENT_TYPES;

    const PRACTICE: &str = "p1";

    /// The clock the planner is given.
    fn now() -> DateTime<Utc> {
        "2026-03-02T09:30:00.123456Z".parse().unwrap()
    }

    /// The hash at the head of the existing practice in [`member`].
    fn head_hash() -> String {
        "ab".repeat(32)
    }

    fn alice() -> Principal {
        Principal::user("alice")
    }

    /// An existing practice (seven events, the last a minute ago) where alice has `role`
    /// and patient `pa1` is at version 3.
    fn member(role: Option<Role>) -> AppendContext {
        AppendContext {
            head_seq: 7,
            head_hash: head_hash(),
            head_time: Some(now() - TimeDelta::minutes(1)),
            head_digest: None,
            roles: role.map(|r| ("alice".to_string(), r)).into_iter().collect(),
            owners: i64::from(role == Some(Role::Owner)),
            versions: [(("patient".to_string(), "pa1".to_string()), 3)].into(),
            existing: HashMap::new(),
        }
    }

    /// An event by alice, as a human.
    fn by_alice(
        event_type: &str,
        aggregate_type: &str,
        aggregate_id: &str,
        payload: Value,
    ) -> NewEvent {
        let mut event = NewEvent::new(
            PRACTICE,
            aggregate_type,
            aggregate_id,
            event_type,
            payload,
            ActorType::Human,
        );
        event.actor_id = Some("alice".into());
        event
    }

    fn patient_updated(expected_version: Option<i64>) -> NewEvent {
        let mut event = by_alice(
            "patient.updated",
            "patient",
            "pa1",
            json!({"phone": "+44 20 7946 0000"}),
        );
        event.expected_version = expected_version;
        event
    }

    /// What `Store::prepare` hands the planner for an event that passed its checks.
    fn prepared(event: NewEvent) -> Prepared {
        let membership = MEMBERSHIP_EVENT_TYPES
            .contains(&event.event_type.as_str())
            .then(|| {
                let user = event.payload["userId"].as_str().unwrap().to_string();
                let role = event.payload["role"].as_str().map(|r| r.parse().unwrap());
                (user, role)
            });
        Prepared {
            by_reader: false,
            payload: event.payload.clone(),
            payload_json: canonical_json(&event.payload),
            membership,
            event,
        }
    }

    fn when(principal: &Principal, context: &AppendContext, events: Vec<NewEvent>) -> Result<Plan> {
        plan(
            principal,
            PRACTICE,
            context,
            events.into_iter().map(prepared).collect(),
            now(),
        )
    }

    /// The batch position and the error behind a refused plan.
    fn refused(result: Result<Plan>) -> (usize, Error) {
        match result {
            Err(Error::InBatch { index, source }) => (index, *source),
            other => panic!("expected a refused batch, got {other:?}"),
        }
    }

    /// The chain hash of a planned row, recomputed from its fields.
    fn rehash(previous: &str, (event, payload_json): &(Event, String)) -> String {
        chain_hash(
            previous,
            &HashedFields {
                id: &event.id,
                practice_id: &event.practice_id,
                seq: event.seq,
                aggregate_type: &event.aggregate_type,
                aggregate_id: &event.aggregate_id,
                version: event.version,
                event_type: &event.event_type,
                payload_json,
                actor_type: event.actor_type,
                actor_id: event.actor_id.as_deref(),
                created_at: event.created_at,
                recorded_by: event.recorded_by.as_deref(),
            },
        )
    }

    #[test]
    fn the_first_event_of_a_new_practice_is_seq_1_and_its_author_becomes_owner() {
        let given = AppendContext::default();

        let plan = when(
            &alice(),
            &given,
            vec![by_alice(
                "practice.created",
                "practice",
                PRACTICE,
                json!({"name": "Smile!"}),
            )],
        )
        .unwrap();

        assert_eq!(plan.rows.len(), 2);
        let (created, owner) = (&plan.rows[0].0, &plan.rows[1].0);
        assert_eq!(
            (created.seq, created.version, created.event_type.as_str()),
            (1, 1, "practice.created")
        );
        assert_eq!(created.created_at, now());
        assert_eq!(created.hash, rehash(ZERO_HASH, &plan.rows[0]));
        assert_eq!(
            (owner.seq, owner.version, owner.event_type.as_str()),
            (2, 1, "membership.created")
        );
        assert_eq!(
            (owner.aggregate_type.as_str(), owner.aggregate_id.as_str()),
            ("membership", "alice")
        );
        assert_eq!(owner.payload, json!({"role": "owner", "userId": "alice"}));
        assert_eq!(
            (owner.actor_type, owner.actor_id.as_deref()),
            (ActorType::System, None)
        );
        assert_eq!(owner.created_at, now());
        assert_eq!(owner.hash, rehash(&created.hash, &plan.rows[1]));
        assert_eq!(
            plan.memberships,
            vec![("alice".to_string(), Some(Role::Owner), 2)]
        );
        assert_eq!(
            (created.recorded_by.as_deref(), owner.recorded_by.as_deref()),
            (Some("alice"), Some(STORE_RECORDER)),
            "the author's append is recorded as theirs, the owner grant as the store's own"
        );
        assert!(matches!(plan.results[..], [Outcome::Appended(0)]));
        let answered = plan.into_results();
        assert_eq!(answered.len(), 1);
        assert_eq!(answered[0].seq, 1);
    }

    #[test]
    fn an_event_continues_the_practice_head_and_its_stream() {
        let given = member(Some(Role::Frontdesk));

        let plan = when(&alice(), &given, vec![patient_updated(Some(3))]).unwrap();

        assert_eq!(plan.rows.len(), 1);
        let event = &plan.rows[0].0;
        assert_eq!((event.seq, event.version), (8, 4));
        assert_eq!(event.created_at, now());
        assert_eq!(event.hash, rehash(&head_hash(), &plan.rows[0]));
        assert!(plan.memberships.is_empty());
    }

    #[test]
    fn an_expected_version_behind_the_stream_is_a_version_conflict() {
        let given = member(Some(Role::Frontdesk));

        let (index, error) = refused(when(&alice(), &given, vec![patient_updated(Some(2))]));

        assert_eq!(index, 0);
        match error {
            Error::VersionConflict {
                aggregate_type,
                aggregate_id,
                expected,
                current,
            } => assert_eq!(
                (
                    aggregate_type.as_str(),
                    aggregate_id.as_str(),
                    expected,
                    current
                ),
                ("patient", "pa1", 2, 3)
            ),
            other => panic!("expected a version conflict, got {other:?}"),
        }
    }

    /// The context after `event` was stored: it exists, and the head and stream moved on.
    fn after_storing(event: NewEvent) -> (AppendContext, Event) {
        let mut given = member(Some(Role::Frontdesk));
        let stored = when(&alice(), &given, vec![event])
            .unwrap()
            .into_results()
            .remove(0);
        given.head_seq = stored.seq;
        given.head_hash = stored.hash.clone();
        given.head_time = Some(stored.created_at);
        given
            .versions
            .insert(("patient".into(), "pa1".into()), stored.version);
        given.existing.insert(stored.id.clone(), stored.clone());
        (given, stored)
    }

    #[test]
    fn a_retry_with_the_same_id_and_content_returns_the_stored_event() {
        let mut event = patient_updated(Some(3));
        event.id = Some("e1".into());
        let (given, stored) = after_storing(event.clone());

        let plan = when(&alice(), &given, vec![event]).unwrap();

        assert!(plan.rows.is_empty(), "nothing new to write");
        assert!(plan.memberships.is_empty());
        assert_eq!(plan.into_results(), vec![stored.clone()]);
        assert_eq!(
            (stored.id.as_str(), stored.seq, stored.version),
            ("e1", 8, 4)
        );
    }

    #[test]
    fn the_same_id_with_different_content_is_a_conflict() {
        let mut event = patient_updated(None);
        event.id = Some("e1".into());
        let (given, _) = after_storing(event.clone());
        event.payload = json!({"phone": "+44 20 7946 9999"});

        let (index, error) = refused(when(&alice(), &given, vec![event]));

        assert_eq!(index, 0);
        match error {
            Error::Conflict { reason } => assert_eq!(
                reason,
                r#"event id "e1" already exists in this practice with different content"#
            ),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn created_at_never_decreases_along_seq_when_the_head_is_in_the_future() {
        let mut given = member(Some(Role::Frontdesk));
        let head_time = now() + TimeDelta::hours(1);
        given.head_time = Some(head_time);

        let plan = when(
            &alice(),
            &given,
            vec![patient_updated(None), patient_updated(None)],
        )
        .unwrap();

        let times: Vec<_> = plan
            .rows
            .iter()
            .map(|(e, _)| (e.seq, e.created_at))
            .collect();
        assert_eq!(times, vec![(8, head_time), (9, head_time)]);
    }

    #[test]
    fn an_import_dated_before_the_head_is_refused() {
        let given = member(None);
        let mut event = patient_updated(None);
        let given_at = now() - TimeDelta::hours(1);
        event.created_at = Some(given_at);

        let (index, error) = refused(when(&Principal::System, &given, vec![event]));

        assert_eq!(index, 0);
        let last = given.head_time.unwrap();
        match error {
            Error::Invalid { violations } => assert_eq!(
                violations,
                vec![crate::error::Violation::new(
                    "/createdAt",
                    format!(
                        "{given_at} is earlier than the practice's last event ({last}); time never goes backwards along seq"
                    )
                )]
            ),
            other => panic!("expected an invalid createdAt, got {other:?}"),
        }
    }

    #[test]
    fn a_viewer_is_refused() {
        let given = member(Some(Role::Viewer));

        let (index, error) = refused(when(&alice(), &given, vec![patient_updated(None)]));

        assert_eq!(index, 0);
        match error {
            Error::Forbidden { reason } => {
                assert_eq!(reason, "a viewer may read but not append patient.updated")
            }
            other => panic!("expected forbidden, got {other:?}"),
        }
    }

    #[test]
    fn a_non_member_is_told_the_practice_is_not_found() {
        let given = member(None);

        let (index, error) = refused(when(&alice(), &given, vec![patient_updated(None)]));

        assert_eq!(index, 0);
        match error {
            Error::PracticeNotFound { practice_id } => assert_eq!(practice_id, PRACTICE),
            other => panic!("expected practice not found, got {other:?}"),
        }
    }

    #[test]
    fn a_batch_whose_event_2_fails_names_index_2_and_plans_nothing() {
        let given = member(Some(Role::Frontdesk));
        // Events 0 and 1 move pa1 from 3 to 5; event 2 still expects 4.
        let events = vec![
            patient_updated(Some(3)),
            patient_updated(Some(4)),
            patient_updated(Some(4)),
        ];

        let result = when(&alice(), &given, events);

        let Err(error) = result else {
            panic!("expected the whole batch refused, got {result:?}");
        };
        assert_eq!(
            error.to_string(),
            "event 2 of the batch was refused, nothing was written: \
             version conflict on patient/pa1: expected version 4, current version is 5"
        );
        match refused(Err(error)) {
            (
                2,
                Error::VersionConflict {
                    expected: 4,
                    current: 5,
                    ..
                },
            ) => {}
            other => panic!("expected event 2's version conflict, got {other:?}"),
        }
    }

    fn membership(event_type: &str, user: &str, role: Option<&str>) -> NewEvent {
        let mut payload = json!({"userId": user});
        if let Some(role) = role {
            payload["role"] = json!(role);
        }
        by_alice(event_type, "membership", user, payload)
    }

    /// Alice is owner; bob has `bob`; `owners` owners in all.
    fn with_bob(bob: Role, owners: i64) -> AppendContext {
        let mut given = member(Some(Role::Owner));
        given.roles.insert("bob".into(), bob);
        given.owners = owners;
        given
    }

    #[test]
    fn the_last_owner_can_be_neither_demoted_nor_removed() {
        let alone = member(Some(Role::Owner));
        for event in [
            membership("membership.role_changed", "alice", Some("admin")),
            membership("membership.removed", "alice", None),
        ] {
            let refused = when(&alice(), &alone, vec![event]).unwrap_err();
            assert!(
                matches!(&refused, Error::InBatch { source, .. }
                    if matches!(source.as_ref(), Error::Conflict { reason } if reason.contains("last owner"))),
                "{refused}"
            );
        }
        // With a second owner, alice may step down; then bob is the last one.
        let two = with_bob(Role::Owner, 2);
        let plan = when(
            &alice(),
            &two,
            vec![membership(
                "membership.role_changed",
                "alice",
                Some("admin"),
            )],
        )
        .unwrap();
        assert_eq!(
            plan.memberships,
            vec![("alice".into(), Some(Role::Admin), 8)]
        );
        let refused = when(
            &alice(),
            &two,
            vec![
                membership("membership.removed", "bob", None),
                membership("membership.role_changed", "alice", Some("viewer")),
            ],
        )
        .unwrap_err();
        assert!(
            matches!(&refused, Error::InBatch { index: 1, .. }),
            "the batch's second step would leave no owner: {refused}"
        );
    }

    #[test]
    fn a_removed_member_leaves_the_plan_and_a_later_event_by_them_is_refused() {
        let given = with_bob(Role::Frontdesk, 1);
        let plan = when(
            &alice(),
            &given,
            vec![
                membership("membership.role_changed", "bob", Some("viewer")),
                membership("membership.removed", "bob", None),
            ],
        )
        .unwrap();
        let plans = [Ok(plan)];
        assert_eq!(
            final_memberships(&plans),
            vec![("bob", None, 9)],
            "only the member's last change is written"
        );
        let mut after = given;
        after.roles.remove("bob");
        let refused =
            when(&Principal::user("bob"), &after, vec![patient_updated(None)]).unwrap_err();
        assert!(
            matches!(&refused, Error::InBatch { source, .. } if matches!(source.as_ref(), Error::PracticeNotFound { .. })),
            "a removed member is a stranger: {refused}"
        );
        let refused = when(
            &alice(),
            &after,
            vec![membership("membership.removed", "bob", None)],
        )
        .unwrap_err();
        assert!(
            matches!(&refused, Error::InBatch { source, .. } if matches!(source.as_ref(), Error::Invalid { .. })),
            "removing a non-member is refused: {refused}"
        );
    }

    #[test]
    fn only_owners_and_admins_may_claim_the_system_actor_and_every_claim_is_recorded() {
        let mut system = patient_updated(None);
        system.actor_type = ActorType::System;
        system.actor_id = Some("olivia.owner".into());
        let refused = when(
            &alice(),
            &member(Some(Role::Frontdesk)),
            vec![system.clone()],
        )
        .unwrap_err();
        assert!(
            matches!(&refused, Error::InBatch { source, .. } if matches!(source.as_ref(), Error::Forbidden { .. })),
            "{refused}"
        );
        let plan = when(&alice(), &member(Some(Role::Admin)), vec![system]).unwrap();
        assert_eq!(plan.rows[0].0.recorded_by.as_deref(), Some("alice"));

        let mut agent = patient_updated(None);
        agent.actor_type = ActorType::Ai;
        agent.actor_id = Some("scheduler-bot".into());
        let plan = when(&alice(), &member(Some(Role::Frontdesk)), vec![agent]).unwrap();
        assert_eq!(
            (
                plan.rows[0].0.actor_id.as_deref(),
                plan.rows[0].0.recorded_by.as_deref()
            ),
            (Some("scheduler-bot"), Some("alice")),
            "an agent acts through a member, and the member is on record"
        );
    }

    #[test]
    fn appends_planned_in_turn_on_an_advanced_context_store_what_one_batch_would() {
        let with_id = |mut event: NewEvent, id: &str| {
            event.id = Some(id.into());
            event
        };
        let events = vec![
            with_id(patient_updated(Some(3)), "e1"),
            with_id(membership("membership.created", "bob", Some("owner")), "e2"),
            with_id(patient_updated(Some(4)), "e3"),
            with_id(
                membership("membership.role_changed", "alice", Some("admin")),
                "e4",
            ),
        ];
        let together = when(&alice(), &member(Some(Role::Owner)), events.clone()).unwrap();

        let mut context = member(Some(Role::Owner));
        let reused: HashSet<String> = ["e3".to_string()].into();
        let mut in_turn = Vec::new();
        for event in events.clone() {
            let plan = when(&alice(), &context, vec![event]).unwrap();
            context.advance(&plan, &reused);
            in_turn.extend(plan.rows);
        }
        assert_eq!(
            in_turn, together.rows,
            "the same seqs, versions, times and hashes"
        );
        assert_eq!(
            (context.head_seq, context.head_hash.as_str()),
            (11, together.rows[3].0.hash.as_str())
        );
        assert_eq!(
            context.versions[&("patient".to_string(), "pa1".to_string())],
            5
        );
        assert_eq!(
            context.versions[&("membership".to_string(), "alice".to_string())],
            1
        );
        assert_eq!(
            (context.roles["alice"], context.roles["bob"], context.owners),
            (Role::Admin, Role::Owner, 1)
        );
        assert_eq!(
            context.existing.keys().collect::<Vec<_>>(),
            vec!["e3"],
            "only events whose ids come again are kept"
        );

        // A later append of the group retrying e3 meets it as stored.
        let retry = when(&alice(), &context, vec![events[2].clone()]).unwrap();
        assert!(retry.rows.is_empty());
        assert_eq!(retry.into_results(), vec![together.rows[2].0.clone()]);
    }

    #[test]
    fn the_head_keeps_the_export_digest_of_every_event_when_it_is_known() {
        let digest_of = |rows: &[&(Event, String)]| {
            let mut digest = ExportDigest::default();
            for (event, _) in rows {
                digest.add(event.seq, &event.hash);
            }
            digest
        };
        // A new practice starts the digest with its first events.
        let new = AppendContext::default();
        let first = when(
            &alice(),
            &new,
            vec![by_alice(
                "practice.created",
                "practice",
                PRACTICE,
                json!({"name": "P"}),
            )],
        )
        .unwrap();
        let rows: Vec<_> = first.rows.iter().collect();
        let state = first
            .head_digest
            .clone()
            .expect("a new practice has a digest");
        assert_eq!(
            ExportDigest::resume(&state).unwrap().finish(),
            digest_of(&rows).finish()
        );
        // The next plan continues it.
        let mut context = new;
        context.advance(&first, &HashSet::new());
        context.roles.insert("alice".into(), Role::Owner);
        let second = when(&alice(), &context, vec![patient_updated(None)]).unwrap();
        let all: Vec<_> = first.rows.iter().chain(&second.rows).collect();
        assert_eq!(
            ExportDigest::resume(second.head_digest.as_ref().unwrap())
                .unwrap()
                .finish(),
            digest_of(&all).finish()
        );
        // Events from before the store kept the digest: it stays unknown.
        let legacy = member(Some(Role::Frontdesk));
        assert_eq!(
            when(&alice(), &legacy, vec![patient_updated(None)])
                .unwrap()
                .head_digest,
            None
        );
    }
}
