//! The live stream of a practice's new events as Server-Sent Events, over the layer's
//! [`PracticeTail`]. Each SSE event carries `id: <seq>`, so a client that reconnects with
//! `Last-Event-ID` (or `?after=SEQ`) resumes exactly after the last event it saw.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use chronicle::api::live::PracticeTail;
use futures_util::Stream;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
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
    responses((status = 200, description = "SSE stream; each `event` event's id is its seq and data the Event JSON", content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn stream(
    State(app): State<AppState>,
    User(user): User,
    ApiPath(practice_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<LiveQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    // Checked even when Last-Event-ID wins below: a malformed option is an error either way.
    if query.after.is_some_and(|seq| seq < 0) {
        return Err(ApiError::bad_request(
            "/after",
            "must be a seq (a whole number ≥ 0)",
        ));
    }
    let after = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| seq_from_digits(v.trim()))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "/headers/last-event-id",
                        "must be a seq (a whole number ≥ 0)",
                    )
                })?,
        ),
        None => query.after,
    };
    let tail = PracticeTail::open(
        &app.store,
        &user,
        &practice_id,
        after,
        &app.announcements,
        app.shutdown.clone(),
    )
    .await?;
    let events = futures_util::stream::unfold(tail, |mut tail| async move {
        let event = tail.next().await?;
        let sse = SseEvent::default()
            .id(event.seq.to_string())
            .event("event")
            .json_data(&event)
            .expect("events serialize");
        Some((Ok(sse), tail))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A seq written in decimal digits; one beyond the largest seq stands for "after every event
/// there will be", so a client that counts past i64 still gets an answer rather than an error.
fn seq_from_digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<i64>().unwrap_or(i64::MAX))
}
