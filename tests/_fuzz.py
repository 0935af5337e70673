"""Shared hypothesis strategies of the fuzz suite (tests/test_fuzz_*.py): the cell values careless and hostile
workbooks and files hold — text with control characters and bidi marks, formulas, huge/NaN/inf numbers, dates from
year 1 to 9999, Excel serials and error values, blanks.

``XLCREDIT_FUZZ_EXAMPLES`` raises the number of examples per test for a long hunt (the suite's default keeps the
whole fuzz suite well under a minute on two cores).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Excel's error values, as xlwings passes them with ``err_to_str=True`` (and the service's stand-ins).
EXCEL_ERRORS = ("#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")

#: Cells that broke something once, or that a hostile user types on purpose.
NASTY = ("=cmd|' /C calc'!A0", "+SUM(A1)", "@A1", "-2+3", "\u202e1000", "\u200f2026-09-01", "\u202aC1\u202c", "\x00",
         "\x07bell", "\r=1+1", "\t=1", "1e999999", "-1e999999", "1E+400", "NaN", "nan", "inf", "-inf", "Infinity",
         "9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01", "03/04/2021", "31/12/2026", "12/31/2026", "1.234,56",
         "1,234.56", "(100)", "100-", "EUR 12", "€12", "12 USD", "Total", "Subtotal", "合计", "人民币", "yes", "maybe",
         "Net 30", "2/10 net 30", "Net 99999999999", "1" * 40, "0x1F", "1_000", "١٢٣", "\ufeffC1", " ", "\u00a0",
         "2958465", "2958466", "60", "-0", "0.000000001", "#XLC! x: y")


def examples(default: int) -> int:
    """The examples per test: ``default``, or ``XLCREDIT_FUZZ_EXAMPLES`` when set (a long hunt)."""
    return int(os.environ.get("XLCREDIT_FUZZ_EXAMPLES", default))


def fuzz_settings(default: int) -> Any:
    """Hypothesis settings of a fuzz test: bounded, no deadline (files are written), no example database."""
    return settings(max_examples=examples(default), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


numbers = st.one_of(
    st.integers(min_value=-10**25, max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, -0.0, 0.0, 1e-300, 2958465.0, 2958466.0, 60.0, 45000.5, -1.0, 0.5, 1e15, 1e16]),
)
texts = st.one_of(st.text(max_size=10), st.sampled_from(NASTY),
                  st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Nd", "Lo"]), max_size=6))
#: One cell's value, as a spreadsheet or a CSV may hold it.
cells = st.one_of(st.none(), st.booleans(), numbers, st.dates(), st.datetimes(), texts,
                  st.sampled_from(EXCEL_ERRORS))
