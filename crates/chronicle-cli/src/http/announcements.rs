//! The store's announcements (appends, checkpoint changes), relayed once per server to every
//! live stream. On PostgreSQL each relay holds one notification connection, so a client's live
//! tail and projector status follow other processes' appends and runners without a
//! connection per client; on SQLite they carry this server's own changes.

use std::time::Duration;

use chronicle::{Announcement, Appended, CheckpointMoved, Store};
use tokio::sync::{broadcast, watch};

/// How often live streams look again without an announcement: recovers notifications lost
/// while a listener reconnects, and appends by another process to a SQLite file.
pub const FALLBACK: Duration = Duration::from_secs(5);

/// Receivers for the server's live streams.
#[derive(Clone)]
pub struct Announcements {
    appended: broadcast::Sender<Appended>,
    checkpoints: broadcast::Sender<CheckpointMoved>,
}

impl Announcements {
    /// Starts the relays; they end when `shutdown` flips.
    pub fn start(store: &Store, shutdown: watch::Receiver<bool>) -> Self {
        let appended = broadcast::channel(1024).0;
        let checkpoints = broadcast::channel(1024).0;
        relay(store.clone(), appended.clone(), shutdown.clone());
        relay(store.clone(), checkpoints.clone(), shutdown);
        Self {
            appended,
            checkpoints,
        }
    }

    /// Appends from now on.
    pub fn appended(&self) -> broadcast::Receiver<Appended> {
        self.appended.subscribe()
    }

    /// Checkpoint changes from now on.
    pub fn checkpoints(&self) -> broadcast::Receiver<CheckpointMoved> {
        self.checkpoints.subscribe()
    }
}

fn relay<T>(store: Store, to: broadcast::Sender<T>, mut shutdown: watch::Receiver<bool>)
where
    T: Announcement + Send + 'static,
{
    tokio::spawn(async move {
        let mut feed = loop {
            tokio::select! {
                opened = store.feed::<T>() => match opened {
                    Ok(feed) => break feed,
                    Err(error) => {
                        tracing::warn!(%error, channel = T::CHANNEL, "live updates unavailable; retrying");
                    }
                },
                _ = shutdown.wait_for(|stopped| *stopped) => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(FALLBACK) => {}
                _ = shutdown.wait_for(|stopped| *stopped) => return,
            }
        };
        loop {
            tokio::select! {
                next = feed.next() => match next {
                    // No live stream open is fine.
                    Some(announced) => { let _ = to.send(announced); }
                    None => return,
                },
                _ = shutdown.wait_for(|stopped| *stopped) => return,
            }
        }
    });
}

/// Waits for an announcement `relevant` says matters (or for missed ones: a lagged receiver),
/// or for [`FALLBACK`]; `false` when the server is shutting down.
pub async fn wait_for<T: Clone>(
    receiver: &mut broadcast::Receiver<T>,
    relevant: impl Fn(&T) -> bool,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let fallback = tokio::time::sleep(FALLBACK);
    tokio::pin!(fallback);
    loop {
        tokio::select! {
            received = receiver.recv() => match received {
                Ok(announced) if !relevant(&announced) => continue,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return true,
                // The relays' senders live as long as the server state; wait out the fallback.
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = &mut fallback => return true,
            _ = shutdown.wait_for(|stopped| *stopped) => return false,
        }
    }
    tokio::select! {
        _ = &mut fallback => true,
        _ = shutdown.wait_for(|stopped| *stopped) => false,
    }
}
