//! The built-in read models: practice directory, user directory, aggregate index and daily
//! activity. Each folds a batch in memory first, then writes one multi-row upsert, so a
//! batch of 1,000 events costs a handful of statements.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{ApplyFuture, Arg, ProjectionTx, Projector, SharedProjector};
use crate::error::Error;
use crate::model::Event;

/// Every built-in projector.
pub fn builtin() -> Vec<SharedProjector> {
    vec![
        Arc::new(PracticeDirectory),
        Arc::new(UserDirectory),
        Arc::new(AggregateIndex),
        Arc::new(DailyActivity),
    ]
}

/// The built-in projectors' names, in the order [`builtin`] runs them: the catalog every
/// status and every operator action is about.
pub fn builtin_names() -> Vec<&'static str> {
    builtin().iter().map(|p| p.name()).collect()
}

/// The built-in projector called `name`, or [`Error::UnknownProjector`] naming the others.
pub fn find_builtin(name: &str) -> Result<SharedProjector, Error> {
    builtin()
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| Error::UnknownProjector {
            name: name.to_string(),
            known: builtin_names().into_iter().map(String::from).collect(),
        })
}

fn delete_practice<'a>(
    tx: &'a mut ProjectionTx<'_>,
    table: &'static str,
    practice_id: &'a str,
) -> ApplyFuture<'a> {
    Box::pin(async move {
        tx.execute(
            &format!("DELETE FROM {table} WHERE practice_id = $1"),
            vec![Arg::Text(practice_id.to_string())],
        )
        .await?;
        Ok(())
    })
}

/// `rm_practice_directory`: id, current name, created at, event count, last activity.
pub struct PracticeDirectory;

impl Projector for PracticeDirectory {
    fn name(&self) -> &'static str {
        "practice_directory"
    }

    fn handles(&self, _event_type: &str) -> bool {
        true
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut ProjectionTx<'_>,
        practice_id: &'a str,
        events: &'a [Event],
    ) -> ApplyFuture<'a> {
        Box::pin(async move {
            let mut name = None;
            let mut created_at = None;
            for event in events {
                if event.event_type == "practice.created" {
                    created_at = Some(event.created_at);
                }
                if matches!(
                    event.event_type.as_str(),
                    "practice.created" | "practice.updated"
                ) && let Some(n) = event.payload["name"].as_str()
                {
                    name = Some(n.to_string());
                }
            }
            let Some(last) = events.last() else {
                return Ok(());
            };
            tx.insert_rows(
                "INSERT INTO rm_practice_directory (practice_id, name, created_at, event_count, last_activity_at)",
                vec![vec![
                    Arg::Text(practice_id.to_string()),
                    Arg::OptText(name),
                    Arg::OptTime(created_at),
                    Arg::Int(events.len() as i64),
                    Arg::Time(last.created_at),
                ]],
                "ON CONFLICT (practice_id) DO UPDATE SET name = COALESCE(excluded.name, rm_practice_directory.name), \
                 created_at = COALESCE(rm_practice_directory.created_at, excluded.created_at), \
                 event_count = rm_practice_directory.event_count + excluded.event_count, \
                 last_activity_at = excluded.last_activity_at",
            )
            .await?;
            Ok(())
        })
    }

    fn reset<'a>(&'a self, tx: &'a mut ProjectionTx<'_>, practice_id: &'a str) -> ApplyFuture<'a> {
        delete_practice(tx, "rm_practice_directory", practice_id)
    }
}

/// `rm_user_directory`: users from `user.created` and the role each holds in the practice.
pub struct UserDirectory;

#[derive(Default)]
struct UserRow {
    email: Option<String>,
    display_name: Option<String>,
    role: Option<String>,
}

impl Projector for UserDirectory {
    fn name(&self) -> &'static str {
        "user_directory"
    }

    fn handles(&self, event_type: &str) -> bool {
        matches!(
            event_type,
            "user.created" | "membership.created" | "membership.role_changed"
        )
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut ProjectionTx<'_>,
        practice_id: &'a str,
        events: &'a [Event],
    ) -> ApplyFuture<'a> {
        Box::pin(async move {
            let mut users: BTreeMap<String, UserRow> = BTreeMap::new();
            for event in events {
                let text = |key: &str| event.payload[key].as_str().map(str::to_string);
                if event.event_type == "user.created" {
                    let row = users.entry(event.aggregate_id.clone()).or_default();
                    row.email = text("email");
                    row.display_name = text("displayName");
                } else if let Some(user) = text("userId") {
                    users.entry(user).or_default().role = text("role");
                }
            }
            let rows = users
                .into_iter()
                .map(|(user, row)| {
                    vec![
                        Arg::Text(practice_id.to_string()),
                        Arg::Text(user),
                        Arg::OptText(row.email),
                        Arg::OptText(row.display_name),
                        Arg::OptText(row.role),
                    ]
                })
                .collect();
            tx.insert_rows(
                "INSERT INTO rm_user_directory (practice_id, user_id, email, display_name, role)",
                rows,
                "ON CONFLICT (practice_id, user_id) DO UPDATE SET \
                 email = COALESCE(excluded.email, rm_user_directory.email), \
                 display_name = COALESCE(excluded.display_name, rm_user_directory.display_name), \
                 role = COALESCE(excluded.role, rm_user_directory.role)",
            )
            .await?;
            Ok(())
        })
    }

    fn reset<'a>(&'a self, tx: &'a mut ProjectionTx<'_>, practice_id: &'a str) -> ApplyFuture<'a> {
        delete_practice(tx, "rm_user_directory", practice_id)
    }
}

/// `rm_aggregate_index`: every aggregate with version, first and last time, last event type
/// and event count; indexed by last activity for the UI.
pub struct AggregateIndex;

struct AggregateRow {
    version: i64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    last_type: String,
    count: i64,
}

impl Projector for AggregateIndex {
    fn name(&self) -> &'static str {
        "aggregate_index"
    }

    fn handles(&self, _event_type: &str) -> bool {
        true
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut ProjectionTx<'_>,
        practice_id: &'a str,
        events: &'a [Event],
    ) -> ApplyFuture<'a> {
        Box::pin(async move {
            let mut aggregates: BTreeMap<(&str, &str), AggregateRow> = BTreeMap::new();
            for event in events {
                aggregates
                    .entry((&event.aggregate_type, &event.aggregate_id))
                    .and_modify(|row| {
                        row.version = event.version;
                        row.last = event.created_at;
                        row.last_type = event.event_type.clone();
                        row.count += 1;
                    })
                    .or_insert_with(|| AggregateRow {
                        version: event.version,
                        first: event.created_at,
                        last: event.created_at,
                        last_type: event.event_type.clone(),
                        count: 1,
                    });
            }
            let rows = aggregates
                .into_iter()
                .map(|((aggregate_type, aggregate_id), row)| {
                    vec![
                        Arg::Text(practice_id.to_string()),
                        Arg::Text(aggregate_type.to_string()),
                        Arg::Text(aggregate_id.to_string()),
                        Arg::Int(row.version),
                        Arg::Time(row.first),
                        Arg::Time(row.last),
                        Arg::Text(row.last_type),
                        Arg::Int(row.count),
                    ]
                })
                .collect();
            tx.insert_rows(
                "INSERT INTO rm_aggregate_index (practice_id, aggregate_type, aggregate_id, version, first_event_at, \
                 last_event_at, last_event_type, event_count)",
                rows,
                "ON CONFLICT (practice_id, aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version, \
                 last_event_at = excluded.last_event_at, last_event_type = excluded.last_event_type, \
                 event_count = rm_aggregate_index.event_count + excluded.event_count",
            )
            .await?;
            Ok(())
        })
    }

    fn reset<'a>(&'a self, tx: &'a mut ProjectionTx<'_>, practice_id: &'a str) -> ApplyFuture<'a> {
        delete_practice(tx, "rm_aggregate_index", practice_id)
    }
}

/// `rm_daily_activity`: events per UTC day, event type and actor type (the UI's charts).
pub struct DailyActivity;

impl Projector for DailyActivity {
    fn name(&self) -> &'static str {
        "daily_activity"
    }

    fn handles(&self, _event_type: &str) -> bool {
        true
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut ProjectionTx<'_>,
        practice_id: &'a str,
        events: &'a [Event],
    ) -> ApplyFuture<'a> {
        Box::pin(async move {
            let mut counts: BTreeMap<(String, &str, &str), i64> = BTreeMap::new();
            for event in events {
                let day = event.created_at.format("%Y-%m-%d").to_string();
                *counts
                    .entry((day, &event.event_type, event.actor_type.as_str()))
                    .or_default() += 1;
            }
            let rows = counts
                .into_iter()
                .map(|((day, event_type, actor_type), events)| {
                    vec![
                        Arg::Text(practice_id.to_string()),
                        Arg::Text(day),
                        Arg::Text(event_type.to_string()),
                        Arg::Text(actor_type.to_string()),
                        Arg::Int(events),
                    ]
                })
                .collect();
            tx.insert_rows(
                "INSERT INTO rm_daily_activity (practice_id, day, event_type, actor_type, events)",
                rows,
                "ON CONFLICT (practice_id, day, event_type, actor_type) DO UPDATE SET \
                 events = rm_daily_activity.events + excluded.events",
            )
            .await?;
            Ok(())
        })
    }

    fn reset<'a>(&'a self, tx: &'a mut ProjectionTx<'_>, practice_id: &'a str) -> ApplyFuture<'a> {
        delete_practice(tx, "rm_daily_activity", practice_id)
    }
}
