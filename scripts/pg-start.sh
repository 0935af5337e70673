#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests on 127.0.0.1 and print its SQLAlchemy URL on stdout.
#
#   export XLCREDIT_TEST_PG_URL="$(bash scripts/pg-start.sh)"
#
# Installs Debian's postgresql package when no server binaries are found (needs root and apt-get),
# creates a cluster in $XLCREDIT_PG_DIR (default /tmp/xlcredit-pg) listening on 127.0.0.1 only, port
# $XLCREDIT_PG_PORT (default 55432), with a login role "xlcredit" (password "xlcredit", may create
# databases) owning the database "xlcredit_test". Idempotent: a server already running there is reused.
# Stop it with: bash scripts/pg-start.sh stop
# Everything but the URL goes to stderr.
set -euo pipefail

PGDIR="${XLCREDIT_PG_DIR:-/tmp/xlcredit-pg}"
PORT="${XLCREDIT_PG_PORT:-55432}"
DB=xlcredit_test
ROLE=xlcredit
PASSWORD=xlcredit
say() { echo "pg-start: $*" >&2; }

find_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

BIN="$(find_bindir)"
if [ -z "$BIN" ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "no PostgreSQL server found and cannot install it (need root and apt-get)"; exit 1
  fi
  say "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  BIN="$(find_bindir)"
  [ -n "$BIN" ] || { say "postgresql installed but initdb/pg_ctl not found"; exit 1; }
fi

# initdb and the server refuse to run as root: run them as the postgres user then.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGDIR" --shell /bin/sh postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

DATA="$PGDIR/data"
pgctl() { as_pg "$BIN/pg_ctl" -D "$DATA" "$@"; }

if [ "${1:-}" = "stop" ]; then
  if [ -d "$DATA" ]; then pgctl -m fast stop >&2 || true; fi
  exit 0
fi

mkdir -p "$PGDIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$PGDIR"
if [ ! -f "$DATA/PG_VERSION" ]; then
  say "creating a cluster in $DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
    --locale=C.UTF-8 >/dev/null 2>&1 || as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 >&2
fi

if ! pgctl status >/dev/null 2>&1; then
  say "starting PostgreSQL ($BIN) on 127.0.0.1:$PORT"
  pgctl -w -t 60 -l "$PGDIR/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDIR -c max_connections=200 -c fsync=off" start >&2 || {
      say "server did not start; its log:"; tail -n 30 "$PGDIR/server.log" >&2 || true; exit 1; }
fi

psql_pg() { as_pg "$BIN/psql" -h "$PGDIR" -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(psql_pg -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  psql_pg -d postgres -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
fi
if [ "$(psql_pg -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
  psql_pg -d postgres -c "CREATE DATABASE $DB OWNER $ROLE" >&2
fi
say "ready"
echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
