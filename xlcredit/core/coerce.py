"""The one way a value enters xlcredit: dates, money, rates and days from cells, files, JSON and the command line.

Every adapter — a formula's cell (``udfs``), a table file (``xlcredit.io``), an API request
(``xlcredit.service``), a command-line option (``xlcredit.cli``) — turns what the user wrote into a
``datetime.date`` or ``Decimal`` with these functions, where the value enters. Everything below takes
``date`` and ``Decimal`` and parses nothing again (:func:`need_date` only checks the type). A bad value is
refused with :class:`XlcError` naming the field and the value, in one form for every entry::

    due_date: is empty
    due_date: is not a date (got 'soon'; write it as YYYY-MM-DD)
    due_date: is ambiguous: 1/10/2026 could be 1 October or 10 January (write it as YYYY-MM-DD)
    due_date: is not a valid date (got '2026-02-30')
    due_date: is not a date: Excel date numbers run from 1 to 2958465 (got 3000000)

**Dates** (:func:`to_date`) are read as Excel users write them:

* a date or date-time (``datetime``, pandas ``Timestamp``, numpy ``datetime64``): its date;
* ISO text ``YYYY-MM-DD`` (also ``/`` or ``.`` between the parts; a time after it is dropped:
  ``2026-10-31T12:00``);
* an Excel date number (1900 date system: 1 = 1900-01-01; a fraction is the time of day and is dropped;
  60, Excel's 29 February 1900, never existed), as a number or as digits;
* ``dd.mm.yyyy`` with dots: day first (the European convention);
* ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (``/`` or ``-``): taken when only one reading is a date (a part above
  12 is the day; equal parts read the same either way); when both readings are dates the value is
  ambiguous and refused, unless the caller says ``day_first`` (True: day first, False: month first).

Blank — ``None``, empty or blank text, NaN, pandas ``NA``/``NaT`` — is "is empty" (:func:`to_date`) or
None (:func:`to_date_or_none`).

**Money** is :func:`xlcredit.core.money.to_decimal` (exact ``Decimal``; never via a binary float's
noise); **rates** (:func:`to_rate`) are fractions (8 % is 0.08); **days** (:func:`to_days`) are whole
numbers.

**Bounds** (the same for a cell, a file, the API and the command line; a value outside them is refused
with the field's name, never computed with):

* numbers and amounts: finite, below 10^15 in size (:data:`xlcredit.core.money.MAX_AMOUNT`), at most
  40 significant digits — ``amount: is out of range: numbers must be below 10^15 in size (got 1e+300)``;
* rates: 0 to 100 % (0 to 1 as a fraction; lower where a rate says so, e.g. a daily penalty);
* days: whole numbers, at most 100,000 (:data:`MAX_DAYS`) either way;
* dates: 1 January 1900 to 31 December 2200 (:data:`FIRST_DATE`, :data:`LAST_DATE`) —
  ``as_of: is out of range: dates run from 1900-01-01 to 2200-12-31 (got '9999-12-31')``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import to_decimal

__all__ = ["EXCEL_DAY0", "FIRST_DATE", "LAST_DATE", "LAST_EXCEL_SERIAL", "MAX_DAYS", "clean_text", "is_blank",
           "need_date",
           "to_date", "to_date_or_none", "to_days",
           "to_decimal", "to_rate"]

#: Excel's 1900 date system: from serial 61 on, day n is 1899-12-30 + n; serials 1–59 are one day later
#: (serial 60 is the 29 February 1900 that never was, kept for Lotus 1-2-3 compatibility).
EXCEL_DAY0 = dt.date(1899, 12, 30)
LAST_EXCEL_SERIAL = 2_958_465   # 9999-12-31
#: The dates xlcredit accepts anywhere (a date outside them is a typing slip, not a business date).
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2200, 12, 31)
#: The most days (overdue, terms, grace, ...) xlcredit accepts, either way.
MAX_DAYS = 100_000
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_DMY = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_DIGITS = re.compile(r"^\d+(?:\.\d*)?$")
_WRITE_ISO = "write it as YYYY-MM-DD"


#: Characters text from data never keeps: those XML 1.0 forbids (C0 controls but tab, line feed and carriage
#: return; lone surrogates; U+FFFE/U+FFFF) — a .docx with one is corrupt — and the invisible bidi and format
#: controls that reorder or hide text in a letter or a PDF (U+061C, U+200B, U+200E/F, U+202A–E, U+2066–9, U+FEFF).
#: Zero-width (non-)joiners stay: Persian and Indic scripts need them.
_UNWANTED_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
                             "\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(text: str) -> str:
    """Text from a cell, a file or a request with XML-illegal characters and bidi/format controls removed
    (once, where it enters; see :data:`_UNWANTED_CHARS`)."""
    return _UNWANTED_CHARS.sub("", text) if _UNWANTED_CHARS.search(text) else text


def is_blank(value: Any) -> bool:
    """An empty cell in any of its disguises: None, blank text, NaN, pandas NA or NaT."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if value.__class__.__name__ in ("NAType", "NaTType"):   # pandas NA, NaT (a datetime subclass)
        return True
    if isinstance(value, (Decimal, int, dt.date)):
        return False
    try:
        return bool(value != value)   # numpy NaN / NaT
    except (TypeError, ValueError):
        return False


def to_date(value: Any, field: str, *, day_first: bool | None = None, year_only: bool = False) -> dt.date:
    """A date as a user wrote it (see the module notes); :class:`XlcError` naming ``field`` otherwise.

    ``day_first`` settles dd/mm against mm/dd when both readings are dates; ``year_only`` also takes a bare
    year (1900–2100) as its 1 January (for "customer since 2019"). Dates outside 1900–2200 are refused.
    """
    day = _to_date(value, field, day_first=day_first, year_only=year_only)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise XlcError(field, f"is out of range: dates run from {FIRST_DATE} to {LAST_DATE} (got {describe(value)})",
                       value)
    return day


def _to_date(value: Any, field: str, *, day_first: bool | None, year_only: bool) -> dt.date:
    if is_blank(value):
        raise XlcError(field, "is empty", value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):            # pandas Timestamp
        return value.to_pydatetime().date()
    if isinstance(value, bool):
        raise XlcError(field, f"is not a date (got {describe(value)})", value)
    module = type(value).__module__
    if module == "numpy":
        if hasattr(value, "dtype") and value.dtype.kind == "M":   # numpy datetime64
            return _from_datetime64(value, field)
        value = value.item()
    if isinstance(value, (int, float, Decimal)):
        return _excel_serial(value, field, value, year_only=year_only)
    if not isinstance(value, str):
        raise XlcError(field, f"is not a date (got {describe(value)})", value)
    text = value.strip()
    if _DIGITS.fullmatch(text):
        return _excel_serial(Decimal(text), field, value, year_only=year_only)
    if m := _YMD.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3]), field, value)
    if m := _DOTTED.match(text):
        return _make(int(m[3]), int(m[2]), int(m[1]), field, value)
    if m := _DMY.match(text):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        if a > 12 or a == b or (day_first is True and b <= 12):
            return _make(year, b, a, field, value)
        if b > 12 or day_first is False:
            return _make(year, a, b, field, value)
        raise XlcError(field, f"is ambiguous: {text} could be {a} {_month(b)} or {b} {_month(a)} ({_WRITE_ISO})",
                       value)
    raise XlcError(field, f"is not a date (got {describe(value)}; {_WRITE_ISO})", value)


def to_date_or_none(value: Any, field: str, *, day_first: bool | None = None, year_only: bool = False
                    ) -> dt.date | None:
    """:func:`to_date`, with None for a blank value (an optional date)."""
    if is_blank(value):
        return None
    return to_date(value, field, day_first=day_first, year_only=year_only)


def need_date(value: Any, field: str) -> dt.date:
    """The check below the entry points: a ``date`` (a ``datetime`` is taken as its date), else :class:`XlcError`.

    It parses nothing: text and numbers were turned into dates by :func:`to_date` where they entered.
    """
    if type(value) is dt.date:
        return value
    if is_blank(value):
        raise XlcError(field, "is empty", value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise XlcError(field, f"is not a date (got {describe(value)})", value)


def to_rate(value: Any, field: str, *, limit: Decimal = Decimal(1), example: str = "8 % is 0.08") -> Decimal:
    """A rate as an exact fraction between 0 and ``limit`` (at most 1, i.e. 100 %; a percent typed as 8 is refused,
    with ``example``)."""
    limit = min(limit, Decimal(1))
    rate = to_decimal(value, field, allow_negative=False)
    if rate is None:  # pragma: no cover - to_decimal refuses blanks unless allow_none
        raise XlcError(field, "is empty", value)
    if rate > limit:
        raise XlcError(field, f"is a fraction, not a percent: {example} (got {rate})", value)
    return rate


def to_days(value: Any, field: str, *, allow_negative: bool = False) -> int:
    """A whole number of days (``30``, ``30.0``, ``"30"``); fractions and text are refused."""
    number = to_decimal(value, field, allow_negative=allow_negative)
    if number is None:  # pragma: no cover - to_decimal refuses blanks unless allow_none
        raise XlcError(field, "is empty", value)
    if number != number.to_integral_value():
        raise XlcError(field, f"must be a whole number of days (got {describe(value)})", value)
    if abs(number) > MAX_DAYS:
        raise XlcError(field, f"is out of range: at most {MAX_DAYS:,} days (got {describe(value)})", value)
    return int(number)


# --------------------------------------------------------------------------- helpers
def _excel_serial(number: float | int | Decimal, field: str, shown: Any, *, year_only: bool) -> dt.date:
    if not (number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)):
        raise XlcError(field, f"is not a date (got {describe(shown)})", shown)
    if year_only and number == int(number) and 1900 <= number <= 2100:
        return dt.date(int(number), 1, 1)
    day = math.floor(number)  # a fraction is the time of day
    if not 1 <= day <= LAST_EXCEL_SERIAL:
        raise XlcError(field, f"is not a date: Excel date numbers run from 1 to {LAST_EXCEL_SERIAL} "
                       f"(got {describe(shown)})", shown)
    if day == 60:
        raise XlcError(field, "is not a date: Excel's 29 February 1900 never existed (date number 60)", shown)
    return EXCEL_DAY0 + dt.timedelta(days=day if day > 60 else day + 1)


def _from_datetime64(value: Any, field: str) -> dt.date:
    days = value.astype("datetime64[D]").astype("int64").item()
    try:
        return dt.date(1970, 1, 1) + dt.timedelta(days=int(days))
    except OverflowError:
        raise XlcError(field, f"is not a valid date (got {describe(value)})", value) from None


def _make(year: int, month: int, day: int, field: str, value: Any) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise XlcError(field, f"is not a valid date (got {describe(value)})", value) from None


def _month(n: int) -> str:
    return dt.date(2000, n, 1).strftime("%B")
