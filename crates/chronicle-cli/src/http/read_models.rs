//! Reads of the projectors' read models, for the screens that show them: the practice
//! directory (names, activity), members and the people a caller can view as, the most
//! recently active aggregates, and daily activity.
//! They lag the events by as much as the runner does (`/projectors` tells how much).

use axum::Json;
use axum::extract::State;
use chronicle::{DailyCount, IndexedAggregate, Member, PageRequest, PracticeListing};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, User};

/// Practices the caller can see, with names.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DirectoryList {
    /// Ordered by name.
    pub practices: Vec<PracticeListing>,
}

/// Aggregates, most recently active first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecentAggregatesPage {
    /// Most recent first.
    pub aggregates: Vec<IndexedAggregate>,
    /// Cursor of the next page.
    #[serde(
        rename = "nextCursor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_cursor: Option<String>,
}

/// Events per day, event type and actor type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActivityList {
    /// Ordered by day.
    pub days: Vec<DailyCount>,
}

/// A practice's members.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    /// By user id.
    pub members: Vec<Member>,
}

/// User ids the caller shares a practice with.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    /// By user id, at most 1000; the caller included when they belong to any practice.
    pub users: Vec<String>,
}

/// Filter and paging of the recent aggregates.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RecentQuery {
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
    /// Page size, 1 to 1000; default 100.
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Day range of the activity.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// First day, `YYYY-MM-DD` (UTC), inclusive.
    pub from_day: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC), inclusive.
    pub to_day: Option<String>,
}

/// The caller's practices with name and activity, from the practice directory.
#[utoipa::path(get, path = "/v1/directory/practices", tag = "read models",
    params(("x-user-id" = String, Header)),
    responses((status = 200, body = DirectoryList), (status = 401, body = ErrorBody)))]
pub async fn directory(
    State(app): State<AppState>,
    User(user): User,
) -> Result<Json<DirectoryList>, ApiError> {
    Ok(Json(DirectoryList {
        practices: app.store.practice_directory(&user).await?,
    }))
}

/// A practice's aggregates, most recently active first, from the aggregate index.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/aggregates/recent", tag = "read models",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), RecentQuery),
    responses((status = 200, body = RecentAggregatesPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn recent_aggregates(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<RecentQuery>,
) -> Result<Json<RecentAggregatesPage>, ApiError> {
    let page = app
        .store
        .recent_aggregates(
            &user,
            &practice_id,
            query.aggregate_type.as_deref(),
            &PageRequest {
                cursor: query.cursor,
                limit: query.limit,
            },
        )
        .await?;
    Ok(Json(RecentAggregatesPage {
        aggregates: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Events per UTC day, event type and actor type, from the daily activity read model.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/activity", tag = "read models",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path), ActivityQuery),
    responses((status = 200, body = ActivityList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn activity(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ActivityQuery>,
) -> Result<Json<ActivityList>, ApiError> {
    Ok(Json(ActivityList {
        days: app
            .store
            .daily_activity(
                &user,
                &practice_id,
                query.from_day.as_deref(),
                query.to_day.as_deref(),
            )
            .await?,
    }))
}

/// The practice's members: roles from the access rules, names from the user directory.
#[utoipa::path(get, path = "/v1/practices/{practiceId}/members", tag = "read models",
    params(("x-user-id" = String, Header), ("practiceId" = String, Path)),
    responses((status = 200, body = MemberList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn members(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
) -> Result<Json<MemberList>, ApiError> {
    Ok(Json(MemberList {
        members: app.store.practice_members(&user, &practice_id).await?,
    }))
}

/// The people the caller shares a practice with: who the web console offers to view as.
#[utoipa::path(get, path = "/v1/users", tag = "read models",
    params(("x-user-id" = String, Header)),
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody)))]
pub async fn users(
    State(app): State<AppState>,
    User(user): User,
) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList {
        users: app
            .store
            .known_users(&user, chronicle::MAX_KNOWN_USERS)
            .await?,
    }))
}
