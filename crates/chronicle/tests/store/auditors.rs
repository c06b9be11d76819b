//! What auditors are told in docs/engine.md holds for real stored data: an independent
//! implementation of the hash recipe (`tools/verify_chain.py`, Python's hashlib and the
//! rfc8785 package) recomputes the stored chain, and finds an edited or a missing event.

use std::path::PathBuf;
use std::process::Command;

use chronicle::Principal;
use chronicle::demo::DemoOptions;
use serde_json::Value;

use crate::support::{Backend, TestStore};

/// The Python that has rfc8785: scripts/test.sh makes a venv and names it.
fn python() -> String {
    std::env::var("CHRONICLE_PYTHON").expect(
        "CHRONICLE_PYTHON must name a Python with rfc8785 installed; scripts/test.sh creates one (target/tools/py)",
    )
}

fn verifier() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/verify_chain.py")
}

/// Runs the reference verifier on `events`: (exit code, what it printed).
fn reference_verify(events: &[Value]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.json");
    std::fs::write(&file, serde_json::to_vec(events).unwrap()).unwrap();
    let run = Command::new(python())
        .arg(verifier())
        .arg(&file)
        .output()
        .expect("the reference verifier runs");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    (run.status.code().unwrap_or(-1), out)
}

pub async fn the_reference_verifier_recomputes_the_stored_chain(backend: Backend) {
    let t = TestStore::new(backend).await;
    let options = DemoOptions {
        practices: 1,
        events_per_practice: 400,
        ..DemoOptions::default()
    };
    let practice = chronicle::demo::seed(&t.store, &options)
        .await
        .unwrap()
        .remove(0);
    let events: Vec<Value> = t
        .all_events(&practice)
        .await
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert!(events.len() >= 400);
    let head = t
        .store
        .verify_chain(&Principal::System, &practice)
        .await
        .unwrap()
        .head_hash;

    let (code, out) = reference_verify(&events);
    assert_eq!(
        code, 0,
        "the stored chain follows the documented recipe: {out}"
    );
    assert!(out.contains(&format!("chain intact, head {head}")), "{out}");

    let mut edited = events.clone();
    edited[41]["payload"]["edited"] = Value::Bool(true);
    let (code, out) = reference_verify(&edited);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("chain broken at seq 42"),
        "an edited payload: {out}"
    );

    let mut gap = events.clone();
    gap.remove(99);
    let (code, out) = reference_verify(&gap);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("chain broken at seq 101") && out.contains("missing"),
        "a deleted event: {out}"
    );
}
