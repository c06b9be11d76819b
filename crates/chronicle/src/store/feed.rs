//! A feed of appends for live screens. On SQLite it carries the appends of this process
//! (the only writer a desktop user has); on PostgreSQL it listens to the server's
//! `chronicle_appended` notifications, which carry every process's appends.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use super::{Appended, Store};
use crate::error::Result;

/// Appends as they commit; see [`Store::append_feed`].
pub struct AppendFeed {
    source: Source,
}

enum Source {
    Local(tokio::sync::broadcast::Receiver<Appended>),
    Postgres(sqlx::postgres::PgListener),
}

impl std::fmt::Debug for AppendFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source {
            Source::Local(_) => "local",
            Source::Postgres(_) => "postgres",
        };
        f.debug_struct("AppendFeed").field("source", &kind).finish()
    }
}

impl Store {
    /// A feed of appends: from this process on SQLite, from every process on PostgreSQL.
    /// Like [`Store::subscribe`], a slow reader may miss notifications, never events: each
    /// one only says "the practice has grown to seq N".
    pub async fn append_feed(&self) -> Result<AppendFeed> {
        let source = match self.append_listener().await? {
            Some(listener) => Source::Postgres(listener),
            None => Source::Local(self.subscribe()),
        };
        Ok(AppendFeed { source })
    }
}

impl AppendFeed {
    /// The next append; `None` once the store has been dropped.
    pub async fn next(&mut self) -> Option<Appended> {
        match &mut self.source {
            Source::Local(receiver) => loop {
                match receiver.recv().await {
                    Ok(appended) => return Some(appended),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            },
            Source::Postgres(listener) => loop {
                match listener.recv().await {
                    Ok(notification) => {
                        if let Some(appended) = parse_notification(notification.payload()) {
                            return Some(appended);
                        }
                    }
                    Err(error) => {
                        // The listener reconnects on the next recv; a closed pool keeps failing
                        // and the owner drops the feed when it closes the store.
                        tracing::warn!(%error, "append notifications interrupted; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            },
        }
    }
}

/// The trigger's payload is `"<practice_id> <seq>"`; practice ids never contain spaces.
fn parse_notification(payload: &str) -> Option<Appended> {
    let (practice_id, seq) = payload.rsplit_once(' ')?;
    Some(Appended {
        practice_id: practice_id.to_string(),
        seq: seq.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_notification;

    #[test]
    fn parses_the_trigger_payload_and_refuses_garbage() {
        let appended = parse_notification("p-1 42").expect("a valid payload");
        assert_eq!((appended.practice_id.as_str(), appended.seq), ("p-1", 42));
        assert!(parse_notification("p-1").is_none());
        assert!(parse_notification("p-1 x").is_none());
    }
}
