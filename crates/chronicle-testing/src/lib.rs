//! Test support shared by the engine's (`crates/chronicle/tests/store`), the CLI's
//! (`crates/chronicle-cli/tests/cli`) and the desktop app's (`src-tauri/tests`) tests.
//!
//! This crate owns what those suites have in common and nothing that needs the engine:
//! - [`Backend`]: the two store backends a test runs on;
//! - [`pg_admin_url`]: the PostgreSQL server tests use, from `CHRONICLE_TEST_PG_URL`
//!   (scripts/test.sh and scripts/with-postgres.sh start one and set it);
//! - [`fresh_url`]: a store URL nobody else uses, a new SQLite file or a throwaway
//!   PostgreSQL database;
//! - [`password_role_database`]: a database of the server's role that logs in with a
//!   password (scram-sha-256), for tests that show a password is really used;
//! - [`on_both_backends!`]: one case module run as a test on each backend.
//!
//! Fixtures that open a store or a server (`TestStore`, `TestServer`) and event helpers
//! stay in each suite's own `support` module.

use sqlx::Connection;
use tempfile::TempDir;

/// The store backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A throwaway database on the server named by `CHRONICLE_TEST_PG_URL`.
    Postgres,
}

/// The URL of the test PostgreSQL server, from `CHRONICLE_TEST_PG_URL`.
///
/// # Panics
/// When `CHRONICLE_TEST_PG_URL` is not set, saying how to get a server.
#[track_caller]
pub fn pg_admin_url() -> String {
    std::env::var("CHRONICLE_TEST_PG_URL").expect(
        "CHRONICLE_TEST_PG_URL must point at a PostgreSQL server; scripts/test.sh starts one and sets it \
         (or run the command through scripts/with-postgres.sh)",
    )
}

/// A new database owned by the test server's password role, as a URL without the password,
/// and the password (`CHRONICLE_TEST_PG_PASSWORD_URL` and `CHRONICLE_TEST_PG_PASSWORD`, which
/// scripts/with-postgres.sh sets).
///
/// # Panics
/// When those are not set, or the database cannot be created.
pub async fn password_role_database() -> (String, String) {
    let url = std::env::var("CHRONICLE_TEST_PG_PASSWORD_URL").expect(
        "CHRONICLE_TEST_PG_PASSWORD_URL must name the test server's password role; scripts/with-postgres.sh sets it",
    );
    let password = std::env::var("CHRONICLE_TEST_PG_PASSWORD").expect("CHRONICLE_TEST_PG_PASSWORD");
    let name = format!("pw_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&pg_admin_url())
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} OWNER chronicle_pw"
    )))
    .execute(&mut admin)
    .await
    .expect("create the password role's database");
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
    (format!("{base}/{name}"), password)
}

/// A store URL nobody else uses; the folder lives as long as the returned guard.
///
/// SQLite: `events.db` in a new temporary folder (the file is not created). PostgreSQL: a
/// new empty database `t_<uuidv7>` on the server of [`pg_admin_url`]; it is not dropped.
///
/// # Panics
/// When the temporary folder or the database cannot be created.
pub async fn fresh_url(backend: Backend) -> (String, Option<TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("events.db").display());
            (url, Some(dir))
        }
        Backend::Postgres => {
            let admin = pg_admin_url();
            let name = format!("t_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to the test PostgreSQL server");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            (format!("{base}/{name}"), None)
        }
    }
}

/// Runs each case of a module once per backend, as `WRAPPER::sqlite::NAME` and
/// `WRAPPER::postgres::NAME`.
///
/// `on_both_backends!(store, cases: a, b)` expands to a module `store` whose `sqlite` and
/// `postgres` modules hold a `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]`
/// per name that awaits `crate::cases::NAME(Backend::Sqlite)` (or `Backend::Postgres`).
/// Each case is an `async fn(chronicle_testing::Backend)` in `crate::MODULE`; the calling
/// test crate depends on `tokio` (with its `macros` and `rt-multi-thread` features).
#[macro_export]
#[allow(
    clippy::crate_in_macro_def,
    reason = "the cases live in the calling test crate, so `crate::` means the caller on purpose"
)]
macro_rules! on_both_backends {
    ($wrapper:ident, $module:ident: $($name:ident),* $(,)?) => {
        mod $wrapper {
            mod sqlite {
                $(
                    #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $name() {
                        crate::$module::$name($crate::Backend::Sqlite).await;
                    }
                )*
            }
            mod postgres {
                $(
                    #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $name() {
                        crate::$module::$name($crate::Backend::Postgres).await;
                    }
                )*
            }
        }
    };
}
