//! Exports written by the app itself: the window picks a path (tauri-plugin-dialog's save
//! dialog) and the Rust side writes the file there through the engine's `ExportFile` (a
//! temporary name until complete, a CSV's manifest beside it), telling the window how far it
//! got ([`ExportProgress`]) and stopping when asked ([`RunningExports::cancel`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chronicle::export::{ExportFile, ExportManifest, ExportRequest};
use chronicle::{ErrorCode, Principal, Store};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri_specta::Event;

use crate::error::{CommandError, CommandResult};

/// How far an export being written by the app has got: sent once its manifest is known
/// (`written` 0) and after every page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct ExportProgress {
    /// The export's id (its manifest's `exportId`): what `export_cancel` takes.
    pub export_id: String,
    /// The practice exported.
    pub practice_id: String,
    /// The file being written, as the window named it (so a window tells its own export apart).
    pub path: String,
    /// Events written so far.
    pub written: i64,
    /// Events the export will hold.
    pub total: i64,
}

/// The cancel flags of the exports being written, by export id.
#[derive(Default)]
pub struct RunningExports(Mutex<HashMap<String, Arc<AtomicBool>>>);

impl RunningExports {
    /// Registers an export; the flag it answers turns true when someone cancels it.
    fn start(&self, export_id: &str) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.0
            .lock()
            .expect("running exports lock")
            .insert(export_id.to_string(), flag.clone());
        flag
    }

    fn finish(&self, export_id: &str) {
        self.0
            .lock()
            .expect("running exports lock")
            .remove(export_id);
    }

    /// Asks a running export to stop after its current page. An id that is not running (never
    /// was, or already finished) is `not_found`, so the window knows its cancel came too late.
    pub fn cancel(&self, export_id: &str) -> CommandResult<()> {
        match self.0.lock().expect("running exports lock").get(export_id) {
            Some(flag) => {
                flag.store(true, Ordering::SeqCst);
                Ok(())
            }
            None => Err(CommandError::from(chronicle::Error::NotFound {
                message: format!("no export {export_id:?} is being written (it may have finished)"),
                path: "/exportId".into(),
            })),
        }
    }
}

/// The destination, checked before anything is recorded in the practice: an absolute path to
/// a file in a folder that exists.
fn destination(path: &str) -> CommandResult<PathBuf> {
    let bad = |why: &str| CommandError::from(chronicle::Error::invalid("/path", why));
    let path = PathBuf::from(path);
    if path.as_os_str().is_empty() || !path.is_absolute() {
        return Err(bad(
            "must be an absolute file path (choose it in the save dialog)",
        ));
    }
    if path.is_dir() {
        return Err(bad("is a folder; name a file to write the export to"));
    }
    match path.parent() {
        Some(parent) if parent.is_dir() => Ok(path),
        _ => Err(bad("its folder does not exist")),
    }
}

/// Exports `practice_id` to `path` as `caller`: checks the path, opens the file (before the
/// export is prepared and so recorded in the practice), writes it through the engine's
/// [`ExportFile`], reporting progress, and lets it be cancelled. Cancelled or failed, nothing
/// is left at `path`.
pub async fn export_to_file(
    store: &Store,
    caller: &Principal,
    running: &RunningExports,
    report: &(dyn Fn(ExportProgress) + Send + Sync),
    practice_id: &str,
    request: ExportRequest,
    path: &str,
) -> CommandResult<ExportManifest> {
    let destination = destination(path)?;
    let file = ExportFile::create(&destination).await?;
    let prepared = match chronicle::api::export(store, caller, practice_id, request).await {
        Ok(prepared) => prepared,
        Err(error) => {
            file.discard();
            return Err(error.into());
        }
    };
    let manifest = prepared.manifest().clone();
    let cancelled = running.start(&manifest.export_id);
    let progress_of = |written: i64| ExportProgress {
        export_id: manifest.export_id.clone(),
        practice_id: manifest.practice_id.clone(),
        path: path.to_string(),
        written,
        total: manifest.event_count,
    };
    report(progress_of(0));
    let mut on_page = |written: i64, _total: i64| {
        report(progress_of(written));
        !cancelled.load(Ordering::SeqCst)
    };
    let written = prepared.write_to_file(file, &mut on_page).await;
    running.finish(&manifest.export_id);
    let summary = written?;
    if !summary.complete {
        return Err(CommandError::new(
            ErrorCode::Conflict,
            format!(
                "the export was cancelled after {} of {} events; nothing was kept at {}",
                summary.written,
                manifest.event_count,
                destination.display()
            ),
        ));
    }
    Ok(manifest)
}

/// Checks an export file offline, off the async threads (it reads the whole file). A file
/// that is not an export at all is `invalid` at `/path`, with the checker's reason.
pub async fn check_file(path: String) -> CommandResult<chronicle::export::ExportCheck> {
    let checked =
        tokio::task::spawn_blocking(move || chronicle::export::check_export(Path::new(&path)))
            .await
            .map_err(|e| {
                CommandError::new(ErrorCode::Internal, format!("the check stopped: {e}"))
            })?;
    checked.map_err(|unusable| CommandError::from(chronicle::Error::invalid("/path", unusable.0)))
}
