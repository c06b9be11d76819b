//! Where Chronicle keeps its embedded store by default. The desktop app, `chronicle serve`
//! and the other CLI commands agree on this location, so they open the same file.

use std::path::PathBuf;

/// The application identifier; also the name of the data folder (as Tauri names it).
pub const APP_IDENTIFIER: &str = "dev.chronicle.app";

/// File name of the embedded store inside the data folder.
pub const STORE_FILE: &str = "chronicle.db";

/// The per-user data folder: `$XDG_DATA_HOME/dev.chronicle.app`, falling back to
/// `~/.local/share/dev.chronicle.app` (the folder Tauri's `app_data_dir` gives on Linux).
pub fn data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".local/share")
        });
    base.join(APP_IDENTIFIER)
}

/// `sqlite://` URL of the default embedded store, creating its folder readable by this user
/// only (`0700`: the store holds patients' data, and other local users must not read it).
pub fn default_store_url() -> std::io::Result<String> {
    let dir = data_dir();
    create_private_dir(&dir)?;
    Ok(format!("sqlite://{}", dir.join(STORE_FILE).display()))
}

/// Creates `dir` (and its parents) and makes it `0700`, also when it already existed.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}
