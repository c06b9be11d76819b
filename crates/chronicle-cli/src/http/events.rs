//! Handlers for events, practices and the registry. Each one extracts, makes one engine
//! call and maps the error.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chronicle::{
    ActorType, AggregateFilter, AggregateSummary, ChainReport, Direction, Event, EventType,
    NewEvent, PageRequest, PracticeSummary, TimelineFilter,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, User};

/// `{"events": [...]}`, with the cursor of the next page when there is one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    /// The events, in the order asked for.
    pub events: Vec<Event>,
    /// Pass as `cursor` for the next page; absent or null at the end.
    #[serde(
        rename = "nextCursor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_cursor: Option<String>,
}

/// A batch to append: all or nothing, one practice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Events in order.
    pub events: Vec<NewEvent>,
}

/// Aggregates of a practice.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AggregatesPage {
    /// Ordered by type, then id.
    pub aggregates: Vec<AggregateSummary>,
    /// Cursor of the next page.
    #[serde(
        rename = "nextCursor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_cursor: Option<String>,
}

/// Practices the caller can see.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PracticesList {
    /// With the caller's role.
    pub practices: Vec<PracticeSummary>,
}

/// Registered event types.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryList {
    /// Sorted by name, each with its schema.
    #[serde(rename = "eventTypes")]
    pub event_types: Vec<EventType>,
}

/// Liveness and the store behind the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Newest applied schema migration.
    #[serde(rename = "schemaVersion")]
    pub schema_version: i64,
}

/// Paging of the seed's by-type query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TypeQuery {
    /// 1 to 1000; default 100.
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Options of the seed's aggregate query. Without `limit` or `cursor` every event is
/// returned, as the seed specifies; with them, one page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// Start at this version (default 1).
    pub from_version: Option<i64>,
    /// Page size, 1 to 1000.
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters and paging of a practice timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Comma-separated event types.
    pub event_types: Option<String>,
    /// human, ai or system.
    #[param(value_type = Option<String>)]
    pub actor_type: Option<ActorType>,
    /// Exact actor id.
    pub actor_id: Option<String>,
    /// Exact aggregate type.
    pub aggregate_type: Option<String>,
    /// At or after (RFC 3339).
    #[param(value_type = Option<String>)]
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    #[param(value_type = Option<String>)]
    pub to: Option<DateTime<Utc>>,
    /// Payload contains this text (ASCII case-insensitive).
    pub text: Option<String>,
    /// Only events after this seq (what is newer than a page already shown).
    pub after_seq: Option<i64>,
    /// Only events before this seq.
    pub before_seq: Option<i64>,
    /// forward (default, oldest first) or backward.
    #[param(value_type = Option<String>)]
    pub direction: Option<Direction>,
    /// Page size, 1 to 1000; default 100.
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters and paging of the aggregates list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AggregatesQuery {
    /// Exact aggregate type.
    pub aggregate_type: Option<String>,
    /// Aggregate ids starting with this.
    pub id_prefix: Option<String>,
    /// Page size, 1 to 1000; default 100.
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Appends one event (the seed's endpoint). Optional `id` (safe retries) and `expectedVersion`.
#[utoipa::path(post, path = "/v1/events/append", tag = "events",
    request_body = NewEvent,
    params(("x-user-id" = String, Header, description = "The user making the request")),
    responses(
        (status = 201, description = "Stored", body = Event),
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
    ApiJson(event): ApiJson<NewEvent>,
) -> Result<(StatusCode, Json<Event>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.store.append(&user, event).await?),
    ))
}

/// Appends many events to one practice, all or nothing.
#[utoipa::path(post, path = "/v1/events/append-batch", tag = "events",
    request_body = BatchRequest,
    params(("x-user-id" = String, Header, description = "The user making the request")),
    responses(
        (status = 201, description = "All stored, in order", body = EventsPage),
        (status = 400, description = "Invalid; details name /events/N/...", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn append_batch(
    State(app): State<AppState>,
    User(user): User,
    ApiJson(batch): ApiJson<BatchRequest>,
) -> Result<(StatusCode, Json<EventsPage>), ApiError> {
    let events = app.store.append_batch(&user, batch.events).await?;
    Ok((
        StatusCode::CREATED,
        Json(EventsPage {
            events,
            next_cursor: None,
        }),
    ))
}

/// All events of an aggregate in chronological order (the seed's endpoint).
#[utoipa::path(get, path = "/v1/events/aggregate/{practiceId}/{aggregateType}/{aggregateId}", tag = "events",
    params(
        ("x-user-id" = String, Header, description = "The user making the request"),
        ("practiceId" = String, Path), ("aggregateType" = String, Path), ("aggregateId" = String, Path),
        AggregateQuery,
    ),
    responses((status = 200, body = EventsPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn aggregate_events(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, aggregate_type, aggregate_id)): ApiPath<(String, String, String)>,
    ApiQuery(query): ApiQuery<AggregateQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    if query.limit.is_none() && query.cursor.is_none() {
        let events = app
            .store
            .all_aggregate_events(
                &user,
                &practice_id,
                &aggregate_type,
                &aggregate_id,
                query.from_version,
            )
            .await?;
        return Ok(Json(EventsPage {
            events,
            next_cursor: None,
        }));
    }
    let page = app
        .store
        .aggregate_events(
            &user,
            &practice_id,
            &aggregate_type,
            &aggregate_id,
            query.from_version,
            &PageRequest {
                cursor: query.cursor,
                limit: query.limit,
            },
        )
        .await?;
    Ok(Json(EventsPage {
        events: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Events of one type in a practice, oldest first (the seed's endpoint; `limit` default 100).
#[utoipa::path(get, path = "/v1/events/type/{practiceId}/{eventType}", tag = "events",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("eventType" = String, Path), TypeQuery),
    responses((status = 200, body = EventsPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn events_by_type(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, event_type)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<TypeQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    let page = app
        .store
        .events_by_type(
            &user,
            &practice_id,
            &event_type,
            &PageRequest {
                cursor: query.cursor,
                limit: query.limit,
            },
        )
        .await?;
    Ok(Json(EventsPage {
        events: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Practices the caller is a member of, with role, event count and last activity.
#[utoipa::path(get, path = "/v1/practices", tag = "practices",
    params(("x-user-id" = String, Header)),
    responses((status = 200, body = PracticesList), (status = 401, body = ErrorBody)))]
pub async fn practices(
    State(app): State<AppState>,
    User(user): User,
) -> Result<Json<PracticesList>, ApiError> {
    Ok(Json(PracticesList {
        practices: app.store.practices(&user).await?,
    }))
}

/// A practice's events in seq order (or reverse), filtered.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/events", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), TimelineQuery),
    responses((status = 200, body = EventsPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn timeline(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<TimelineQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    let filter = TimelineFilter {
        event_types: query
            .event_types
            .map(|types| {
                types
                    .split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        actor_type: query.actor_type,
        actor_id: query.actor_id,
        aggregate_type: query.aggregate_type,
        from: query.from,
        to: query.to,
        text: query.text,
        after_seq: query.after_seq,
        before_seq: query.before_seq,
    };
    let page = app
        .store
        .timeline(
            &user,
            &practice_id,
            &filter,
            query.direction.unwrap_or_default(),
            &PageRequest {
                cursor: query.cursor,
                limit: query.limit,
            },
        )
        .await?;
    Ok(Json(EventsPage {
        events: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One event by id.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/events/{eventId}", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("eventId" = String, Path)),
    responses((status = 200, body = Event), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn event(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, event_id)): ApiPath<(String, String)>,
) -> Result<Json<Event>, ApiError> {
    match app.store.event(&user, &practice_id, &event_id).await? {
        Some(event) => Ok(Json(event)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("practice {practice_id:?} has no event {event_id:?}"),
        )),
    }
}

/// The aggregates of a practice: version, first and last time, last event type.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/aggregates", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), AggregatesQuery),
    responses((status = 200, body = AggregatesPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn aggregates(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<AggregatesQuery>,
) -> Result<Json<AggregatesPage>, ApiError> {
    let filter = AggregateFilter {
        aggregate_type: query.aggregate_type,
        id_prefix: query.id_prefix,
    };
    let page = app
        .store
        .aggregates(
            &user,
            &practice_id,
            &filter,
            &PageRequest {
                cursor: query.cursor,
                limit: query.limit,
            },
        )
        .await?;
    Ok(Json(AggregatesPage {
        aggregates: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Recomputes the practice's hash chain and names the first event that breaks it.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/verify", tag = "practices",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, body = ChainReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Json<ChainReport>, ApiError> {
    Ok(Json(app.store.verify_chain(&user, &practice_id).await?))
}

/// Every registered event type with its schema.
#[utoipa::path(get, path = "/v1/registry", tag = "registry",
    params(("x-user-id" = String, Header)),
    responses((status = 200, body = RegistryList), (status = 401, body = ErrorBody)))]
pub async fn registry(State(app): State<AppState>, User(_): User) -> Json<RegistryList> {
    Json(RegistryList {
        event_types: app.store.registry().types().cloned().collect(),
    })
}

/// One event type and its schema.
#[utoipa::path(get, path = "/v1/registry/{eventType}", tag = "registry",
    params(("x-user-id" = String, Header), ("eventType" = String, Path)),
    responses((status = 200, body = EventType), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn event_type(
    State(app): State<AppState>,
    User(_): User,
    ApiPath(event_type): ApiPath<String>,
) -> Result<Json<EventType>, ApiError> {
    match app.store.registry().get(&event_type) {
        Ok(found) => Ok(Json(found.clone())),
        Err(error) => {
            let mut not_found = ApiError::from(error);
            not_found.status = StatusCode::NOT_FOUND;
            Err(not_found)
        }
    }
}

/// Liveness: answers when the store answers.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn health(State(app): State<AppState>) -> Result<Json<Health>, ApiError> {
    let schema_version = app.store.schema_version().await.map_err(|error| {
        tracing::error!(%error, "health check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the store does not answer",
        )
    })?;
    Ok(Json(Health {
        status: "ok",
        backend: app.store.backend_name(),
        schema_version,
    }))
}
