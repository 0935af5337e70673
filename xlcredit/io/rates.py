"""Load the shipped reference-rate tables (Bank of England Bank Rate, ECB MRO rate) for statutory interest.

Files (``xlcredit/data/rates/``, see its README.md): ``boe_bank_rate.csv`` and ``ecb_mro.csv``, columns
``effective_date,rate[,note]`` with the rate in **percent** as the central banks publish it; lines
starting with ``#`` are comments, and a ``# complete_through: YYYY-MM-DD`` comment records the day the
table is known to be complete to. The loader checks every row (ISO dates, strictly increasing; numeric
rates between -10 and 30 percent) and returns a :class:`~xlcredit.core.interest.ReferenceRates` with the
rates as fractions.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from pathlib import Path

from xlcredit.core.errors import XlcError, describe
from xlcredit.core.interest import RateRow, ReferenceRates

BOE_FILE = "boe_bank_rate.csv"
ECB_FILE = "ecb_mro.csv"
RATE_RANGE = (Decimal(-10), Decimal(30))   # plausibility bounds in percent: catches 525 typed for 5.25


def default_rates_folder() -> Path:
    """The shipped tables: ``xlcredit/data/rates``."""
    return Path(str(files("xlcredit") / "data" / "rates"))


def parse_rate_table(text: str, name: str) -> tuple[tuple[RateRow, ...], dt.date | None]:
    """Rows ``(effective_date, rate as fraction)`` and the ``complete_through`` date of one CSV text.

    Problems raise :class:`XlcError` naming the file, the line and the column.
    """
    complete: dt.date | None = None
    data_lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key, _, value = stripped.lstrip("#").partition(":")
            if key.strip().lower() == "complete_through":
                try:
                    complete = dt.date.fromisoformat(value.strip())
                except ValueError:
                    raise XlcError(f"{name} line {number} complete_through",
                                   f"is not a date (got {describe(value.strip())})", value) from None
            continue
        data_lines.append((number, line))
    if not data_lines:
        raise XlcError(name, "has no header row (effective_date,rate)", None)
    reader = csv.reader(io.StringIO("\n".join(line for _, line in data_lines)))
    rows = list(reader)
    header = [h.strip().lower() for h in rows[0]]
    if "effective_date" not in header or "rate" not in header:
        raise XlcError(name, f"header must name effective_date and rate (got {describe(','.join(rows[0]))})",
                       rows[0])
    i_date, i_rate = header.index("effective_date"), header.index("rate")
    out: list[RateRow] = []
    for (number, _), row in zip(data_lines[1:], rows[1:], strict=True):
        raw_date = row[i_date].strip() if len(row) > i_date else ""
        raw_rate = row[i_rate].strip() if len(row) > i_rate else ""
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            problem = "is empty" if not raw_date else f"is not a YYYY-MM-DD date (got {describe(raw_date)})"
            raise XlcError(f"{name} line {number} effective_date", problem, raw_date) from None
        try:
            percent = Decimal(raw_rate)
        except InvalidOperation:
            problem = "is empty" if not raw_rate else f"is not a number (got {describe(raw_rate)})"
            raise XlcError(f"{name} line {number} rate", problem, raw_rate) from None
        if not percent.is_finite() or not RATE_RANGE[0] <= percent <= RATE_RANGE[1]:
            raise XlcError(f"{name} line {number} rate", f"must be a percent between {RATE_RANGE[0]} and "
                           f"{RATE_RANGE[1]} (got {raw_rate})", raw_rate)
        if out and day <= out[-1][0]:
            raise XlcError(f"{name} line {number} effective_date",
                           f"dates must increase (got {day} after {out[-1][0]})", raw_date)
        out.append((day, percent / 100))
    if not out:
        raise XlcError(name, "has no rate rows", None)
    return tuple(out), complete


def load_reference_rates(folder: str | Path | None = None) -> ReferenceRates:
    """Read ``boe_bank_rate.csv`` and ``ecb_mro.csv`` from ``folder`` (default: the shipped tables)."""
    base = default_rates_folder() if folder is None else Path(folder)
    tables = []
    for name in (BOE_FILE, ECB_FILE):
        path = base / name
        if not path.is_file():
            raise XlcError("rates", f"file not found: {path}", str(path))
        tables.append(parse_rate_table(path.read_text(encoding="utf-8"), name))
    (boe, boe_done), (ecb, ecb_done) = tables
    return ReferenceRates(boe=boe, ecb=ecb, boe_checked=boe_done, ecb_checked=ecb_done)


@functools.lru_cache(maxsize=1)
def shipped_reference_rates() -> ReferenceRates:
    """The shipped tables, read once per process (for UDFs and batch jobs)."""
    return load_reference_rates()
