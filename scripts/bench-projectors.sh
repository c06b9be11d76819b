#!/usr/bin/env bash
# Projector catch-up throughput from zero, per built-in projector and all together, on SQLite
# and PostgreSQL, with peak memory (max RSS of the runner process, /usr/bin/time).
# Usage: scripts/bench-projectors.sh [EVENTS]   (default 1000000, seeded with `chronicle seed`)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release -q -p chronicle-cli
export CHRONICLE_BIN=$PWD/target/release/chronicle EVENTS
exec scripts/with-postgres.sh bash -c '
set -euo pipefail
work=$(mktemp -d)
trap "rm -rf $work" EXIT
admin=$CHRONICLE_TEST_PG_URL
base=${admin%/*}
psql -q "$admin" -c "CREATE DATABASE bench_seeded"
"$CHRONICLE_BIN" seed --db "sqlite://$work/seeded.db" --practices 10 --events "$EVENTS" >/dev/null
"$CHRONICLE_BIN" seed --db "$base/bench_seeded" --practices 10 --events "$EVENTS" >/dev/null
echo "| backend | projectors | events | seconds | events/s | peak RSS MiB |"
echo "|---|---|---:|---:|---:|---:|"
n=0
for backend in sqlite postgres; do
  for which in practice_directory user_directory aggregate_index daily_activity all; do
    n=$((n + 1))
    if [ "$backend" = sqlite ]; then
      cp "$work/seeded.db" "$work/run$n.db"; url="sqlite://$work/run$n.db"
    else
      psql -q "$admin" -c "CREATE DATABASE run$n TEMPLATE bench_seeded"; url="$base/run$n"
    fi
    args=(); [ "$which" = all ] || args=(--projector "$which")
    /usr/bin/time -f "%e %M" -o "$work/time" "$CHRONICLE_BIN" projectors run --db "$url" --until-caught-up "${args[@]}" >/dev/null
    read -r seconds kb < "$work/time"
    count=$EVENTS; [ "$which" = all ] && count=$((EVENTS * 4))
    awk -v b="$backend" -v w="$which" -v e="$count" -v s="$seconds" -v k="$kb" \
      "BEGIN { printf \"| %s | %s | %d | %.1f | %.0f | %.0f |\n\", b, w, e, s, e / s, k / 1024 }"
  done
done
'
