//! Reads of the projectors' read models: practice directory, recent aggregates, daily
//! activity, members and the people a caller shares practices with.

use axum::Json;
use axum::extract::State;
use chronicle::api::{
    self, ActivityList, ActivityQuery, DirectoryList, MemberList, RecentAggregatesQuery, UserList,
};
use chronicle::{IndexedAggregate, Page};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, User};

/// The caller's practices with name and activity, from the practice directory.
#[utoipa::path(get, path = "/v1/directory/practices", tag = "read models",
    params(("x-user-id" = String, Header)),
    responses((status = 200, body = DirectoryList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn directory(
    State(app): State<AppState>,
    User(user): User,
) -> Result<Json<DirectoryList>, ApiError> {
    Ok(Json(api::directory(&app.store, &user).await?))
}

/// A practice's aggregates, most recently active first, from the aggregate index.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/aggregates/recent", tag = "read models",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), RecentAggregatesQuery),
    responses((status = 200, body = Page<IndexedAggregate>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn recent_aggregates(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<RecentAggregatesQuery>,
) -> Result<Json<Page<IndexedAggregate>>, ApiError> {
    Ok(Json(
        api::recent_aggregates(&app.store, &user, &practice_id, query).await?,
    ))
}

/// Events per UTC day, event type and actor type, from the daily activity read model.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/activity", tag = "read models",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ActivityQuery),
    responses((status = 200, body = ActivityList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn activity(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> Result<Json<ActivityList>, ApiError> {
    Ok(Json(
        api::activity(&app.store, &user, &practice_id, query).await?,
    ))
}

/// The practice's members: roles from the access rules, names from the user directory.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/members", tag = "read models",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, body = MemberList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn members(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Json<MemberList>, ApiError> {
    Ok(Json(api::members(&app.store, &user, &practice_id).await?))
}

/// The people the caller shares a practice with: who the web console offers to view as.
#[utoipa::path(get, path = "/v1/users", tag = "read models",
    params(("x-user-id" = String, Header)),
    responses((status = 200, body = UserList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn users(
    State(app): State<AppState>,
    User(user): User,
) -> Result<Json<UserList>, ApiError> {
    Ok(Json(api::users(&app.store, &user).await?))
}
