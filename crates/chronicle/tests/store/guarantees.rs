//! The store's own guarantees (#12): what the database refuses whoever connects, access that
//! can be taken away, and who really appended each event.

use chronicle::chain::{HashedFields, ZERO_HASH, canonical_json, chain_hash};
use chronicle::{
    ActorType, Error, NewEvent, Principal, Role, STORE_RECORDER, SYSTEM_RECORDER, Store,
};
use serde_json::json;
use sqlx::Connection;

use crate::support::{Backend, TestStore, membership, patient, practice_created};

const P: &str = "prac-g";

fn user(id: &str) -> Principal {
    Principal::user(id)
}

fn removal(user: &str) -> NewEvent {
    NewEvent::new(
        P,
        "membership",
        user,
        "membership.removed",
        json!({"userId": user, "reason": "left the practice"}),
        ActorType::Human,
    )
}

fn role_change(user: &str, role: &str) -> NewEvent {
    NewEvent::new(
        P,
        "membership",
        user,
        "membership.role_changed",
        json!({"userId": user, "role": role}),
        ActorType::Human,
    )
}

/// Raw SQL that must fail, and the message it must fail with.
async fn refused(t: &TestStore, sql: &str, because: &str) {
    let result = t.raw(sql).await;
    match result {
        Err(message) => assert!(
            message.contains(because),
            "{sql}: refused, but for another reason: {message}"
        ),
        Ok(rows) => panic!("{sql}: the database accepted it ({rows} rows)"),
    }
}

pub async fn raw_sql_cannot_replace_events_or_forge_heads_and_memberships(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let first = t
        .store
        .append(&user("owner-1"), patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    let head_seq = first.seq;

    // Over an existing event: SQLite's REPLACE would delete and re-insert it.
    let copy_of_first = format!(
        "INSERT {} INTO events (practice_id, seq, id, aggregate_type, aggregate_id, version, event_type, payload_json, \
         actor_type, actor_id, created_at, hash, recorded_by) \
         SELECT practice_id, seq, id, aggregate_type, aggregate_id, version, event_type, '{{\"firstName\":\"Eve\"}}', \
         actor_type, actor_id, created_at, hash, recorded_by FROM events WHERE id = '{}' {}",
        if backend == Backend::Sqlite {
            "OR REPLACE"
        } else {
            ""
        },
        first.id,
        if backend == Backend::Postgres {
            "ON CONFLICT (practice_id, seq) DO UPDATE SET payload_json = excluded.payload_json"
        } else {
            ""
        }
    );
    refused(&t, &copy_of_first, "append-only").await;
    // A gap: seq beyond head + 1 (SQLite checks it in the insert trigger).
    if backend == Backend::Sqlite {
        refused(
            &t,
            &format!(
                "INSERT INTO events SELECT practice_id, seq + 5, id || '-x', aggregate_type, aggregate_id, version + 5, \
                 event_type, payload_json, actor_type, actor_id, created_at, hash, recorded_by FROM events WHERE id = '{}'",
                first.id
            ),
            "seq must be the practice head + 1",
        )
        .await;
    }
    // An event that hides who appended it.
    refused(
        &t,
        &format!(
            "INSERT INTO events (practice_id, seq, id, aggregate_type, aggregate_id, version, event_type, payload_json, \
             actor_type, actor_id, created_at, hash) SELECT practice_id, seq + 1, 'hidden', aggregate_type, 'pat-9', 1, \
             event_type, payload_json, actor_type, actor_id, created_at, hash FROM events WHERE id = '{}'",
            first.id
        ),
        "record",
    )
    .await;

    // The head follows the events and never goes.
    refused(
        &t,
        &format!(
            "UPDATE practice_heads SET seq = {} WHERE practice_id = '{P}'",
            head_seq - 1
        ),
        "practice_heads follow the events",
    )
    .await;
    refused(
        &t,
        &format!("DELETE FROM practice_heads WHERE practice_id = '{P}'"),
        "practice_heads follow the events",
    )
    .await;
    refused(
        &t,
        &format!(
            "UPDATE practice_heads SET hash = '{}' WHERE practice_id = '{P}'",
            "f".repeat(64)
        ),
        "practice_heads follow the events",
    )
    .await;
    // A membership only as its events say.
    refused(
        &t,
        &format!("UPDATE memberships SET role = 'owner' WHERE practice_id = '{P}' AND user_id = 'viewer-1'"),
        "memberships follow the membership events",
    )
    .await;
    refused(
        &t,
        &format!(
            "INSERT INTO memberships (practice_id, user_id, role, since_seq, updated_seq) VALUES ('{P}', 'mallory', 'owner', 1, 1)"
        ),
        "memberships follow the membership events",
    )
    .await;
    refused(
        &t,
        &format!("DELETE FROM memberships WHERE practice_id = '{P}' AND user_id = 'owner-1'"),
        "memberships follow the membership events",
    )
    .await;

    let report = t.store.verify_chain(&Principal::System, P).await.unwrap();
    assert!(report.is_intact(), "nothing changed: {report:?}");
    let members = t
        .store
        .practice_members(&Principal::System, P)
        .await
        .unwrap();
    assert_eq!(
        members
            .iter()
            .find(|m| m.user_id == "viewer-1")
            .map(|m| m.role),
        Some(Role::Viewer)
    );
}

pub async fn verify_trusts_neither_the_head_nor_the_memberships(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let drop_guards = match backend {
        Backend::Sqlite => {
            "DROP TRIGGER memberships_update_follows_events; DROP TRIGGER memberships_insert_follows_events; \
             DROP TRIGGER practice_heads_reject_delete;"
        }
        Backend::Postgres => {
            "DROP TRIGGER memberships_follow_events ON memberships; DROP TRIGGER practice_heads_follow_events ON practice_heads;"
        }
    };
    // What the database's owner can still do: the guards dropped, the rows altered.
    t.raw(drop_guards).await.unwrap();
    t.raw(&format!(
        "UPDATE memberships SET role = 'owner' WHERE practice_id = '{P}' AND user_id = 'viewer-1'"
    ))
    .await
    .unwrap();
    t.raw(&format!(
        "INSERT INTO memberships (practice_id, user_id, role, since_seq, updated_seq) VALUES ('{P}', 'mallory', 'admin', 1, 1)"
    ))
    .await
    .unwrap();
    let report = t.store.verify_chain(&Principal::System, P).await.unwrap();
    assert!(
        report.first_break.is_none(),
        "the events themselves are intact"
    );
    assert!(!report.is_intact());
    let mut problems: Vec<(String, Option<Role>, Option<Role>)> = report
        .membership_problems
        .iter()
        .map(|p| (p.user_id.clone(), p.expected_role, p.stored_role))
        .collect();
    problems.sort();
    assert_eq!(
        problems,
        vec![
            ("mallory".into(), None, Some(Role::Admin)),
            ("viewer-1".into(), Some(Role::Viewer), Some(Role::Owner)),
        ],
        "every membership is rebuilt from its events: {:?}",
        report.membership_problems
    );

    t.raw(&format!(
        "DELETE FROM practice_heads WHERE practice_id = '{P}'"
    ))
    .await
    .unwrap();
    let broken = t
        .store
        .verify_chain(&Principal::System, P)
        .await
        .unwrap()
        .first_break
        .expect("a missing head row is a break");
    assert!(broken.problem.contains("head row is missing"), "{broken:?}");
}

pub async fn a_removed_member_loses_every_read_and_write_at_once(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let desk = user("desk-1");
    t.store
        .append(&desk, patient(P, "pat-1", "Ann"))
        .await
        .expect("a frontdesk member appends");

    // An admin may not remove an owner; a frontdesk may not remove anyone.
    let refused = t
        .store
        .append(&user("admin-1"), removal("owner-1"))
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Forbidden { .. }), "{refused}");
    let refused = t
        .store
        .append(&desk, removal("viewer-1"))
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Forbidden { .. }), "{refused}");

    let removed = t
        .store
        .append(&user("admin-1"), removal("desk-1"))
        .await
        .unwrap();
    assert_eq!(removed.recorded_by.as_deref(), Some("admin-1"));
    for attempt in [
        t.store
            .append(&desk, patient(P, "pat-2", "Ben"))
            .await
            .err(),
        t.store.event(&desk, P, &removed.id).await.err(),
        t.store.verify_chain(&desk, P).await.err(),
    ] {
        assert!(
            matches!(attempt, Some(Error::PracticeNotFound { .. })),
            "a removed member is a stranger at once: {attempt:?}"
        );
    }
    assert!(t.store.practices(&desk).await.unwrap().is_empty());

    let former = t.store.removed_members(&user("owner-1"), P).await.unwrap();
    assert_eq!(former.len(), 1);
    assert_eq!(
        (
            former[0].user_id.as_str(),
            former[0].removed_by.as_deref(),
            former[0].reason.as_deref()
        ),
        ("desk-1", Some("admin-1"), Some("left the practice"))
    );
    let members = t.store.practice_members(&user("owner-1"), P).await.unwrap();
    assert!(members.iter().all(|m| m.user_id != "desk-1"));
    let viewer = members.iter().find(|m| m.user_id == "viewer-1").unwrap();
    assert_eq!(
        viewer.changed_by.as_deref(),
        Some("owner-1"),
        "who granted it"
    );

    // The last owner stays: neither demoted nor removed, by anyone.
    for event in [role_change("owner-1", "admin"), removal("owner-1")] {
        let refused = t.store.append(&user("owner-1"), event).await.unwrap_err();
        assert!(
            matches!(&refused, Error::Conflict { reason } if reason.contains("last owner")),
            "{refused}"
        );
    }
    // With a second owner, the first may go (removed by the second).
    t.store
        .append(&user("owner-1"), role_change("admin-1", "owner"))
        .await
        .unwrap();
    t.store
        .append(&user("admin-1"), removal("owner-1"))
        .await
        .expect("an owner removes another owner");
    assert!(
        t.store
            .practices(&user("owner-1"))
            .await
            .unwrap()
            .is_empty()
    );
    // Rejoining is a new membership.
    t.store
        .append(&user("admin-1"), membership(P, "desk-1", "viewer"))
        .await
        .unwrap();
    assert!(
        t.store
            .removed_members(&user("admin-1"), P)
            .await
            .unwrap()
            .iter()
            .all(|r| r.user_id != "desk-1")
    );
    let report = t.store.verify_chain(&Principal::System, P).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
}

pub async fn every_event_records_who_appended_it(backend: Backend) {
    let t = TestStore::new(backend).await;
    let created = t
        .store
        .append(&user("owner-1"), practice_created(P, "Smile"))
        .await
        .unwrap();
    assert_eq!(created.recorded_by.as_deref(), Some("owner-1"));
    let events = t.all_events(P).await;
    assert_eq!(
        (
            events[1].event_type.as_str(),
            events[1].recorded_by.as_deref()
        ),
        ("membership.created", Some(STORE_RECORDER)),
        "the automatic owner grant is the store's own, unlike any append"
    );
    for (member, role) in [("admin-1", "admin"), ("desk-1", "frontdesk")] {
        t.store
            .append(&user("owner-1"), membership(P, member, role))
            .await
            .unwrap();
    }

    // A frontdesk may not pose as the system; an admin may, and stays on record.
    let mut as_system = patient(P, "pat-1", "Ann");
    as_system.actor_type = ActorType::System;
    as_system.actor_id = Some("owner-1".into());
    let refused = t
        .store
        .append(&user("desk-1"), as_system.clone())
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Forbidden { .. }), "{refused}");
    let by_admin = t.store.append(&user("admin-1"), as_system).await.unwrap();
    assert_eq!(
        (
            by_admin.actor_type,
            by_admin.actor_id.as_deref(),
            by_admin.recorded_by.as_deref()
        ),
        (ActorType::System, Some("owner-1"), Some("admin-1"))
    );
    let mut by_agent = patient(P, "pat-2", "Ben");
    by_agent.actor_type = ActorType::Ai;
    by_agent.actor_id = Some("triage-bot".into());
    let by_agent = t.store.append(&user("desk-1"), by_agent).await.unwrap();
    assert_eq!(by_agent.recorded_by.as_deref(), Some("desk-1"));
    let mut imported = patient(P, "pat-3", "Cy");
    imported.actor_type = ActorType::System;
    let imported = t.store.append(&Principal::System, imported).await.unwrap();
    assert_eq!(imported.recorded_by.as_deref(), Some(SYSTEM_RECORDER));

    // recordedBy is read back as written, and the hash covers it.
    let read = t
        .store
        .event(&user("owner-1"), P, &by_admin.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, by_admin);
    t.raw(match backend {
        Backend::Sqlite => "DROP TRIGGER events_reject_update",
        Backend::Postgres => "ALTER TABLE events DISABLE TRIGGER events_reject_update_delete",
    })
    .await
    .unwrap();
    t.raw(&format!(
        "UPDATE events SET recorded_by = 'owner-1' WHERE id = '{}'",
        by_admin.id
    ))
    .await
    .unwrap();
    let broken = t
        .store
        .verify_chain(&Principal::System, P)
        .await
        .unwrap()
        .first_break
        .expect("rewriting who appended an event breaks the chain");
    assert_eq!(broken.seq, by_admin.seq);
}

/// A store written before recordedBy existed (schema version 3, chain form 1) keeps
/// verifying after the upgrade, and continues in form 2.
pub async fn a_store_from_before_recorded_by_keeps_verifying(backend: Backend) {
    let (url, _dir) = chronicle_testing::fresh_url(backend).await;
    let old = tempfile::tempdir().unwrap();
    let flavour = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(flavour);
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "20261130" {
            std::fs::copy(&path, old.path().join(&name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
    let created_at = chrono::DateTime::from_timestamp_micros(1_767_000_000_000_000).unwrap();
    let payload = json!({"name": "Old Smile"});
    let payload_json = canonical_json(&payload);
    let hash = chain_hash(
        ZERO_HASH,
        &HashedFields {
            id: "old-1",
            practice_id: P,
            seq: 1,
            aggregate_type: "practice",
            aggregate_id: P,
            version: 1,
            event_type: "practice.created",
            payload_json: &payload_json,
            actor_type: ActorType::System,
            actor_id: None,
            created_at,
            recorded_by: None,
        },
    );
    let insert_old = "INSERT INTO events (practice_id, seq, id, aggregate_type, aggregate_id, version, event_type, payload_json, actor_type, actor_id, created_at, hash) \
                      VALUES ($1, 1, 'old-1', 'practice', $1, 1, 'practice.created', $2, 'system', NULL, $3, $4)";
    let insert_head =
        "INSERT INTO practice_heads (practice_id, seq, hash, last_event_at) VALUES ($1, 1, $2, $3)";
    match backend {
        Backend::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
            let mut conn = sqlx::SqliteConnection::connect_with(&options.create_if_missing(true))
                .await
                .unwrap();
            migrator.run(&mut conn).await.unwrap();
            sqlx::query(insert_old)
                .bind(P)
                .bind(&payload_json)
                .bind(created_at)
                .bind(&hash)
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(insert_head)
                .bind(P)
                .bind(&hash)
                .bind(created_at)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            migrator.run(&mut conn).await.unwrap();
            sqlx::query(insert_old)
                .bind(P)
                .bind(&payload_json)
                .bind(created_at)
                .bind(&hash)
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(insert_head)
                .bind(P)
                .bind(&hash)
                .bind(created_at)
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }

    let store = Store::open(&url).await.expect("the old store upgrades");
    let report = store.verify_chain(&Principal::System, P).await.unwrap();
    assert!(
        report.is_intact(),
        "form-1 events verify under form 1: {report:?}"
    );
    let mut next = patient(P, "pat-1", "Ann");
    next.actor_type = ActorType::System;
    let appended = store.append(&Principal::System, next).await.unwrap();
    assert_eq!(
        (appended.seq, appended.recorded_by.as_deref()),
        (2, Some(SYSTEM_RECORDER))
    );
    let report = store.verify_chain(&Principal::System, P).await.unwrap();
    assert!(
        report.is_intact(),
        "a form-2 event continues a form-1 chain: {report:?}"
    );
    assert_eq!(report.events_checked, 2);
}

/// PostgreSQL: the app runs as a role that does not own the tables, and the database itself
/// holds it to append-only.
pub async fn the_runtime_role_cannot_change_history(backend: Backend) {
    let t = TestStore::new(backend).await;
    if backend == Backend::Sqlite {
        let refused = t.store.grant_app_role("anyone").await.unwrap_err();
        assert!(
            matches!(&refused, Error::Invalid { violations } if violations[0].message.contains("PostgreSQL")),
            "{refused}"
        );
        return;
    }
    t.practice_with_staff(P, "owner-1").await;
    let role = format!("app_{}", uuid::Uuid::now_v7().simple());
    t.raw(&format!("CREATE ROLE {role} LOGIN NOSUPERUSER"))
        .await
        .unwrap();
    for (name, why) in [("no_such_role_here", "no role"), ("chronicle", "superuser")] {
        let refused = t.store.grant_app_role(name).await.unwrap_err();
        assert!(refused.to_string().contains(why), "{name}: {refused}");
    }
    t.store.grant_app_role(&role).await.unwrap();
    let (base, database) = t.url.rsplit_once('/').unwrap();
    let host = base.rsplit_once('@').unwrap().1;
    let app_url = format!("postgres://{role}@{host}/{database}");

    let app = Store::open(&app_url)
        .await
        .expect("the runtime role opens the store");
    let appended = app
        .append(&user("desk-1"), patient(P, "pat-1", "Ann"))
        .await
        .expect("and appends");
    app.append(&user("owner-1"), removal("viewer-1"))
        .await
        .expect("memberships are maintained as the runtime role");
    app.reset_projector(
        &user("owner-1"),
        P,
        chronicle::projection::find_builtin("aggregate_index")
            .unwrap()
            .as_ref(),
    )
    .await
    .expect("projectors are operated as the runtime role");
    assert!(
        app.verify_chain(&Principal::System, P)
            .await
            .unwrap()
            .is_intact()
    );

    let mut conn = sqlx::PgConnection::connect(&app_url).await.unwrap();
    for attack in [
        format!(
            "UPDATE events SET payload_json = '{{}}' WHERE id = '{}'",
            appended.id
        ),
        format!("DELETE FROM events WHERE id = '{}'", appended.id),
        "TRUNCATE events".to_string(),
        "ALTER TABLE events DISABLE TRIGGER events_reject_update_delete".to_string(),
        "ALTER TABLE events DISABLE TRIGGER ALL".to_string(),
        "DROP TRIGGER events_reject_update_delete ON events".to_string(),
        "DROP TRIGGER memberships_follow_events ON memberships".to_string(),
        "TRUNCATE memberships".to_string(),
        "ALTER TABLE events DROP CONSTRAINT events_record_who_appended".to_string(),
    ] {
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(attack.clone()))
            .execute(&mut conn)
            .await;
        let message = result.expect_err(&attack).to_string();
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{attack}: {message}"
        );
    }
    let report = app.verify_chain(&Principal::System, P).await.unwrap();
    assert!(report.is_intact(), "{report:?}");

    // A schema behind this build: the runtime role says so and does not try to migrate.
    t.raw(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .await
    .unwrap();
    let refused = Store::open(&app_url).await.unwrap_err();
    assert!(
        matches!(&refused, Error::IncompatibleStore { reason, .. } if reason.contains("chronicle migrate")),
        "{refused}"
    );
}
