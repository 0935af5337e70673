"""The bundled sample book: 60 invented customers and two years of their ledger.

Generated deterministically by ``scripts/make_sample.py`` (run it again and the files come out
byte-identical). The ledger covers 2024-11-01 .. 2026-10-31 and is meant to be read as of
:data:`SAMPLE_AS_OF`; ``reviews.csv`` is the customers' review history of the last year (as imported from a
previous credit system). All company names, people, addresses and e-mail domains (``.example``) are
invented.
"""

from __future__ import annotations

import datetime
import pathlib

from xlcredit.core.errors import XlcError

SAMPLE_AS_OF = datetime.date(2026, 10, 31)
"""The as-of date of the sample ledger (the day its ageing and dunning are meant to be run)."""

SAMPLE_DIR = pathlib.Path(__file__).resolve().parent

SAMPLE_FILES: tuple[str, ...] = ("customers.csv", "invoices.csv", "payments.csv", "credit_notes.csv",
                                 "fx_rates.csv", "reviews.csv")


def sample_path(name: str) -> pathlib.Path:
    """Path of one bundled sample table, e.g. ``sample_path("customers")`` or ``"customers.csv"``."""
    file_name = name if name.endswith(".csv") else f"{name}.csv"
    if file_name not in SAMPLE_FILES:
        raise XlcError("sample", f"there is no sample table {name!r} (choose from "
                       f"{', '.join(f.removesuffix('.csv') for f in SAMPLE_FILES)})", name)
    return SAMPLE_DIR / file_name
