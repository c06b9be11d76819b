//! Opening a store from a URL: pick the backend, connect, refuse databases that are not
//! Chronicle's (or are newer than this build), then apply the embedded migrations.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::ConnectOptions;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Backend, Inner, Store, StoreOptions, dispatch};
use crate::error::{Error, Result};
use crate::registry::Registry;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// A pooled PostgreSQL connection idle this long is pinged before it is used again.
const POSTGRES_PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Tables Chronicle's migrations create; anything else in an unmigrated database means it
/// belongs to someone else.
const OWN_TABLES: [&str; 9] = [
    "_sqlx_migrations",
    "events",
    "practice_heads",
    "memberships",
    "projector_checkpoints",
    "rm_practice_directory",
    "rm_user_directory",
    "rm_aggregate_index",
    "rm_daily_activity",
];

impl Store {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://…` with default options.
    pub async fn open(url: &str) -> Result<Store> {
        Self::open_with(url, StoreOptions::default()).await
    }

    /// Opens a store with explicit options.
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store> {
        let registry = match &options.registry_dir {
            Some(dir) => Registry::with_extra_dir(dir)?,
            None => Registry::builtin()?,
        };
        let (scheme, rest) = url.split_once(':').ok_or_else(|| Error::InvalidUrl {
            url: redact(url),
            reason: "expected sqlite://PATH or postgres://USER@HOST/DB".into(),
        })?;
        let (backend, location) = match scheme {
            "sqlite" => open_sqlite(url, rest, &options).await?,
            "postgres" | "postgresql" => open_postgres(url, &options).await?,
            other => {
                return Err(Error::InvalidUrl {
                    url: redact(url),
                    reason: format!(
                        "unknown scheme {other:?}; use sqlite://PATH or postgres://USER@HOST/DB"
                    ),
                });
            }
        };
        let store = Store {
            inner: Arc::new(Inner {
                commit_groups: super::CommitGroups::default(),
                recent_writers: Default::default(),
                appended: tokio::sync::broadcast::channel(1024).0,
                checkpoints: tokio::sync::broadcast::channel(1024).0,
                backend,
                registry,
                options,
                location,
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// What SQLite's append connection says of `synchronous` (`FULL` or `NORMAL`): when an
    /// acknowledged append is safe. `None` on PostgreSQL, whose server decides.
    pub async fn sqlite_synchronous(&self) -> Result<Option<&'static str>> {
        Ok(self
            .sqlite_append_synchronous()
            .await?
            .map(|level| match level {
                0 => "OFF",
                1 => "NORMAL",
                2 => "FULL",
                _ => "EXTRA",
            }))
    }

    /// The newest schema migration applied to this database.
    pub async fn schema_version(&self) -> Result<i64> {
        let version: Option<i64> = dispatch!(self, |pool, _sql| {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await?
        });
        Ok(version.unwrap_or(0))
    }

    async fn migrate(&self) -> Result<()> {
        let incompatible = |reason: String| Error::IncompatibleStore {
            location: self.location().to_string(),
            reason,
        };
        let (tables, migrator): (Vec<String>, &Migrator) = match self.backend() {
            Backend::Sqlite { pool, .. } => (
                sqlx::query_scalar(super::sql::SQLITE.list_tables)
                    .fetch_all(pool)
                    .await
                    .map_err(|e| self.open_error(e))?,
                &SQLITE_MIGRATOR,
            ),
            Backend::Postgres { pool, .. } => (
                sqlx::query_scalar(super::sql::POSTGRES.list_tables)
                    .fetch_all(pool)
                    .await
                    .map_err(|e| self.open_error(e))?,
                &POSTGRES_MIGRATOR,
            ),
        };
        if !tables.iter().any(|t| t == "_sqlx_migrations")
            && let Some(foreign) = tables.iter().find(|t| !OWN_TABLES.contains(&t.as_str()))
        {
            return Err(incompatible(format!(
                "the database already holds other tables (such as {foreign:?}) and no Chronicle schema"
            )));
        }
        let newest_known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        if tables.iter().any(|t| t == "_sqlx_migrations") {
            let applied: Vec<i64> = dispatch!(self, |pool, _sql| {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await
                    .map_err(|e| self.open_error(e))?
            });
            if let Some(newer) = applied.iter().copied().filter(|v| *v > newest_known).max() {
                return Err(incompatible(format!(
                    "its schema version {newer} is newer than this build's {newest_known}; upgrade Chronicle"
                )));
            }
            let pending: Vec<i64> = migrator
                .iter()
                .map(|m| m.version)
                .filter(|v| !applied.contains(v))
                .collect();
            if pending.is_empty() {
                // Up to date: a runtime role that may not change the schema never tries to.
                return Ok(());
            }
            if !self.owns_schema().await? {
                let current = applied.iter().copied().max().unwrap_or(0);
                return Err(incompatible(format!(
                    "its schema is at version {current}, behind this build's {newest_known}, and this login does not own \
                     the tables; run `chronicle migrate --db URL --app-role ROLE` as the schema's owner"
                )));
            }
        }
        let result = match self.backend() {
            Backend::Sqlite { pool, .. } => migrator.run(pool).await,
            Backend::Postgres { pool, .. } => migrator.run(pool).await,
        };
        match result {
            Ok(()) => Ok(()),
            Err(MigrateError::VersionMissing(version)) if version > newest_known => {
                Err(incompatible(format!(
                    "its schema version {version} is newer than this build's {newest_known}; upgrade Chronicle"
                )))
            }
            Err(MigrateError::VersionMissing(version)) => Err(incompatible(format!(
                "it carries migration {version}, which is not one of Chronicle's"
            ))),
            Err(MigrateError::VersionMismatch(version)) => Err(incompatible(format!(
                "migration {version} differs from the one this build ships"
            ))),
            Err(MigrateError::Execute(e)) => Err(self.open_error(e)),
            Err(other) => Err(incompatible(other.to_string())),
        }
    }

    /// Whether this login may change the schema: always on SQLite (whoever opens the file
    /// owns it); on PostgreSQL, when it owns `events` or is a member of the role that does.
    async fn owns_schema(&self) -> Result<bool> {
        match self.backend() {
            Backend::Sqlite { .. } => Ok(true),
            Backend::Postgres { pool, .. } => {
                let owns: Option<bool> = sqlx::query_scalar(
                    "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c \
                     WHERE c.relname = 'events' AND c.relnamespace = current_schema()::regnamespace",
                )
                .fetch_optional(pool)
                .await
                .map_err(|e| self.open_error(e))?;
                Ok(owns.unwrap_or(true))
            }
        }
    }

    /// Grants `role` what running Chronicle needs and nothing more, so the database itself
    /// holds that role to append-only: on `events` only SELECT and INSERT; on the heads and
    /// memberships INSERT and UPDATE (DELETE for memberships), which their triggers check
    /// against the events; the read models and checkpoints in full. The role must exist,
    /// must not own the tables and must not be a superuser (either could undo all this).
    /// PostgreSQL only: on SQLite whoever can open the file owns everything in it.
    pub async fn grant_app_role(&self, role: &str) -> Result<()> {
        let Backend::Postgres { pool, .. } = self.backend() else {
            return Err(Error::invalid(
                "/appRole",
                "database roles are a PostgreSQL feature; a SQLite store has one user, the file's owner (see docs/security.md)",
            ));
        };
        let mut violations = Vec::new();
        crate::rules::check_name("/appRole", role, 63, &mut violations);
        if !violations.is_empty() {
            return Err(Error::Invalid { violations });
        }
        let found: Option<(bool, bool)> = sqlx::query_as(
            "SELECT r.rolsuper, pg_has_role(r.oid, c.relowner, 'USAGE') FROM pg_roles r \
             CROSS JOIN pg_class c WHERE r.rolname = $1 AND c.relname = 'events' \
             AND c.relnamespace = current_schema()::regnamespace",
        )
        .bind(role)
        .fetch_optional(pool)
        .await?;
        match found {
            None => {
                return Err(Error::invalid(
                    "/appRole",
                    format!(
                        "no role {role:?} exists; create it first (CREATE ROLE \"{role}\" LOGIN PASSWORD '…')"
                    ),
                ));
            }
            Some((true, _)) => {
                return Err(Error::invalid(
                    "/appRole",
                    format!(
                        "{role:?} is a superuser, which no trigger or grant can hold to append-only; use an ordinary role"
                    ),
                ));
            }
            Some((_, true)) => {
                return Err(Error::invalid(
                    "/appRole",
                    format!(
                        "{role:?} owns the tables (or is a member of their owner), so it could drop the triggers; use a role that does not"
                    ),
                ));
            }
            Some(_) => {}
        }
        let quoted = format!("\"{}\"", role.replace('"', "\"\""));
        let schema: String = sqlx::query_scalar("SELECT quote_ident(current_schema())")
            .fetch_one(pool)
            .await?;
        let mut tx = pool.begin().await?;
        for grant in [
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "REVOKE ALL ON events, practice_heads, memberships, projector_checkpoints, rm_practice_directory, \
             rm_user_directory, rm_aggregate_index, rm_daily_activity, _sqlx_migrations FROM {role}",
            "GRANT SELECT, INSERT ON events TO {role}",
            "GRANT SELECT, INSERT, UPDATE ON practice_heads TO {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON projector_checkpoints, rm_practice_directory, \
             rm_user_directory, rm_aggregate_index, rm_daily_activity TO {role}",
            "GRANT SELECT ON _sqlx_migrations TO {role}",
        ] {
            let statement = grant
                .replace("{schema}", &schema)
                .replace("{role}", &quoted);
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    fn open_error(&self, error: sqlx::Error) -> Error {
        classify_open_error(self.backend_name(), self.location(), error)
    }
}

async fn open_sqlite(url: &str, rest: &str, options: &StoreOptions) -> Result<(Backend, String)> {
    let path = rest.strip_prefix("//").unwrap_or(rest);
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(Error::InvalidUrl {
            url: redact(url),
            reason: "give a file path, e.g. sqlite:///var/lib/chronicle/events.db (in-memory stores are not supported)".into(),
        });
    }
    create_private_file(path);
    let connect = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match options.sqlite_durability {
            super::SqliteDurability::Full => SqliteSynchronous::Full,
            super::SqliteDurability::Normal => SqliteSynchronous::Normal,
        })
        .foreign_keys(true)
        .busy_timeout(
            options
                .connect_timeout
                .max(std::time::Duration::from_secs(5)),
        )
        // Reads come from the OS page cache through mmap instead of a pread per page.
        .pragma("mmap_size", "268435456");
    let writer = connect
        .clone()
        .pragma("cache_size", "-131072")
        .connect()
        .await
        .map_err(|e| classify_open_error("sqlite", path, e))?;
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.connect_timeout)
        // sqlx pings every idle connection it hands out, by default: on SQLite a round trip to
        // the connection's worker thread, checking nothing a file can lose.
        .test_before_acquire(false)
        .connect_with(connect)
        .await
        .map_err(|e| classify_open_error("sqlite", path, e))?;
    let appender = super::append::SqliteAppender::new(
        path,
        options
            .connect_timeout
            .max(std::time::Duration::from_secs(5)),
        options.sqlite_durability,
    );
    let readers = super::sqlite_reads::SqliteReaders::new(
        path,
        options
            .connect_timeout
            .max(std::time::Duration::from_secs(5)),
        options.max_connections as usize,
    );
    let backend = Backend::Sqlite {
        pool,
        readers: Arc::new(readers),
        writer: Arc::new(tokio::sync::Mutex::new(Some(writer))),
        appender: Arc::new(appender),
    };
    Ok((backend, path.to_string()))
}

/// Creates a new store file readable and writable by this user only (`0600`). SQLite gives
/// the `-wal` and `-shm` files it creates beside it the same permissions, so other local users
/// can read none of them. An existing file is left as it is.
/// Any failure here (the file exists, a missing folder) is left to SQLite's own open, which
/// reports it the usual way.
fn create_private_file(path: &str) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = options.open(path);
}

async fn open_postgres(url: &str, options: &StoreOptions) -> Result<(Backend, String)> {
    let connect = PgConnectOptions::from_str(url).map_err(|e| Error::InvalidUrl {
        url: redact(url),
        reason: e.to_string(),
    })?;
    let location = format!(
        "{}:{}/{}",
        connect.get_host(),
        connect.get_port(),
        connect.get_database().unwrap_or("(default database)")
    );
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.connect_timeout)
        // sqlx pings every idle connection it hands out, by default: a round trip to the
        // server before every statement, as costly as an append's own (BENCHMARKS.md, seventh
        // round). Only a connection idle for a while is pinged; one that died since its last
        // use fails that use once and is dropped from the pool.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= POSTGRES_PING_AFTER_IDLE {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
        // Generic plans from the first execution: a custom plan for a page read, made before
        // autovacuum has analysed a freshly written table, sorted the whole practice for each
        // of a connection's first pages (15 ms a page instead of 1.3 ms, BENCHMARKS.md fifth
        // round). The store's statements are keyed lookups and ranges whose best plan does
        // not depend on the values bound, and the planning each execution saves is work on
        // the database too. A `SET` rather than a startup option, which poolers such as
        // PgBouncer refuse.
        .after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::Executor::execute(connection, "SET plan_cache_mode = force_generic_plan")
                    .await
                    .map(drop)
            })
        })
        .connect_with(connect)
        .await
        .map_err(|e| classify_open_error("postgres", &location, e))?;
    Ok((
        Backend::Postgres {
            pool,
            known: Default::default(),
            writer: Default::default(),
        },
        location,
    ))
}

fn classify_open_error(backend: &'static str, location: &str, error: sqlx::Error) -> Error {
    let text = error.to_string();
    if text.contains("file is not a database") || text.contains("malformed") {
        return Error::IncompatibleStore {
            location: location.to_string(),
            reason: "the file is not a SQLite database".into(),
        };
    }
    Error::Unavailable {
        backend,
        location: location.to_string(),
        reason: text,
    }
}

/// The URL with any password replaced, safe for messages and logs.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &base[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme_end + 3], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                    format!("{key}=***")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert_eq!(
            redact("postgres://app@db/x?sslmode=require&password=s3cret&PassWord=two"),
            "postgres://app@db/x?sslmode=require&password=***&PassWord=***"
        );
        assert_eq!(
            redact("postgres://app:p%40ss@db/x?sslpassword=k"),
            "postgres://app:***@db/x?sslpassword=***"
        );
    }
}
