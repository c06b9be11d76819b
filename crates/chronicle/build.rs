//! Embeds `registry/*.json` (the built-in event schemas) and reruns when they or the
//! migrations change, so a schema edit never needs a `cargo clean`.
use std::{env, fs, path::PathBuf};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let registry = root.join("registry");
    println!("cargo:rerun-if-changed={}", registry.display());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("migrations").display()
    );

    let mut files: Vec<PathBuf> = fs::read_dir(&registry)
        .expect("registry/ folder at the workspace root")
        .map(|entry| entry.expect("readable registry entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();

    let mut generated = String::from("&[\n");
    for path in files {
        let canonical = path.canonicalize().expect("registry file path");
        let name = path.file_name().unwrap().to_string_lossy();
        generated.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            canonical.display().to_string()
        ));
    }
    generated.push_str("]\n");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("builtin_registry.rs");
    fs::write(out, generated).expect("write generated registry list");
}
