#!/usr/bin/env bash
# Install the system tools the test suite uses (Debian/Ubuntu packages), or say which are missing and how to
# install them. Used by scripts/test.sh (the README's test command) and so by .ci/run: one list, one place.
#
#   bash scripts/system-deps.sh          # as root with apt-get: installs what is missing; otherwise explains
#   bash scripts/system-deps.sh --check  # only say what is missing (exit 1 if anything is)
#
# LibreOffice (soffice: .docx → PDF, workbook recalculation), poppler (pdftoppm: renders letters in tests),
# the TrueType fonts the letters embed (reportlab embeds TrueType outlines only: Chinese and Latin; not
# poppler-data — the letters carry their fonts, and a test renders them without it), unshare (hides
# poppler-data from the Chinese render test), Node.js and npm (tests/test_pyodide_core.py: the core inside
# Pyodide, with the pinned npm package of lite/node). PostgreSQL is installed by scripts/pg-start.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc libreoffice-writer)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)

if [ ${#need[@]} -gt 0 ]; then
  if [ "${1:-}" != "--check" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: installing ${need[*]}" >&2
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "system-deps: missing ${need[*]}" >&2
    echo "system-deps: install them with: sudo apt-get install --no-install-recommends ${need[*]}" >&2
    echo "system-deps: (or run this script as root); without them the tests that need them fail and say why" >&2
    [ "${1:-}" = "--check" ] && exit 1
    exit 0
  fi
fi
[ "${1:-}" = "--check" ] && exit 0
# The pinned pyodide npm package (lite/node/package-lock.json) for tests/test_pyodide_core.py.
# Always in CI (the lock file may have changed); elsewhere only when missing (no network needed again).
if command -v npm >/dev/null 2>&1 && { [ "${CI:-}" = true ] || [ ! -d lite/node/node_modules/pyodide ]; }; then
  # --loglevel=error, not --silent: --silent also hides npm's error, and the run then just stops with exit 1.
  (cd lite/node && npm ci --no-audit --no-fund --loglevel=error) || {
    echo "system-deps: 'npm ci' in lite/node failed (npm's error is above); tests/test_pyodide_core.py needs" \
      "its pinned pyodide package from registry.npmjs.org" >&2
    exit 1
  }
fi
