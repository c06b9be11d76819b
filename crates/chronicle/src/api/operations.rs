//! Every operation, once: what the HTTP handlers, the desktop commands and the CLI call.
//! Each takes the store, the caller and the operation's inputs, applies the engine's rules
//! and answers a wire type, so the edges only translate transport to arguments and back.

use std::sync::atomic::AtomicBool;

use crate::access::Capabilities;
use crate::error::{Error, Result};
use crate::export::{ExportRequest, PreparedExport};
use crate::generate::{SeedOptions, seed_practice};
use crate::model::{AggregateSummary, Event, NewEvent, Page, PracticeSummary, Principal};
use crate::projection::{builtin_names, find_builtin};
use crate::registry::EventType;
use crate::store::{ChainHead, ChainReport, IndexedAggregate, PageRequest, Store};

use super::requests::{
    ActivityQuery, AggregateEventsQuery, AggregatesQuery, BatchRequest, GenerateRequest, PageQuery,
    ProjectorStatusQuery, RecentAggregatesQuery, SkipRequest, TimelineQuery, VerifyQuery,
};
use super::responses::{
    ActivityList, AppendedEvents, DirectoryList, EventTypeCount, GenerateProgress, GeneratedEvents,
    Health, MemberList, PracticeList, ProjectorStatusList, RegistryList, UserList,
};

/// The practices the caller can read.
pub async fn practices(store: &Store, caller: &Principal) -> Result<PracticeList> {
    Ok(PracticeList {
        practices: store.practices(caller).await?,
    })
}

/// One practice the caller can read, with the caller's role and capabilities there.
pub async fn practice(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
) -> Result<PracticeSummary> {
    let role = store.read_access(caller, practice_id).await?;
    let found = store
        .practices(caller)
        .await?
        .into_iter()
        .find(|p| p.practice_id == practice_id);
    Ok(found.unwrap_or_else(|| PracticeSummary {
        // A member of a practice whose first event has not been appended yet.
        practice_id: practice_id.to_string(),
        role,
        event_count: 0,
        last_event_at: None,
        head_hash: crate::chain::ZERO_HASH.to_string(),
        capabilities: Capabilities::of(role),
    }))
}

/// The caller's practices with name and activity (practice directory).
pub async fn directory(store: &Store, caller: &Principal) -> Result<DirectoryList> {
    Ok(DirectoryList {
        practices: store.practice_directory(caller).await?,
    })
}

/// A practice's members: roles now, names from the user directory.
pub async fn members(store: &Store, caller: &Principal, practice_id: &str) -> Result<MemberList> {
    Ok(MemberList {
        members: store.practice_members(caller, practice_id).await?,
        removed: store.removed_members(caller, practice_id).await?,
    })
}

/// The user ids the caller shares a practice with (everyone, for the system principal).
pub async fn users(store: &Store, caller: &Principal) -> Result<UserList> {
    Ok(UserList {
        users: store.known_users(caller, crate::MAX_KNOWN_USERS).await?,
    })
}

/// A practice's events, filtered, one page either way.
pub async fn timeline(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    query: TimelineQuery,
) -> Result<Page<Event>> {
    let (filter, direction, page) = query.into_parts();
    store
        .timeline(caller, practice_id, &filter, direction, &page)
        .await
}

/// One event by id.
pub async fn event(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    event_id: &str,
) -> Result<Event> {
    store
        .event(caller, practice_id, event_id)
        .await?
        .ok_or_else(|| Error::NotFound {
            message: format!("practice {practice_id:?} has no event {event_id:?}"),
            path: "/eventId".into(),
        })
}

/// A practice's aggregates by type, then id.
pub async fn aggregates(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    query: AggregatesQuery,
) -> Result<Page<AggregateSummary>> {
    let (filter, page) = query.into_parts();
    store.aggregates(caller, practice_id, &filter, &page).await
}

/// A practice's aggregates, most recently active first (aggregate index).
pub async fn recent_aggregates(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    query: RecentAggregatesQuery,
) -> Result<Page<IndexedAggregate>> {
    let page = PageRequest {
        cursor: query.cursor,
        limit: query.limit,
    };
    store
        .recent_aggregates(caller, practice_id, query.aggregate_type.as_deref(), &page)
        .await
}

/// One page of an aggregate's events, in version order.
pub async fn aggregate_events(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    query: AggregateEventsQuery,
) -> Result<Page<Event>> {
    let page = PageRequest {
        cursor: query.cursor,
        limit: query.limit,
    };
    store
        .aggregate_events(
            caller,
            practice_id,
            aggregate_type,
            aggregate_id,
            query.from_version,
            &page,
        )
        .await
}

/// Every event of an aggregate from `from_version` on (the seed's unpaged read).
pub async fn all_aggregate_events(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    from_version: Option<i64>,
) -> Result<Vec<Event>> {
    store
        .all_aggregate_events(
            caller,
            practice_id,
            aggregate_type,
            aggregate_id,
            from_version,
        )
        .await
}

/// Events of one type, oldest first.
pub async fn events_by_type(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    event_type: &str,
    query: PageQuery,
) -> Result<Page<Event>> {
    store
        .events_by_type(caller, practice_id, event_type, &query.into())
        .await
}

/// Events per UTC day, event type and actor type (daily activity).
pub async fn activity(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    query: ActivityQuery,
) -> Result<ActivityList> {
    Ok(ActivityList {
        days: store
            .daily_activity(
                caller,
                practice_id,
                query.from_day.as_deref(),
                query.to_day.as_deref(),
            )
            .await?,
    })
}

/// Recomputes the practice's chain, names the first event that breaks it, checks the head and
/// the memberships, and (when asked) whether it still reaches a head recorded earlier.
pub async fn verify(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    query: VerifyQuery,
) -> Result<ChainReport> {
    let anchor = query.anchor()?;
    store
        .verify_chain_against(caller, practice_id, anchor.as_ref())
        .await
}

/// The practice's chain head: seq, hash and time, to write down outside the store.
pub async fn chain_head(store: &Store, caller: &Principal, practice_id: &str) -> Result<ChainHead> {
    store.chain_head(caller, practice_id).await
}

/// Starts an export (any member): the manifest is made and recorded; the caller writes the file.
pub async fn export(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    request: ExportRequest,
) -> Result<PreparedExport> {
    store.export(caller, practice_id, request).await
}

/// Every registered event type with its schema.
pub fn registry(store: &Store) -> RegistryList {
    RegistryList {
        event_types: store.registry().types().cloned().collect(),
    }
}

/// One event type and its schema; an unknown name is `not_found`, with the closest names.
pub fn event_type(store: &Store, name: &str) -> Result<EventType> {
    match store.registry().get(name) {
        Ok(found) => Ok(found.clone()),
        Err(Error::UnknownEventType {
            event_type,
            suggestions,
        }) => Err(Error::NotFound {
            message: if suggestions.is_empty() {
                format!("no event type {event_type:?} is registered")
            } else {
                format!(
                    "no event type {event_type:?} is registered; did you mean {}?",
                    suggestions.join(", ")
                )
            },
            path: "/eventType".into(),
        }),
        Err(other) => Err(other),
    }
}

/// Where each built-in projector stands: in one practice, or in every practice the caller
/// can read (one call, however many practices).
pub async fn projector_status(
    store: &Store,
    caller: &Principal,
    query: ProjectorStatusQuery,
) -> Result<ProjectorStatusList> {
    Ok(ProjectorStatusList {
        projectors: store
            .projector_status(caller, query.practice_id.as_deref(), &builtin_names())
            .await?,
    })
}

/// Clears a projector's read model for a practice; the runner rebuilds it (owner or admin).
pub async fn reset_projector(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    projector: &str,
) -> Result<()> {
    let projector = find_builtin(projector)?;
    store
        .reset_projector(caller, practice_id, projector.as_ref())
        .await
}

/// Lets a failed or stopped projector run again from where it stopped (owner or admin).
pub async fn retry_projector(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    projector: &str,
) -> Result<()> {
    let projector = find_builtin(projector)?;
    store
        .retry_projector(caller, practice_id, projector.name())
        .await
}

/// Skips the event a projector failed on (owner or admin), recording the skip as an event.
pub async fn skip_projector_event(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    projector: &str,
    request: SkipRequest,
) -> Result<Event> {
    let projector = find_builtin(projector)?;
    store
        .skip_projector_event(
            caller,
            practice_id,
            projector.name(),
            &request.event_id,
            &request.reason,
        )
        .await
}

/// Appends one event as the caller.
pub async fn append(store: &Store, caller: &Principal, event: NewEvent) -> Result<Event> {
    store.append(caller, event).await
}

/// Appends events all or nothing, as the caller.
pub async fn append_batch(
    store: &Store,
    caller: &Principal,
    batch: BatchRequest,
) -> Result<AppendedEvents> {
    Ok(AppendedEvents {
        events: store.append_batch(caller, batch.events).await?,
    })
}

/// What [`append`] would store, without storing it: the same checks and the planned event
/// (seq, version, createdAt, hash), from a write transaction that is rolled back.
pub async fn dry_run_append(store: &Store, caller: &Principal, event: NewEvent) -> Result<Event> {
    store.dry_run(caller, event).await
}

/// What [`append_batch`] would store, without storing it.
pub async fn dry_run_batch(
    store: &Store,
    caller: &Principal,
    batch: BatchRequest,
) -> Result<AppendedEvents> {
    Ok(AppendedEvents {
        events: store.dry_run_batch(caller, batch.events).await?,
    })
}

/// Fills a practice with events generated from the registry's schemas, as the caller, in
/// batches through the ordinary batch append (validated, access-checked, chained).
/// `progress` hears after each batch; setting `cancel` stops before the next one.
pub async fn generate_events(
    store: &Store,
    caller: &Principal,
    practice_id: &str,
    request: GenerateRequest,
    progress: &mut (dyn FnMut(GenerateProgress) + Send),
    cancel: &AtomicBool,
) -> Result<GeneratedEvents> {
    let seed = request.seed.unwrap_or_else(|| {
        // Any seed will do; the answer names it so the run can be repeated.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()))
    });
    let options = SeedOptions::new(request.event_types, request.count as usize, seed);
    let outcome = seed_practice(
        store,
        caller,
        practice_id,
        &options,
        &mut |written, total| {
            progress(GenerateProgress {
                practice_id: practice_id.to_string(),
                written: written as u32,
                total: total as u32,
            })
        },
        cancel,
    )
    .await?;
    Ok(GeneratedEvents {
        practice_id: practice_id.to_string(),
        written: outcome.written as u32,
        seed,
        counts: outcome
            .counts
            .into_iter()
            .map(|(event_type, count)| EventTypeCount {
                event_type,
                count: count as u32,
            })
            .collect(),
        canceled: outcome.canceled,
    })
}

/// Answers when the store answers.
pub async fn health(store: &Store) -> Result<Health> {
    Ok(Health {
        status: "ok".into(),
        backend: store.backend_name().into(),
        schema_version: store.schema_version().await?,
    })
}
