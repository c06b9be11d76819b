#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Chronicle needs when any is missing.
# Usage: scripts/system-deps.sh app     build and run the desktop app (webkit2gtk and friends)
#        scripts/system-deps.sh test    also what the tests need (Xvfb, WebKitWebDriver, ...)
set -euo pipefail

app_packages=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libssl-dev
  libayatana-appindicator3-dev libxdo-dev pkg-config build-essential file curl)
# poppler-utils: pdftotext reads the first page of the HTML report printed to PDF (web e2e).
# python3-venv: the venvs of the reference chain verifier and of Schemathesis (contract test).
test_packages=(xvfb xauth webkit2gtk-driver x11-utils imagemagick chromium poppler-utils python3-venv)

wanted=("${app_packages[@]}")
[[ "${1:-app}" == "test" ]] && wanted+=("${test_packages[@]}")
command -v node >/dev/null 2>&1 || wanted+=(nodejs npm)

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "system-deps: installing ${missing[*]}" >&2
  SUDO=""; [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "system-deps: Node.js $(node --version) is too old; the UI build (Vite 8) needs Node.js 20.19 or newer" >&2
  exit 2
fi
