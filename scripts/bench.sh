#!/usr/bin/env bash
# Runs the engine benchmarks on SQLite and a throwaway PostgreSQL; prints a Markdown table.
# Usage: scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-postgres.sh cargo bench -p chronicle --bench store -- "$@"
