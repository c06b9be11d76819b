//! Live updates for the window: the app forwards the engine's append feed and checkpoint
//! moves as typed Tauri events, so no screen polls. Bursts (a batch import, a projector
//! catching up) are coalesced into at most one event per practice (and projector) per
//! [`COALESCE`] window.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chronicle::Store;
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, Runtime};
use tauri_specta::Event;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::task::JoinHandle;

/// How long bursts are gathered before they are reported.
pub const COALESCE: Duration = Duration::from_millis(100);

/// A practice has new events (appended by this app or, on PostgreSQL, by anyone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct EventsAppended {
    /// The practice that grew.
    pub practice_id: String,
    /// Its last seq now.
    pub head_seq: i64,
}

/// A projector's checkpoint moved (applied events, caught up, failed, was retried or reset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointMoved {
    /// The practice.
    pub practice_id: String,
    /// The projector.
    pub projector_name: String,
}

/// The app switched to another store (settings changed); every screen reloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct StoreChanged {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Where it is, without credentials.
    pub location: String,
}

/// Where live updates go: the window in the app, a recorder in tests.
pub trait LiveSink: Send + Sync + 'static {
    /// Reports an [`EventsAppended`].
    fn appended(&self, update: EventsAppended);
    /// Reports a [`CheckpointMoved`].
    fn checkpoint_moved(&self, update: CheckpointMoved);
    /// Reports a [`StoreChanged`].
    fn store_changed(&self, update: StoreChanged);
}

/// Emits the updates as Tauri events to every window.
pub struct WindowSink<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> LiveSink for WindowSink<R> {
    fn appended(&self, update: EventsAppended) {
        emit(&self.0, update);
    }
    fn checkpoint_moved(&self, update: CheckpointMoved) {
        emit(&self.0, update);
    }
    fn store_changed(&self, update: StoreChanged) {
        emit(&self.0, update);
    }
}

fn emit<R: Runtime, E: Event + Serialize + Clone>(app: &AppHandle<R>, event: E) {
    if let Err(error) = event.emit(app) {
        tracing::warn!(%error, "could not emit a live update");
    }
}

/// Starts the two forwarding tasks for `store`; aborting them stops the forwarding.
pub fn forward(store: &Store, sink: Arc<dyn LiveSink>) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(forward_appends(store.clone(), sink.clone())),
        tokio::spawn(forward_checkpoints(store.clone(), sink)),
    ]
}

async fn forward_appends(store: Store, sink: Arc<dyn LiveSink>) {
    let mut feed = match store.append_feed().await {
        Ok(feed) => feed,
        Err(error) => {
            tracing::warn!(%error, "no live append updates for this store");
            return;
        }
    };
    drop(store);
    while let Some(first) = feed.next().await {
        let mut heads = BTreeMap::from([(first.practice_id, first.seq)]);
        let window = tokio::time::sleep(COALESCE);
        tokio::pin!(window);
        loop {
            tokio::select! {
                _ = &mut window => break,
                next = feed.next() => match next {
                    Some(next) => {
                        let head = heads.entry(next.practice_id).or_insert(next.seq);
                        *head = (*head).max(next.seq);
                    }
                    None => break,
                },
            }
        }
        for (practice_id, head_seq) in heads {
            sink.appended(EventsAppended {
                practice_id,
                head_seq,
            });
        }
    }
}

async fn forward_checkpoints(store: Store, sink: Arc<dyn LiveSink>) {
    let mut moves = store.subscribe_checkpoints();
    drop(store);
    loop {
        let first = match moves.recv().await {
            Ok(first) => first,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        tokio::time::sleep(COALESCE).await;
        let mut moved =
            std::collections::BTreeSet::from([(first.practice_id, first.projector_name)]);
        loop {
            match moves.try_recv() {
                Ok(next) => {
                    moved.insert((next.practice_id, next.projector_name));
                }
                Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        for (practice_id, projector_name) in moved {
            sink.checkpoint_moved(CheckpointMoved {
                practice_id,
                projector_name,
            });
        }
    }
}
