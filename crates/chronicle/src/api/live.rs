//! The live building blocks both edges stream from: one relay of the store's announcements
//! per process ([`Announcements`]), a practice's tail of new events ([`PracticeTail`]), a
//! projector status that follows the runners ([`StatusWatch`]), and bursts gathered into one
//! update ([`next_burst`]). On PostgreSQL the relay holds one notification connection per
//! channel, so every stream follows other processes' appends and runners; on SQLite it
//! carries this process's changes, and one periodic look at the heads of the practices being
//! watched ([`FALLBACK`]) catches the rest. Idle streams cost the database nothing of their
//! own: that look, and a practice's projector status, are shared by all its streams. How
//! many streams one user, and everyone together, may hold is capped ([`LiveLimits`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use crate::error::{Error, Result};
use crate::model::{Event, Principal};
use crate::store::{
    Announcement, Appended, CheckpointMoved, Direction, Feed, PageRequest, Store, TimelineFilter,
};

use super::requests::ProjectorStatusQuery;
use super::responses::ProjectorStatusList;

/// How often live streams look again without an announcement: recovers notifications lost
/// while a listener reconnects, and appends by another process to a SQLite file.
pub const FALLBACK: Duration = Duration::from_secs(5);

/// Announcements closer together than this are reported as one update.
pub const COALESCE: Duration = Duration::from_millis(100);

/// How many live streams may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimits {
    /// By one user.
    pub per_user: usize,
    /// By everyone together.
    pub total: usize,
}

impl Default for LiveLimits {
    fn default() -> Self {
        LiveLimits {
            per_user: 16,
            total: 1024,
        }
    }
}

#[derive(Default)]
struct Open {
    total: usize,
    by_user: HashMap<String, usize>,
    by_practice: HashMap<String, usize>,
}

/// A place among the open streams, given back when the stream ends.
pub struct StreamPermit {
    hub: Arc<Hub>,
    user: String,
    practice_id: String,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut guard = self.hub.open.lock().expect("open streams lock");
        let open = &mut *guard;
        open.total -= 1;
        for (map, key) in [
            (&mut open.by_user, &self.user),
            (&mut open.by_practice, &self.practice_id),
        ] {
            if let Some(count) = map.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

/// A practice's status as last read, and when.
type StatusSlot = Arc<tokio::sync::Mutex<Option<(Instant, ProjectorStatusList)>>>;

struct Hub {
    limits: LiveLimits,
    open: Mutex<Open>,
    /// Each watched practice's status, as last read, for every stream of that practice; one
    /// lock per practice, so a slow read of one practice never holds up another's streams.
    statuses: Mutex<HashMap<String, StatusSlot>>,
}

/// The store's announcements, relayed once per process to every live stream in it, and the
/// streams' shared state: their caps, the shared head look, the shared projector status.
#[derive(Clone)]
pub struct Announcements {
    appended: broadcast::Sender<Appended>,
    checkpoints: broadcast::Sender<CheckpointMoved>,
    hub: Arc<Hub>,
}

impl Announcements {
    /// Starts the relays and the shared head look (call inside a Tokio runtime); they end
    /// when `shutdown` flips.
    pub fn start(store: &Store, limits: LiveLimits, shutdown: watch::Receiver<bool>) -> Self {
        let appended = broadcast::channel(1024).0;
        let checkpoints = broadcast::channel(1024).0;
        let hub = Arc::new(Hub {
            limits,
            open: Mutex::new(Open::default()),
            statuses: Mutex::new(HashMap::new()),
        });
        relay(store.clone(), appended.clone(), shutdown.clone());
        relay(store.clone(), checkpoints.clone(), shutdown.clone());
        look_at_heads(store.clone(), hub.clone(), appended.clone(), shutdown);
        Self {
            appended,
            checkpoints,
            hub,
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

    /// A place for one more stream of `caller` on `practice_id`, or
    /// [`Error::TooManyStreams`] when the caller, or everyone, holds as many as allowed.
    pub fn admit(&self, caller: &Principal, practice_id: &str) -> Result<StreamPermit> {
        let user = caller.user_id().unwrap_or("").to_string();
        let limits = self.hub.limits;
        let mut open = self.hub.open.lock().expect("open streams lock");
        if open.total >= limits.total {
            return Err(Error::TooManyStreams {
                reason: format!(
                    "the server holds {} live streams, as many as it allows; try again later",
                    limits.total
                ),
            });
        }
        let mine = open.by_user.get(&user).copied().unwrap_or(0);
        if mine >= limits.per_user {
            return Err(Error::TooManyStreams {
                reason: format!(
                    "{caller} holds {mine} live streams, as many as one user may; close one first"
                ),
            });
        }
        open.total += 1;
        *open.by_user.entry(user.clone()).or_default() += 1;
        *open.by_practice.entry(practice_id.to_string()).or_default() += 1;
        Ok(StreamPermit {
            hub: self.hub.clone(),
            user,
            practice_id: practice_id.to_string(),
        })
    }

    /// The practice's projector status, read at most once per [`COALESCE`] for all its
    /// streams together (the caller's access was checked when its stream opened).
    async fn status(&self, store: &Store, practice_id: &str) -> Result<ProjectorStatusList> {
        let slot = {
            let mut statuses = self.hub.statuses.lock().expect("statuses lock");
            let watched = self.hub.open.lock().expect("open streams lock");
            statuses.retain(|practice, _| watched.by_practice.contains_key(practice));
            statuses.entry(practice_id.to_string()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        if let Some((read_at, status)) = slot.as_ref()
            && read_at.elapsed() < COALESCE
        {
            return Ok(status.clone());
        }
        let query = ProjectorStatusQuery {
            practice_id: Some(practice_id.to_string()),
        };
        let status = super::operations::projector_status(store, &Principal::System, query).await?;
        *slot = Some((Instant::now(), status.clone()));
        Ok(status)
    }
}

/// Which practices' heads moved from one look to the next. A practice looked at for the first
/// time counts as moved: whoever listens may have started before a change this look is the
/// first to see, and an extra wake only costs a re-read of what is past their position.
#[derive(Debug, Default)]
pub struct HeadLook {
    seen: HashMap<String, i64>,
}

impl HeadLook {
    /// The appends that `heads` (practice, head seq) show since the last look; practices
    /// not in `heads` are forgotten.
    pub fn moved(&mut self, heads: Vec<(String, i64)>) -> Vec<Appended> {
        let before = std::mem::take(&mut self.seen);
        heads
            .into_iter()
            .filter_map(|(practice_id, seq)| {
                let moved = before.get(&practice_id) != Some(&seq);
                self.seen.insert(practice_id.clone(), seq);
                moved.then_some(Appended { practice_id, seq })
            })
            .collect()
    }
}

/// Every [`FALLBACK`], one read of the heads of the practices that have streams open; a head
/// that moved without an announcement (another process on SQLite, a notification lost while
/// a listener reconnected) is announced here, once for all its streams.
fn look_at_heads(
    store: Store,
    hub: Arc<Hub>,
    to: broadcast::Sender<Appended>,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut look = HeadLook::default();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(FALLBACK) => {}
                _ = shutdown.wait_for(|stopped| *stopped) => return,
            }
            let watched: Vec<String> = {
                let open = hub.open.lock().expect("open streams lock");
                open.by_practice.keys().cloned().collect()
            };
            let heads = match store.heads(&watched).await {
                Ok(heads) => heads,
                Err(error) => {
                    tracing::warn!(%error, "could not look at the practices' heads");
                    continue;
                }
            };
            for appended in look.moved(heads) {
                let _ = to.send(appended);
            }
        }
    });
}

/// For a process that shows every practice of a SQLite store (the desktop app), whose feed
/// carries only its own appends: every [`FALLBACK`] one read of every practice's head, and
/// `announce` for each that moved, whichever process appended. Runs until its task is aborted.
pub async fn follow_every_head(store: Store, mut announce: impl FnMut(Appended)) {
    let mut look = HeadLook::default();
    loop {
        match store.all_heads().await {
            Ok(heads) => {
                look.moved(heads).into_iter().for_each(&mut announce);
            }
            Err(error) => tracing::warn!(%error, "could not look at the practices' heads"),
        }
        tokio::time::sleep(FALLBACK).await;
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
        drop(store);
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

/// Waits for an announcement `relevant` says matters (or for missed ones: a lagged
/// receiver), or for `tick` when given; `false` when shutting down. Other processes' appends
/// arrive as announcements too (see `look_at_heads`), so a tail needs no timer of its own.
pub async fn wait_for<T: Clone>(
    receiver: &mut broadcast::Receiver<T>,
    relevant: impl Fn(&T) -> bool,
    tick: Option<Duration>,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let timer = tokio::time::sleep(tick.unwrap_or(Duration::MAX / 4));
    tokio::pin!(timer);
    loop {
        tokio::select! {
            received = receiver.recv() => match received {
                Ok(announced) if !relevant(&announced) => continue,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return true,
                // The relays' senders live as long as their owner; wait for the timer or the end.
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = &mut timer => return true,
            _ = shutdown.wait_for(|stopped| *stopped) => return false,
        }
    }
    tokio::select! {
        _ = &mut timer => true,
        _ = shutdown.wait_for(|stopped| *stopped) => false,
    }
}

/// The next announcement of `feed` and whatever follows it within [`COALESCE`]; `None` once
/// the feed has ended.
pub async fn next_burst<T: Announcement>(feed: &mut Feed<T>) -> Option<Vec<T>> {
    let mut burst = vec![feed.next().await?];
    let window = tokio::time::sleep(COALESCE);
    tokio::pin!(window);
    loop {
        tokio::select! {
            _ = &mut window => return Some(burst),
            next = feed.next() => match next {
                Some(next) => burst.push(next),
                None => return Some(burst),
            },
        }
    }
}

/// A practice's events after a seq, as they are appended. Events are always read from the
/// store; announcements only say when to look, so a missed one loses nothing.
pub struct PracticeTail {
    _permit: StreamPermit,
    store: Store,
    caller: Principal,
    practice_id: String,
    after: i64,
    pending: VecDeque<Event>,
    announcements: broadcast::Receiver<Appended>,
    shutdown: watch::Receiver<bool>,
}

impl PracticeTail {
    /// Checks the caller may read the practice, then follows it from `after` (`None`: from
    /// the current head, only new events).
    pub async fn open(
        store: &Store,
        caller: &Principal,
        practice_id: &str,
        after: Option<i64>,
        announcements: &Announcements,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self> {
        store.read_access(caller, practice_id).await?;
        let permit = announcements.admit(caller, practice_id)?;
        // Subscribe before reading the head, so nothing appended in between is missed.
        let receiver = announcements.appended();
        let after = match after {
            Some(seq) if seq < 0 => {
                return Err(Error::invalid(
                    "/after",
                    "must be a seq (a whole number ≥ 0)",
                ));
            }
            Some(seq) => seq,
            None => {
                let last = store
                    .timeline(
                        caller,
                        practice_id,
                        &TimelineFilter::default(),
                        Direction::Backward,
                        &PageRequest::first(1),
                    )
                    .await?;
                last.items.first().map_or(0, |e| e.seq)
            }
        };
        Ok(Self {
            _permit: permit,
            store: store.clone(),
            caller: caller.clone(),
            practice_id: practice_id.to_string(),
            after,
            pending: VecDeque::new(),
            announcements: receiver,
            shutdown,
        })
    }

    /// The next event, waiting for appends; `None` ends the tail (shutting down, or the
    /// caller lost access).
    pub async fn next(&mut self) -> Option<Event> {
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
                    &self.caller,
                    &self.practice_id,
                    &TimelineFilter::default(),
                    Direction::Forward,
                    &PageRequest::after(crate::cursor::encode(&self.after), Some(500)),
                )
                .await
                .ok()?;
            if !page.items.is_empty() {
                self.pending.extend(page.items);
                continue;
            }
            let (practice_id, after) = (&self.practice_id, self.after);
            let relevant = |a: &Appended| &a.practice_id == practice_id && a.seq > after;
            if !wait_for(&mut self.announcements, relevant, None, &mut self.shutdown).await {
                return None;
            }
        }
    }
}

/// What a projector status watch reports: the whole status when it changed, then one
/// [`StatusUpdate::CheckpointMoved`] per projector whose checkpoint moved since the last
/// report.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusUpdate {
    /// The status differs from the last one reported.
    Status(ProjectorStatusList),
    /// A checkpoint of the practice moved (applied events, changed state, failed).
    CheckpointMoved(CheckpointMoved),
}

/// A practice's projector status as it changes. It looks again when the practice's head or
/// one of its checkpoints is announced (gathering a burst for [`COALESCE`]: a runner catching
/// up moves its checkpoint every batch) and every [`FALLBACK`] (the time-based figures, and
/// runners in other processes on SQLite). Which checkpoints moved is read from the statuses
/// themselves, so it does not depend on announcements arriving.
pub struct StatusWatch {
    _permit: StreamPermit,
    announcements: Announcements,
    store: Store,
    practice_id: String,
    appended: broadcast::Receiver<Appended>,
    checkpoints: broadcast::Receiver<CheckpointMoved>,
    shutdown: watch::Receiver<bool>,
    last: Option<ProjectorStatusList>,
    moved: VecDeque<CheckpointMoved>,
}

impl StatusWatch {
    /// Checks the caller may read the practice, then watches it.
    pub async fn open(
        store: &Store,
        caller: &Principal,
        practice_id: &str,
        announcements: &Announcements,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self> {
        store.read_access(caller, practice_id).await?;
        Ok(Self {
            _permit: announcements.admit(caller, practice_id)?,
            announcements: announcements.clone(),
            store: store.clone(),
            practice_id: practice_id.to_string(),
            appended: announcements.appended(),
            checkpoints: announcements.checkpoints(),
            shutdown,
            last: None,
            moved: VecDeque::new(),
        })
    }

    /// The next update; `None` ends the watch (shutting down, or the caller lost access).
    pub async fn next(&mut self) -> Option<StatusUpdate> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            if let Some(moved) = self.moved.pop_front() {
                return Some(StatusUpdate::CheckpointMoved(moved));
            }
            let status = self
                .announcements
                .status(&self.store, &self.practice_id)
                .await
                .ok()?;
            if self.last.as_ref() != Some(&status) {
                if let Some(last) = &self.last {
                    self.moved.extend(moved_between(last, &status));
                }
                self.last = Some(status.clone());
                return Some(StatusUpdate::Status(status));
            }
            let practice_id = self.practice_id.clone();
            let (mut shutdown_a, mut shutdown_b) = (self.shutdown.clone(), self.shutdown.clone());
            // The tick refreshes the time-based figures (lag in seconds, events per second).
            let open = tokio::select! {
                open = wait_for(&mut self.appended, |a| a.practice_id == practice_id, Some(FALLBACK), &mut shutdown_a) => open,
                open = wait_for(&mut self.checkpoints, |m| m.practice_id == practice_id, Some(FALLBACK), &mut shutdown_b) => open,
            };
            if !open {
                return None;
            }
            tokio::time::sleep(COALESCE).await;
        }
    }
}

/// The checkpoints that moved from one status to the next: position, state or error changed.
fn moved_between(
    before: &ProjectorStatusList,
    after: &ProjectorStatusList,
) -> Vec<CheckpointMoved> {
    let position = |s: &crate::projection::ProjectorStatus| {
        (s.last_seq, s.state, s.last_error.clone(), s.updated_at)
    };
    after
        .projectors
        .iter()
        .filter(|now| {
            before
                .projectors
                .iter()
                .find(|then| {
                    then.practice_id == now.practice_id && then.projector_name == now.projector_name
                })
                .is_none_or(|then| position(then) != position(now))
        })
        .map(|now| CheckpointMoved {
            practice_id: now.practice_id.clone(),
            projector_name: now.projector_name.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_look_announces_what_moved_and_what_it_sees_first() {
        let mut look = HeadLook::default();
        let heads = |list: &[(&str, i64)]| list.iter().map(|(p, s)| (p.to_string(), *s)).collect();
        let first = look.moved(heads(&[("a", 3), ("b", 5)]));
        assert_eq!(first.len(), 2, "first sightings count as moved");
        assert!(
            look.moved(heads(&[("a", 3), ("b", 5)])).is_empty(),
            "nothing moved"
        );
        let moved = look.moved(heads(&[("a", 4), ("b", 5)]));
        assert_eq!(
            moved,
            [Appended {
                practice_id: "a".into(),
                seq: 4
            }]
        );
        look.moved(heads(&[("a", 4)]));
        assert_eq!(
            look.moved(heads(&[("a", 4), ("b", 5)])).len(),
            1,
            "a forgotten practice is new again"
        );
    }
}
