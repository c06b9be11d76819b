#!/usr/bin/env bash
# The HTTP API's contract test: Schemathesis (pinned, from PyPI, in a venv under target/tools)
# runs every check against `chronicle serve` on a seeded SQLite store, as an owner, a viewer and
# with generated identities; any failure fails. See tools/contract/run.py.
# Usage: scripts/contract-test.sh [CHRONICLE_BINARY]   (default: target/release/chronicle)
# CHRONICLE_CONTRACT_EXAMPLES sets the examples per operation and phase (default 25) and CHRONICLE_CONTRACT_SECONDS the time budget of each run (default 150).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-target/release/chronicle}
venv=target/tools/st
if [ ! -x "$venv/bin/st" ] || [ "$("$venv/bin/st" --version 2>/dev/null)" != "st, version 4.32.5" ]; then
  echo "== installing Schemathesis 4.32.5 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
work=$(mktemp -d /tmp/chronicle-contract.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" tools/contract/run.py "$binary" "$work"
