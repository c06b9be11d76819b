//! Reads, all scoped by principal and paged by cursor (never OFFSET). Each query is a
//! range scan of an index that leads with `practice_id`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::QueryBuilder;

use super::rows::{EventRow, PostgresEventRows, RowScope, unpadded_hash};
use super::sql::READ_COLUMNS;
use super::{Store, dispatch};
use crate::cursor::{self, page_limit};
use crate::error::{Error, Result, Violation};
use crate::model::{ActorType, AggregateSummary, Event, Page, PracticeSummary, Principal, Role};
use crate::rules::{
    MAX_FILTER_EVENT_TYPES, MAX_ID_LEN, MAX_TEXT_FILTER_LEN, MAX_TYPE_LEN, check_name, check_names,
};

/// Which way a timeline page runs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Oldest first, from the start or after the cursor.
    #[default]
    Forward,
    /// Newest first, from the head or before the cursor.
    Backward,
}

/// Appends the `AND …` conditions of a timeline filter to a query over `events` (its columns
/// prefixed by `$prefix`, e.g. `"e."`), binding every value: one place decides what each filter
/// means, for the timeline and for exports. A macro because the query builder's database type
/// differs per backend inside `dispatch!`.
macro_rules! push_timeline_filter {
    ($q:expr, $filter:expr, $prefix:expr) => {{
        let (q, filter, prefix) = (&mut $q, $filter, $prefix);
        if !filter.event_types.is_empty() {
            q.push(format_args!(" AND {prefix}event_type IN ("));
            let mut list = q.separated(", ");
            for t in &filter.event_types {
                list.push_bind(t);
            }
            q.push(")");
        }
        if let Some(actor_type) = filter.actor_type {
            q.push(format_args!(" AND {prefix}actor_type = "))
                .push_bind(actor_type.as_str());
        }
        if let Some(actor_id) = &filter.actor_id {
            q.push(format_args!(" AND {prefix}actor_id = "))
                .push_bind(actor_id);
        }
        if let Some(aggregate_type) = &filter.aggregate_type {
            q.push(format_args!(" AND {prefix}aggregate_type = "))
                .push_bind(aggregate_type);
        }
        if let Some(aggregate_id) = &filter.aggregate_id {
            q.push(format_args!(" AND {prefix}aggregate_id = "))
                .push_bind(aggregate_id);
        }
        if let Some(from) = filter.from {
            q.push(format_args!(" AND {prefix}created_at >= "))
                .push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(format_args!(" AND {prefix}created_at < "))
                .push_bind(to);
        }
        if let Some(after) = filter.after_seq {
            q.push(format_args!(" AND {prefix}seq > ")).push_bind(after);
        }
        if let Some(before) = filter.before_seq {
            q.push(format_args!(" AND {prefix}seq < "))
                .push_bind(before);
        }
        if let Some(text) = &filter.text {
            q.push(format_args!(" AND LOWER({prefix}payload_json) LIKE "))
                .push_bind(format!(
                    "%{}%",
                    $crate::store::query::escape_like(&text.to_lowercase())
                ))
                .push(" ESCAPE '\\'");
        }
    }};
}
pub(crate) use push_timeline_filter;

/// Filters of a practice timeline; every field narrows, empty means everything.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TimelineFilter {
    /// Any of these event types.
    pub event_types: Vec<String>,
    /// Only this actor type.
    pub actor_type: Option<ActorType>,
    /// Only this actor.
    pub actor_id: Option<String>,
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
    /// Only this aggregate (with `aggregate_type`, one aggregate's timeline).
    pub aggregate_id: Option<String>,
    /// At or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
    /// Payload contains this text (case-insensitive for ASCII).
    pub text: Option<String>,
    /// Only events after this seq (a live tail asks for what is newer than what it shows).
    pub after_seq: Option<i64>,
    /// Only events before this seq.
    pub before_seq: Option<i64>,
}

/// Which page of a query: the cursor from the previous page (none for the first) and a
/// page size (default 100, at most 1000).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PageRequest {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page.
    pub limit: Option<i64>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: i64) -> Self {
        Self {
            cursor: None,
            limit: Some(limit),
        }
    }

    /// The page after `cursor`, of `limit` items.
    pub fn after(cursor: impl Into<String>, limit: Option<i64>) -> Self {
        Self {
            cursor: Some(cursor.into()),
            limit,
        }
    }
}

/// Filters of the aggregates list.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AggregateFilter {
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
    /// Aggregate ids starting with this.
    pub id_prefix: Option<String>,
}

/// Pushes "the caller is a member of the practice, and" onto either backend's query builder.
macro_rules! push_member_check {
    ($q:ident, $practice_id:expr, $member:expr) => {
        if let Some(user) = $member {
            $q.push("EXISTS (SELECT 1 FROM memberships WHERE practice_id = ")
                .push_bind($practice_id)
                .push(" AND user_id = ")
                .push_bind(user)
                .push(") AND ");
        }
    };
}

/// Starts a page's conditions with those that fix its [`RowScope`], binding every value.
macro_rules! push_scope {
    ($q:ident, $practice_id:expr, $aggregate:expr) => {
        $q.push("practice_id = ").push_bind($practice_id);
        if let Some((aggregate_type, aggregate_id)) = $aggregate {
            $q.push(" AND aggregate_type = ")
                .push_bind(aggregate_type)
                .push(" AND aggregate_id = ")
                .push_bind(aggregate_id);
        }
    };
}

/// Reads one page of events, `$order` (e.g. `"seq ASC"`) over the rows of `$practice_id`, or
/// of its aggregate `$aggregate` (`Some((type, id))`), that `$where` selects (it pushes
/// further conditions, each starting with ` AND`, onto `$q`, binding every value), at most
/// `$limit` events and the store's page byte budget; the rows as [`within_budget`] keeps
/// them. The columns the scope fixes are not read back. On SQLite the rows are read in-process (see
/// [`super::sqlite_reads`]); PostgreSQL streams them. A macro because each backend has its own
/// query builder.
///
/// The access check of [`Store::read_access`] rides in the page's statement (an uncorrelated
/// `EXISTS`, evaluated once before any row is read), which saves a round trip a page and
/// reads the membership in the same snapshot as the events. A page that comes back empty
/// is then checked on its own, so a caller who may not read the practice gets the same
/// refusal as before, and nothing else.
macro_rules! read_event_page {
    ($store:expr, $principal:expr, $practice_id:expr, $aggregate:expr, $order:expr, $limit:expr, |$q:ident| $where:block) => {{
        let (practice_id, aggregate, order, limit, budget): (&str, Option<(&str, &str)>, &str, i64, usize) =
            ($practice_id, $aggregate, $order, $limit, $store.options().max_page_bytes);
        check_names(&[("/practiceId", practice_id, MAX_ID_LEN)])?;
        let scope = match aggregate {
            None => RowScope::Practice(practice_id),
            Some((aggregate_type, aggregate_id)) => RowScope::Aggregate {
                practice_id,
                aggregate_type,
                aggregate_id,
            },
        };
        let member = match $principal {
            Principal::User(user) => Some(user.as_str()),
            _ => None,
        };
        let page = match $store.backend() {
            $crate::store::Backend::Sqlite { readers, .. } => {
                let mut $q = $crate::store::sqlite_reads::SqliteQuery::new(format!(
                    "SELECT {} FROM events WHERE ",
                    scope.columns()
                ));
                push_member_check!($q, practice_id, member);
                push_scope!($q, practice_id, aggregate);
                $where
                $q.push(format_args!(" ORDER BY {order} LIMIT ")).push_bind(limit + 1);
                readers.event_page($q, scope.owned(), PageFill::new(limit, budget)).await?
            }
            $crate::store::Backend::Postgres { pool, .. } => {
                let mut $q = QueryBuilder::<sqlx::Postgres>::new(format!(
                    "SELECT {} FROM events WHERE ",
                    scope.columns()
                ));
                push_member_check!($q, practice_id, member);
                push_scope!($q, practice_id, aggregate);
                $where
                $q.push(format_args!(" ORDER BY {order} LIMIT ")).push_bind(limit + 1);
                within_budget($q.build().fetch(pool), scope, limit, budget).await?
            }
        };
        if page.events.is_empty() {
            $store.read_access($principal, practice_id).await?;
        }
        page
    }};
}

impl Store {
    /// Refuses principals who may not read the practice (the same answer as for a
    /// practice that does not exist); returns the role of a member.
    pub async fn read_access(
        &self,
        principal: &Principal,
        practice_id: &str,
    ) -> Result<Option<Role>> {
        check_names(&[("/practiceId", practice_id, MAX_ID_LEN)])?;
        let Principal::User(user) = principal else {
            return Ok(None);
        };
        const ROLE: &str = "SELECT role FROM memberships WHERE practice_id = $1 AND user_id = $2";
        let role: Option<String> = match self.backend() {
            // In-process, as the page this check guards will be read: through sqlx's worker
            // thread the check cost a tenth of a 1,000-event page.
            super::Backend::Sqlite { readers, .. } => {
                let (practice_id, user) = (practice_id.to_string(), user.clone());
                readers
                    .read(move |connection| {
                        use rusqlite::OptionalExtension;
                        Ok(connection
                            .prepare_cached(ROLE)?
                            .query_row([practice_id, user], |row| row.get(0))
                            .optional()?)
                    })
                    .await?
            }
            super::Backend::Postgres { pool, .. } => {
                sqlx::query_scalar(ROLE)
                    .bind(practice_id)
                    .bind(user)
                    .fetch_optional(pool)
                    .await?
            }
        };
        match role {
            Some(role) => Ok(Some(role.parse().map_err(Error::undecodable)?)),
            None => Err(Error::PracticeNotFound {
                practice_id: practice_id.to_string(),
            }),
        }
    }

    /// The head seq of each of `practice_ids` that has one, in one read (for live streams'
    /// shared look; no access check: callers checked access when their streams opened).
    pub async fn heads(&self, practice_ids: &[String]) -> Result<Vec<(String, i64)>> {
        if practice_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(dispatch!(self, |pool, _sql| {
            let mut q = QueryBuilder::new(
                "SELECT practice_id, seq FROM practice_heads WHERE practice_id IN (",
            );
            let mut list = q.separated(", ");
            for id in practice_ids {
                list.push_bind(id);
            }
            q.push(")");
            q.build_query_as().fetch_all(pool).await?
        }))
    }

    /// Every practice's head seq (for the desktop app's look at other processes' appends).
    pub async fn all_heads(&self) -> Result<Vec<(String, i64)>> {
        Ok(dispatch!(self, |pool, _sql| {
            sqlx::query_as("SELECT practice_id, seq FROM practice_heads WHERE seq > 0")
                .fetch_all(pool)
                .await?
        }))
    }

    /// The practices the principal can see (all of them for the system principal).
    pub async fn practices(&self, principal: &Principal) -> Result<Vec<PracticeSummary>> {
        type Row = (
            String,
            Option<String>,
            Option<i64>,
            Option<DateTime<Utc>>,
            Option<String>,
        );
        let rows: Vec<Row> = dispatch!(self, |pool, _sql| {
            match principal {
            Principal::User(user) => sqlx::query_as(
                "SELECT m.practice_id, m.role, h.seq, h.last_event_at, h.hash FROM memberships m \
                 LEFT JOIN practice_heads h ON h.practice_id = m.practice_id \
                 WHERE m.user_id = $1 ORDER BY m.practice_id",
            )
            .bind(user)
            .fetch_all(pool)
            .await?,
            Principal::System => sqlx::query_as(
                "SELECT practice_id, NULL, seq, last_event_at, hash FROM practice_heads WHERE seq > 0 ORDER BY practice_id",
            )
            .fetch_all(pool)
            .await?,
        }
        });
        rows.into_iter()
            .map(|(practice_id, role, seq, last_event_at, hash)| {
                let role = role
                    .map(|r| r.parse::<Role>())
                    .transpose()
                    .map_err(Error::undecodable)?;
                Ok(PracticeSummary {
                    practice_id,
                    capabilities: crate::access::Capabilities::of(role),
                    role,
                    event_count: seq.unwrap_or(0),
                    last_event_at,
                    head_hash: hash
                        .map(|h| unpadded_hash(&h).to_string())
                        .unwrap_or_else(|| crate::chain::ZERO_HASH.into()),
                })
            })
            .collect()
    }

    /// One event by id.
    pub async fn event(
        &self,
        principal: &Principal,
        practice_id: &str,
        id: &str,
    ) -> Result<Option<Event>> {
        self.read_access(principal, practice_id).await?;
        // A NUL is no text to PostgreSQL: refuse it (and any id no event can have) by name.
        check_names(&[("/eventId", id, MAX_ID_LEN)])?;
        let row: Option<EventRow> = dispatch!(self, |pool, _sql| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {READ_COLUMNS} FROM events WHERE practice_id = $1 AND id = $2"
            )))
            .bind(practice_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(EventRow::into_event).transpose()
    }

    /// Events of one aggregate in version order, from `from_version` (default 1) or after
    /// the cursor.
    pub async fn aggregate_events(
        &self,
        principal: &Principal,
        practice_id: &str,
        aggregate_type: &str,
        aggregate_id: &str,
        from_version: Option<i64>,
        page_request: &PageRequest,
    ) -> Result<Page<Event>> {
        check_names(&[
            ("/aggregateType", aggregate_type, MAX_TYPE_LEN),
            ("/aggregateId", aggregate_id, MAX_ID_LEN),
        ])?;
        let limit = page_limit(page_request.limit)?;
        let cursor = page_request.cursor.as_deref();
        if let Some(v) = from_version
            && v < 1
        {
            return Err(Error::invalid(
                "/fromVersion",
                format!("must be 1 or more, got {v}"),
            ));
        }
        let mut start = from_version.unwrap_or(1);
        if let Some(c) = cursor {
            start = start.max(cursor::decode::<i64>(c)?.saturating_add(1));
        }
        let aggregate = Some((aggregate_type, aggregate_id));
        let rows = read_event_page!(
            self,
            principal,
            practice_id,
            aggregate,
            "version",
            limit,
            |q| {
                q.push(" AND version >= ").push_bind(start);
            }
        );
        Ok(page_of_events(rows, |e| cursor::encode(&e.version)))
    }

    /// Every event of one aggregate from `from_version` (default 1), in version order: the
    /// seed's "all events for an aggregate". Reads page by page; the whole stream is returned,
    /// up to [`crate::rules::MAX_UNPAGED_EVENTS`] events (longer streams must be paged).
    pub async fn all_aggregate_events(
        &self,
        principal: &Principal,
        practice_id: &str,
        aggregate_type: &str,
        aggregate_id: &str,
        from_version: Option<i64>,
    ) -> Result<Vec<Event>> {
        // At most this many pages: MAX_UNPAGED_EVENTS events, and no more than as many
        // page byte budgets, whatever the events weigh.
        let most_pages = crate::rules::MAX_UNPAGED_EVENTS / crate::cursor::MAX_LIMIT as usize;
        let mut events = Vec::new();
        let mut request = PageRequest::first(crate::cursor::MAX_LIMIT);
        for _ in 0..most_pages {
            let page = self
                .aggregate_events(
                    principal,
                    practice_id,
                    aggregate_type,
                    aggregate_id,
                    from_version,
                    &request,
                )
                .await?;
            events.extend(page.items);
            match page.next_cursor {
                Some(cursor) => request.cursor = Some(cursor),
                None => return Ok(events),
            }
        }
        Err(Error::invalid(
            "/limit",
            format!(
                "this aggregate's events from that version are more than one answer carries \
                 ({} events or {} MiB of payloads); ask for pages with limit and cursor",
                crate::rules::MAX_UNPAGED_EVENTS,
                most_pages * self.options().max_page_bytes / (1024 * 1024)
            ),
        ))
    }

    /// Events of one type in a practice, oldest first; limit default 100, at most 1000.
    pub async fn events_by_type(
        &self,
        principal: &Principal,
        practice_id: &str,
        event_type: &str,
        page_request: &PageRequest,
    ) -> Result<Page<Event>> {
        check_names(&[("/eventType", event_type, MAX_TYPE_LEN)])?;
        let limit = page_limit(page_request.limit)?;
        let cursor = page_request.cursor.as_deref();
        let after = cursor.map(cursor::decode::<i64>).transpose()?.unwrap_or(0);
        let rows = read_event_page!(self, principal, practice_id, None, "seq", limit, |q| {
            q.push(" AND event_type = ")
                .push_bind(event_type)
                .push(" AND seq > ")
                .push_bind(after);
        });
        Ok(page_of_events(rows, |e| cursor::encode(&e.seq)))
    }

    /// A practice's events in seq order (or reverse), narrowed by the filter.
    pub async fn timeline(
        &self,
        principal: &Principal,
        practice_id: &str,
        filter: &TimelineFilter,
        direction: Direction,
        page_request: &PageRequest,
    ) -> Result<Page<Event>> {
        check_filter(filter)?;
        let limit = page_limit(page_request.limit)?;
        let cursor = page_request.cursor.as_deref();
        let position = cursor.map(cursor::decode::<i64>).transpose()?;
        let order = match direction {
            Direction::Forward => "seq ASC",
            Direction::Backward => "seq DESC",
        };
        let rows = read_event_page!(self, principal, practice_id, None, order, limit, |q| {
            match (direction, position) {
                (Direction::Forward, Some(seq)) => {
                    q.push(" AND seq > ").push_bind(seq);
                }
                (Direction::Backward, Some(seq)) => {
                    q.push(" AND seq < ").push_bind(seq);
                }
                (_, None) => {}
            }
            push_timeline_filter!(q, filter, "");
        });
        Ok(page_of_events(rows, |e| cursor::encode(&e.seq)))
    }

    /// The aggregates of a practice, ordered by type then id.
    pub async fn aggregates(
        &self,
        principal: &Principal,
        practice_id: &str,
        filter: &AggregateFilter,
        page_request: &PageRequest,
    ) -> Result<Page<AggregateSummary>> {
        let mut checks = Vec::new();
        if let Some(t) = &filter.aggregate_type {
            checks.push(("/aggregateType", t.as_str(), MAX_TYPE_LEN));
        }
        check_names(&checks)?;
        if let Some(prefix) = &filter.id_prefix
            && prefix.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                "/idPrefix",
                "must not contain control characters",
            ));
        }
        let limit = page_limit(page_request.limit)?;
        let cursor = page_request.cursor.as_deref();
        let after = cursor
            .map(|c| cursor::decode_naming(c, |(t, id): &(String, String)| [t, id]))
            .transpose()?;
        self.read_access(principal, practice_id).await?;
        let items: Vec<AggregateSummary> = dispatch!(self, |pool, _sql| {
            let mut q = QueryBuilder::new(
                "WITH page AS (SELECT aggregate_type, aggregate_id, MAX(version) AS version FROM events WHERE practice_id = ",
            );
            q.push_bind(practice_id);
            if let Some(t) = &filter.aggregate_type {
                q.push(" AND aggregate_type = ").push_bind(t);
            }
            if let Some(prefix) = filter.id_prefix.as_deref().filter(|p| !p.is_empty()) {
                q.push(" AND aggregate_id >= ").push_bind(prefix);
                if let Some(end) = prefix_end(prefix) {
                    q.push(" AND aggregate_id < ").push_bind(end);
                }
            }
            if let Some((t, id)) = &after {
                q.push(" AND (aggregate_type > ").push_bind(t);
                q.push(" OR (aggregate_type = ")
                    .push_bind(t)
                    .push(" AND aggregate_id > ")
                    .push_bind(id)
                    .push("))");
            }
            q.push(" GROUP BY aggregate_type, aggregate_id ORDER BY aggregate_type, aggregate_id LIMIT ");
            q.push_bind(limit + 1);
            q.push(
                ") SELECT p.aggregate_type, p.aggregate_id, p.version, f.created_at AS first_event_at, \
                 l.created_at AS last_event_at, l.event_type AS last_event_type, l.seq AS last_seq FROM page p \
                 JOIN events f ON f.practice_id = ",
            );
            q.push_bind(practice_id);
            q.push(" AND f.aggregate_type = p.aggregate_type AND f.aggregate_id = p.aggregate_id AND f.version = 1 JOIN events l ON l.practice_id = ");
            q.push_bind(practice_id);
            q.push(
                " AND l.aggregate_type = p.aggregate_type AND l.aggregate_id = p.aggregate_id AND l.version = p.version \
                 ORDER BY p.aggregate_type, p.aggregate_id",
            );
            q.build_query_as().fetch_all(pool).await?
        });
        page(items, limit, |a| {
            cursor::encode(&(&a.aggregate_type, &a.aggregate_id))
        })
    }
}

/// One page of events read from PostgreSQL: at most `limit`, and no more payload bytes than
/// `budget`, with whether more rows follow (one more row is read to know). Rows are read one by
/// one from the database, so no more than the budget is ever held.
async fn within_budget(
    mut rows: impl futures_util::Stream<Item = std::result::Result<sqlx::postgres::PgRow, sqlx::Error>>
    + Unpin,
    scope: RowScope<&str>,
    limit: i64,
    budget: usize,
) -> Result<PageFill> {
    use futures_util::TryStreamExt;
    let mut page = PageFill::new(limit, budget);
    let mut decoder = PostgresEventRows::new(scope);
    while let Some(row) = rows.try_next().await? {
        let row = decoder.decode(&row)?;
        if !page.offer(row.payload_json.len(), || row.into_event())? {
            break;
        }
    }
    Ok(page)
}

/// The rule of [`within_budget`], offered one row at a time.
pub(crate) struct PageFill {
    pub events: Vec<Event>,
    /// A row was left out: the page is full by count or by bytes, and the cursor goes on
    /// after the last event kept.
    pub more: bool,
    bytes: usize,
    limit: i64,
    budget: usize,
}

impl PageFill {
    /// Pages are read whole and most are full, so room for a typical page is made at once.
    const TYPICAL_EVENTS: usize = 1000;

    pub fn new(limit: i64, budget: usize) -> Self {
        let expected = usize::try_from(limit)
            .unwrap_or(0)
            .min(Self::TYPICAL_EVENTS);
        Self {
            events: Vec::with_capacity(expected),
            more: false,
            bytes: 0,
            limit,
            budget,
        }
    }

    /// Keeps the row (decoded by `event`) if the page has room; `false` once the page is
    /// full, which then says there is more.
    pub fn offer(
        &mut self,
        payload_bytes: usize,
        event: impl FnOnce() -> Result<Event>,
    ) -> Result<bool> {
        if self.events.len() as i64 == self.limit {
            self.more = true;
            return Ok(false);
        }
        self.bytes += payload_bytes;
        // The first event always fits, so a page always moves the cursor on.
        if self.bytes > self.budget && !self.events.is_empty() {
            self.more = true;
            return Ok(false);
        }
        self.events.push(event()?);
        Ok(true)
    }
}

/// A page of what [`within_budget`] read.
fn page_of_events(read: PageFill, cursor_of: impl Fn(&Event) -> String) -> Page<Event> {
    let next_cursor = if read.more {
        read.events.last().map(cursor_of)
    } else {
        None
    };
    Page {
        items: read.events,
        next_cursor,
    }
}

fn page<T>(mut items: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Result<Page<T>> {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(cursor_of)
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

pub(crate) fn check_filter(filter: &TimelineFilter) -> Result<()> {
    let mut violations = Vec::new();
    for (i, t) in filter.event_types.iter().enumerate() {
        check_name(
            &format!("/eventTypes/{i}"),
            t,
            MAX_TYPE_LEN,
            &mut violations,
        );
    }
    if filter.event_types.len() > MAX_FILTER_EVENT_TYPES {
        violations.push(Violation::new(
            "/eventTypes",
            format!("at most {MAX_FILTER_EVENT_TYPES} event types per filter"),
        ));
    }
    if let Some(actor) = &filter.actor_id {
        check_name("/actorId", actor, MAX_ID_LEN, &mut violations);
    }
    if let Some(t) = &filter.aggregate_type {
        check_name("/aggregateType", t, MAX_TYPE_LEN, &mut violations);
    }
    // Each filter narrows on its own, so any combination is a question with an answer: an
    // aggregateId without its type matches that id in every type, and a `to` at or before
    // `from` selects nothing. A document of the API can then state every rule per field.
    if let Some(id) = &filter.aggregate_id {
        check_name("/aggregateId", id, MAX_ID_LEN, &mut violations);
    }
    if let Some(text) = &filter.text
        && (text.is_empty() || text.chars().count() > MAX_TEXT_FILTER_LEN)
    {
        violations.push(Violation::new(
            "/text",
            format!("must be 1 to {MAX_TEXT_FILTER_LEN} characters"),
        ));
    }
    for (path, seq) in [
        ("/afterSeq", filter.after_seq),
        ("/beforeSeq", filter.before_seq),
    ] {
        if seq.is_some_and(|seq| seq < 0) {
            violations.push(Violation::new(path, "must not be negative"));
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid { violations })
    }
}

pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The smallest string greater than every string starting with `prefix`, if any.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_bounds_every_string_with_the_prefix() {
        assert_eq!(prefix_end("pat").as_deref(), Some("pau"));
        assert!("pat-zzz" < prefix_end("pat").unwrap().as_str());
    }

    #[test]
    fn like_wildcards_in_search_text_are_literal() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }
}
