//! Projector status (also live, as SSE) and the operator actions reset, retry and skip.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use chronicle::Event;
use chronicle::api::live::{StatusUpdate, StatusWatch};
use chronicle::api::{self, ProjectorStatusList, ProjectorStatusQuery, SkipRequest};
use futures_util::Stream;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, User};

/// Checkpoint, head, lag and state of every projector, in every practice the caller can
/// read (or the one `practiceId` names): one request for the whole picture.
#[utoipa::path(get, path = "/v1/projectors", tag = "projectors",
    params(("x-user-id" = String, Header), ProjectorStatusQuery),
    responses((status = 200, body = ProjectorStatusList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn status_all(
    State(app): State<AppState>,
    User(user): User,
    ApiQuery(query): ApiQuery<ProjectorStatusQuery>,
) -> Result<Json<ProjectorStatusList>, ApiError> {
    Ok(Json(api::projector_status(&app.store, &user, query).await?))
}

/// Checkpoint, head, lag and state of every projector for the practice.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/projectors", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, body = ProjectorStatusList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn status(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Json<ProjectorStatusList>, ApiError> {
    let query = ProjectorStatusQuery {
        practice_id: Some(practice_id),
    };
    Ok(Json(api::projector_status(&app.store, &user, query).await?))
}

/// The same status as a stream: a `status` event (a ProjectorStatusList) whenever it
/// changes, and a `checkpointMoved` event (a CheckpointMoved) for each checkpoint that moved.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/projectors/live", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, description = "SSE: `status` events carry a ProjectorStatusList, `checkpointMoved` events a CheckpointMoved", content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn live(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let watch = StatusWatch::open(
        &app.store,
        &user,
        &practice_id,
        &app.announcements,
        app.shutdown.clone(),
    )
    .await?;
    let updates = futures_util::stream::unfold(watch, |mut watch| async move {
        let event = match watch.next().await? {
            StatusUpdate::Status(status) => SseEvent::default().event("status").json_data(status),
            StatusUpdate::CheckpointMoved(moved) => SseEvent::default()
                .event("checkpointMoved")
                .json_data(moved),
        }
        .expect("status updates serialize");
        Some((Ok(event), watch))
    });
    Ok(Sse::new(updates).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Clears the practice's read model of the projector and rebuilds it from the first event
/// (owner or admin).
#[utoipa::path(post, path = "/v1/practices/{practiceId}/projectors/{projector}/reset", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("projector" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    api::reset_projector(&app.store, &user, &practice_id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a failed or stopped projector run again from the event it stopped at (owner or admin).
#[utoipa::path(post, path = "/v1/practices/{practiceId}/projectors/{projector}/retry", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("projector" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    api::retry_projector(&app.store, &user, &practice_id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Passes over the event a failed projector keeps failing on (owner or admin): appends a
/// `projector.event_skipped` event (who, which event, why), which every replay obeys, and
/// lets the projector run on. Only the event the checkpoint is failed on can be skipped.
#[utoipa::path(post, path = "/v1/practices/{practiceId}/projectors/{projector}/skip", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("projector" = String, Path)),
    request_body = SkipRequest,
    responses((status = 201, body = Event, description = "The projector.event_skipped event"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn skip(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, name)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<SkipRequest>,
) -> Result<(StatusCode, Json<Event>), ApiError> {
    let recorded =
        api::skip_projector_event(&app.store, &user, &practice_id, &name, request).await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}
