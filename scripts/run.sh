#!/usr/bin/env bash
# Starts Chronicle on the embedded SQLite store (demo data on first run).
# Until the desktop app lands, this prints a practice's recent history and checks its hash chain.
# Usage: scripts/run.sh [sqlite://PATH | postgres://USER@HOST/DB]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release -p chronicle --example demo -- "$@"
