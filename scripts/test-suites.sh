#!/usr/bin/env bash
# The test suites that run against the one PostgreSQL server scripts/test.sh starts: the
# workspace tests on both backends, the release builds, the HTTP API's contract test, the web
# console end-to-end in chromium and the desktop end-to-end under Xvfb.
# Usage: scripts/with-postgres.sh scripts/test-suites.sh   (scripts/test.sh does this)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CHRONICLE_TEST_PG_URL:?run this through scripts/with-postgres.sh}"

echo "== cargo test (SQLite and PostgreSQL; includes the bindings drift test)"
cargo test --workspace --locked

echo "== release builds: the chronicle binary and the desktop app"
cargo build --release --locked -p chronicle-cli -p chronicle-app
echo "== the HTTP API's contract (Schemathesis, every check, three identities)"
scripts/contract-test.sh target/release/chronicle
echo "== web console end-to-end (chromium)"
CHRONICLE_SHOTS=target/e2e npm run --silent e2e:web
# The desktop e2e opens a PostgreSQL store with a password, three ways: it needs the server.
scripts/e2e-desktop.sh
