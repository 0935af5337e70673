#!/usr/bin/env bash
# Set up .venv and run the main job on the bundled sample data (60 customers, two years of
# invoices and payments, as of 2026-10-31): a copy of the bundled workbook is refreshed exactly as
# its Refresh Ageing button would — scores, limits, terms, ageing, dunning stages and KPIs — with
# the credit database (SQLite) beside it. Output: out/CreditControl.xlsm and out/CreditControl.credit.db.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
cp workbook/CreditControl.xlsm out/CreditControl.xlsm
rm -f out/CreditControl.credit.db out/CreditControl.credit.db-wal out/CreditControl.credit.db-shm
.venv/bin/xlcredit refresh out/CreditControl.xlsm --as-of 2026-10-31 --out out/credit-position.xlsx
echo "Open out/CreditControl.xlsm in Excel (with xlwings) or look at out/credit-position.xlsx."
