//! Reads the app configuration from the repository root (`../tauri.conf.json`, beside the
//! UI's `package.json`) and generates one permission per command, so the window's capability
//! (`capabilities/main.json`) grants exactly the commands it uses.

/// Keep in step with `specta_builder` in `src/lib.rs`; a command missing here is denied.
const COMMANDS: &[&str] = &[
    "store_info",
    "seed_demo",
    "settings_get",
    "settings_set",
    "practice_opened",
    "practices",
    "practice",
    "practice_directory",
    "practice_members",
    "timeline",
    "event",
    "aggregates",
    "recent_aggregates",
    "aggregate_events",
    "events_by_type",
    "daily_activity",
    "verify",
    "append",
    "append_batch",
    "append_dry_run",
    "append_batch_dry_run",
    "generate_events",
    "generate_cancel",
    "registry_list",
    "registry_schema",
    "projector_status",
    "projector_reset",
    "projector_retry",
    "projector_skip",
    "export_practice",
    "export_cancel",
    "check_export_file",
    "chain_head",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build failed: {error:#}");
    }
}
