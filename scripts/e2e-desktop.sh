#!/usr/bin/env bash
# End-to-end test of the real desktop window under Xvfb (tauri-driver + WebKitWebDriver),
# then a smoke test that the release build starts and shows its window (screenshot under
# target/e2e/). Expects the release build (scripts/test.sh builds it) and the system packages
# scripts/system-deps.sh installs.
# Usage: scripts/e2e-desktop.sh
set -euo pipefail
cd "$(dirname "$0")/.."

app=target/release/chronicle-app
tools=target/tools
mkdir -p target/e2e
if [[ ! -x "$tools/bin/tauri-driver" ]]; then
  echo "== installing tauri-driver 2.1.0 into $tools"
  cargo install --locked --quiet tauri-driver --version 2.1.0 --root "$tools"
fi

echo "== desktop end-to-end (tauri-driver, Xvfb)"
CHRONICLE_APP="$app" TAURI_DRIVER="$tools/bin/tauri-driver" \
  xvfb-run --auto-servernum --server-args="-screen 0 1400x900x24" node ui/e2e/desktop.mjs

echo "== release smoke test: the window appears"
xvfb-run --auto-servernum --server-args="-screen 0 1400x900x24" scripts/smoke-window.sh "$app" target/e2e/smoke-window.png
