//! The commands the window calls. Each is a few lines: take the state, call the engine as
//! the chosen identity, map the error once (`?` into [`CommandError`]).

use chronicle::projection::{ProjectorStatus, builtin};
use chronicle::{
    AggregateFilter, AggregateSummary, DailyCount, Direction, Event, EventType, IndexedAggregate,
    Member, NewEvent, Page, PageRequest, PracticeListing, PracticeSummary, TimelineFilter,
};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::settings::Settings;
use crate::state::{AppState, SeedReport, StoreInfo};

/// The open store: backend, location, whether it is empty, start-up problems.
#[tauri::command]
#[specta::specta]
pub async fn store_info(state: State<'_, AppState>) -> CommandResult<StoreInfo> {
    state.store_info().await
}

/// Fills an empty store with the engine's deterministic demo data.
#[tauri::command]
#[specta::specta]
pub async fn seed_demo(state: State<'_, AppState>) -> CommandResult<SeedReport> {
    state.seed_demo().await
}

/// The settings.
#[tauri::command]
#[specta::specta]
pub async fn settings_get(state: State<'_, AppState>) -> CommandResult<Settings> {
    Ok(state.settings())
}

/// Saves settings; a new store location is opened first (`storePassword` is kept for this
/// session only).
#[tauri::command]
#[specta::specta]
pub async fn settings_set(
    state: State<'_, AppState>,
    settings: Settings,
    store_password: Option<String>,
) -> CommandResult<Settings> {
    state.update_settings(settings, store_password).await
}

/// Practices the identity may read, with event count and chain head.
#[tauri::command]
#[specta::specta]
pub async fn list_practices(state: State<'_, AppState>) -> CommandResult<Vec<PracticeSummary>> {
    Ok(state.store().await.practices(&state.principal()?).await?)
}

/// Practices the identity may read, with name and activity (from the practice directory).
#[tauri::command]
#[specta::specta]
pub async fn practice_directory(state: State<'_, AppState>) -> CommandResult<Vec<PracticeListing>> {
    Ok(state
        .store()
        .await
        .practice_directory(&state.principal()?)
        .await?)
}

/// A practice's members: roles now, names from the user directory.
#[tauri::command]
#[specta::specta]
pub async fn practice_members(
    state: State<'_, AppState>,
    practice_id: String,
) -> CommandResult<Vec<Member>> {
    Ok(state
        .store()
        .await
        .practice_members(&state.principal()?, &practice_id)
        .await?)
}

/// A practice's events, filtered, one page either way.
#[tauri::command]
#[specta::specta]
pub async fn timeline(
    state: State<'_, AppState>,
    practice_id: String,
    filter: TimelineFilter,
    direction: Direction,
    page: PageRequest,
) -> CommandResult<Page<Event>> {
    let principal = state.principal()?;
    let store = state.store().await;
    Ok(store
        .timeline(&principal, &practice_id, &filter, direction, &page)
        .await?)
}

/// One event by id.
#[tauri::command]
#[specta::specta]
pub async fn event(
    state: State<'_, AppState>,
    practice_id: String,
    event_id: String,
) -> CommandResult<Event> {
    let principal = state.principal()?;
    let store = state.store().await;
    store
        .event(&principal, &practice_id, &event_id)
        .await?
        .ok_or_else(|| {
            CommandError::new(
                "not_found",
                format!("practice {practice_id:?} has no event {event_id:?}"),
            )
        })
}

/// A practice's aggregates by type then id.
#[tauri::command]
#[specta::specta]
pub async fn aggregates(
    state: State<'_, AppState>,
    practice_id: String,
    filter: AggregateFilter,
    page: PageRequest,
) -> CommandResult<Page<AggregateSummary>> {
    let principal = state.principal()?;
    let store = state.store().await;
    Ok(store
        .aggregates(&principal, &practice_id, &filter, &page)
        .await?)
}

/// A practice's aggregates, most recently active first (from the aggregate index).
#[tauri::command]
#[specta::specta]
pub async fn recent_aggregates(
    state: State<'_, AppState>,
    practice_id: String,
    aggregate_type: Option<String>,
    page: PageRequest,
) -> CommandResult<Page<IndexedAggregate>> {
    let principal = state.principal()?;
    let store = state.store().await;
    Ok(store
        .recent_aggregates(&principal, &practice_id, aggregate_type.as_deref(), &page)
        .await?)
}

/// One aggregate's events in version order.
#[tauri::command]
#[specta::specta]
pub async fn aggregate_events(
    state: State<'_, AppState>,
    practice_id: String,
    aggregate_type: String,
    aggregate_id: String,
    page: PageRequest,
) -> CommandResult<Page<Event>> {
    let principal = state.principal()?;
    let store = state.store().await;
    Ok(store
        .aggregate_events(
            &principal,
            &practice_id,
            &aggregate_type,
            &aggregate_id,
            None,
            &page,
        )
        .await?)
}

/// Events of one type in a practice, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn events_by_type(
    state: State<'_, AppState>,
    practice_id: String,
    event_type: String,
    page: PageRequest,
) -> CommandResult<Page<Event>> {
    let principal = state.principal()?;
    let store = state.store().await;
    Ok(store
        .events_by_type(&principal, &practice_id, &event_type, &page)
        .await?)
}

/// Events per day, event type and actor type (from the daily activity read model).
#[tauri::command]
#[specta::specta]
pub async fn daily_activity(
    state: State<'_, AppState>,
    practice_id: String,
    from_day: Option<String>,
    to_day: Option<String>,
) -> CommandResult<Vec<DailyCount>> {
    let principal = state.principal()?;
    let store = state.store().await;
    Ok(store
        .daily_activity(
            &principal,
            &practice_id,
            from_day.as_deref(),
            to_day.as_deref(),
        )
        .await?)
}

/// Appends one event as the identity (`expectedVersion` guards against concurrent writers).
#[tauri::command]
#[specta::specta]
pub async fn append(state: State<'_, AppState>, event: NewEvent) -> CommandResult<Event> {
    let principal = state.principal()?;
    Ok(state.store().await.append(&principal, event).await?)
}

/// Appends events all-or-nothing, as the identity.
#[tauri::command]
#[specta::specta]
pub async fn append_batch(
    state: State<'_, AppState>,
    events: Vec<NewEvent>,
) -> CommandResult<Vec<Event>> {
    let principal = state.principal()?;
    Ok(state.store().await.append_batch(&principal, events).await?)
}

/// Every registered event type with its schema.
#[tauri::command]
#[specta::specta]
pub async fn registry_list(state: State<'_, AppState>) -> CommandResult<Vec<EventType>> {
    Ok(state.store().await.registry().types().cloned().collect())
}

/// One event type and its schema.
#[tauri::command]
#[specta::specta]
pub async fn registry_schema(
    state: State<'_, AppState>,
    event_type: String,
) -> CommandResult<EventType> {
    Ok(state.store().await.registry().get(&event_type)?.clone())
}

/// Where each built-in projector stands in each visible practice (or one practice).
#[tauri::command]
#[specta::specta]
pub async fn projector_status(
    state: State<'_, AppState>,
    practice_id: Option<String>,
) -> CommandResult<Vec<ProjectorStatus>> {
    let principal = state.principal()?;
    let projectors = builtin();
    let names: Vec<&str> = projectors.iter().map(|p| p.name()).collect();
    let store = state.store().await;
    Ok(store
        .projector_status(&principal, practice_id.as_deref(), &names)
        .await?)
}

/// Clears a projector's read model for a practice and rebuilds it (owner or admin).
#[tauri::command]
#[specta::specta]
pub async fn projector_reset(
    state: State<'_, AppState>,
    practice_id: String,
    projector_name: String,
) -> CommandResult<()> {
    let principal = state.principal()?;
    let projector = builtin()
        .into_iter()
        .find(|p| p.name() == projector_name)
        .ok_or_else(|| unknown_projector(&projector_name))?;
    let store = state.store().await;
    Ok(store
        .reset_projector(&principal, &practice_id, projector.as_ref())
        .await?)
}

/// Lets a failed projector run again from where it stopped (owner or admin).
#[tauri::command]
#[specta::specta]
pub async fn projector_retry(
    state: State<'_, AppState>,
    practice_id: String,
    projector_name: String,
) -> CommandResult<()> {
    let principal = state.principal()?;
    if !builtin().iter().any(|p| p.name() == projector_name) {
        return Err(unknown_projector(&projector_name));
    }
    let store = state.store().await;
    Ok(store
        .retry_projector(&principal, &practice_id, &projector_name)
        .await?)
}

fn unknown_projector(name: &str) -> CommandError {
    let known: Vec<&str> = builtin().iter().map(|p| p.name()).collect::<Vec<_>>();
    let mut error = CommandError::new(
        "unknown_projector",
        format!(
            "no projector is called {name:?}; known: {}",
            known.join(", ")
        ),
    );
    error.details.push(chronicle::Violation::new(
        "/projectorName",
        "is not a built-in projector",
    ));
    error
}
