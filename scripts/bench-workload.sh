#!/usr/bin/env bash
# The side-by-side workload of issue #15 (W1–W5) on SQLite and a throwaway PostgreSQL, engine and
# HTTP, with raw baselines in the same run; prints a Markdown table for BENCHMARKS.md.
# Usage: scripts/bench-workload.sh [--scale N] [--runs R]   (N divides every count, for a quick look;
# each figure is the median of R runs on fresh stores, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-postgres.sh cargo bench -p chronicle-cli --bench workload -- "$@"
