//! Appends that hold no lock across round trips (PostgreSQL): the head is read unlocked and
//! moved only if unchanged, otherwise the append is decided again under the lock. Two stores
//! on one database race for one practice and nothing is lost, doubled or out of order; which
//! path wrote is read back from the database's own record of the statement.

use std::collections::BTreeSet;
use std::sync::Arc;

use chronicle::{ActorType, Error, Event, NewEvent, Principal, Store};
use serde_json::json;
use sqlx::Connection;

use crate::support::{Backend, TestStore, membership, patient, patient_updated, practice_created};

const P: &str = "prac-race";

/// Two stores (two pools, as two processes would have) append to one practice at once.
pub async fn two_stores_appending_to_one_practice_lose_nothing(backend: Backend) {
    two_stores_race(backend, &[P]).await;
}

/// The same race over four practices: each store's commits carry several practices in one
/// statement, and the two stores' statements move the same heads.
pub async fn two_stores_appending_to_several_practices_lose_nothing(backend: Backend) {
    two_stores_race(
        backend,
        &["prac-race-a", "prac-race-b", "prac-race-c", "prac-race-d"],
    )
    .await;
}

/// 60 appends a practice, alternately through two stores, all at once; every practice ends
/// with each append stored once, in contiguous seqs, its chain intact and its head at the last.
async fn two_stores_race(backend: Backend, practices: &[&'static str]) {
    let t = TestStore::new(backend).await;
    let mut before = Vec::new();
    for practice in practices {
        t.practice_with_staff(practice, "owner-1").await;
        before.push(t.all_events(practice).await.len());
    }
    let other = Store::open(&t.url)
        .await
        .expect("a second store on the same database");
    let stores = Arc::new([t.store.clone(), other]);
    let owner = Principal::user("owner-1");
    let mut tasks = Vec::new();
    for n in 0..60 * practices.len() {
        let (stores, owner) = (stores.clone(), owner.clone());
        let practice = practices[n % practices.len()];
        let store = n / practices.len() % 2;
        tasks.push(tokio::spawn(async move {
            let id = format!("racer-{n}");
            stores[store]
                .append(&owner, patient(practice, &id, "Ann"))
                .await
                .unwrap_or_else(|e| panic!("{practice}/{id}: {e}"));
            (practice, id)
        }));
    }
    let mut appended: BTreeSet<(&str, String)> = BTreeSet::new();
    for task in tasks {
        appended.insert(task.await.unwrap());
    }

    for (practice, before) in practices.iter().zip(before) {
        let events = t.all_events(practice).await;
        assert_eq!(
            events.len(),
            before + 60,
            "{practice}: every append stored once"
        );
        for (index, event) in events.iter().enumerate() {
            assert_eq!(
                event.seq,
                index as i64 + 1,
                "{practice}: seqs are contiguous"
            );
        }
        let stored: BTreeSet<(&str, String)> = events[before..]
            .iter()
            .map(|e| (*practice, e.aggregate_id.clone()))
            .collect();
        let expected: BTreeSet<(&str, String)> = appended
            .iter()
            .filter(|(p, _)| p == practice)
            .cloned()
            .collect();
        assert_eq!(stored, expected, "{practice}: exactly its appends");
        let report = t.store.verify_chain(&owner, practice).await.unwrap();
        assert!(report.is_intact(), "{practice}: {report:?}");
        let head = t.store.chain_head(&owner, practice).await.unwrap();
        assert_eq!(
            head.seq,
            events.last().unwrap().seq,
            "{practice}: the head is the last event"
        );
    }
    stores[1].close().await;
}

/// A store remembers what it read and wrote of a practice (the head, roles, stream versions;
/// PostgreSQL appends plan against that instead of reading it again). Another store's
/// appends make that knowledge stale; stale knowledge writes nothing wrong: the next append
/// lands after the other store's, and a member the other store removed is refused.
pub async fn knowledge_made_stale_by_another_store_writes_nothing_wrong(backend: Backend) {
    let t = TestStore::new(backend).await;
    t.practice_with_staff(P, "owner-1").await;
    let other = Store::open(&t.url)
        .await
        .expect("a second store on the same database");
    let (owner, desk) = (Principal::user("owner-1"), Principal::user("desk-1"));
    let phone = |n: u32| json!({"phone": format!("+44 20 7946 000{n}")});
    t.store
        .append(&desk, patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    t.store
        .append(&desk, patient_updated(P, "pat-1", phone(1)))
        .await
        .unwrap();

    let theirs = other
        .append(&owner, patient_updated(P, "pat-1", phone(2)))
        .await
        .unwrap();
    let mine = t
        .store
        .append(&desk, patient_updated(P, "pat-1", phone(3)))
        .await
        .unwrap();
    assert_eq!(theirs.version, 3);
    assert_eq!(
        (mine.version, mine.seq),
        (4, theirs.seq + 1),
        "after the other store's append, not beside it"
    );

    let removal = NewEvent::new(
        P,
        "membership",
        "desk-1",
        "membership.removed",
        json!({"userId": "desk-1", "reason": "left the practice"}),
        ActorType::Human,
    );
    other.append(&owner, removal).await.unwrap();
    let refused = t
        .store
        .append(&desk, patient_updated(P, "pat-1", phone(4)))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::PracticeNotFound { .. }),
        "a removed member is refused, whatever this store knew: {refused}"
    );

    let events = t.all_events(P).await;
    assert_eq!(events.last().unwrap().event_type, "membership.removed");
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event.seq, index as i64 + 1, "seqs are contiguous");
    }
    let report = t.store.verify_chain(&owner, P).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    other.close().await;
}

/// Which statement moved the head: the unlocked write where nothing the plan read can change
/// under it, the locked transaction for a new practice and for membership changes.
pub async fn postgres_appends_skip_the_head_lock_where_they_can() {
    let t = TestStore::new(Backend::Postgres).await;
    t.practice_with_staff(P, "owner-1").await;
    t.raw(
        "CREATE TABLE test_head_writes (n bigserial, statement text); \
         CREATE FUNCTION test_log_head_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         INSERT INTO test_head_writes (statement) VALUES (current_query()); RETURN NEW; END $$; \
         CREATE TRIGGER test_log_head_write BEFORE UPDATE ON practice_heads \
         FOR EACH ROW EXECUTE FUNCTION test_log_head_write()",
    )
    .await
    .unwrap();
    let owner = Principal::user("owner-1");
    let mut log = sqlx::PgConnection::connect(&t.url).await.unwrap();
    let mut last_write = async || -> String {
        sqlx::query_scalar("SELECT statement FROM test_head_writes ORDER BY n DESC LIMIT 1")
            .fetch_one(&mut log)
            .await
            .unwrap()
    };
    const UNLOCKED: &str = UNLOCKED_WRITE;
    const LOCKED: &str = LOCKED_WRITE;

    t.store
        .append(&owner, patient(P, "pat-1", "Ann"))
        .await
        .unwrap();
    assert!(last_write().await.starts_with(UNLOCKED));
    t.store
        .append_batch(
            &owner,
            vec![patient(P, "pat-2", "Ben"), patient(P, "pat-3", "Cy")],
        )
        .await
        .unwrap();
    assert!(last_write().await.starts_with(UNLOCKED));

    t.store
        .append(&owner, membership(P, "desk-2", "frontdesk"))
        .await
        .unwrap();
    assert!(
        last_write().await.starts_with(LOCKED),
        "a membership change is decided under the lock"
    );

    t.store
        .append(&owner, practice_created("prac-fresh", "Fresh Dental"))
        .await
        .unwrap();
    assert!(
        last_write().await.starts_with(LOCKED),
        "a new practice's first event takes the lock"
    );

    let report = t.store.verify_chain(&owner, P).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
}

/// Appends to several practices that queue while a commit is under way share the next commit,
/// one statement for all of them. A practice whose head another store moved meanwhile is not
/// written by that statement: its append is decided again under the lock, after the other
/// store's event, while the others' stand as written.
pub async fn postgres_appends_to_several_practices_share_one_statement() {
    const PRACTICES: [&str; 3] = ["share-a", "share-b", "share-c"];
    let t = TestStore::new(Backend::Postgres).await;
    for practice in PRACTICES {
        t.practice_with_staff(practice, "owner-1").await;
    }
    t.raw(
        "CREATE TABLE test_head_writes (n bigserial, practice_id text, tx bigint, statement text); \
         CREATE FUNCTION test_log_head_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         INSERT INTO test_head_writes (practice_id, tx, statement) \
         VALUES (NEW.practice_id, txid_current(), current_query()); RETURN NEW; END $$; \
         CREATE TRIGGER test_log_head_write BEFORE UPDATE ON practice_heads \
         FOR EACH ROW EXECUTE FUNCTION test_log_head_write()",
    )
    .await
    .unwrap();
    let owner = Principal::user("owner-1");
    // What the store knows of each practice is its own last write.
    for practice in PRACTICES {
        t.store
            .append(&owner, patient(practice, "pat-0", "Ann"))
            .await
            .unwrap();
    }
    let mut probe = sqlx::PgConnection::connect(&t.url).await.unwrap();

    // share-a and share-b queue while the commit of share-c's append waits for its head.
    let queue_behind_share_c = async |event: fn(&'static str) -> NewEvent| -> (Event, Event) {
        let mut holder = sqlx::PgConnection::connect(&t.url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
        sqlx::query("SELECT 1 FROM practice_heads WHERE practice_id = 'share-c' FOR UPDATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let append = |practice: &'static str| {
            let (store, owner) = (t.store.clone(), owner.clone());
            tokio::spawn(async move { store.append(&owner, event(practice)).await })
        };
        let held = append("share-c");
        let mut waiting = sqlx::PgConnection::connect(&t.url).await.unwrap();
        while sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH moved%'",
        )
        .fetch_one(&mut waiting)
        .await
        .unwrap()
            == 0
        {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let (a, b) = (append("share-a"), append("share-b"));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
        held.await.unwrap().unwrap();
        (a.await.unwrap().unwrap(), b.await.unwrap().unwrap())
    };
    let writes_of = async |probe: &mut sqlx::PgConnection,
                           event: &Event|
           -> Vec<(String, String)> {
        sqlx::query_as(
            "SELECT practice_id, statement FROM test_head_writes WHERE tx = \
             (SELECT tx FROM test_head_writes WHERE practice_id = $1 ORDER BY n DESC LIMIT 1) ORDER BY n",
        )
        .bind(&event.practice_id)
        .fetch_all(probe)
        .await
        .unwrap()
    };

    let (a, _) = queue_behind_share_c(|practice| patient(practice, "queued", "Cy")).await;
    let shared = writes_of(&mut probe, &a).await;
    let practices: Vec<&str> = shared.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        practices,
        ["share-a", "share-b"],
        "one commit moved both heads"
    );
    assert!(
        shared
            .iter()
            .all(|(_, statement)| statement.starts_with(UNLOCKED_WRITE)),
        "in one statement without the lock: {shared:?}"
    );

    let other = Store::open(&t.url)
        .await
        .expect("a second store on the same database");
    let theirs = other
        .append(&owner, patient("share-b", "theirs", "Bo"))
        .await
        .unwrap();
    // Every stream here is one this store wrote: it plans against what it knows, a stale head
    // for share-b.
    let (a, b) = queue_behind_share_c(|practice| {
        patient_updated(practice, "queued", json!({"phone": "+44 20 7946 0001"}))
    })
    .await;
    assert_eq!(
        b.seq,
        theirs.seq + 1,
        "share-b's append lands after the other store's"
    );
    let a_writes = writes_of(&mut probe, &a).await;
    assert_eq!(
        a_writes.len(),
        1,
        "share-a alone moved in its statement: {a_writes:?}"
    );
    assert!(a_writes[0].1.starts_with(UNLOCKED_WRITE), "{a_writes:?}");
    let b_writes = writes_of(&mut probe, &b).await;
    assert!(
        b_writes[0].1.starts_with(LOCKED_WRITE),
        "share-b's stale head sent its append to the lock: {b_writes:?}"
    );

    for practice in PRACTICES {
        let events = t.all_events(practice).await;
        for (index, event) in events.iter().enumerate() {
            assert_eq!(
                event.seq,
                index as i64 + 1,
                "{practice}: seqs are contiguous"
            );
        }
        let report = t.store.verify_chain(&owner, practice).await.unwrap();
        assert!(report.is_intact(), "{practice}: {report:?}");
    }
    other.close().await;
}

const UNLOCKED_WRITE: &str = "WITH moved AS (UPDATE practice_heads";
const LOCKED_WRITE: &str = "WITH appended AS (INSERT INTO events";

/// The store does not ping a connection it used within the last seconds before using it again
/// (sqlx's default pings every time: a round trip per statement). Connections that died
/// meanwhile (here the server ends every one of them) fail at most their next use, each
/// failure writes nothing, and the store recovers by itself.
pub async fn postgres_connections_killed_under_the_store_cost_one_failure_each_at_most() {
    let t = TestStore::new(Backend::Postgres).await;
    t.practice_with_staff(P, "owner-1").await;
    let owner = Principal::user("owner-1");
    for n in 0..4 {
        t.store
            .append(&owner, patient(P, &format!("before-{n}"), "Ann"))
            .await
            .unwrap();
    }
    let before = t.all_events(P).await.len();
    let mut admin = sqlx::PgConnection::connect(&t.url).await.unwrap();
    let ended: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(ended > 0, "the store's connections were ended");

    // The pool's connections and the one commits write through.
    let connections = chronicle::StoreOptions::default().max_connections as usize + 1;
    let (mut stored, mut failed) = (Vec::new(), 0);
    for n in 0..connections + 4 {
        match t
            .store
            .append(&owner, patient(P, &format!("after-{n}"), "Bo"))
            .await
        {
            Ok(event) => stored.push(event.aggregate_id),
            Err(error) => {
                failed += 1;
                assert!(
                    matches!(error, Error::Database(_)),
                    "a dead connection fails as a database error: {error}"
                );
            }
        }
    }
    assert!(
        failed <= connections,
        "at most one failure per connection: {failed}"
    );
    assert!(stored.len() >= 4, "the store recovers: {stored:?}");
    let events = t.all_events(P).await;
    let after: Vec<&str> = events[before..]
        .iter()
        .map(|e| e.aggregate_id.as_str())
        .collect();
    assert_eq!(
        after, stored,
        "exactly the appends that succeeded were stored"
    );
    let report = t.store.verify_chain(&owner, P).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
}
