//! `chronicle events`: an aggregate, a type, or a filtered practice timeline.

use chronicle::api::{self, AggregateEventsQuery, PageQuery, TimelineQuery};
use chronicle::{ActorType, Direction, Event, Page};
use chrono::{DateTime, Utc};

use super::{DbArgs, Failure, Outcome};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// `{"items": [...], "nextCursor": ...}`, the page the HTTP API and the app answer.
    Json,
    /// A readable table.
    Table,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// The practice.
    #[arg(long, value_name = "ID")]
    pub practice: String,
    /// One aggregate's events, as TYPE/ID (e.g. patient/pat-1).
    #[arg(long, value_name = "TYPE/ID", conflicts_with = "event_type_only")]
    pub aggregate: Option<String>,
    /// Only events of this type (the seed's by-type query).
    #[arg(long = "type", value_name = "EVENT_TYPE", id = "event_type_only")]
    pub event_type: Option<String>,
    /// Timeline filter: any of these event types (repeatable).
    #[arg(long = "event-type", value_name = "EVENT_TYPE")]
    pub event_types: Vec<String>,
    /// Timeline filter: actor type.
    #[arg(long, value_parser = parse_actor_type, value_name = "human|ai|system")]
    pub actor_type: Option<ActorType>,
    /// Timeline filter: actor id.
    #[arg(long, value_name = "ID")]
    pub actor_id: Option<String>,
    /// Timeline filter: aggregate type.
    #[arg(long, value_name = "TYPE")]
    pub aggregate_type: Option<String>,
    /// Timeline filter: at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub from: Option<DateTime<Utc>>,
    /// Timeline filter: before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub to: Option<DateTime<Utc>>,
    /// Timeline filter: payload contains this text.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// Newest first.
    #[arg(long)]
    pub backward: bool,
    /// Page size, 1 to 1000 (default 100).
    #[arg(long, value_name = "N")]
    pub limit: Option<i64>,
    /// Continue after a previous page's nextCursor.
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
    /// Read as this user (access rules apply). Without it, the system principal.
    #[arg(long = "as", value_name = "USER", value_parser = super::user_id)]
    pub user: Option<chronicle::api::UserId>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

fn parse_actor_type(text: &str) -> Result<ActorType, String> {
    text.parse()
}

pub async fn run(args: Args) -> Outcome {
    let principal = super::principal(args.user.clone());
    let store = args.db.open().await?;
    let page: Page<Event> = if let Some(aggregate) = &args.aggregate {
        let (aggregate_type, aggregate_id) = aggregate.split_once('/').ok_or_else(|| {
            Failure::usage(format!(
                "--aggregate {aggregate:?}: expected TYPE/ID, e.g. patient/pat-1"
            ))
        })?;
        let query = AggregateEventsQuery {
            from_version: None,
            limit: args.limit,
            cursor: args.cursor.clone(),
        };
        api::aggregate_events(
            &store,
            &principal,
            &args.practice,
            aggregate_type,
            aggregate_id,
            query,
        )
        .await?
    } else if let Some(event_type) = &args.event_type {
        let query = PageQuery {
            limit: args.limit,
            cursor: args.cursor.clone(),
        };
        api::events_by_type(&store, &principal, &args.practice, event_type, query).await?
    } else {
        let query = TimelineQuery {
            event_types: args.event_types.clone(),
            actor_type: args.actor_type,
            actor_id: args.actor_id.clone(),
            aggregate_type: args.aggregate_type.clone(),
            from: args.from,
            to: args.to,
            text: args.text.clone(),
            direction: if args.backward {
                Direction::Backward
            } else {
                Direction::Forward
            },
            limit: args.limit,
            cursor: args.cursor.clone(),
            ..TimelineQuery::default()
        };
        api::timeline(&store, &principal, &args.practice, query).await?
    };
    match args.format {
        Format::Json => super::print_line(format_args!(
            "{}",
            serde_json::to_string_pretty(&page).expect("events serialize")
        )),
        Format::Table => print_table(&page),
    }
    Ok(())
}

fn print_table(page: &Page<Event>) {
    super::print_line(format_args!(
        "{:>7}  {:<24}  {:<28}  {:<6}  {:<18}  {:<40}  {:>4}",
        "SEQ", "TIME (UTC)", "EVENT TYPE", "ACTOR", "ACTOR ID", "AGGREGATE", "VER"
    ));
    for e in &page.items {
        let aggregate = format!("{}/{}", e.aggregate_type, e.aggregate_id);
        super::print_line(format_args!(
            "{:>7}  {:<24}  {:<28}  {:<6}  {:<18}  {:<40}  {:>4}",
            e.seq,
            e.created_at.format("%Y-%m-%d %H:%M:%S%.3f"),
            e.event_type,
            e.actor_type,
            e.actor_id.as_deref().unwrap_or("-"),
            aggregate,
            e.version
        ));
    }
    match &page.next_cursor {
        Some(cursor) => super::print_line(format_args!(
            "{} events; more with --cursor {cursor}",
            page.items.len()
        )),
        None => super::print_line(format_args!("{} events", page.items.len())),
    }
}
