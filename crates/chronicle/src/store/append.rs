//! Appending events. Three steps, so the rules live in pure code:
//! 1. [`Store::prepare`] checks each event on its own (fields, registry, schema, actor);
//! 2. inside the write transaction the store reads what the rules need (the practice head,
//!    the roles involved, the streams' versions, events with the same ids) into an
//!    [`AppendContext`], and [`plan`] decides everything: access, idempotency, versions,
//!    seq, time and hashes;
//! 3. the planned rows are written and the transaction commits, or nothing is written.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::QueryBuilder;

use super::rows::{EventRow, HeadRow};
use super::sql::{AppendContextSql, ContextRow, EVENT_COLUMNS};
use super::{Store, in_write_transaction};
use crate::access::{MEMBERSHIP_EVENT_TYPES, RoleChange, authorize_append};
use crate::chain::{HashedFields, ZERO_HASH, canonical_json, chain_hash};
use crate::error::{Error, Result};
use crate::model::{ActorType, Event, NewEvent, Principal, Role};
use crate::rules::check_new_event;

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bind limits.
const INSERT_CHUNK: usize = 200;

/// An event that passed the checks that need no database.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    event: NewEvent,
    payload: Value,
    payload_json: String,
    /// For membership events: whose role, and which role.
    membership: Option<(String, Role)>,
}

/// What the rules need from the database, read inside the write transaction.
#[derive(Debug, Default)]
pub(crate) struct AppendContext {
    pub head_seq: i64,
    pub head_hash: String,
    pub head_time: Option<DateTime<Utc>>,
    /// Roles of the principal and of every membership event's target.
    pub roles: HashMap<String, Role>,
    /// Current version of each stream the batch touches (absent = 0).
    pub versions: HashMap<(String, String), i64>,
    /// Stored events whose ids the batch reuses.
    pub existing: HashMap<String, Event>,
}

/// What became of one input event.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Appended as `rows[index]`.
    Appended(usize),
    /// A retry of an event stored before.
    Existing(Box<Event>),
}

impl Plan {
    /// The stored event for each input, moving the new rows out.
    fn into_results(self) -> Vec<Event> {
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
    /// Takes one row of the context query: `('h', hash, time, seq)` for the practice head,
    /// `('r', user, role, -)` for a membership, `('v', type, id, max version)` for a stream.
    fn absorb(&mut self, row: ContextRow) -> Result<()> {
        let corrupt = |what: String| Error::Database(sqlx::Error::Decode(what.into()));
        match row {
            (kind, Some(hash), time, Some(seq)) if kind == "h" => {
                self.head_seq = seq;
                self.head_hash = hash.trim_end().to_string();
                self.head_time = time
                    .map(|t| DateTime::parse_from_rfc3339(&t).map(|t| t.to_utc()))
                    .transpose()
                    .map_err(|e| corrupt(format!("practice head time: {e}")))?;
            }
            (kind, Some(user), Some(role), _) if kind == "r" => {
                self.roles.insert(user, role.parse().map_err(corrupt)?);
            }
            (kind, Some(aggregate_type), Some(aggregate_id), version) if kind == "v" => {
                if let Some(version) = version {
                    self.versions
                        .insert((aggregate_type, aggregate_id), version);
                }
            }
            other => return Err(corrupt(format!("unexpected append context row {other:?}"))),
        }
        Ok(())
    }
}

/// What to write and what to answer.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// New rows, in seq order, with their canonical payload text.
    pub rows: Vec<(Event, String)>,
    /// One outcome per input event, in input order.
    pub results: Vec<Outcome>,
    /// Membership read-model changes: (user, role, seq of the event).
    pub memberships: Vec<(String, Role, i64)>,
}

impl Store {
    /// Appends one event. See [`Store::append_batch`] for the rules.
    pub async fn append(&self, principal: &Principal, event: NewEvent) -> Result<Event> {
        let mut stored = self
            .append_batch(principal, vec![event])
            .await
            .map_err(|e| match e {
                Error::InBatch { source, .. } => *source,
                other => other,
            })?;
        Ok(stored.swap_remove(0))
    }

    /// Appends events to one practice, all or nothing, and returns one stored event per
    /// input (a reused id with identical content returns the event stored before).
    /// A `practice.created` by a user for a practice without events also appends a
    /// `membership.created` making that user owner.
    pub async fn append_batch(
        &self,
        principal: &Principal,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Event>> {
        if events.is_empty() {
            return Err(Error::invalid(
                "/events",
                "a batch needs at least one event",
            ));
        }
        let practice_id = events[0].practice_id.clone();
        let prepared = events
            .into_iter()
            .enumerate()
            .map(|(index, event)| {
                if event.practice_id != practice_id {
                    return Err(in_batch(index, Error::invalid(
                        "/practiceId",
                        format!("a batch appends to one practice; the first event targets {practice_id:?}"),
                    )));
                }
                self.prepare(principal, event).map_err(|e| in_batch(index, e))
            })
            .collect::<Result<Vec<_>>>()?;

        let mut users: Vec<&str> = prepared
            .iter()
            .filter_map(|p| p.membership.as_ref().map(|m| m.0.as_str()))
            .collect();
        users.extend(principal.user_id());
        users.sort_unstable();
        users.dedup();
        let mut streams: Vec<(&str, &str)> = prepared
            .iter()
            .map(|p| {
                (
                    p.event.aggregate_type.as_str(),
                    p.event.aggregate_id.as_str(),
                )
            })
            .collect();
        streams.sort_unstable();
        streams.dedup();

        let plan = in_write_transaction!(self, |tx, sql, Db| {
            let mut context = AppendContext {
                head_hash: ZERO_HASH.to_string(),
                ..Default::default()
            };
            if let Some(lock_head) = sql.lock_head {
                let mut head: Option<HeadRow> = sqlx::query_as(lock_head)
                    .bind(&practice_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if head.is_none() {
                    // A new practice: create its head row so concurrent first appends queue on it.
                    sqlx::query("INSERT INTO practice_heads (practice_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (practice_id) DO NOTHING")
                        .bind(&practice_id)
                        .bind(ZERO_HASH)
                        .execute(&mut *tx)
                        .await?;
                    head = sqlx::query_as(lock_head)
                        .bind(&practice_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                }
                let head = head.expect("practice head exists after insert");
                context.head_seq = head.seq;
                context.head_hash = head.hash.trim_end().to_string();
                context.head_time = head.last_event_at;
            }

            // Everything else the rules need, in one statement per chunk of streams: each
            // statement is a round trip (a thread hop on SQLite), and appends are latency-bound.
            for (chunk_index, chunk) in streams.chunks(Db::CONTEXT_CHUNK).enumerate() {
                let first = chunk_index == 0;
                let mut q = Db::append_context(
                    &practice_id,
                    chunk,
                    if first { &users } else { &[] },
                    first && sql.lock_head.is_none(),
                );
                let found: Vec<ContextRow> = if Db::CONTEXT_AS_JSON {
                    let rows: String = q.build_query_scalar().fetch_one(&mut *tx).await?;
                    serde_json::from_str(&rows).map_err(Error::undecodable)?
                } else {
                    q.build_query_as().fetch_all(&mut *tx).await?
                };
                for row in found {
                    context.absorb(row)?;
                }
            }

            let ids: Vec<&str> = prepared
                .iter()
                .filter_map(|p| p.event.id.as_deref())
                .collect();
            for chunk in ids.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::new(format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE practice_id = "
                ));
                q.push_bind(&practice_id).push(" AND id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                q.push(")");
                let found: Vec<EventRow> = q.build_query_as().fetch_all(&mut *tx).await?;
                for row in found {
                    let event = row.into_event()?;
                    context.existing.insert(event.id.clone(), event);
                }
            }

            let plan = plan(principal, &practice_id, &context, prepared, Utc::now())?;

            for (user, role, seq) in &plan.memberships {
                sqlx::query(
                    "INSERT INTO memberships (practice_id, user_id, role, since_seq, updated_seq) VALUES ($1, $2, $3, $4, $4) \
                     ON CONFLICT (practice_id, user_id) DO UPDATE SET role = excluded.role, updated_seq = excluded.updated_seq",
                )
                .bind(&practice_id)
                .bind(user)
                .bind(role.as_str())
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
            let chunks: Vec<_> = plan.rows.chunks(INSERT_CHUNK).collect();
            for (index, chunk) in chunks.iter().enumerate() {
                // The last INSERT also moves the practice head, in the same round trip.
                let head = (index + 1 == chunks.len()).then(|| &chunk[chunk.len() - 1].0);
                let mut q = QueryBuilder::new(if head.is_some() {
                    sql.with_head_prefix
                } else {
                    ""
                });
                q.push(format_args!("INSERT INTO events ({EVENT_COLUMNS}) "));
                q.push_values(chunk.iter(), |mut row, (event, payload_json)| {
                    row.push_bind(&event.practice_id)
                        .push_bind(event.seq)
                        .push_bind(&event.id)
                        .push_bind(&event.aggregate_type)
                        .push_bind(&event.aggregate_id)
                        .push_bind(event.version)
                        .push_bind(&event.event_type)
                        .push_bind(payload_json)
                        .push_bind(event.actor_type.as_str())
                        .push_bind(&event.actor_id)
                        .push_bind(event.created_at)
                        .push_bind(&event.hash);
                });
                if let Some(last) = head {
                    q.push(sql.with_head_infix);
                    q.push("INSERT INTO practice_heads (practice_id, seq, hash, last_event_at) VALUES (");
                    let mut values = q.separated(", ");
                    values
                        .push_bind(&practice_id)
                        .push_bind(last.seq)
                        .push_bind(&last.hash)
                        .push_bind(last.created_at);
                    q.push(
                        ") ON CONFLICT (practice_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
                         last_event_at = excluded.last_event_at",
                    );
                }
                q.build().execute(&mut *tx).await?;
            }
            if plan.rows.is_empty() {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            plan
        });
        if let Some((last, _)) = plan.rows.last() {
            self.notify_appended(&practice_id, last.seq);
        }
        Ok(plan.into_results())
    }

    /// The checks one event must pass on its own, before any database work.
    pub(crate) fn prepare(&self, principal: &Principal, mut event: NewEvent) -> Result<Prepared> {
        let violations = check_new_event(&event);
        if !violations.is_empty() {
            return Err(Error::Invalid { violations });
        }
        let payload_json = canonical_json(&event.payload);
        let limit = self.options().max_payload_bytes;
        if payload_json.len() > limit {
            return Err(Error::invalid(
                "/payload",
                format!(
                    "is {} bytes as canonical JSON; the limit is {limit} bytes",
                    payload_json.len()
                ),
            ));
        }
        self.registry()
            .validate(&event.event_type, &event.aggregate_type, &event.payload)?;
        check_actor(principal, &mut event)?;
        if event.created_at.is_some() && *principal != Principal::System {
            return Err(Error::invalid(
                "/createdAt",
                "is set by the store; only the system principal may import events with their own time",
            ));
        }
        if event.aggregate_type == "practice" && event.aggregate_id != event.practice_id {
            return Err(Error::invalid(
                "/aggregateId",
                format!(
                    "a practice event's aggregateId must be its practiceId {:?}",
                    event.practice_id
                ),
            ));
        }
        let membership = if MEMBERSHIP_EVENT_TYPES.contains(&event.event_type.as_str()) {
            // The schema guarantees both fields; the aggregate is the member's user id.
            let user = event.payload["userId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let role: Role = event.payload["role"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .map_err(|e: String| Error::invalid("/payload/role", e))?;
            if event.aggregate_id != user {
                return Err(Error::invalid(
                    "/aggregateId",
                    format!(
                        "a membership event's aggregateId must be the member's userId {user:?}"
                    ),
                ));
            }
            Some((user, role))
        } else {
            None
        };
        // Canonical form only changes how floats are written (1.0 becomes 1); reparse only then,
        // so the payload returned equals the one later read back.
        let payload = if has_float(&event.payload) {
            serde_json::from_str(&payload_json).expect("canonical JSON parses")
        } else {
            std::mem::take(&mut event.payload)
        };
        Ok(Prepared {
            event,
            payload,
            payload_json,
            membership,
        })
    }
}

fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

fn in_batch(index: usize, error: Error) -> Error {
    Error::InBatch {
        index,
        source: Box::new(error),
    }
}

/// A human event's actor is the principal: filled in when absent, refused when different.
fn check_actor(principal: &Principal, event: &mut NewEvent) -> Result<()> {
    if event.actor_type != ActorType::Human {
        return Ok(());
    }
    match (principal, &event.actor_id) {
        (Principal::User(user), None) => event.actor_id = Some(user.clone()),
        (Principal::User(user), Some(actor)) if actor != user => {
            return Err(Error::invalid(
                "/actorId",
                format!("a human event's actorId must be the principal {user:?}, not {actor:?}"),
            ));
        }
        (Principal::System, None) => {
            return Err(Error::invalid(
                "/actorId",
                "is required for human events appended by the system principal",
            ));
        }
        _ => {}
    }
    Ok(())
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

        if let Principal::User(_) = principal
            && !creates_practice
        {
            let change = item.membership.as_ref().map(|(user, granted)| RoleChange {
                granted: *granted,
                current: roles.get(user).copied(),
            });
            authorize_append(practice_id, principal_role, &event.event_type, change).map_err(at)?;
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
            match (event.event_type.as_str(), roles.get(user)) {
                ("membership.created", Some(existing)) => {
                    return Err(at(Error::Conflict {
                        reason: format!(
                            "user {user:?} is already a member of this practice (role {existing})"
                        ),
                    }));
                }
                ("membership.role_changed", None) => {
                    return Err(at(Error::invalid(
                        "/payload/userId",
                        format!(
                            "user {user:?} is not a member of this practice; append membership.created first"
                        ),
                    )));
                }
                _ => {}
            }
            roles.insert(user.clone(), *granted);
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
                },
                &hash,
            );
            hash = owner.hash.clone();
            roles.insert(user.clone(), Role::Owner);
            plan.memberships.push((user.clone(), Role::Owner, seq));
            plan.rows.push((owner, payload_json));
        }
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
        payload: input.payload,
        actor_type: input.actor_type,
        actor_id: input.actor_id,
        created_at: input.created_at,
        hash,
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
