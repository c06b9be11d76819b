//! PostgreSQL appends that hold no lock across round trips. Each practice's context, head
//! included, is read in one statement without a lock; its appends are planned against it; one
//! statement then writes the events of every practice in the commit and moves their heads,
//! each practice on condition that its head is still where its context found it (seq and
//! hash). Two round trips instead of five (BEGIN, lock, context, write, COMMIT), and the head
//! rows are locked for one statement instead of a transaction. Where the store already knows
//! a practice's context from its last read or write ([`super::known`]), the read is skipped
//! too, and a commit is one round trip however many practices it carries: appends to
//! different practices share one commit as appends to one practice do.
//!
//! Why it is safe: every event moves its practice's head, and the database keeps the head at
//! the last event (`chronicle_check_head`) and memberships behind their events, so an unmoved
//! head means nothing the plan read has changed: it stores exactly what the locked
//! transaction would. A practice's events are written only together with its head move, in
//! one statement, so each practice's appends are written whole or not at all. Anything else
//! (the head moved, a new practice, a membership change, ids the caller chose, an append the
//! rules refuse) goes to the locked transaction, which decides as it always has.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::group::Work;
use super::known::KnownPractices;
use super::plan::{AppendContext, Plan};
use super::{ContextKeys, plan_in_turn, practice_runs, push_event_values};
use crate::error::{Error, Result};
use crate::model::Event;
use crate::store::sql::{ContextRow, EVENT_COLUMNS, RawContextRow, postgres_append_context};

/// PostgreSQL takes at most 65,535 parameters a statement; an event binds 13, a head 7.
const MOST_ROWS: usize = 4_000;

/// One practice's appends, planned against a head read without its lock.
struct Planned<'w> {
    /// Which appends of the commit these are.
    appends: Range<usize>,
    practice_id: &'w str,
    keys: ContextKeys<'w>,
    /// Where the head was when the context was read: the write's condition.
    head: (i64, String),
    /// The context advanced by every plan: the head the write moves to.
    after: AppendContext,
    plans: Vec<Result<Plan>>,
}

impl Planned<'_> {
    fn rows(&self) -> impl Iterator<Item = &(Event, String)> {
        self.plans
            .iter()
            .flat_map(|plan| plan.as_ref().map(|p| p.rows.as_slice()).unwrap_or(&[]))
    }
}

/// Writes what it can of `work` (ordered by practice) without head locks, in one statement.
/// One outcome per append, in order; `None` for every append of a practice that must go
/// through the locked transaction, of which nothing was written.
pub(super) async fn write_unlocked(
    connection: &mut PgConnection,
    known: &KnownPractices,
    work: &[Work],
) -> Result<Vec<Option<Result<Plan>>>> {
    let mut outcomes: Vec<Option<Result<Plan>>> = work.iter().map(|_| None).collect();
    let mut planned = Vec::new();
    let mut rows = 0;
    for appends in practice_runs(work) {
        let events: usize = work[appends.clone()].iter().map(|w| w.prepared.len()).sum();
        // Only membership changes add rows to what was asked, and they take the lock anyway.
        if rows + events > MOST_ROWS {
            continue;
        }
        if let Some(practice) = plan_unlocked(connection, known, work, appends).await? {
            rows += events;
            planned.push(practice);
        }
    }
    if planned.is_empty() {
        return Ok(outcomes);
    }

    let written = write_planned(connection, &planned).await?;
    for practice in planned {
        let Some(&count) = written.get(practice.practice_id) else {
            // Another append moved the head since the read: nothing of it was written.
            known.forget(practice.practice_id);
            continue;
        };
        let expected = practice.rows().count();
        if count != expected as i64 {
            return Err(Error::undecodable(format!(
                "an unlocked append wrote {count} of {expected} events to {}",
                practice.practice_id
            )));
        }
        let (seq, hash) = &practice.head;
        known.wrote(
            practice.practice_id,
            (*seq, hash),
            &practice.after,
            &practice.keys.streams,
        );
        for (outcome, plan) in outcomes[practice.appends].iter_mut().zip(practice.plans) {
            *outcome = Some(plan);
        }
    }
    Ok(outcomes)
}

/// Plans `work[appends]` (one practice's) against its context, known or read without a lock;
/// `None` when they must go through the locked transaction.
async fn plan_unlocked<'w>(
    connection: &mut PgConnection,
    known: &KnownPractices,
    work: &'w [Work],
    appends: Range<usize>,
) -> Result<Option<Planned<'w>>> {
    let run = &work[appends.clone()];
    let practice_id = run[0].practice_id.as_str();
    let keys = ContextKeys::of(run);
    if keys.changes_memberships || !keys.ids.is_empty() {
        return Ok(None);
    }
    let mut context = match known.context(practice_id, &keys.users, &keys.streams) {
        Some(context) => context,
        None => {
            let found: Vec<RawContextRow> =
                postgres_append_context(practice_id, &keys.streams, &keys.users, true)
                    .build_query_as()
                    .fetch_all(&mut *connection)
                    .await?;
            let mut context = AppendContext::default();
            let mut head_found = false;
            for row in found {
                let row = ContextRow::decode(row)?;
                head_found |= matches!(row, ContextRow::Head { .. });
                context.absorb(row);
            }
            if !head_found {
                return Ok(None);
            }
            known.learn(practice_id, &context, &keys.streams);
            context
        }
    };
    let head = (context.head_seq, context.head_hash.clone());
    let mut planning = run.to_vec();
    let plans = plan_in_turn(&mut planning, practice_id, &mut context, &HashSet::new());
    let mut writes = false;
    for planned in &plans {
        match planned {
            Ok(plan) if plan.memberships.is_empty() => writes |= !plan.rows.is_empty(),
            _ => return Ok(None),
        }
    }
    if !writes {
        return Ok(None);
    }
    Ok(Some(Planned {
        appends,
        practice_id,
        keys,
        head,
        after: context,
        plans,
    }))
}

/// The one statement: moves each practice's head where it is still where its plan found it,
/// and writes the events of exactly those practices. Answers how many events each practice
/// it wrote got; a practice it did not write is absent.
async fn write_planned(
    connection: &mut PgConnection,
    planned: &[Planned<'_>],
) -> Result<HashMap<String, i64>> {
    let mut q = QueryBuilder::<Postgres>::new(
        "WITH moved AS (UPDATE practice_heads AS head SET seq = next.seq, hash = next.hash, \
         last_event_at = next.last_event_at, export_digest_state = next.digest FROM (",
    );
    // In practice order, as the locked transaction takes head locks.
    q.push_values(planned, |mut values, practice| {
        let (last, _) = practice.rows().last().expect("a planned practice writes");
        values
            .push_bind(practice.practice_id)
            .push_bind(last.seq)
            .push_bind(&last.hash)
            .push_bind(last.created_at)
            .push_bind(&practice.after.head_digest)
            .push_bind(practice.head.0)
            .push_bind(&practice.head.1);
    });
    q.push(
        ") AS next (practice_id, seq, hash, last_event_at, digest, was_seq, was_hash) \
         WHERE head.practice_id = next.practice_id AND head.seq = next.was_seq \
         AND head.hash = next.was_hash RETURNING head.practice_id), ",
    );
    q.push(format_args!(
        "appended AS (INSERT INTO events ({EVENT_COLUMNS}) SELECT * FROM ("
    ));
    push_event_values!(q, planned.iter().flat_map(Planned::rows));
    q.push(format_args!(
        ") AS appended ({EVENT_COLUMNS}) WHERE appended.practice_id IN (SELECT practice_id FROM moved) \
         RETURNING practice_id) SELECT practice_id, COUNT(*) FROM appended GROUP BY practice_id"
    ));
    let written: Vec<(String, i64)> = q.build_query_as().fetch_all(connection).await?;
    Ok(written.into_iter().collect())
}
