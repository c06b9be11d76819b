#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on loopback, then stops it.
# Installs PostgreSQL from Debian's packages when missing. The server runs as an
# unprivileged user (postgres refuses root) with its data in a temporary folder.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]   (CHRONICLE_TEST_PG_URL is set for it)
# Optional: CHRONICLE_PG_SERVER_OPTIONS="-c log_min_duration_statement=20" adds server settings;
# CHRONICLE_PG_SHOW_LOG=1 prints the server log afterwards (for investigating slow statements).
set -euo pipefail

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

if ! PG_BIN=$(pg_bin); then
  echo "with-postgres: installing PostgreSQL from Debian's packages" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  PG_BIN=$(pg_bin)
fi

# Below the kernel's ephemeral range (32768-60999 on Debian): a port in that range can be held
# at any moment by some client's outgoing connection, and then the server cannot bind it.
PORT=${CHRONICLE_PG_PORT:-25432}
free_port() {
  while (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
}
WORK=$(mktemp -d /tmp/chronicle-pg.XXXXXX)
chmod 755 "$WORK"

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$WORK" postgres
    chown -R postgres "$WORK"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$WORK/data" -U chronicle --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log" >&2; exit 1; }
# One role logs in with a password (scram-sha-256), so tests show a password is really used and
# a wrong one refused; every other role is trusted on loopback.
sed -i '1i host all chronicle_pw 127.0.0.1/32 scram-sha-256' "$WORK/data/pg_hba.conf"
# A port that looked free can still be taken before the server binds it: try the next ones.
started=""
for attempt in 1 2 3 4 5; do
  free_port
  if as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -t 60 \
    -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=256MB ${CHRONICLE_PG_SERVER_OPTIONS:-}" start >/dev/null; then
    started=1
    break
  fi
  echo "with-postgres: could not start on port $PORT (attempt $attempt), trying the next port" >&2
  PORT=$((PORT + 1))
done
[ -n "$started" ] || { cat "$WORK/server.log" >&2; exit 1; }

export CHRONICLE_TEST_PG_URL="postgres://chronicle@127.0.0.1:$PORT/postgres"
PW_SECRET="pw-$(date +%s%N)"
as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U chronicle -d postgres -qc \
  "SET password_encryption = 'scram-sha-256'; CREATE ROLE chronicle_pw LOGIN CREATEDB PASSWORD '$PW_SECRET'" >/dev/null
as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U chronicle -d postgres -qc "CREATE DATABASE chronicle_pw OWNER chronicle_pw" >/dev/null
# Without the password in it: tests pass the password separately, as users should.
export CHRONICLE_TEST_PG_PASSWORD_URL="postgres://chronicle_pw@127.0.0.1:$PORT/chronicle_pw"
export CHRONICLE_TEST_PG_PASSWORD="$PW_SECRET"
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
status=0; "$@" || status=$?
[ -n "${CHRONICLE_PG_SHOW_LOG:-}" ] && cat "$WORK/server.log" >&2
exit $status
