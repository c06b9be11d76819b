//! Projector status (also live, as SSE) and the operator actions reset and retry.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use chronicle::projection::{ProjectorStatus, builtin};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

use super::AppState;
use super::announcements::wait_for;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, User};

/// Where each projector stands for a practice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectorsList {
    /// One per built-in projector.
    pub projectors: Vec<ProjectorStatus>,
}

/// Checkpoint changes closer together than this are reported as one status.
const COALESCE: Duration = Duration::from_millis(100);

fn names() -> Vec<&'static str> {
    builtin().iter().map(|p| p.name()).collect()
}

/// Checkpoint, head, lag and state of every projector for the practice.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/projectors", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, body = ProjectorsList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn status(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Json<ProjectorsList>, ApiError> {
    let projectors = app
        .store
        .projector_status(&user, Some(&practice_id), &names())
        .await?;
    Ok(Json(ProjectorsList { projectors }))
}

/// The same status as a stream: a `status` event whenever a checkpoint or the head moves.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/projectors/live", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, description = "SSE; each `status` event's data is a ProjectorsList", content_type = "text/event-stream", body = String),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn live(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    app.store.read_access(&user, &practice_id).await?;
    let watch = StatusWatch {
        appended: app.announcements.appended(),
        checkpoints: app.announcements.checkpoints(),
        app,
        user,
        practice_id,
        last: None,
    };
    let updates = futures_util::stream::unfold(watch, |mut watch| async move {
        let data = watch.next().await?;
        Some((Ok(SseEvent::default().event("status").data(data)), watch))
    });
    Ok(Sse::new(updates).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct StatusWatch {
    app: AppState,
    user: chronicle::Principal,
    practice_id: String,
    appended: broadcast::Receiver<chronicle::Appended>,
    checkpoints: broadcast::Receiver<chronicle::CheckpointMoved>,
    last: Option<String>,
}

impl StatusWatch {
    /// The status as JSON when it differs from the last one sent; `None` ends the stream
    /// (shutting down, or the caller lost access).
    async fn next(&mut self) -> Option<String> {
        loop {
            if *self.app.shutdown.borrow() {
                return None;
            }
            let projectors = self
                .app
                .store
                .projector_status(&self.user, Some(&self.practice_id), &names())
                .await
                .ok()?;
            let data =
                serde_json::to_string(&ProjectorsList { projectors }).expect("status serializes");
            if self.last.as_deref() != Some(data.as_str()) {
                self.last = Some(data.clone());
                return Some(data);
            }
            // The head moves with appends, checkpoints with the runners; the fallback tick
            // refreshes the time-based figures (lag in time, events/s).
            let practice_id = &self.practice_id;
            let (mut shutdown_a, mut shutdown_b) =
                (self.app.shutdown.clone(), self.app.shutdown.clone());
            let still_open = tokio::select! {
                open = wait_for(&mut self.appended, |a| &a.practice_id == practice_id, &mut shutdown_a) => open,
                open = wait_for(&mut self.checkpoints, |m| &m.practice_id == practice_id, &mut shutdown_b) => open,
            };
            if !still_open {
                return None;
            }
            // A catching-up runner moves its checkpoint every batch: gather a burst into one update.
            tokio::time::sleep(COALESCE).await;
        }
    }
}

/// Clears the practice's read model of the projector and rebuilds it from the first event
/// (owner or admin).
#[utoipa::path(post, path = "/v1/practices/{practiceId}/projectors/{projector}/reset", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("projector" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let projector = builtin()
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| unknown(&name))?;
    app.store
        .reset_projector(&user, &practice_id, projector.as_ref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a failed projector run again from the event it stopped at (owner or admin).
#[utoipa::path(post, path = "/v1/practices/{practiceId}/projectors/{projector}/retry", tag = "projectors",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ("projector" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(app): State<AppState>,
    User(user): User,
    ApiPath((practice_id, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if !names().contains(&name.as_str()) {
        return Err(unknown(&name));
    }
    app.store
        .retry_projector(&user, &practice_id, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn unknown(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no projector {name:?}; the projectors are {}",
            names().join(", ")
        ),
    )
}
