//! Live updates for the window: the app forwards the engine's append and checkpoint feeds
//! (this process's changes, and on PostgreSQL every process's) as typed Tauri events, so no
//! screen polls. Bursts (a batch import, a projector catching up) are gathered by the layer's
//! [`next_burst`] into at most one event per practice (and projector). The events carry the
//! engine's own announcement types, the same values the HTTP live streams describe.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chronicle::api::live::{follow_every_head, next_burst};
use chronicle::{Appended, Feed, Store};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, Runtime};
use tauri_specta::Event;
use tokio::task::JoinHandle;

use crate::export::ExportProgress;

/// A practice has new events (appended by this app or, on PostgreSQL, by anyone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Event)]
#[serde(transparent)]
pub struct EventsAppended(pub Appended);

/// A projector's checkpoint moved (applied events, caught up, failed, was retried or reset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Event)]
#[serde(transparent)]
pub struct CheckpointMovedEvent(pub chronicle::CheckpointMoved);

/// The app switched to another store (settings changed); every screen reloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct StoreChanged {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Where it is, without credentials.
    pub location: String,
}

/// A generation (`generate_events`) wrote another batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Event)]
#[serde(transparent)]
pub struct GenerateProgressEvent(pub chronicle::api::GenerateProgress);

/// Where live updates go: the window in the app, a recorder in tests.
pub trait LiveSink: Send + Sync + 'static {
    /// Reports an [`EventsAppended`].
    fn appended(&self, update: EventsAppended);
    /// Reports a [`CheckpointMovedEvent`].
    fn checkpoint_moved(&self, update: CheckpointMovedEvent);
    /// Reports a [`StoreChanged`].
    fn store_changed(&self, update: StoreChanged);
    /// Reports an [`ExportProgress`] of an export the app is writing.
    fn export_progress(&self, update: ExportProgress);
    /// Reports a [`GenerateProgressEvent`].
    fn generate_progress(&self, update: GenerateProgressEvent);
}

/// Emits the updates as Tauri events to every window.
pub struct WindowSink<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> LiveSink for WindowSink<R> {
    fn appended(&self, update: EventsAppended) {
        emit(&self.0, update);
    }
    fn checkpoint_moved(&self, update: CheckpointMovedEvent) {
        emit(&self.0, update);
    }
    fn store_changed(&self, update: StoreChanged) {
        emit(&self.0, update);
    }
    fn export_progress(&self, update: ExportProgress) {
        emit(&self.0, update);
    }
    fn generate_progress(&self, update: GenerateProgressEvent) {
        emit(&self.0, update);
    }
}

fn emit<R: Runtime, E: Event + Serialize + Clone>(app: &AppHandle<R>, event: E) {
    if let Err(error) = event.emit(app) {
        tracing::warn!(%error, "could not emit a live update");
    }
}

/// Starts the forwarding tasks for `store`; aborting them stops the forwarding. On SQLite,
/// whose feed carries only this process's appends, one look at every head every few seconds
/// also reports other processes' (`chronicle append`, `chronicle serve` on the same file).
pub fn forward(store: &Store, sink: Arc<dyn LiveSink>) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![
        tokio::spawn(forward_appends(store.clone(), sink.clone())),
        tokio::spawn(forward_checkpoints(store.clone(), sink.clone())),
    ];
    if store.backend_name() == "sqlite" {
        tasks.push(tokio::spawn(follow_every_head(
            store.clone(),
            move |appended| sink.appended(EventsAppended(appended)),
        )));
    }
    tasks
}

async fn forward_appends(store: Store, sink: Arc<dyn LiveSink>) {
    let Some(mut feed) = open_feed(store.append_feed().await, "append") else {
        return;
    };
    drop(store);
    while let Some(burst) = next_burst(&mut feed).await {
        let mut heads = BTreeMap::new();
        for appended in burst {
            let head = heads.entry(appended.practice_id).or_insert(appended.seq);
            *head = (*head).max(appended.seq);
        }
        for (practice_id, seq) in heads {
            sink.appended(EventsAppended(Appended { practice_id, seq }));
        }
    }
}

async fn forward_checkpoints(store: Store, sink: Arc<dyn LiveSink>) {
    let Some(mut feed) = open_feed(store.checkpoint_feed().await, "checkpoint") else {
        return;
    };
    drop(store);
    while let Some(burst) = next_burst(&mut feed).await {
        let moved: BTreeSet<_> = burst
            .into_iter()
            .map(|m| (m.practice_id, m.projector_name))
            .collect();
        for (practice_id, projector_name) in moved {
            sink.checkpoint_moved(CheckpointMovedEvent(chronicle::CheckpointMoved {
                practice_id,
                projector_name,
            }));
        }
    }
}

fn open_feed<T>(feed: chronicle::Result<Feed<T>>, what: &str) -> Option<Feed<T>> {
    feed.inspect_err(|error| tracing::warn!(%error, "no live {what} updates for this store"))
        .ok()
}
