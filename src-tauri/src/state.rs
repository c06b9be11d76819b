//! The app's one state, built at start-up: the open store (with its registry), the
//! projector runner working on it, the live-update forwarders, and the settings. Changing the
//! store location opens the new store first and swaps only when that worked, so a location
//! that cannot be opened leaves the old one open and says why.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chronicle::api::{self, GenerateRequest, GeneratedEvents, UserId, recent};
use chronicle::projection::{Runner, RunnerOptions, builtin};
use chronicle::{ErrorCode, Principal, Store, StoreOptions};
use serde::Serialize;
use specta::Type;
use tokio::sync::{RwLock, watch};
use tokio::task::JoinHandle;

use crate::error::{CommandError, CommandResult};
use crate::export::{RunningExports, export_to_file};
use crate::live::{self, GenerateProgressEvent, LiveSink, StoreChanged};
use crate::settings::{Settings, SettingsFile, split_password, with_password};

/// An open store and the tasks working on it; dropping it stops them.
struct Session {
    store: Store,
    runner_stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Session {
    async fn open(
        url: &str,
        options: &StoreOptions,
        sink: &Arc<dyn LiveSink>,
    ) -> CommandResult<Self> {
        let store = Store::open_with(url, options.clone()).await?;
        let (runner_stop, stop) = watch::channel(false);
        let runner = Runner::new(store.clone(), builtin(), RunnerOptions::default());
        let mut tasks = live::forward(&store, sink.clone());
        tasks.push(tokio::spawn(async move { runner.run(stop).await }));
        Ok(Self {
            store,
            runner_stop,
            tasks,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.runner_stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// What the window shows about the open store.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct StoreInfo {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// File path, or host and database; never credentials.
    pub location: String,
    /// True when the store has no events yet (the window then offers demo data).
    pub is_empty: bool,
    /// Why the saved location could not be opened at start-up, if it could not (the app
    /// then opened the embedded store instead).
    pub startup_error: Option<CommandError>,
    /// Users worth offering in the identity picker: every member of any practice, by id.
    pub suggested_identities: Vec<String>,
}

/// What the demo seeder wrote.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SeedReport {
    /// The practices created.
    pub practice_ids: Vec<String>,
    /// Events written in all.
    pub events: i64,
}

/// The app's state, shared by every command.
pub struct AppState {
    session: RwLock<Session>,
    settings: Mutex<Settings>,
    settings_file: Box<dyn SettingsFile>,
    /// The PostgreSQL password of this session; never saved.
    session_password: Mutex<Option<String>>,
    sink: Arc<dyn LiveSink>,
    options: StoreOptions,
    /// The embedded store, opened when no location is set (or the set one fails at start).
    embedded_url: String,
    startup_error: Mutex<Option<CommandError>>,
    /// The exports the app is writing, to cancel them.
    exports: RunningExports,
    /// The cancel flag of the generation running now, if one is.
    generation: Mutex<Option<Arc<AtomicBool>>>,
}

/// Desktop-sized store options: a smaller pool than a server needs.
pub fn desktop_store_options() -> StoreOptions {
    StoreOptions {
        max_connections: 4,
        ..StoreOptions::default()
    }
}

impl AppState {
    /// Opens the saved store location (or `embedded_url` when there is none, or when it
    /// cannot be opened) and starts its runner and live updates.
    pub async fn start(
        settings_file: Box<dyn SettingsFile>,
        sink: Arc<dyn LiveSink>,
        options: StoreOptions,
        embedded_url: String,
    ) -> CommandResult<Self> {
        let settings = settings_file.load();
        let (session, startup_error) = match &settings.store_location {
            Some(saved) => match Session::open(saved, &options, &sink).await {
                Ok(session) => (session, None),
                Err(error) => {
                    tracing::warn!(%error, "saved store location failed; opening the embedded store");
                    (
                        Session::open(&embedded_url, &options, &sink).await?,
                        Some(error),
                    )
                }
            },
            None => (Session::open(&embedded_url, &options, &sink).await?, None),
        };
        Ok(Self {
            session: RwLock::new(session),
            settings: Mutex::new(settings),
            settings_file,
            session_password: Mutex::new(None),
            sink,
            options,
            embedded_url,
            startup_error: Mutex::new(startup_error),
            exports: RunningExports::default(),
            generation: Mutex::new(None),
        })
    }

    /// Generates events into a practice as the identity, reporting each batch to the
    /// window; [`AppState::cancel_generation`] stops it before its next batch.
    pub async fn generate_events(
        &self,
        practice_id: &str,
        request: GenerateRequest,
    ) -> CommandResult<GeneratedEvents> {
        let (store, caller) = (self.store().await, self.principal()?);
        let cancel = Arc::new(AtomicBool::new(false));
        *self.generation.lock().expect("generation lock") = Some(cancel.clone());
        let sink = self.sink.clone();
        let generated = api::generate_events(
            &store,
            &caller,
            practice_id,
            request,
            &mut |progress| sink.generate_progress(GenerateProgressEvent(progress)),
            &cancel,
        )
        .await;
        self.generation.lock().expect("generation lock").take();
        Ok(generated?)
    }

    /// Asks the running generation to stop; false when none runs.
    pub fn cancel_generation(&self) -> bool {
        match self.generation.lock().expect("generation lock").as_ref() {
            Some(cancel) => {
                cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// The open store (a cheap handle).
    pub async fn store(&self) -> Store {
        self.session.read().await.store.clone()
    }

    /// The principal the app acts as: the chosen identity, checked by the layer's id rules.
    pub fn principal(&self) -> CommandResult<Principal> {
        match &self.settings().identity {
            Some(identity) => Ok(UserId::parse_at("/identity", identity)?.into()),
            None => Err(CommandError::new(
                ErrorCode::IdentityRequired,
                "choose a user to view as first (Settings → identity)",
            )),
        }
    }

    /// Puts `practice_id` first among the recently opened practices and saves that.
    pub async fn practice_opened(&self, practice_id: &str) -> CommandResult<Settings> {
        let mut settings = self.settings();
        settings.recent_practices = recent::opened(&settings.recent_practices, practice_id);
        self.update_settings(settings, None).await
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings.lock().expect("settings lock").clone()
    }

    /// What the window shows about the open store.
    pub async fn store_info(&self) -> CommandResult<StoreInfo> {
        let store = self.store().await;
        let is_empty = store.practices(&Principal::System).await?.is_empty();
        let suggested_identities = store
            .known_users(&Principal::System, chronicle::MAX_KNOWN_USERS)
            .await?;
        Ok(StoreInfo {
            backend: store.backend_name().to_string(),
            location: store.location().to_string(),
            is_empty,
            startup_error: self
                .startup_error
                .lock()
                .expect("startup error lock")
                .clone(),
            suggested_identities,
        })
    }

    /// Fills an empty store with the engine's deterministic demo data; refuses a store
    /// that already has practices.
    pub async fn seed_demo(&self) -> CommandResult<SeedReport> {
        let store = self.store().await;
        if !store.practices(&Principal::System).await?.is_empty() {
            return Err(CommandError::new(
                ErrorCode::StoreNotEmpty,
                "demo data is only offered for an empty store; this one already has practices",
            ));
        }
        let options = chronicle::demo::DemoOptions::default();
        let practice_ids = chronicle::demo::seed(&store, &options).await?;
        Ok(SeedReport {
            practice_ids,
            events: chronicle::demo::total_events(&options) as i64,
        })
    }

    /// Validates and saves new settings. A new store location (or a new password) is opened
    /// first; if that fails nothing changes and the error says why.
    pub async fn update_settings(
        &self,
        requested: Settings,
        store_password: Option<String>,
    ) -> CommandResult<Settings> {
        let mut requested = requested.validated()?;
        let current = self.settings();
        let location = match &requested.store_location {
            Some(location) => Some(split_password(location)?),
            None => None,
        };
        let password = location
            .as_ref()
            .and_then(|l| l.password.clone())
            .or(store_password.filter(|p| !p.is_empty()));
        requested.store_location = location.as_ref().map(|l| l.saved.clone());
        let store_moved = requested.store_location != current.store_location || password.is_some();
        if store_moved {
            let url = match &requested.store_location {
                Some(saved) => with_password(saved, password.as_deref()),
                None => self.embedded_url.clone(),
            };
            let session = Session::open(&url, &self.options, &self.sink).await?;
            let (backend, location) = (
                session.store.backend_name().to_string(),
                session.store.location().to_string(),
            );
            // The old session's runner and forwarders stop when it drops here.
            *self.session.write().await = session;
            *self.session_password.lock().expect("password lock") = password;
            *self.startup_error.lock().expect("startup error lock") = None;
            self.sink.store_changed(StoreChanged { backend, location });
        }
        self.settings_file.save(&requested).map_err(|e| {
            CommandError::new(
                ErrorCode::SettingsUnsaved,
                format!("could not save settings: {e}"),
            )
        })?;
        *self.settings.lock().expect("settings lock") = requested.clone();
        Ok(requested)
    }
}

impl AppState {
    /// Exports a practice (or a slice) to `path` as the identity, reporting progress to the
    /// window; [`AppState::cancel_export`] stops it.
    pub async fn export_to_file(
        &self,
        practice_id: &str,
        request: chronicle::export::ExportRequest,
        path: &str,
    ) -> CommandResult<chronicle::export::ExportManifest> {
        let (store, caller) = (self.store().await, self.principal()?);
        let sink = self.sink.clone();
        let report = move |progress| sink.export_progress(progress);
        export_to_file(
            &store,
            &caller,
            &self.exports,
            &report,
            practice_id,
            request,
            path,
        )
        .await
    }

    /// Stops a running export after its current page; its file is removed.
    pub fn cancel_export(&self, export_id: &str) -> CommandResult<()> {
        self.exports.cancel(export_id)
    }
}

/// The embedded store in the app's data folder (the same file the CLI opens by default).
pub fn embedded_url() -> CommandResult<String> {
    chronicle::paths::default_store_url().map_err(|e| {
        CommandError::new(
            ErrorCode::Unavailable,
            format!(
                "cannot create the data folder {}: {e}",
                chronicle::paths::data_dir().display()
            ),
        )
    })
}
