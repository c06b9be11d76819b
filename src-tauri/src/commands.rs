//! The commands the window calls: adapters over [`chronicle::api`]. Each takes the state,
//! calls one operation as the chosen identity and returns its value; the error is the
//! layer's wire error as it is.

use chronicle::api::{
    self, ActivityList, ActivityQuery, AggregateEventsQuery, AggregatesQuery, AppendedEvents,
    BatchRequest, DirectoryList, GenerateRequest, GeneratedEvents, MemberList, PageQuery,
    PracticeList, ProjectorStatusList, ProjectorStatusQuery, RecentAggregatesQuery, RegistryList,
    TimelineQuery,
};
use chronicle::export::{ExportCheck, ExportManifest, ExportRequest};
use chronicle::{
    AggregateSummary, ChainHead, ChainReport, Event, EventType, IndexedAggregate, NewEvent, Page,
    PracticeSummary,
};
use tauri::State;

use crate::error::CommandResult;
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

/// Puts a practice first among the recently opened ones (the layer's rule).
#[tauri::command]
#[specta::specta]
pub async fn practice_opened(
    state: State<'_, AppState>,
    practice_id: String,
) -> CommandResult<Settings> {
    state.practice_opened(&practice_id).await
}

/// Practices the identity may read: role, capabilities, event count, chain head.
#[tauri::command]
#[specta::specta]
pub async fn practices(state: State<'_, AppState>) -> CommandResult<PracticeList> {
    Ok(api::practices(&state.store().await, &state.principal()?).await?)
}

/// One practice: the identity's role and capabilities there.
#[tauri::command]
#[specta::specta]
pub async fn practice(
    state: State<'_, AppState>,
    practice_id: String,
) -> CommandResult<PracticeSummary> {
    Ok(api::practice(&state.store().await, &state.principal()?, &practice_id).await?)
}

/// Practices the identity may read, with name and activity (practice directory).
#[tauri::command]
#[specta::specta]
pub async fn practice_directory(state: State<'_, AppState>) -> CommandResult<DirectoryList> {
    Ok(api::directory(&state.store().await, &state.principal()?).await?)
}

/// A practice's members: roles now, names from the user directory.
#[tauri::command]
#[specta::specta]
pub async fn practice_members(
    state: State<'_, AppState>,
    practice_id: String,
) -> CommandResult<MemberList> {
    Ok(api::members(&state.store().await, &state.principal()?, &practice_id).await?)
}

/// A practice's events, filtered, one page either way.
#[tauri::command]
#[specta::specta]
pub async fn timeline(
    state: State<'_, AppState>,
    practice_id: String,
    query: TimelineQuery,
) -> CommandResult<Page<Event>> {
    Ok(api::timeline(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        query,
    )
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
    Ok(api::event(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        &event_id,
    )
    .await?)
}

/// A practice's aggregates by type then id.
#[tauri::command]
#[specta::specta]
pub async fn aggregates(
    state: State<'_, AppState>,
    practice_id: String,
    query: AggregatesQuery,
) -> CommandResult<Page<AggregateSummary>> {
    Ok(api::aggregates(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        query,
    )
    .await?)
}

/// A practice's aggregates, most recently active first (aggregate index).
#[tauri::command]
#[specta::specta]
pub async fn recent_aggregates(
    state: State<'_, AppState>,
    practice_id: String,
    query: RecentAggregatesQuery,
) -> CommandResult<Page<IndexedAggregate>> {
    Ok(api::recent_aggregates(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        query,
    )
    .await?)
}

/// One page of an aggregate's events in version order.
#[tauri::command]
#[specta::specta]
pub async fn aggregate_events(
    state: State<'_, AppState>,
    practice_id: String,
    aggregate_type: String,
    aggregate_id: String,
    query: AggregateEventsQuery,
) -> CommandResult<Page<Event>> {
    let (store, caller) = (state.store().await, state.principal()?);
    Ok(api::aggregate_events(
        &store,
        &caller,
        &practice_id,
        &aggregate_type,
        &aggregate_id,
        query,
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
    query: PageQuery,
) -> CommandResult<Page<Event>> {
    Ok(api::events_by_type(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        &event_type,
        query,
    )
    .await?)
}

/// Events per day, event type and actor type (daily activity).
#[tauri::command]
#[specta::specta]
pub async fn daily_activity(
    state: State<'_, AppState>,
    practice_id: String,
    query: ActivityQuery,
) -> CommandResult<ActivityList> {
    Ok(api::activity(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        query,
    )
    .await?)
}

/// Recomputes the practice's chain and names the first event that breaks it; with `query`'s
/// `againstHash` (and `againstSeq`), also whether the store still holds the chain up to that
/// head recorded earlier.
#[tauri::command]
#[specta::specta]
pub async fn verify(
    state: State<'_, AppState>,
    practice_id: String,
    query: Option<api::VerifyQuery>,
) -> CommandResult<ChainReport> {
    Ok(api::verify(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        query.unwrap_or_default(),
    )
    .await?)
}

/// The practice's chain head (seq, hash, time): what to write down outside the store.
#[tauri::command]
#[specta::specta]
pub async fn chain_head(
    state: State<'_, AppState>,
    practice_id: String,
) -> CommandResult<ChainHead> {
    Ok(api::chain_head(&state.store().await, &state.principal()?, &practice_id).await?)
}

/// Exports the practice (or the request's slice) to `path`, a file the user chose in the save
/// dialog, as the identity; `exportProgress` events tell how far it got, and `export_cancel`
/// stops it. Answers the manifest the file carries (a CSV's goes beside it in
/// `FILE.manifest.json`). Cancelled or failed, nothing is left at `path`.
#[tauri::command]
#[specta::specta]
pub async fn export_practice(
    state: State<'_, AppState>,
    practice_id: String,
    request: ExportRequest,
    path: String,
) -> CommandResult<ExportManifest> {
    state.export_to_file(&practice_id, request, &path).await
}

/// Stops an export the app is writing (its file is removed); `not_found` once it has finished.
#[tauri::command]
#[specta::specta]
pub async fn export_cancel(state: State<'_, AppState>, export_id: String) -> CommandResult<()> {
    state.cancel_export(&export_id)
}

/// Checks an export file (NDJSON, JSON, or CSV with its `FILE.manifest.json`) offline, as
/// `chronicle verify FILE` does; a file that is not an export is `invalid` at `/path`.
#[tauri::command]
#[specta::specta]
pub async fn check_export_file(path: String) -> CommandResult<ExportCheck> {
    crate::export::check_file(path).await
}

/// Appends one event as the identity (`expectedVersion` guards against concurrent writers).
#[tauri::command]
#[specta::specta]
pub async fn append(state: State<'_, AppState>, event: NewEvent) -> CommandResult<Event> {
    Ok(api::append(&state.store().await, &state.principal()?, event).await?)
}

/// Appends events all or nothing, as the identity.
#[tauri::command]
#[specta::specta]
pub async fn append_batch(
    state: State<'_, AppState>,
    batch: BatchRequest,
) -> CommandResult<AppendedEvents> {
    Ok(api::append_batch(&state.store().await, &state.principal()?, batch).await?)
}

/// What `append` would store, checked and planned by the engine, then rolled back.
#[tauri::command]
#[specta::specta]
pub async fn append_dry_run(state: State<'_, AppState>, event: NewEvent) -> CommandResult<Event> {
    Ok(api::dry_run_append(&state.store().await, &state.principal()?, event).await?)
}

/// What `append_batch` would store, checked and planned by the engine, then rolled back.
#[tauri::command]
#[specta::specta]
pub async fn append_batch_dry_run(
    state: State<'_, AppState>,
    batch: BatchRequest,
) -> CommandResult<AppendedEvents> {
    Ok(api::dry_run_batch(&state.store().await, &state.principal()?, batch).await?)
}

/// Generates events from the registry's schemas into a practice as the identity;
/// `generateProgressEvent` reports each batch, `generate_cancel` stops before the next.
#[tauri::command]
#[specta::specta]
pub async fn generate_events(
    state: State<'_, AppState>,
    practice_id: String,
    request: GenerateRequest,
) -> CommandResult<GeneratedEvents> {
    state.generate_events(&practice_id, request).await
}

/// Stops the running generation before its next batch; false when none runs.
#[tauri::command]
#[specta::specta]
pub async fn generate_cancel(state: State<'_, AppState>) -> CommandResult<bool> {
    Ok(state.cancel_generation())
}

/// Every registered event type with its schema.
#[tauri::command]
#[specta::specta]
pub async fn registry_list(state: State<'_, AppState>) -> CommandResult<RegistryList> {
    Ok(api::registry(&state.store().await))
}

/// One event type and its schema.
#[tauri::command]
#[specta::specta]
pub async fn registry_schema(
    state: State<'_, AppState>,
    event_type: String,
) -> CommandResult<EventType> {
    Ok(api::event_type(&state.store().await, &event_type)?)
}

/// Where each built-in projector stands in one practice, or in every visible one.
#[tauri::command]
#[specta::specta]
pub async fn projector_status(
    state: State<'_, AppState>,
    query: ProjectorStatusQuery,
) -> CommandResult<ProjectorStatusList> {
    Ok(api::projector_status(&state.store().await, &state.principal()?, query).await?)
}

/// Clears a projector's read model for a practice and rebuilds it (owner or admin).
#[tauri::command]
#[specta::specta]
pub async fn projector_reset(
    state: State<'_, AppState>,
    practice_id: String,
    projector_name: String,
) -> CommandResult<()> {
    Ok(api::reset_projector(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        &projector_name,
    )
    .await?)
}

/// Skips the event a failed projector keeps failing on (owner or admin), recording the skip
/// as a `projector.event_skipped` event.
#[tauri::command]
#[specta::specta]
pub async fn projector_skip(
    state: State<'_, AppState>,
    practice_id: String,
    projector_name: String,
    request: api::SkipRequest,
) -> CommandResult<Event> {
    Ok(api::skip_projector_event(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        &projector_name,
        request,
    )
    .await?)
}

/// Lets a failed or stopped projector run again from where it stopped (owner or admin).
#[tauri::command]
#[specta::specta]
pub async fn projector_retry(
    state: State<'_, AppState>,
    practice_id: String,
    projector_name: String,
) -> CommandResult<()> {
    Ok(api::retry_projector(
        &state.store().await,
        &state.principal()?,
        &practice_id,
        &projector_name,
    )
    .await?)
}
