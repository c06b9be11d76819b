//! The projector runner: visits every (practice, projector), applies batches until each is
//! caught up, then sleeps until an append (in this process, or on PostgreSQL in any process
//! through LISTEN/NOTIFY) or the poll interval wakes it. New practices and projectors are
//! picked up on the next pass; a new projector starts from seq 1.

use std::time::Duration;

use tokio::sync::watch;

use super::SharedProjector;
use crate::error::Result;
use crate::store::{Announcement, Appended, Step, Store};

/// How the runner works.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Events per transaction at the head.
    pub batch_size: i64,
    /// Most events per transaction while catching up: each full batch doubles the next, up
    /// to this. Fewer, larger commits write each read-model page once per batch instead of
    /// once per 1,000 events (the aggregate index's random keys dirty a page per few events),
    /// at the price of holding SQLite's single writer longer per step.
    pub catch_up_batch_size: i64,
    /// Fallback wake-up when no notification arrives.
    pub poll_interval: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            catch_up_batch_size: 20_000,
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Events applied (counted once per projector).
    pub applied: usize,
    /// (practice, projector) pairs that are failed or stopped.
    pub halted: usize,
    /// Pairs another runner was working on.
    pub busy: usize,
}

/// Runs projectors over a store.
pub struct Runner {
    store: Store,
    projectors: Vec<SharedProjector>,
    options: RunnerOptions,
}

impl Runner {
    /// A runner for these projectors.
    pub fn new(store: Store, projectors: Vec<SharedProjector>, options: RunnerOptions) -> Self {
        Self {
            store,
            projectors,
            options,
        }
    }

    /// The projectors it runs.
    pub fn projectors(&self) -> &[SharedProjector] {
        &self.projectors
    }

    /// One pass: every (practice, projector) until caught up, halted or busy.
    pub async fn run_once(&self) -> Result<PassReport> {
        let mut report = PassReport::default();
        for projector in &self.projectors {
            for practice in self.store.practices_with_work(projector.name()).await? {
                let mut batch = self.options.batch_size.max(1);
                loop {
                    match self
                        .store
                        .project_step(&practice, projector.as_ref(), batch)
                        .await?
                    {
                        Step::Applied(n) => {
                            report.applied += n;
                            if n as i64 >= batch {
                                // Still behind: a larger batch next.
                                batch = batch
                                    .saturating_mul(2)
                                    .min(self.options.catch_up_batch_size.max(batch));
                            }
                        }
                        Step::CaughtUp => break,
                        Step::Busy => {
                            report.busy += 1;
                            break;
                        }
                        Step::Halted | Step::Failed(_) => {
                            report.halted += 1;
                            break;
                        }
                    }
                }
            }
        }
        Ok(report)
    }

    /// Passes until nothing is left to apply and no other runner holds work; returns the
    /// totals.
    pub async fn run_until_caught_up(&self) -> Result<PassReport> {
        let mut total = PassReport::default();
        loop {
            let pass = self.run_once().await?;
            total.applied += pass.applied;
            total.halted = pass.halted;
            total.busy = pass.busy;
            if pass.applied == 0 && pass.busy == 0 {
                return Ok(total);
            }
            if pass.applied == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// Runs until `shutdown` turns true. Errors (a lost connection) are logged and retried
    /// after the poll interval; they never stop the runner.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let mut local = self.store.subscribe();
        let mut remote = match self.store.listener(Appended::CHANNEL).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "no LISTEN/NOTIFY; relying on in-process notifications and polling");
                None
            }
        };
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(error) = self.run_once().await {
                tracing::warn!(%error, "projector pass failed; retrying after the poll interval");
            }
            let remote_wake = async {
                match remote.as_mut() {
                    Some(listener) => {
                        if listener.recv().await.is_err() {
                            tokio::time::sleep(self.options.poll_interval).await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = local.recv() => {}
                _ = remote_wake => {}
                _ = tokio::time::sleep(self.options.poll_interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
