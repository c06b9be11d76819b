//! PostgreSQL appends that hold no lock across round trips. The context, head included, is
//! read in one statement without a lock; the appends are planned against it; one statement
//! then writes the events and moves the head, on condition that the head is still where the
//! context found it (seq and hash). Two round trips instead of five (BEGIN, lock, context,
//! write, COMMIT), and the head row is locked for one statement instead of a transaction.
//! Where the store already knows the context from its last read or write
//! ([`super::known`]), the read is skipped too, and a single append is one round trip.
//!
//! Why it is safe: every event moves its practice's head, and the database keeps the head at
//! the last event (`chronicle_check_head`) and memberships behind their events, so an unmoved
//! head means nothing the plan read has changed: it stores exactly what the locked
//! transaction would. Anything else (the head moved, a new practice, a membership change,
//! ids the caller chose, an append the rules refuse) goes to the locked transaction, which
//! decides as it always has.

use std::collections::HashSet;

use sqlx::{Postgres, QueryBuilder};

use super::group::Work;
use super::plan::{AppendContext, Plan};
use super::{ContextKeys, plan_in_turn, push_event_values};
use crate::error::{Error, Result};
use crate::model::Event;
use crate::store::sql::{ContextRow, EVENT_COLUMNS, RawContextRow, postgres_append_context};
use crate::store::{Backend, Store};

/// PostgreSQL takes at most 65,535 parameters a statement; an event binds 13.
const MOST_ROWS: usize = 4_000;

impl Store {
    /// Writes `work` (one practice's appends, each all or nothing) without the head lock, or
    /// answers `None` when it must go through the locked transaction; `None` wrote nothing.
    pub(super) async fn write_unlocked(&self, work: &[Work]) -> Result<Option<Vec<Result<Plan>>>> {
        let Backend::Postgres { pool, known } = self.backend() else {
            return Ok(None);
        };
        let Some(practice_id) = work.first().map(|w| w.practice_id.as_str()) else {
            return Ok(None);
        };
        if work.iter().any(|w| w.practice_id != practice_id) {
            return Ok(None);
        }
        // Only membership changes add rows to what was asked, and they take the lock anyway.
        if work.iter().map(|w| w.prepared.len()).sum::<usize>() > MOST_ROWS {
            return Ok(None);
        }
        let keys = ContextKeys::of(work);
        if keys.changes_memberships || !keys.ids.is_empty() {
            return Ok(None);
        }

        let mut context = match known.context(practice_id, &keys.users, &keys.streams) {
            Some(context) => context,
            None => {
                let found: Vec<RawContextRow> =
                    postgres_append_context(practice_id, &keys.streams, &keys.users, true)
                        .build_query_as()
                        .fetch_all(pool)
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
        let (head_seq, head_hash) = (context.head_seq, context.head_hash.clone());

        let mut run = work.to_vec();
        let plans = plan_in_turn(&mut run, practice_id, &mut context, &HashSet::new());
        let mut rows: Vec<&(Event, String)> = Vec::new();
        for planned in &plans {
            match planned {
                Ok(plan) if plan.memberships.is_empty() => rows.extend(plan.rows.iter()),
                _ => return Ok(None),
            }
        }
        let Some((last, _)) = rows.last() else {
            return Ok(None);
        };

        let mut q = QueryBuilder::<Postgres>::new("WITH head AS (UPDATE practice_heads SET seq = ");
        q.push_bind(last.seq)
            .push(", hash = ")
            .push_bind(&last.hash)
            .push(", last_event_at = ")
            .push_bind(last.created_at)
            .push(", export_digest_state = ")
            .push_bind(&context.head_digest)
            .push(" WHERE practice_id = ")
            .push_bind(practice_id)
            .push(" AND seq = ")
            .push_bind(head_seq)
            .push(" AND hash = ")
            .push_bind(&head_hash)
            .push(format_args!(
                " RETURNING 1) INSERT INTO events ({EVENT_COLUMNS}) SELECT * FROM ("
            ));
        push_event_values!(q, rows.iter().copied());
        q.push(format_args!(
            ") AS appended ({EVENT_COLUMNS}) WHERE EXISTS (SELECT 1 FROM head)"
        ));
        let written = q.build().execute(pool).await?.rows_affected();
        if written == 0 {
            // Another append moved the head since the read: nothing was written.
            known.forget(practice_id);
            return Ok(None);
        }
        if written != rows.len() as u64 {
            return Err(Error::undecodable(format!(
                "an unlocked append wrote {written} of {} events",
                rows.len()
            )));
        }
        known.wrote(practice_id, (head_seq, &head_hash), &context, &keys.streams);
        Ok(Some(plans))
    }
}
