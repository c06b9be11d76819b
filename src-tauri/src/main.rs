//! The `chronicle-app` binary: the desktop window.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The same allocator as the `chronicle` binary (see the workspace's `mimalloc` entry): the
/// timeline reads pages of events on one thread and frees them on another.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    chronicle_app::run();
}
