#!/usr/bin/env bash
# Runs the engine and HTTP benchmarks on SQLite and a throwaway PostgreSQL; prints Markdown tables.
# Usage: scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-postgres.sh bash -c 'cargo bench -p chronicle --bench store -- "$@" && cargo bench -p chronicle-cli --bench http -- "$@"' bench "$@"
