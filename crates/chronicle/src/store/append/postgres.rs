//! The PostgreSQL append transaction: each practice's head locked (`FOR UPDATE`) in name
//! order, its context read, its appends planned in turn, the rows written (the last INSERT
//! moving the head in the same statement), the membership rows after them, then COMMIT.
//! Appends that [`unlocked`](super::unlocked) could not write come here.

use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};

use super::group::Work;
use super::plan::{AppendContext, Plan, accepted_rows, final_memberships};
use super::{
    AppendMode, ContextKeys, INSERT_CHUNK, plan_in_turn, practice_runs, push_event_values,
    reused_ids,
};
use crate::chain::ZERO_HASH;
use crate::error::Result;
use crate::store::rows::{EventRow, HeadRow, unpadded_hash};
use crate::store::sql::{
    ContextRow, EVENT_COLUMNS, POSTGRES_LOCK_HEAD, READ_COLUMNS, RawContextRow,
    postgres_append_context,
};

/// [`Store::write_appends`](crate::store::Store) on PostgreSQL, in one transaction.
pub(super) async fn write_locked(
    connection: &mut PgConnection,
    mut work: Vec<Work>,
    mode: AppendMode,
) -> Result<Vec<Result<Plan>>> {
    let mut tx = connection.begin().await?;
    let mut outcomes: Vec<Result<Plan>> = Vec::with_capacity(work.len());
    let mut wrote = false;
    for appends in practice_runs(&work) {
        let run = &mut work[appends];
        let practice_id = run[0].practice_id.clone();
        let ContextKeys {
            users,
            streams,
            ids,
            changes_memberships,
        } = ContextKeys::of(run);

        let mut context = AppendContext::default();
        {
            // Lock the head first: appends to one practice queue here, others proceed.
            let mut head: Option<HeadRow> = sqlx::query_as(POSTGRES_LOCK_HEAD)
                .bind(&practice_id)
                .fetch_optional(&mut *tx)
                .await?;
            if head.is_none() {
                // A new practice: create its head row so concurrent first appends queue on it.
                sqlx::query("INSERT INTO practice_heads (practice_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (practice_id) DO NOTHING")
                    .bind(&practice_id)
                    .bind(ZERO_HASH)
                    .execute(&mut *tx)
                    .await?;
                head = sqlx::query_as(POSTGRES_LOCK_HEAD)
                    .bind(&practice_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            let head = head.expect("practice head exists after insert");
            context.absorb(ContextRow::Head {
                seq: head.seq,
                hash: unpadded_hash(&head.hash).to_string(),
                last_event_at: head.last_event_at,
                digest_state: head.export_digest_state,
            });
        }

        // Everything else the rules need, in one statement: each statement is a round
        // trip, and appends are latency-bound.
        let found: Vec<RawContextRow> =
            postgres_append_context(&practice_id, &streams, &users, false)
                .build_query_as()
                .fetch_all(&mut *tx)
                .await?;
        for row in found {
            context.absorb(ContextRow::decode(row)?);
        }

        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::new(format!(
                "SELECT {READ_COLUMNS} FROM events WHERE practice_id = "
            ));
            q.push_bind(&practice_id).push(" AND id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            q.push(")");
            let found: Vec<EventRow> = q.build_query_as().fetch_all(&mut *tx).await?;
            for row in found {
                let event = row.into_event()?;
                context.existing.insert(event.id.clone(), event);
            }
        }

        if changes_memberships {
            // The last-owner rule needs the count; only membership changes pay for it.
            context.owners = sqlx::query_scalar(
                "SELECT COUNT(*) FROM memberships WHERE practice_id = $1 AND role = 'owner'",
            )
            .bind(&practice_id)
            .fetch_one(&mut *tx)
            .await?;
        }

        let reused = reused_ids(run, &ids);
        let plans = plan_in_turn(run, &practice_id, &mut context, &reused);

        let rows = accepted_rows(&plans);
        let chunks: Vec<_> = rows.chunks(INSERT_CHUNK).collect();
        for (index, chunk) in chunks.iter().enumerate() {
            // The last INSERT also moves the practice head, in the same round trip.
            let head = (index + 1 == chunks.len()).then(|| &chunk[chunk.len() - 1].0);
            let mut q = QueryBuilder::<Postgres>::new(if head.is_some() {
                "WITH appended AS ("
            } else {
                ""
            });
            q.push(format_args!("INSERT INTO events ({EVENT_COLUMNS}) "));
            push_event_values!(q, chunk.iter());
            if let Some(last) = head {
                q.push(" RETURNING 1) ");
                q.push("INSERT INTO practice_heads (practice_id, seq, hash, last_event_at, export_digest_state) VALUES (");
                let mut values = q.separated(", ");
                values
                    .push_bind(&practice_id)
                    .push_bind(last.seq)
                    .push_bind(&last.hash)
                    .push_bind(last.created_at)
                    .push_bind(&context.head_digest);
                q.push(
                    ") ON CONFLICT (practice_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
                     last_event_at = excluded.last_event_at, export_digest_state = excluded.export_digest_state",
                );
            }
            q.build().execute(&mut *tx).await?;
        }
        wrote |= !rows.is_empty();
        drop(rows);
        // After the events: the database accepts a membership row only when its member's
        // last membership event, already written, justifies it.
        for (user, role, seq) in final_memberships(&plans) {
            let write = match role {
                Some(role) => sqlx::query(
                    "INSERT INTO memberships (practice_id, user_id, role, since_seq, updated_seq) VALUES ($1, $2, $3, $4, $4) \
                     ON CONFLICT (practice_id, user_id) DO UPDATE SET role = excluded.role, updated_seq = excluded.updated_seq",
                )
                .bind(&practice_id)
                .bind(user)
                .bind(role.as_str())
                .bind(seq),
                None => sqlx::query("DELETE FROM memberships WHERE practice_id = $1 AND user_id = $2")
                    .bind(&practice_id)
                    .bind(user),
            };
            write.execute(&mut *tx).await?;
        }
        outcomes.extend(plans);
    }
    if !wrote || mode == AppendMode::DryRun {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(outcomes)
}
