//! The TypeScript bindings in `ui/src/bindings.ts` are generated from the commands and
//! events; this regenerates them and fails when the committed file is stale.
//! To update it: `CHRONICLE_UPDATE_BINDINGS=1 cargo test -p chronicle-app --test bindings`.

use std::path::Path;

#[test]
fn committed_bindings_match_the_commands() {
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(chronicle_app::BINDINGS_PATH);
    let scratch = tempfile::tempdir().unwrap();
    let fresh_path = scratch.path().join("bindings.ts");
    chronicle_app::export_bindings(&fresh_path).expect("bindings export");
    let fresh = std::fs::read_to_string(&fresh_path).unwrap();
    assert!(
        fresh.contains("practiceDirectory") && fresh.contains("eventsAppended"),
        "the export names the commands and events"
    );
    if std::env::var_os("CHRONICLE_UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed_path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale; regenerate it with CHRONICLE_UPDATE_BINDINGS=1 cargo test -p chronicle-app --test bindings",
        committed_path.display()
    );
}

/// Every command in the bindings is allowed to the window, one permission each, and nothing
/// else is: a command missing from `build.rs` or the capability would be refused at run time.
#[test]
fn the_window_capability_grants_exactly_the_bound_commands() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bindings = std::fs::read_to_string(root.join(chronicle_app::BINDINGS_PATH)).unwrap();
    let mut bound: Vec<String> = bindings
        .split("__TAURI_INVOKE(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    bound.sort();
    assert!(bound.len() >= 19, "found the commands: {bound:?}");

    let capability: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("capabilities/main.json")).unwrap(),
    )
    .unwrap();
    let mut granted: Vec<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.contains(':'))
        .map(|p| p.trim_start_matches("allow-").replace('-', "_"))
        .collect();
    granted.sort();
    assert_eq!(
        granted, bound,
        "capabilities/main.json grants exactly the bound commands"
    );

    let build = std::fs::read_to_string(root.join("build.rs")).unwrap();
    for command in &bound {
        assert!(
            build.contains(&format!("\"{command}\"")),
            "build.rs COMMANDS lists {command}"
        );
    }
    let core: Vec<&str> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| p.starts_with("core:"))
        .collect();
    assert_eq!(
        core,
        ["core:event:allow-listen", "core:event:allow-unlisten"]
    );
    // The export's save dialog and the Verify screen's open dialog; nothing else of the
    // plugin (no message boxes), and no file system access: Rust reads and writes the files.
    let plugins: Vec<&str> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| p.contains(':') && !p.starts_with("core:"))
        .collect();
    assert_eq!(plugins, ["dialog:allow-save", "dialog:allow-open"]);
}
