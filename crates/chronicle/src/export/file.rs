//! An export written to a file: under `DIR/.NAME.partial` until it is complete, then renamed
//! into place, so a cancelled or failed export leaves nothing at the destination (and never
//! half-overwrites a file someone chose to replace). A CSV's manifest goes beside it in
//! `FILE.manifest.json`, where `check_export` looks for it. The CLI and the desktop app both
//! write exports through this.

use std::path::{Path, PathBuf};

use super::{ExportFormat, ExportSummary, PreparedExport, Progress, sidecar_path};
use crate::error::{Error, Result};

/// The file an export is about to be written to. Create it before the export is prepared (and
/// so recorded in the practice): a destination that cannot be written records nothing.
pub struct ExportFile {
    destination: PathBuf,
    partial: PathBuf,
    file: tokio::fs::File,
}

impl ExportFile {
    /// Opens `DIR/.NAME.partial` beside `destination`.
    pub async fn create(destination: &Path) -> Result<Self> {
        let name = destination
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let partial = destination.with_file_name(format!(".{name}.partial"));
        let file = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| write_failed(destination, e))?;
        Ok(Self {
            destination: destination.to_path_buf(),
            partial,
            file,
        })
    }

    /// Gives the file up: nothing is left behind.
    pub fn discard(self) {
        drop(self.file);
        remove_quietly(&self.partial);
    }
}

impl PreparedExport {
    /// Writes the export into `file` and renames it into place once complete (a CSV's
    /// manifest beside it). Stopped by `progress` or failed, the partial file is removed and
    /// nothing is at the destination; a stopped export answers `complete: false`.
    pub async fn write_to_file(
        &self,
        file: ExportFile,
        progress: Progress<'_>,
    ) -> Result<ExportSummary> {
        let ExportFile {
            destination,
            partial,
            file,
        } = file;
        let written = self
            .write_and_place(file, &partial, &destination, progress)
            .await;
        if !written.as_ref().is_ok_and(|summary| summary.complete) {
            remove_quietly(&partial);
        }
        written
    }

    async fn write_and_place(
        &self,
        file: tokio::fs::File,
        partial: &Path,
        destination: &Path,
        progress: Progress<'_>,
    ) -> Result<ExportSummary> {
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let summary = self.write_to(&mut out, progress).await?;
        if !summary.complete {
            return Ok(summary);
        }
        out.into_inner()
            .sync_all()
            .await
            .map_err(|e| write_failed(destination, e))?;
        let sidecar = (self.format() == ExportFormat::Csv).then(|| sidecar_path(destination));
        if let Some(sidecar) = &sidecar {
            let text = serde_json::to_string(&summary.manifest).map_err(Error::undecodable)?;
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
        Ok(summary)
    }
}

fn write_failed(path: &Path, error: std::io::Error) -> Error {
    Error::invalid("/path", format!("cannot write {}: {error}", path.display()))
}

/// Removes a file that must not outlive a failed export; it may not exist.
fn remove_quietly(path: &Path) {
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(%error, path = %path.display(), "could not remove a partial export");
    }
}
