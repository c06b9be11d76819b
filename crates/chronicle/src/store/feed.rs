//! Feeds of store announcements for live screens: appends, and checkpoint changes. On SQLite
//! a feed carries what this process does (the only writer a desktop user has); on PostgreSQL
//! it listens to the server's notifications, which carry every process's changes.

use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};

use super::{Appended, CheckpointMoved, Store};
use crate::error::Result;

/// Something a store announces: broadcast in memory within a process, and on PostgreSQL
/// also sent by a trigger through `NOTIFY` on [`Announcement::CHANNEL`].
pub trait Announcement: Clone + Sized {
    /// The PostgreSQL notification channel.
    const CHANNEL: &'static str;
    /// Reads a notification's payload; `None` for one this build does not understand.
    fn parse(payload: &str) -> Option<Self>;
    /// The in-process broadcast of `store` (and its clones).
    fn subscribe(store: &Store) -> broadcast::Receiver<Self>;
}

impl Announcement for Appended {
    const CHANNEL: &'static str = "chronicle_appended";

    fn subscribe(store: &Store) -> broadcast::Receiver<Self> {
        store.subscribe()
    }

    /// The trigger's payload is `"<practice_id> <seq>"`.
    fn parse(payload: &str) -> Option<Self> {
        let (practice_id, seq) = payload.rsplit_once(' ')?;
        Some(Appended {
            practice_id: practice_id.to_string(),
            seq: seq.parse().ok()?,
        })
    }
}

impl Announcement for CheckpointMoved {
    const CHANNEL: &'static str = "chronicle_checkpoint";

    fn subscribe(store: &Store) -> broadcast::Receiver<Self> {
        store.subscribe_checkpoints()
    }

    /// The trigger's payload is `{"practiceId": …, "projectorName": …}`.
    fn parse(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }
}

/// Announcements as they commit; see [`Store::append_feed`] and [`Store::checkpoint_feed`].
/// A slow reader may miss some, never data: each one only says "re-read this".
pub struct Feed<T> {
    source: Source<T>,
}

/// Appends as they commit: the practice and its new head seq.
pub type AppendFeed = Feed<Appended>;
/// Checkpoint changes as they commit: the practice and projector to re-read.
pub type CheckpointFeed = Feed<CheckpointMoved>;

enum Source<T> {
    Local(broadcast::Receiver<T>),
    Postgres(sqlx::postgres::PgListener),
}

impl<T> std::fmt::Debug for Feed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source {
            Source::Local(_) => "local",
            Source::Postgres(_) => "postgres",
        };
        f.debug_struct("Feed").field("source", &kind).finish()
    }
}

impl Store {
    /// A feed of `T`: this process's on SQLite, every process's on PostgreSQL.
    pub async fn feed<T: Announcement>(&self) -> Result<Feed<T>> {
        Ok(Feed {
            source: match self.listener(T::CHANNEL).await? {
                Some(listener) => Source::Postgres(listener),
                None => Source::Local(T::subscribe(self)),
            },
        })
    }

    /// A feed of appends: from this process on SQLite, from every process on PostgreSQL.
    pub async fn append_feed(&self) -> Result<AppendFeed> {
        self.feed().await
    }

    /// A feed of checkpoint changes: from this process on SQLite, from every process on
    /// PostgreSQL (a runner in `chronicle serve` moves the desktop app's checkpoint screen).
    pub async fn checkpoint_feed(&self) -> Result<CheckpointFeed> {
        self.feed().await
    }

    /// A PostgreSQL listener on `channel` (`None` on SQLite, which has no notifications).
    pub(crate) async fn listener(
        &self,
        channel: &str,
    ) -> Result<Option<sqlx::postgres::PgListener>> {
        match self.backend() {
            super::Backend::Sqlite { .. } => Ok(None),
            super::Backend::Postgres { pool, .. } => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(channel).await?;
                Ok(Some(listener))
            }
        }
    }
}

impl<T: Announcement> Feed<T> {
    /// The next announcement; `None` once the store has been dropped.
    pub async fn next(&mut self) -> Option<T> {
        match &mut self.source {
            Source::Local(receiver) => loop {
                match receiver.recv().await {
                    Ok(announced) => return Some(announced),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            },
            Source::Postgres(listener) => loop {
                match listener.recv().await {
                    Ok(notification) => {
                        if let Some(announced) = T::parse(notification.payload()) {
                            return Some(announced);
                        }
                    }
                    Err(error) => {
                        // The listener reconnects on the next recv; a closed pool keeps failing
                        // and the owner drops the feed when it closes the store.
                        tracing::warn!(%error, channel = T::CHANNEL, "notifications interrupted; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Announcement, Appended, CheckpointMoved};

    #[test]
    fn parses_the_append_trigger_payload_and_refuses_garbage() {
        let appended = Appended::parse("p-1 42").expect("a valid payload");
        assert_eq!((appended.practice_id.as_str(), appended.seq), ("p-1", 42));
        assert!(Appended::parse("p-1").is_none());
        assert!(Appended::parse("p-1 x").is_none());
    }

    #[test]
    fn parses_the_checkpoint_trigger_payload_and_refuses_garbage() {
        let moved =
            CheckpointMoved::parse(r#"{"practiceId": "p 1", "projectorName": "aggregate_index"}"#)
                .expect("a valid payload");
        assert_eq!(
            (moved.practice_id.as_str(), moved.projector_name.as_str()),
            ("p 1", "aggregate_index")
        );
        assert!(CheckpointMoved::parse("p-1 aggregate_index").is_none());
        assert!(CheckpointMoved::parse(r#"{"practiceId": "p-1"}"#).is_none());
    }
}
