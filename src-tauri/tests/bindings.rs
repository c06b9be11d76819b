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
        fresh.contains("listPractices") && fresh.contains("eventsAppended"),
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
