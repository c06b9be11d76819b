#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, the UI's typecheck/lint/unit tests, the
# whole workspace test suite on SQLite and on a throwaway PostgreSQL server, the bindings
# drift test, the web console end-to-end in Debian's chromium, and the desktop end-to-end
# test of the real window under Xvfb.
# Installs what it needs (Debian packages, npm packages, tauri-driver) when missing.
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "test: cargo is required (https://rustup.rs)" >&2
  exit 2
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== system packages"
scripts/system-deps.sh test
echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== UI: typecheck, lint, unit tests, build"
npm run --silent typecheck
npm run --silent lint
npm run --silent test:ui
npm run --silent ui:build

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== the auditors' reference verifier (Python, rfc8785): the chain's known answers"
if [ ! -x target/tools/py/bin/python ] || ! target/tools/py/bin/python -c 'import rfc8785' 2>/dev/null; then
  python3 -m venv target/tools/py
  target/tools/py/bin/pip install --quiet --disable-pip-version-check rfc8785==0.1.4
fi
export CHRONICLE_PYTHON="$PWD/target/tools/py/bin/python"
"$CHRONICLE_PYTHON" tools/verify_chain.py tools/chain-known-answers.json

# One PostgreSQL server for every suite that needs one.
scripts/with-postgres.sh scripts/test-suites.sh
