//! Reads of the built-in read models (kept current by the projector runner): practices with
//! their names, their members with names, aggregates by recent activity, and daily activity
//! for charts. Scoped by principal like every read; answers lag the events by the runner's lag.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rows::RecordRow;
use super::{PageRequest, Store, dispatch};
use crate::cursor::{self, page_limit};
use crate::error::Result;
use crate::model::{Page, Principal, Role};

/// A practice as the practice directory knows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct PracticeListing {
    /// The practice.
    pub practice_id: String,
    /// Its current name.
    pub name: Option<String>,
    /// When `practice.created` happened.
    pub created_at: Option<DateTime<Utc>>,
    /// Events applied so far.
    pub event_count: i64,
    /// Time of the last event applied.
    pub last_activity_at: DateTime<Utc>,
}

/// One aggregate as the aggregate index knows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct IndexedAggregate {
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Current version.
    pub version: i64,
    /// First event's time.
    pub first_event_at: DateTime<Utc>,
    /// Last event's time.
    pub last_event_at: DateTime<Utc>,
    /// Last event's type.
    pub last_event_type: String,
    /// Events of the aggregate.
    pub event_count: i64,
}

/// Events of one UTC day, event type and actor type.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct DailyCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Event type.
    pub event_type: String,
    /// human, ai or system.
    pub actor_type: String,
    /// How many.
    pub events: i64,
}

/// A member of a practice: the role the access rules hold now, the name and email the user
/// directory knows (absent until the runner reaches the member's events).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The user.
    pub user_id: String,
    /// Their role in the practice.
    pub role: Role,
    /// Display name, when known.
    pub display_name: Option<String>,
    /// Email, when known.
    pub email: Option<String>,
    /// Seq of the event that made them a member.
    pub since_seq: i64,
    /// Seq of the membership event that gave the current role.
    pub changed_seq: i64,
    /// Who appended that event (its `recordedBy`; `None` on events from before it was recorded).
    pub changed_by: Option<String>,
}

/// Someone who was a member and was removed (a `membership.removed` event), and is not a
/// member again since.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovedMember {
    /// The user.
    pub user_id: String,
    /// Seq of the removal.
    pub removed_seq: i64,
    /// Who removed them (the removal's `recordedBy`).
    pub removed_by: Option<String>,
    /// When.
    pub removed_at: DateTime<Utc>,
    /// The reason given, if any.
    pub reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: String,
    role: String,
    display_name: Option<String>,
    email: Option<String>,
    since_seq: i64,
    updated_seq: i64,
    recorded_by: Option<String>,
}

/// Most user ids [`Store::known_users`] returns.
pub const MAX_KNOWN_USERS: u32 = 1000;

impl Store {
    /// The practice's members, by user id. Like every read, only for those who may read the
    /// practice.
    pub async fn practice_members(
        &self,
        principal: &Principal,
        practice_id: &str,
    ) -> Result<Vec<Member>> {
        self.read_access(principal, practice_id).await?;
        let rows: Vec<MemberRow> = dispatch!(self, |pool, _sql| {
            sqlx::query_as(
                "SELECT m.user_id, m.role, u.display_name, u.email, m.since_seq, m.updated_seq, e.recorded_by \
                 FROM memberships m \
                 LEFT JOIN rm_user_directory u ON u.practice_id = m.practice_id AND u.user_id = m.user_id \
                 LEFT JOIN events e ON e.practice_id = m.practice_id AND e.seq = m.updated_seq \
                 WHERE m.practice_id = $1 ORDER BY m.user_id",
            )
            .bind(practice_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(Member {
                    role: row.role.parse().map_err(crate::Error::undecodable)?,
                    user_id: row.user_id,
                    display_name: row.display_name,
                    email: row.email,
                    since_seq: row.since_seq,
                    changed_seq: row.updated_seq,
                    changed_by: row.recorded_by,
                })
            })
            .collect()
    }

    /// Former members: each user whose last membership event is a removal, newest first.
    pub async fn removed_members(
        &self,
        principal: &Principal,
        practice_id: &str,
    ) -> Result<Vec<RemovedMember>> {
        self.read_access(principal, practice_id).await?;
        let rows: Vec<RecordRow> = dispatch!(self, |pool, _sql| {
            sqlx::query_as(
                "SELECT e.aggregate_id, e.seq, e.recorded_by, e.created_at, e.payload_json FROM events e \
                 WHERE e.practice_id = $1 AND e.event_type = 'membership.removed' \
                 AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.practice_id = e.practice_id AND m.user_id = e.aggregate_id) \
                 AND NOT EXISTS (SELECT 1 FROM events later WHERE later.practice_id = e.practice_id \
                     AND later.aggregate_type = 'membership' AND later.aggregate_id = e.aggregate_id AND later.seq > e.seq) \
                 ORDER BY e.seq DESC LIMIT 1000",
            )
            .bind(practice_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| {
                let reason = row.payload()?["reason"].as_str().map(str::to_string);
                Ok(RemovedMember {
                    user_id: row.aggregate_id,
                    removed_seq: row.seq,
                    removed_by: row.recorded_by,
                    removed_at: row.created_at,
                    reason,
                })
            })
            .collect()
    }

    /// User ids worth offering in a "view as" picker, by id, at most `limit` (capped at
    /// [`MAX_KNOWN_USERS`]): for a user, the members of the practices they belong to
    /// (themselves included); for the system principal, every member of any practice.
    pub async fn known_users(&self, principal: &Principal, limit: u32) -> Result<Vec<String>> {
        let limit = i64::from(limit.min(MAX_KNOWN_USERS));
        Ok(dispatch!(self, |pool, _sql| match principal {
            Principal::User(user) =>
                sqlx::query_scalar(
                    "SELECT DISTINCT other.user_id FROM memberships me \
                 JOIN memberships other ON other.practice_id = me.practice_id \
                 WHERE me.user_id = $1 ORDER BY other.user_id LIMIT $2",
                )
                .bind(user)
                .bind(limit)
                .fetch_all(pool)
                .await?,
            Principal::System =>
                sqlx::query_scalar(
                    "SELECT DISTINCT user_id FROM memberships ORDER BY user_id LIMIT $1"
                )
                .bind(limit)
                .fetch_all(pool)
                .await?,
        }))
    }

    /// The practices the principal can see, with name and activity from the practice
    /// directory (practices the runner has not reached yet are absent).
    pub async fn practice_directory(&self, principal: &Principal) -> Result<Vec<PracticeListing>> {
        const COLUMNS: &str =
            "d.practice_id, d.name, d.created_at, d.event_count, d.last_activity_at";
        Ok(dispatch!(self, |pool, _sql| match principal {
            Principal::User(user) =>
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM rm_practice_directory d JOIN memberships m \
                 ON m.practice_id = d.practice_id AND m.user_id = $1 ORDER BY d.practice_id"
                )))
                .bind(user)
                .fetch_all(pool)
                .await?,
            Principal::System =>
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM rm_practice_directory d ORDER BY d.practice_id"
                )))
                .fetch_all(pool)
                .await?,
        }))
    }

    /// A practice's aggregates, most recently active first (optionally of one type).
    pub async fn recent_aggregates(
        &self,
        principal: &Principal,
        practice_id: &str,
        aggregate_type: Option<&str>,
        page_request: &PageRequest,
    ) -> Result<Page<IndexedAggregate>> {
        if let Some(aggregate_type) = aggregate_type {
            crate::rules::check_names(&[(
                "/aggregateType",
                aggregate_type,
                crate::rules::MAX_TYPE_LEN,
            )])?;
        }
        let limit = page_limit(page_request.limit)?;
        let after = page_request
            .cursor
            .as_deref()
            .map(|c| {
                cursor::decode_naming(c, |(_, t, id): &(DateTime<Utc>, String, String)| [t, id])
            })
            .transpose()?;
        self.read_access(principal, practice_id).await?;
        let items: Vec<IndexedAggregate> = dispatch!(self, |pool, _sql| {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT aggregate_type, aggregate_id, version, first_event_at, last_event_at, last_event_type, event_count \
                 FROM rm_aggregate_index WHERE practice_id = ",
            );
            q.push_bind(practice_id);
            if let Some(t) = aggregate_type {
                q.push(" AND aggregate_type = ").push_bind(t);
            }
            if let Some((at, t, id)) = &after {
                q.push(" AND (last_event_at < ").push_bind(*at);
                q.push(" OR (last_event_at = ").push_bind(*at);
                q.push(" AND (aggregate_type > ").push_bind(t);
                q.push(" OR (aggregate_type = ")
                    .push_bind(t)
                    .push(" AND aggregate_id > ")
                    .push_bind(id)
                    .push("))))");
            }
            q.push(" ORDER BY last_event_at DESC, aggregate_type, aggregate_id LIMIT ")
                .push_bind(limit + 1);
            q.build_query_as().fetch_all(pool).await?
        });
        let more = items.len() as i64 > limit;
        let mut items = items;
        items.truncate(limit as usize);
        let next_cursor = more
            .then(|| {
                items
                    .last()
                    .map(|a| cursor::encode(&(a.last_event_at, &a.aggregate_type, &a.aggregate_id)))
            })
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// Events per day, event type and actor type, for `[from_day, to_day]` (`YYYY-MM-DD`,
    /// inclusive; either may be open).
    pub async fn daily_activity(
        &self,
        principal: &Principal,
        practice_id: &str,
        from_day: Option<&str>,
        to_day: Option<&str>,
    ) -> Result<Vec<DailyCount>> {
        for (path, day) in [("/fromDay", from_day), ("/toDay", to_day)] {
            // Exactly `YYYY-MM-DD`: the days are compared as text.
            if let Some(day) = day
                && (day.len() != 10 || chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err())
            {
                return Err(crate::Error::invalid(
                    path,
                    format!("{day:?} is not a date like 2026-11-26"),
                ));
            }
        }
        self.read_access(principal, practice_id).await?;
        Ok(dispatch!(self, |pool, _sql| {
            sqlx::query_as(
                "SELECT day, event_type, actor_type, events FROM rm_daily_activity WHERE practice_id = $1 \
                 AND day >= $2 AND day <= $3 ORDER BY day, event_type, actor_type",
            )
            .bind(practice_id)
            .bind(from_day.unwrap_or("0000-01-01"))
            .bind(to_day.unwrap_or("9999-12-31"))
            .fetch_all(pool)
            .await?
        }))
    }
}
