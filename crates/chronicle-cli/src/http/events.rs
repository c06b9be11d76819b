//! Events, practices and the registry. Each handler turns the request into the layer's
//! arguments, calls one [`chronicle::api`] operation and answers its value.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chronicle::api::{
    self, AggregateEventsQuery, AggregatesQuery, AppendOptions, AppendedEvents, BatchRequest,
    Health, PageQuery, PracticeList, RegistryList, TimelineQuery, VerifyQuery,
};
use chronicle::{
    AggregateSummary, ChainReport, ErrorCode, Event, EventType, NewEvent, Page, PracticeSummary,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, User};

/// The seed's answer to its two reads: `{"events": [...]}`, with the cursor of the next page
/// when one was asked for and there is more. Every other list of events is a [`Page`].
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeedEvents {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// Pass as `cursor` for the next page; absent at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl From<Page<Event>> for SeedEvents {
    fn from(page: Page<Event>) -> Self {
        SeedEvents {
            events: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

/// The seed's aggregate read: every event unless `limit` or `cursor` asks for a page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SeedAggregateQuery {
    /// Start at this version (default 1).
    #[param(minimum = 1)]
    pub from_version: Option<i64>,
    /// Page size, 1 to 1000.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Appends one event (the seed's endpoint). Optional `id` (safe retries) and `expectedVersion`.
/// With `?dryRun=true` the append is checked and planned, then rolled back: 200 with the
/// event as it would be stored, or the error the append would give.
///
/// Rules between fields, which the body's schema cannot state (400 when broken): a `human`
/// event's `actorId` is the caller; a `practice` event's `aggregateId` is its `practiceId`; a
/// membership event's `aggregateId` is its member's `userId`; only the store's system principal
/// sets `createdAt` (never over HTTP).
#[utoipa::path(post, path = "/v1/events/append", tag = "events",
    request_body = NewEvent,
    params(("x-user-id" = String, Header, description = "The user making the request"), AppendOptions),
    responses(
        (status = 201, description = "Stored", body = Event),
        (status = 200, description = "Dry run: what would be stored; nothing was", body = Event),
        (status = 400, description = "Malformed JSON or invalid fields", body = ErrorBody),
        (status = 401, description = "No x-user-id", body = ErrorBody),
        (status = 403, description = "Not a member, or role may not append this", body = ErrorBody),
        (status = 409, description = "Version or id conflict", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Unregistered type or payload breaks its schema", body = ErrorBody),
    ))]
pub async fn append(
    State(app): State<AppState>,
    User(user): User,
    ApiQuery(options): ApiQuery<AppendOptions>,
    ApiJson(event): ApiJson<NewEvent>,
) -> Result<(StatusCode, Json<Event>), ApiError> {
    if options.dry_run {
        return Ok((
            StatusCode::OK,
            Json(api::dry_run_append(&app.store, &user, event).await?),
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(api::append(&app.store, &user, event).await?),
    ))
}

/// Appends many events to one practice, all or nothing (`?dryRun=true`: checked and planned,
/// then rolled back; 200 with the would-be events).
///
/// Rules between fields, which each event's schema cannot state (400 when broken): a `human`
/// event's `actorId` is the caller; a `practice` event's `aggregateId` is its `practiceId`; a
/// membership event's `aggregateId` is its member's `userId`; only the store's system principal
/// sets `createdAt` (never over HTTP).
#[utoipa::path(post, path = "/v1/events/append-batch", tag = "events",
    request_body = BatchRequest,
    params(("x-user-id" = String, Header, description = "The user making the request"), AppendOptions),
    responses(
        (status = 201, description = "All stored, in order", body = AppendedEvents),
        (status = 200, description = "Dry run: what would be stored; nothing was", body = AppendedEvents),
        (status = 400, description = "Invalid; details name /events/N/...", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn append_batch(
    State(app): State<AppState>,
    User(user): User,
    ApiQuery(options): ApiQuery<AppendOptions>,
    ApiJson(batch): ApiJson<BatchRequest>,
) -> Result<(StatusCode, Json<AppendedEvents>), ApiError> {
    if options.dry_run {
        return Ok((
            StatusCode::OK,
            Json(api::dry_run_batch(&app.store, &user, batch).await?),
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(api::append_batch(&app.store, &user, batch).await?),
    ))
}

/// All events of an aggregate in chronological order (the seed's endpoint and shape).
#[utoipa::path(get, path = "/v1/events/aggregate/{practiceId}/{aggregateType}/{aggregateId}", tag = "events",
    params(
        ("x-user-id" = String, Header, description = "The user making the request"),
        ("practiceId" = String, Path), ("aggregateType" = String, Path), ("aggregateId" = String, Path),
        SeedAggregateQuery,
    ),
    responses((status = 200, body = SeedEvents), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn seed_aggregate_events(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, aggregate_type, aggregate_id)): ApiPath<(String, String, String)>,
    ApiQuery(query): ApiQuery<SeedAggregateQuery>,
) -> Result<Json<SeedEvents>, ApiError> {
    if query.limit.is_none() && query.cursor.is_none() {
        let events = api::all_aggregate_events(
            &app.store,
            &user,
            &practice_id,
            &aggregate_type,
            &aggregate_id,
            query.from_version,
        )
        .await?;
        return Ok(Json(SeedEvents {
            events,
            next_cursor: None,
        }));
    }
    let query = AggregateEventsQuery {
        from_version: query.from_version,
        limit: query.limit,
        cursor: query.cursor,
    };
    let page = api::aggregate_events(
        &app.store,
        &user,
        &practice_id,
        &aggregate_type,
        &aggregate_id,
        query,
    )
    .await?;
    Ok(Json(page.into()))
}

/// Events of one type in a practice, oldest first (the seed's endpoint and shape; `limit`
/// default 100).
#[utoipa::path(get, path = "/v1/events/type/{practiceId}/{eventType}", tag = "events",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("eventType" = String, Path), PageQuery),
    responses((status = 200, body = SeedEvents), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn seed_events_by_type(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, event_type)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<SeedEvents>, ApiError> {
    let page = api::events_by_type(&app.store, &user, &practice_id, &event_type, query).await?;
    Ok(Json(page.into()))
}

/// One page of an aggregate's events, in version order.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/aggregates/{aggregateType}/{aggregateId}/events", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("aggregateType" = String, Path), ("aggregateId" = String, Path), AggregateEventsQuery),
    responses((status = 200, body = Page<Event>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn aggregate_events(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, aggregate_type, aggregate_id)): ApiPath<(String, String, String)>,
    ApiQuery(query): ApiQuery<AggregateEventsQuery>,
) -> Result<Json<Page<Event>>, ApiError> {
    Ok(Json(
        api::aggregate_events(
            &app.store,
            &user,
            &practice_id,
            &aggregate_type,
            &aggregate_id,
            query,
        )
        .await?,
    ))
}

/// One page of a practice's events of one type, oldest first.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/event-types/{eventType}/events", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("eventType" = String, Path), PageQuery),
    responses((status = 200, body = Page<Event>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn events_by_type(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, event_type)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Page<Event>>, ApiError> {
    Ok(Json(
        api::events_by_type(&app.store, &user, &practice_id, &event_type, query).await?,
    ))
}

/// Practices the caller is a member of, with role, capabilities, event count and last activity.
#[utoipa::path(get, path = "/v1/practices", tag = "practices",
    params(("x-user-id" = String, Header)),
    responses((status = 200, body = PracticeList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn practices(
    State(app): State<AppState>,
    User(user): User,
) -> Result<Json<PracticeList>, ApiError> {
    Ok(Json(api::practices(&app.store, &user).await?))
}

/// One practice: the caller's role and capabilities there, event count, chain head.
#[utoipa::path(get, path = "/v1/practices/{practiceId}", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, body = PracticeSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn practice(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Json<PracticeSummary>, ApiError> {
    Ok(Json(api::practice(&app.store, &user, &practice_id).await?))
}

/// A practice's events in seq order (or reverse), filtered.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/events", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), TimelineQuery),
    responses((status = 200, body = Page<Event>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn timeline(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<TimelineQuery>,
) -> Result<Json<Page<Event>>, ApiError> {
    Ok(Json(
        api::timeline(&app.store, &user, &practice_id, query).await?,
    ))
}

/// One event by id.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/events/{eventId}", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("eventId" = String, Path)),
    responses((status = 200, body = Event), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn event(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, event_id)): ApiPath<(String, String)>,
) -> Result<Json<Event>, ApiError> {
    Ok(Json(
        api::event(&app.store, &user, &practice_id, &event_id).await?,
    ))
}

/// The aggregates of a practice: version, first and last time, last event type.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/aggregates", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), AggregatesQuery),
    responses((status = 200, body = Page<AggregateSummary>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn aggregates(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<AggregatesQuery>,
) -> Result<Json<Page<AggregateSummary>>, ApiError> {
    Ok(Json(
        api::aggregates(&app.store, &user, &practice_id, query).await?,
    ))
}

/// Recomputes the practice's hash chain and names the first event that breaks it; checks the
/// head row and every membership; with `againstHash` (and `againstSeq`), whether the chain
/// still reaches a head recorded earlier (`anchor.held`). `againstSeq` without `againstHash`
/// is a 400: an anchor is a hash.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/verify", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), VerifyQuery),
    responses((status = 200, body = ChainReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<VerifyQuery>,
) -> Result<Json<ChainReport>, ApiError> {
    Ok(Json(
        api::verify(&app.store, &user, &practice_id, query).await?,
    ))
}

/// Every registered event type with its schema.
#[utoipa::path(get, path = "/v1/registry", tag = "registry",
    params(("x-user-id" = String, Header)),
    responses((status = 200, body = RegistryList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn registry(State(app): State<AppState>, User(_): User) -> Json<RegistryList> {
    Json(api::registry(&app.store))
}

/// One event type and its schema.
#[utoipa::path(get, path = "/v1/registry/{eventType}", tag = "registry",
    params(("x-user-id" = String, Header), ("eventType" = String, Path)),
    responses((status = 200, body = EventType), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn event_type(
    State(app): State<AppState>,
    User(_): User,
    ApiPath(event_type): ApiPath<String>,
) -> Result<Json<EventType>, ApiError> {
    Ok(Json(api::event_type(&app.store, &event_type)?))
}

/// Liveness: answers when the store answers.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn health(State(app): State<AppState>) -> Result<Json<Health>, ApiError> {
    api::health(&app.store).await.map(Json).map_err(|error| {
        tracing::error!(%error, "health check failed");
        ApiError::new(ErrorCode::Unavailable, "the store does not answer")
    })
}
