#!/usr/bin/env bash
# Builds and opens the Chronicle desktop app on the embedded SQLite store
# (~/.local/share/dev.chronicle.app/chronicle.db), loading demo data on first run.
# Installs the system packages (webkit2gtk, ...) and npm packages it needs when missing.
# Usage: scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh app
if ! command -v cargo >/dev/null 2>&1; then
  echo "run: cargo is required (https://rustup.rs)" >&2
  exit 2
fi
[[ -d node_modules && node_modules/.package-lock.json -nt package-lock.json ]] || npm ci --no-audit --no-fund
npm run --silent ui:build
CHRONICLE_DEMO_ON_FIRST_RUN=1 exec cargo run --quiet --release --locked -p chronicle-app
