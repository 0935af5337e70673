#!/usr/bin/env bash
# The README's test command (and what CI runs through .ci/run): install the system tools the tests use
# (scripts/system-deps.sh: as root with apt-get, else it says what is missing), start a throwaway PostgreSQL
# for the tests marked `postgres` when one can be started (scripts/pg-start.sh; with CI=true a failure to
# start it is an error, otherwise those tests skip), set up .venv, then ruff and the whole test suite (or the
# pytest arguments given).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
if [ -z "${XLCREDIT_TEST_PG_URL:-}" ]; then
  if [ "${CI:-}" = true ]; then
    XLCREDIT_TEST_PG_URL="$(bash scripts/pg-start.sh)"
  else
    XLCREDIT_TEST_PG_URL="$(bash scripts/pg-start.sh 2>/dev/null || true)"
    [ -n "$XLCREDIT_TEST_PG_URL" ] || echo "test.sh: no PostgreSQL could be started; the postgres tests skip" >&2
  fi
  if [ -n "$XLCREDIT_TEST_PG_URL" ]; then
    export XLCREDIT_TEST_PG_URL
    trap 'bash scripts/pg-start.sh stop >/dev/null 2>&1 || true' EXIT
  fi
fi
bash scripts/setup.sh
.venv/bin/ruff check .
if [ "$#" -gt 0 ]; then  # a selection of one's own (scripts/test.sh -k ageing): as given, in this process
  .venv/bin/python -m pytest -q "$@"
  exit
fi
# The whole suite: spread over the CPUs (pytest-xdist, at most 4 workers, a file's tests on one worker), then the
# tests marked `serial` alone (they time a service, a kill or a race, and must not share the CPUs).
workers="$(.venv/bin/python -c 'import os
cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
print(max(1, min(4, cpus)))')"
rc=0
.venv/bin/python -m pytest -q -n "$workers" --dist loadfile -m "not serial" || rc=$?
[ "$rc" -eq 2 ] && exit 2  # interrupted (Ctrl-C) or a usage error: no second phase
.venv/bin/python -m pytest -q -p no:xdist -m serial || rc=$?
exit "$rc"
