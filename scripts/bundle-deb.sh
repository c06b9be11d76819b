#!/usr/bin/env bash
# Builds the Debian package with the Tauri CLI: target/release/bundle/deb/Chronicle_*.deb.
# The CLI wants the config inside the app crate's folder, while ours is at the repository
# root (beside package.json, where cargo's build reads it). So this writes a copy into
# src-tauri/ with its paths made relative to that folder, points the CLI there with
# TAURI_APP_PATH, and removes the copy afterwards.
# Usage: scripts/bundle-deb.sh
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh app
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run --silent ui:build
copy=src-tauri/tauri.conf.json
trap 'rm -f "$copy"' EXIT
node -e '
  const fs = require("fs");
  const config = JSON.parse(fs.readFileSync("tauri.conf.json", "utf8"));
  config.build.frontendDist = "../" + config.build.frontendDist;
  config.bundle.icon = config.bundle.icon.map((icon) => icon.replace(/^src-tauri\//, ""));
  fs.writeFileSync(process.argv[1], JSON.stringify(config, null, 2));
' "$copy"
TAURI_APP_PATH=src-tauri npx tauri build --bundles deb "$@"
ls -l target/release/bundle/deb/*.deb
