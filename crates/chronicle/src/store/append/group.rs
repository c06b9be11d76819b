//! Group commit: appends that arrive while a commit is under way share the next one.
//!
//! A commit waits for the disk (SQLite syncs its log at every commit) or for the server's
//! round trips under the practice's head lock (PostgreSQL). Either way one append at a time
//! leaves the CPU idle while callers queue. So each append queues its checked events and
//! one caller at a time leads: it takes everything queued and writes it in one transaction
//! ([`Store::write_appends`]), planning the appends one after another so each meets what the
//! ones before it wrote. Every caller keeps all-or-nothing (a refused append writes nothing
//! and fails alone; should the database fail the shared transaction, each append is written
//! again on its own, so a failure stays with the append that caused it) and nobody is answered
//! before the commit that holds their events is durable. The transaction runs on a task of
//! its own, so a caller who stops waiting cannot cut a commit that carries other callers'
//! events short. A commit of the leader's own append alone, on a store whose transaction no
//! caller can cut short (SQLite's is one blocking call), runs on the leader's task instead:
//! it carries nobody else's events, and the hand-offs to and from a commit task were a
//! quarter of an uncontended append (ADR 0017).
//!
//! One queue for every practice, so appends to different practices share a commit as appends
//! to one practice do: on SQLite, which has one writer, and on PostgreSQL too, where one
//! statement writes every practice of a commit ([`unlocked`](super::unlocked)). One commit is
//! under way at a time: PostgreSQL is CPU-bound here on a commit's fixed costs, and parallel
//! commits made each commit smaller and the whole slower (ADR 0015). A shared transaction locks
//! its practices' heads in name order, which two such transactions (from two processes) can
//! never hold crosswise.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::AppendMode;
use super::plan::{Plan, Prepared};
use crate::error::{Error, Result};
use crate::model::Principal;
use crate::store::Store;

/// One append, checked and waiting for its transaction.
#[derive(Clone)]
pub(crate) struct Work {
    pub principal: Principal,
    pub practice_id: String,
    pub prepared: Vec<Prepared>,
}

/// The appends waiting for a commit.
#[derive(Default)]
pub(crate) struct CommitGroups {
    waiting: Mutex<Vec<Queued>>,
    /// The next append's ticket, so a leader knows its own append in a group.
    tickets: AtomicU64,
    /// Held by the task writing the current group.
    leader: Arc<tokio::sync::Mutex<()>>,
}

struct Queued {
    ticket: u64,
    work: Work,
    reply: oneshot::Sender<Result<Plan>>,
}

/// Most appends one commit carries; the rest wait for the next, so no commit grows without
/// bound while callers keep arriving.
const MOST_APPENDS_PER_COMMIT: usize = 256;

impl CommitGroups {
    /// The appends the next commit carries: in arrival order, up to
    /// [`MOST_APPENDS_PER_COMMIT`] appends and `most_events` events (at least one append).
    /// Appends whose callers stopped waiting are dropped unwritten.
    fn take(&self, most_events: usize) -> Vec<Queued> {
        let mut waiting = self.waiting.lock().expect("commit queue lock");
        waiting.retain(|queued| !queued.reply.is_closed());
        let mut events = 0;
        let mut count = 0;
        for queued in waiting.iter() {
            events += queued.work.prepared.len();
            if count > 0 && (count == MOST_APPENDS_PER_COMMIT || events > most_events) {
                break;
            }
            count += 1;
        }
        waiting.drain(..count).collect()
    }
}

impl Store {
    /// Commits `work`, sharing the transaction with whatever else is queued.
    pub(super) async fn commit_in_group(&self, work: Work) -> Result<Plan> {
        let groups = &self.inner.commit_groups;
        let (reply, mut answer) = oneshot::channel();
        let ticket = groups.tickets.fetch_add(1, Ordering::Relaxed);
        groups
            .waiting
            .lock()
            .expect("commit queue lock")
            .push(Queued {
                ticket,
                work,
                reply,
            });
        loop {
            tokio::select! {
                biased;
                answer = &mut answer => {
                    return answer.unwrap_or_else(|_| {
                        Err(Error::Database(sqlx::Error::Protocol(
                            "the commit carrying this append stopped before answering".into(),
                        )))
                    });
                }
                leader = groups.leader.clone().lock_owned() => {
                    let group = groups.take(self.options().max_batch_events);
                    if group.is_empty() {
                        // Another leader took ours and has answered (the answer is polled first).
                        continue;
                    }
                    if let [only] = group.as_slice()
                        && only.ticket == ticket
                        && self.appends_run_to_their_end()
                    {
                        self.commit_group(group).await;
                        drop(leader);
                        continue;
                    }
                    let store = self.clone();
                    tokio::spawn(async move {
                        store.commit_group(group).await;
                        drop(leader);
                    });
                }
            }
        }
    }

    /// Writes `group` in one transaction and answers each caller.
    async fn commit_group(&self, mut group: Vec<Queued>) {
        // Head locks in practice order; a stable sort keeps each practice's arrival order.
        group.sort_by(|a, b| a.work.practice_id.cmp(&b.work.practice_id));
        // A copy of each append to write it alone should the shared transaction fail: the rules
        // are decided before anything is written, so only a database error fails a group, and
        // one append's database error must not fail the others.
        let spares: Vec<Work> = if group.len() > 1 {
            group.iter().map(|queued| queued.work.clone()).collect()
        } else {
            Vec::new()
        };
        let (work, replies): (Vec<Work>, Vec<_>) = group
            .into_iter()
            .map(|queued| (queued.work, queued.reply))
            .unzip();
        match self.write_appends(work, AppendMode::Commit).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) if spares.is_empty() => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(error));
                }
            }
            Err(_) => {
                // Nothing of the group was committed: each append again on its own.
                for (reply, outcome) in replies.into_iter().zip(self.write_each_alone(spares).await)
                {
                    let _ = reply.send(outcome);
                }
            }
        }
    }

    /// Writes each append in a commit of its own, so a database failure stays with the append
    /// that caused it.
    pub(super) async fn write_each_alone(&self, work: Vec<Work>) -> Vec<Result<Plan>> {
        let mut outcomes = Vec::with_capacity(work.len());
        for work in work {
            outcomes.push(
                Box::pin(self.write_appends(vec![work], AppendMode::Commit))
                    .await
                    .and_then(|mut outcomes| outcomes.pop().expect("one outcome per append")),
            );
        }
        outcomes
    }
}
