//! One module per subcommand; shared argument groups and the failure type live here.

pub mod append;
pub mod audit;
pub mod events;
pub mod projectors;
pub mod seed;
pub mod serve;

use chronicle::api::UserId;
use chronicle::{Principal, Store, StoreOptions};
use chronicle_cli::exit;

/// Why a command failed, and its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    pub details: Vec<String>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: exit::USAGE,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Failure {
            code: exit::REFUSED,
            message: message.into(),
            details: Vec::new(),
        }
    }
}

impl From<chronicle::Error> for Failure {
    fn from(error: chronicle::Error) -> Self {
        Failure {
            code: exit::code_for(&error),
            message: error.to_string(),
            details: error
                .violations()
                .into_iter()
                .map(|v| format!("{}: {}", display_path(&v.path), v.message))
                .collect(),
        }
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

pub type Outcome = Result<(), Failure>;

/// Parses `--as USER` with the engine's id rules (the same as the HTTP header's).
pub fn user_id(text: &str) -> Result<UserId, String> {
    UserId::parse_at("--as", text).map_err(|error| {
        error
            .violations()
            .into_iter()
            .map(|v| v.message)
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// The principal of a command: the `--as` user, or the system principal without one.
pub fn principal(user: Option<UserId>) -> Principal {
    user.map_or(Principal::System, Principal::from)
}

/// Prints a line to standard output; a closed pipe (`chronicle events | head`) ends the
/// program quietly instead of panicking.
pub fn print_line(line: impl std::fmt::Display) {
    use std::io::Write;
    if let Err(error) = writeln!(std::io::stdout().lock(), "{line}") {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("chronicle: cannot write output: {error}");
        std::process::exit(i32::from(exit::USAGE));
    }
}

/// `chronicle migrate`: the store, and the runtime role to grant.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// PostgreSQL: after migrating (as the tables' owner), grant this existing role only what
    /// running Chronicle needs, so the database holds it to append-only. Run `serve`, the CLI
    /// and the app as that role.
    #[arg(long, value_name = "ROLE")]
    pub app_role: Option<String>,
}

/// Which store to open.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// Store URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB.
    /// Default: the desktop app's embedded store.
    #[arg(long, env = "CHRONICLE_DB", value_name = "URL")]
    pub db: Option<String>,
    /// Folder of extra event schemas (*.json) added to the built-in registry.
    #[arg(long, env = "CHRONICLE_REGISTRY_DIR", value_name = "DIR")]
    pub registry_dir: Option<std::path::PathBuf>,
    /// Largest event payload accepted, in bytes of canonical JSON.
    #[arg(long, default_value_t = chronicle::rules::DEFAULT_MAX_PAYLOAD_BYTES, value_name = "BYTES")]
    pub max_payload_bytes: usize,
    /// Most events one batch append may carry.
    #[arg(long, default_value_t = chronicle::rules::DEFAULT_MAX_BATCH_EVENTS, value_name = "N")]
    pub max_batch_events: usize,
    /// SQLite: `full` (default) syncs every commit, so an acknowledged append survives power
    /// loss; `normal` may lose the last ones on power loss, for throwaway stores only.
    #[arg(long, env = "CHRONICLE_SQLITE_DURABILITY", default_value = "full", value_parser = |s: &str| s.parse::<chronicle::SqliteDurability>(), value_name = "full|normal")]
    pub sqlite_durability: chronicle::SqliteDurability,
}

impl DbArgs {
    pub async fn open(&self) -> Result<Store, Failure> {
        let url = match &self.db {
            Some(url) => url.clone(),
            None => chronicle::paths::default_store_url().map_err(|e| {
                Failure::usage(format!(
                    "cannot create the data folder {}: {e}",
                    chronicle::paths::data_dir().display()
                ))
            })?,
        };
        let options = StoreOptions {
            registry_dir: self.registry_dir.clone(),
            max_payload_bytes: self.max_payload_bytes,
            max_batch_events: self.max_batch_events.max(1),
            sqlite_durability: self.sqlite_durability,
            ..StoreOptions::default()
        };
        Ok(Store::open_with(&url, options).await?)
    }
}

/// `chronicle migrate`.
pub async fn migrate(args: MigrateArgs) -> Outcome {
    let store = args.db.open().await?;
    let version = store.schema_version().await?;
    let durability = match store.sqlite_synchronous().await? {
        Some(level) => format!(", synchronous={level}"),
        None => String::new(),
    };
    print_line(format_args!(
        "{} store at {}: schema version {version}{durability}",
        store.backend_name(),
        store.location()
    ));
    if let Some(role) = &args.app_role {
        store.grant_app_role(role).await?;
        print_line(format_args!(
            "granted {role:?} what the app needs: SELECT and INSERT on events, no UPDATE, DELETE or TRUNCATE"
        ));
    }
    Ok(())
}
