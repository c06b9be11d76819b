//! Test data: events generated from the registry's schemas into a practice.

use std::sync::atomic::AtomicBool;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chronicle::api::{self, GenerateRequest, GeneratedEvents};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, User};

/// Generates up to 100,000 events of the chosen types from their schemas, as the caller,
/// through the ordinary batch append (validated, access-checked, chained), and answers the
/// counts. A practice without events is created first, with the caller as its owner. Each
/// batch commits on its own: a request cut short by the request timeout keeps the batches it
/// committed (the web console asks for 1,000 events at a time).
#[utoipa::path(post, path = "/v1/practices/{practiceId}/generate", tag = "practices",
    request_body = GenerateRequest,
    params(("x-user-id" = String, Header, description = "The user making the request"), ("practiceId" = String, Path)),
    responses(
        (status = 201, description = "Written; counts per event type", body = GeneratedEvents),
        (status = 400, description = "A count out of range, or a type that cannot be generated", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "An unregistered event type", body = ErrorBody),
        (status = 409, body = ErrorBody),
    ))]
pub async fn generate(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiJson(request): ApiJson<GenerateRequest>,
) -> Result<(StatusCode, Json<GeneratedEvents>), ApiError> {
    // Over HTTP the request is the unit: no progress to report, and no cancel but closing.
    let never = AtomicBool::new(false);
    let generated = api::generate_events(
        &app.store,
        &user,
        &practice_id,
        request,
        &mut |_| {},
        &never,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(generated)))
}
