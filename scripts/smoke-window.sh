#!/usr/bin/env bash
# Starts the app on an empty data folder on the current X display, waits for a window titled
# "Chronicle", screenshots the screen and stops the app. Fails if no window appears in 60 s,
# or if it stays blank (the page did not render).
# Usage (under xvfb-run): scripts/smoke-window.sh APP_BINARY OUTPUT.png
set -euo pipefail
app=$1
out=$2
data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
XDG_DATA_HOME="$data" XDG_CONFIG_HOME="$data" "$app" > "$data/app.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "smoke: the app exited early:" >&2
    cat "$data/app.log" >&2
    exit 1
  fi
  if xwininfo -root -tree | grep -q '"Chronicle"'; then
    # Give the web view a moment to paint the first screen.
    sleep 3
    import -window root "$out"
    # A page that failed to render is a blank rectangle of one or two colours; rendered text
    # (anti-aliased) brings hundreds.
    colours=$(identify -format '%k' "$out")
    if (( colours < 50 )); then
      echo "smoke: the window is blank ($colours colours in $out)" >&2
      cat "$data/app.log" >&2
      exit 1
    fi
    echo "smoke: window \"Chronicle\" is up and painted ($colours colours); screenshot in $out"
    xwininfo -root -tree | grep '"Chronicle"' | head -1
    exit 0
  fi
  sleep 0.5
done
echo "smoke: no window titled Chronicle within 60 s" >&2
cat "$data/app.log" >&2
exit 1
