//! SQLite calls block their thread (a page read, a transaction and its fsync), so async code
//! runs them where blocking is allowed.
//!
//! On a multi-thread runtime they run in place ([`tokio::task::block_in_place`]): the runtime
//! moves the worker's other tasks to another thread while this one blocks. Handing the call to
//! a blocking thread instead, and its answer back, cost two thread wake-ups a call; on this
//! project's 2-core machine that was about a fifth of a single SQLite append (BENCHMARKS.md,
//! ninth round). A current-thread runtime has no other thread to move its tasks to, so there
//! the call goes to a blocking thread as before.
//!
//! Either way the call runs to its end once started: a caller that stops waiting cannot cut
//! a transaction short.

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::error::{Error, Result};

/// Runs `call`, which blocks, from async code; `what` names it should its thread fail.
pub(crate) async fn run_blocking<T: Send + 'static>(
    what: &str,
    call: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        return tokio::task::block_in_place(call);
    }
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|e| Error::undecodable(format!("{what} stopped: {e}")))?
}
