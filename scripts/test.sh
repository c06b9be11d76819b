#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, and the whole workspace test suite on
# SQLite and on a throwaway PostgreSQL server (installed from Debian's packages if missing).
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "test: cargo is required (https://rustup.rs)" >&2
  exit 2
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (SQLite and PostgreSQL)"
scripts/with-postgres.sh cargo test --workspace --locked
