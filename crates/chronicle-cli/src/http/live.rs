//! The live stream of a practice's new events as Server-Sent Events. Each SSE event carries
//! `id: <seq>`, so a client that reconnects with `Last-Event-ID` (or `?after=SEQ`) resumes
//! exactly after the last event it saw. Events are always read from the store; append
//! notifications only say when to look, so a missed notification loses nothing. On
//! PostgreSQL the tail follows every process's appends (see [`super::announcements`]).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use chronicle::{Appended, Direction, Event, PageRequest, Principal, Store, TimelineFilter};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, watch};
use utoipa::IntoParams;

use super::AppState;
use super::announcements::wait_for;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, User};

/// Where to start.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// Send events after this seq (`Last-Event-ID` takes precedence); default: only new events.
    pub after: Option<i64>,
}

/// New events of a practice as they are appended (text/event-stream).
#[utoipa::path(get, path = "/v1/practices/{practiceId}/live", tag = "practices",
    params(("x-user-id" = String, Header), ("Last-Event-ID" = Option<String>, Header, description = "Resume after this seq"),
        ("practiceId" = String, Path), LiveQuery),
    responses((status = 200, description = "SSE stream; each event's id is its seq and data the event JSON", content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn stream(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<LiveQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    app.store.read_access(&user, &practice_id).await?;
    // Subscribe before reading the position so nothing appended in between is missed.
    let notifications = app.announcements.appended();
    let after = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|seq| *seq >= 0)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "/headers/last-event-id",
                        "must be a seq (a whole number ≥ 0)",
                    )
                })?,
        ),
        None => query.after,
    };
    let after = match after {
        Some(seq) if seq < 0 => {
            return Err(ApiError::bad_request(
                "/after",
                "must be a seq (a whole number ≥ 0)",
            ));
        }
        Some(seq) => seq,
        None => head_seq(&app.store, &user, &practice_id).await?,
    };
    let tail = Tail {
        store: app.store.clone(),
        user,
        practice_id,
        after,
        pending: VecDeque::new(),
        notifications,
        shutdown: app.shutdown.clone(),
    };
    let events = futures_util::stream::unfold(tail, |mut tail| async move {
        let event = tail.next().await?;
        let data = serde_json::to_string(&event).expect("events serialize");
        Some((
            Ok(SseEvent::default()
                .id(event.seq.to_string())
                .event("event")
                .data(data)),
            tail,
        ))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn head_seq(store: &Store, user: &Principal, practice_id: &str) -> Result<i64, ApiError> {
    let last = store
        .timeline(
            user,
            practice_id,
            &TimelineFilter::default(),
            Direction::Backward,
            &PageRequest::first(1),
        )
        .await?;
    Ok(last.items.first().map_or(0, |e| e.seq))
}

struct Tail {
    store: Store,
    user: Principal,
    practice_id: String,
    after: i64,
    pending: VecDeque<Event>,
    notifications: broadcast::Receiver<Appended>,
    shutdown: watch::Receiver<bool>,
}

impl Tail {
    /// The next event after `after`, waiting for appends; `None` ends the stream (server
    /// shutting down, or the caller lost access).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                self.after = event.seq;
                return Some(event);
            }
            let page = self
                .store
                .timeline(
                    &self.user,
                    &self.practice_id,
                    &TimelineFilter::default(),
                    Direction::Forward,
                    &PageRequest::after(chronicle::cursor::encode(&self.after), Some(500)),
                )
                .await
                .ok()?;
            if !page.items.is_empty() {
                self.pending.extend(page.items);
                continue;
            }
            let (practice_id, after) = (&self.practice_id, self.after);
            let relevant = |a: &Appended| &a.practice_id == practice_id && a.seq > after;
            if !wait_for(&mut self.notifications, relevant, &mut self.shutdown).await {
                return None;
            }
        }
    }
}
