#!/usr/bin/env bash
# Set up .venv and run the main job on the bundled sample data (60 customers as of 2026-10-31):
# score every customer, then recommend credit limits, payment terms and deposits.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/xlcredit limits
