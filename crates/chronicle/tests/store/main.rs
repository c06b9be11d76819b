//! The engine's integration suite. Every case runs unchanged against SQLite and against a
//! real PostgreSQL server: `sqlite::NAME` and `postgres::NAME`.

mod auditors;
mod cases;
mod dry_run;
mod exports;
mod generate;
mod groups;
mod guarantees;
mod hardening;
mod projections;
mod support;
mod unlocked;

use chronicle_testing::on_both_backends;

on_both_backends!(
    projector_runner, projections:
    projections_equal_a_fold_from_scratch,
    appends_racing_with_the_runner_are_all_applied,
    a_poison_event_stops_only_its_projector_and_retry_resumes,
    a_poison_event_can_be_skipped_and_every_replay_skips_it,
    reset_rebuilds_the_same_read_model,
    a_projector_added_later_catches_up_from_the_first_event,
    status_reports_lag_while_behind_and_zero_when_caught_up,
    read_model_queries_page_by_activity_and_scope_by_principal,
    live_feeds_report_appends_and_checkpoint_moves,
    members_and_known_users_are_scoped_by_practice,
    a_runner_far_behind_doubles_its_batches_up_to_the_cap,
);

on_both_backends!(
    store_guarantees, guarantees:
    raw_sql_cannot_replace_events_or_forge_heads_and_memberships,
    verify_trusts_neither_the_head_nor_the_memberships,
    a_removed_member_loses_every_read_and_write_at_once,
    every_event_records_who_appended_it,
    a_store_from_before_recorded_by_keeps_verifying,
    the_runtime_role_cannot_change_history,
);

on_both_backends!(
    auditor_exports, exports:
    every_tampering_of_a_10000_event_export_is_found_and_located,
    every_format_carries_the_manifest_and_csv_and_html_read_cleanly,
    exports_are_recorded_and_open_to_every_member_only,
    a_store_rewritten_after_an_export_no_longer_reaches_its_head,
    a_whole_practice_manifest_comes_from_the_head_and_agrees_with_the_events,
);

on_both_backends!(
    dry_runs, dry_run:
    a_dry_run_answers_the_planned_event_and_writes_nothing,
    a_dry_run_plans_exactly_what_the_append_stores,
    a_dry_run_refuses_what_the_append_refuses,
    a_dry_run_of_a_new_practice_leaves_no_trace,
);

on_both_backends!(
    generation, generate:
    generated_aggregates_start_with_their_opening_event,
    a_canceled_generation_keeps_the_batches_written_before,
    generation_is_refused_like_the_append_it_makes,
    the_same_seed_twice_on_one_practice_makes_new_aggregates,
    the_same_seed_and_time_give_the_same_events_on_two_stores,
);

on_both_backends!(
    unlocked_appends, unlocked:
    two_stores_appending_to_one_practice_lose_nothing,
    two_stores_appending_to_several_practices_lose_nothing,
    knowledge_made_stale_by_another_store_writes_nothing_wrong,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_appends_skip_the_head_lock_where_they_can() {
    unlocked::postgres_appends_skip_the_head_lock_where_they_can().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_connections_killed_under_the_store_cost_one_failure_each_at_most() {
    unlocked::postgres_connections_killed_under_the_store_cost_one_failure_each_at_most().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_appends_to_several_practices_share_one_statement() {
    unlocked::postgres_appends_to_several_practices_share_one_statement().await;
}

on_both_backends!(
    commit_groups, groups:
    concurrent_appends_share_commits_and_each_stays_all_or_nothing,
    a_database_error_fails_only_the_append_that_caused_it,
    callers_who_stop_waiting_leave_every_append_whole,
);

on_both_backends!(
    auditing, auditors:
    the_reference_verifier_recomputes_the_stored_chain,
);

on_both_backends!(
    limits, hardening:
    batches_over_the_cap_are_refused_naming_it,
    strangers_and_viewers_are_refused_without_waiting_for_the_write_lock,
    control_characters_never_reach_the_store,
    pages_end_early_at_their_byte_budget_and_continue,
    the_unpaged_aggregate_read_stops_at_its_cap,
    a_runner_pass_over_idle_practices_writes_nothing,
);

on_both_backends!(
    store, cases:
    append_assigns_seq_version_hash_and_time,
    practice_created_makes_the_author_owner,
    unknown_event_type_names_the_closest_types,
    invalid_payload_reports_every_violation_and_writes_nothing,
    field_rules_name_the_field_and_the_rule,
    payload_size_limit_is_configurable,
    append_only_is_enforced_by_the_database,
    non_members_learn_nothing_about_a_practice,
    roles_decide_who_may_append_what,
    role_changes_apply_to_the_very_next_append,
    aggregate_events_are_chronological_and_paged,
    events_by_type_pages_and_limits,
    timeline_filters_and_pages_both_ways,
    aggregates_list_filters_and_pages,
    checkpoints_read_write_and_refuse_bad_moves,
    expected_version_conflicts_under_concurrency,
    retry_with_the_same_id_is_idempotent,
    batches_are_all_or_nothing,
    hash_chain_detects_an_edited_payload_and_a_deleted_event,
    a_column_retyped_under_the_store_fails_the_read_naming_it,
    system_principal_bypasses_membership_but_not_validation,
    reopening_a_store_keeps_its_events,
    demo_data_is_deterministic_and_valid,
    extra_registry_folder_adds_types,
    payloads_read_back_exactly_as_appended,
);

mod backend_specific {
    use crate::support::{Backend, TestStore, fresh_url, pg_admin_url};
    use chronicle::{Error, Store};

    #[tokio::test]
    async fn sqlite_commits_are_durable_unless_a_throwaway_store_asks_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("d.db").display());
        let store = chronicle::Store::open(&url).await.unwrap();
        assert_eq!(
            store.sqlite_synchronous().await.unwrap(),
            Some("FULL"),
            "an acknowledged append survives power loss by default"
        );
        store.close().await;
        let options = chronicle::StoreOptions {
            sqlite_durability: chronicle::SqliteDurability::Normal,
            ..chronicle::StoreOptions::default()
        };
        let store = chronicle::Store::open_with(&url, options).await.unwrap();
        assert_eq!(store.sqlite_synchronous().await.unwrap(), Some("NORMAL"));
    }

    /// On a current-thread runtime a SQLite append runs on a blocking thread, which a caller
    /// who stops waiting leaves running (the shared case runs multi-thread, in place).
    #[tokio::test]
    async fn sqlite_callers_who_stop_waiting_on_one_thread_leave_every_append_whole() {
        crate::groups::callers_who_stop_waiting_leave_every_append_whole(Backend::Sqlite).await;
    }

    /// Migration 6: the insert trigger refuses with RAISE(ROLLBACK), so a raw writer cannot
    /// keep the rows before a refused one and commit them.
    #[tokio::test]
    async fn a_refused_raw_sqlite_insert_takes_the_whole_transaction_with_it() {
        let t = TestStore::new(Backend::Sqlite).await;
        t.practice_with_staff("p1", "owner-1").await;
        let owner = chronicle::Principal::user("owner-1");
        let last = t
            .store
            .append(&owner, crate::support::patient("p1", "pa1", "Ava"))
            .await
            .unwrap();
        let path = t.url.strip_prefix("sqlite://").unwrap();
        let raw = rusqlite::Connection::open(path).unwrap();
        raw.execute_batch("BEGIN IMMEDIATE").unwrap();
        // The next event in every column the trigger checks: accepted on its own.
        let next = |seq_step: i64, suffix: &str| {
            format!(
                "INSERT INTO events SELECT practice_id, seq + {seq_step}, id || '{suffix}', aggregate_type, aggregate_id, \
                 version + {seq_step}, event_type, payload_json, actor_type, actor_id, created_at, hash, recorded_by \
                 FROM events WHERE id = '{}'",
                last.id
            )
        };
        assert_eq!(raw.execute(&next(1, "-next"), []).unwrap(), 1);
        let refused = raw.execute(&next(5, "-gap"), []).unwrap_err().to_string();
        assert!(
            refused.contains("seq must be the practice head + 1"),
            "the gap is refused for its seq: {refused}"
        );
        assert!(
            raw.is_autocommit(),
            "the refusal ended the transaction, taking the accepted row with it"
        );
        assert!(
            raw.execute_batch("COMMIT").is_err(),
            "nothing is left to commit"
        );
        drop(raw);
        let missing = t
            .store
            .event(&owner, "p1", &format!("{}-next", last.id))
            .await
            .unwrap();
        assert!(
            missing.is_none(),
            "the row before the refused one was not kept"
        );
        let after = t
            .store
            .append(&owner, crate::support::patient("p1", "pa2", "Bo"))
            .await
            .unwrap();
        assert_eq!(
            after.seq,
            last.seq + 1,
            "the store appends after it as before"
        );
    }

    #[tokio::test]
    async fn a_closed_sqlite_store_refuses_appends_and_reopens_with_every_event() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let owner = chronicle::Principal::user("owner-1");
        let store = Store::open(&url).await.unwrap();
        store
            .append(&owner, crate::support::practice_created("p1", "Smile"))
            .await
            .unwrap();
        store.close().await;
        let err = store
            .append(&owner, crate::support::patient("p1", "pa1", "Ava"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Unavailable { ref reason, .. } if reason.contains("closed")),
            "an append after close is refused: {err}"
        );
        let reopened = Store::open(&url).await.unwrap();
        reopened
            .append(&owner, crate::support::patient("p1", "pa1", "Ava"))
            .await
            .unwrap();
        let report = reopened
            .verify_chain(&chronicle::Principal::System, "p1")
            .await
            .unwrap();
        assert_eq!(
            (report.events_checked, report.first_break.is_none()),
            (3, true),
            "practice, owner membership and patient, chained"
        );
    }

    #[tokio::test]
    async fn a_new_sqlite_store_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("data");
        chronicle::paths::create_private_dir(&folder).unwrap();
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700, "the data folder");
        let path = folder.join("events.db");
        let t = Store::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        t.append(
            &chronicle::Principal::user("owner-1"),
            crate::support::practice_created("p1", "Smile"),
        )
        .await
        .unwrap();
        for file in ["events.db", "events.db-wal", "events.db-shm"] {
            assert_eq!(
                mode(&folder.join(file)),
                0o600,
                "{file} is the owner's only"
            );
        }
    }

    #[tokio::test]
    async fn unknown_scheme_and_in_memory_urls_are_refused() {
        for url in ["mysql://x/y", "no-scheme", "sqlite::memory:", "sqlite://"] {
            let err = Store::open(url).await.expect_err(url);
            assert!(
                matches!(err, Error::InvalidUrl { .. }),
                "{url} gives InvalidUrl, got {err}"
            );
        }
    }

    #[tokio::test]
    async fn sqlite_in_a_missing_folder_is_unavailable() {
        let err = Store::open("sqlite:///nonexistent-folder-for-chronicle/x.db")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Unavailable {
                    backend: "sqlite",
                    ..
                }
            ),
            "got {err}"
        );
        assert!(
            err.to_string()
                .contains("/nonexistent-folder-for-chronicle/x.db"),
            "message names the path: {err}"
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_sqlite_is_incompatible() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.db");
        std::fs::write(
            &path,
            "these are not the bytes of a database, just text ".repeat(100),
        )
        .unwrap();
        let err = Store::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::IncompatibleStore { .. }), "got {err}");
    }

    #[tokio::test]
    async fn a_database_of_another_application_is_refused() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let (url, _dir) = fresh_url(backend).await;
            let raw = TestStore::raw_url(backend, &url);
            raw("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
                .await
                .unwrap();
            let err = Store::open(&url).await.unwrap_err();
            assert!(
                matches!(err, Error::IncompatibleStore { .. }),
                "{backend:?}: got {err}"
            );
            assert!(
                err.to_string().contains("invoices"),
                "names the foreign table: {err}"
            );
        }
    }

    #[tokio::test]
    async fn a_newer_schema_version_is_refused() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let t = TestStore::new(backend).await;
            t.store.close().await;
            t.raw("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                   VALUES (99990101000000, 'from the future', TRUE, X'00', 1)"
                .replace("X'00'", if backend == Backend::Postgres { "'\\x00'::bytea" } else { "X'00'" })
                .as_str())
                .await
                .unwrap();
            let err = Store::open(&t.url).await.unwrap_err();
            assert!(
                matches!(err, Error::IncompatibleStore { .. }),
                "{backend:?}: got {err}"
            );
            assert!(
                err.to_string().contains("newer"),
                "says the store is newer: {err}"
            );
        }
    }

    #[tokio::test]
    async fn an_unreachable_postgres_server_is_unavailable_without_leaking_the_password() {
        let options = chronicle::StoreOptions {
            connect_timeout: std::time::Duration::from_secs(2),
            ..Default::default()
        };
        let err = Store::open_with("postgres://app:hunter2@127.0.0.1:1/chronicle", options)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Unavailable {
                    backend: "postgres",
                    ..
                }
            ),
            "got {err}"
        );
        assert!(
            !err.to_string().contains("hunter2"),
            "password must not appear: {err}"
        );
        assert!(
            err.to_string().contains("127.0.0.1:1"),
            "names the server: {err}"
        );
    }

    #[tokio::test]
    async fn a_malformed_postgres_url_is_invalid() {
        let err = Store::open("postgres://app@127.0.0.1:notaport/x")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "got {err}");
    }

    /// A transaction holding practice A's head must not delay appends to practice B.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_appends_to_other_practices_do_not_wait() {
        use sqlx::Connection;
        let t = TestStore::new(Backend::Postgres).await;
        t.practice_with_staff("pa", "owner-a").await;
        t.practice_with_staff("pb", "owner-b").await;
        let mut blocker = sqlx::PgConnection::connect(&t.url).await.unwrap();
        sqlx::raw_sql("BEGIN; SELECT * FROM practice_heads WHERE practice_id = 'pa' FOR UPDATE")
            .execute(&mut blocker)
            .await
            .unwrap();
        let other = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            t.store.append(
                &chronicle::Principal::user("owner-b"),
                crate::support::patient("pb", "x1", "Bo"),
            ),
        )
        .await;
        assert!(
            matches!(other, Ok(Ok(_))),
            "practice B appends while A's head is locked"
        );
        let store = t.store.clone();
        let blocked = tokio::spawn(async move {
            store
                .append(
                    &chronicle::Principal::user("owner-a"),
                    crate::support::patient("pa", "x2", "Al"),
                )
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !blocked.is_finished(),
            "practice A's append waits for the head lock"
        );
        sqlx::raw_sql("COMMIT").execute(&mut blocker).await.unwrap();
        let done = tokio::time::timeout(std::time::Duration::from_secs(10), blocked).await;
        assert!(
            matches!(done, Ok(Ok(Ok(_)))),
            "practice A's append completes once the lock is released"
        );
        let _ = pg_admin_url();
    }
}
