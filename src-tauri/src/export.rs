//! Exports written by the app itself: the window picks a path (tauri-plugin-dialog's save
//! dialog) and the Rust side writes the file there, page by page, telling the window how far
//! it got ([`ExportProgress`]) and stopping when asked ([`RunningExports::cancel`]). The file
//! is written beside its destination under a temporary name and renamed only once complete,
//! so a cancelled or failed export leaves nothing behind (and never half-overwrites a file the
//! user chose to replace). A CSV's manifest goes beside it in `FILE.manifest.json`, as the CLI
//! writes it, so `chronicle verify FILE` and the Verify screen can check it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chronicle::export::{ExportFormat, ExportManifest, ExportRequest, PreparedExport};
use chronicle::{ErrorCode, Principal, Store};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri_specta::Event;
use tokio::io::AsyncWriteExt;

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

/// `DIR/.NAME.partial`: where the file is written until it is complete.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

fn write_failed(path: &Path, error: std::io::Error) -> CommandError {
    CommandError::from(chronicle::Error::invalid(
        "/path",
        format!("cannot write {}: {error}", path.display()),
    ))
}

/// Removes a file that must not outlive a failed export; it may not exist.
fn remove_quietly(path: &Path) {
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(%error, path = %path.display(), "could not remove a partial export");
    }
}

/// Exports `practice_id` to `path` as `caller`: checks the path, prepares the export (which
/// records it in the practice), writes the file under a temporary name, reporting progress,
/// and renames it into place. Cancelled or failed, nothing is left at `path`.
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
    let partial = partial_path(&destination);
    let file = tokio::fs::File::create(&partial)
        .await
        .map_err(|e| write_failed(&destination, e))?;
    let prepared = match chronicle::api::export(store, caller, practice_id, request).await {
        Ok(prepared) => prepared,
        Err(error) => {
            drop(file);
            remove_quietly(&partial);
            return Err(error.into());
        }
    };
    let export_id = prepared.manifest().export_id.clone();
    let cancelled = running.start(&export_id);
    let written = write(
        &prepared,
        file,
        &partial,
        &destination,
        &cancelled,
        report,
        path,
    )
    .await;
    running.finish(&export_id);
    if written.is_err() {
        remove_quietly(&partial);
    }
    written
}

async fn write(
    prepared: &PreparedExport,
    file: tokio::fs::File,
    partial: &Path,
    destination: &Path,
    cancelled: &AtomicBool,
    report: &(dyn Fn(ExportProgress) + Send + Sync),
    path: &str,
) -> CommandResult<ExportManifest> {
    let manifest = prepared.manifest().clone();
    let progress_of = |written: i64| ExportProgress {
        export_id: manifest.export_id.clone(),
        practice_id: manifest.practice_id.clone(),
        path: path.to_string(),
        written,
        total: manifest.event_count,
    };
    report(progress_of(0));
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut on_page = |written: i64, _total: i64| {
        report(progress_of(written));
        !cancelled.load(Ordering::SeqCst)
    };
    let summary = prepared.write_to(&mut out, &mut on_page).await?;
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
    out.flush()
        .await
        .map_err(|e| write_failed(destination, e))?;
    out.into_inner()
        .sync_all()
        .await
        .map_err(|e| write_failed(destination, e))?;
    let sidecar = (prepared.format() == ExportFormat::Csv)
        .then(|| chronicle::export::sidecar_path(destination));
    if let Some(sidecar) = &sidecar {
        let text = serde_json::to_string(&manifest).expect("a manifest serializes");
        tokio::fs::write(sidecar, format!("{text}\n"))
            .await
            .map_err(|e| write_failed(sidecar, e))?;
    }
    if let Err(error) = tokio::fs::rename(partial, destination).await {
        // A manifest without its CSV would only mislead.
        if let Some(sidecar) = &sidecar {
            remove_quietly(sidecar);
        }
        return Err(write_failed(destination, error));
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
