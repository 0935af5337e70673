"""Fuzz the policy loader (issue 17 item 8): a TOML policy file (:func:`xlcredit.io.policy_file.load_policy`) and the
workbook's two-column Policy sheet (:func:`xlcredit.io.workbook.read_policy_rows` → :meth:`Policy.from_rows`) with
random keys — real settings, sections, settings with a tail, unknown words, comments — and random values (every
cell of ``tests/_fuzz.py``, TOML numbers/dates/strings/arrays, nested arrays as score bins take them).

What must hold: a policy, or an :class:`XlcError` naming the key — the one given, or a setting it contradicts
(``grades.B: cut-offs must increase …`` after ``grades.A`` was lowered), or ``policy`` for text that is not TOML —
never another exception.

Found and fixed (regression examples below): score bins given as a TOML array with a short entry
(``bins = [[11], [], []]``, or ``[[85, 22, 35], [100]]`` on the sheet) raised ``IndexError`` — now
``score.items_over_90.bins: bins must read 'threshold:points, …'``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import openpyxl
import pytest
from _fuzz import cells, fuzz_settings
from hypothesis import example, given
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy
from xlcredit.io.policy_file import load_policy
from xlcredit.io.workbook import POLICY_SHEET, read_policy_rows

KEYS = sorted(Policy().to_mapping())
SECTIONS = sorted({k.rpartition(".")[0] for k in KEYS})

keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(KEYS), st.sampled_from(KEYS).map(lambda k: k + ".x"),
                 st.sampled_from(SECTIONS), st.text(max_size=8),
                 st.sampled_from(["", "#comment", "key", "Setting", "score.rating.bins", "dunning", "grades.A"]))
tomlable = st.one_of(
    st.booleans(), st.integers(-10**30, 10**30), st.floats(), st.dates(), st.text(max_size=8),
    st.sampled_from(["1e999999", "0.5", "-1", "Net 30", "EUR", "XYZ", "80:25, 70:20", "80:x", "a:b:c", "1e400:5"]),
    st.lists(st.one_of(st.integers(-5, 200), st.floats(-1, 2), st.text(max_size=3)), max_size=4),
    st.lists(st.lists(st.integers(-5, 100), max_size=3), max_size=3))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))   # a TOML basic string (\uXXXX escapes; a lone surrogate is bad TOML)


def _names_a_key(exc: XlcError, given: set[str]) -> bool:
    """The error names a key: one given, a setting of the policy (a contradicted one), a section, or ``policy``."""
    f = exc.field
    return f in given or f in KEYS or f == "policy" or any(k.startswith(f + ".") for k in KEYS)


def _sheet_policy(rows: list[tuple[Any, Any]]) -> Policy:
    """The rows typed on a workbook's Policy sheet, read back as the Refresh reads them."""
    with TemporaryDirectory(prefix="xlcredit-fuzz-") as tmp:
        path = Path(tmp) / "book.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = POLICY_SHEET
        sheet.append(["Setting", "Value"])
        for key, value in rows:
            sheet.append([_cell(key), _cell(value)])
        book.save(path)
        return Policy.from_rows(read_policy_rows(path))


def _cell(value: Any) -> Any:
    """What openpyxl can store: lists as their text, no control characters, NaN/inf/huge numbers and dates before
    1900 as text (as a paste would leave them)."""
    if isinstance(value, list):
        value = json.dumps(value)
    if isinstance(value, str):
        return "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
    if (isinstance(value, float) and not math.isfinite(value)) or (isinstance(value, int) and abs(value) > 2**53):
        return str(value)
    if isinstance(value, dt.date) and value.year < 1900:
        return value.isoformat()
    return value


@fuzz_settings(150)
@given(st.lists(st.tuples(keys, st.one_of(cells, tomlable)), max_size=4))
@example([("score.items_over_90.bins", [[85, 22, 35], [100]])]).via("a bin entry of one number: IndexError before")
def test_two_column_rows_give_a_policy_or_an_error_naming_the_key(pairs: list[tuple[Any, Any]]) -> None:
    try:
        Policy.from_rows(pairs)
    except XlcError as exc:
        assert _names_a_key(exc, {str(k).strip() for k, _ in pairs}), str(exc)


@fuzz_settings(25)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), st.one_of(cells, tomlable)),
                max_size=3))
def test_the_policy_sheet_of_a_workbook_gives_a_policy_or_an_error_naming_the_key(pairs: list[tuple[Any, Any]]
                                                                                 ) -> None:
    try:
        _sheet_policy(pairs)
    except XlcError as exc:
        assert _names_a_key(exc, {str(_cell(k)).strip() for k, _ in pairs}), str(exc)


@fuzz_settings(150)
@given(st.lists(st.tuples(st.sampled_from(KEYS), tomlable), max_size=4), st.one_of(st.none(), st.text(max_size=20)))
@example([("score.items_over_90.bins", [[11], [], []])], None).via("short bin arrays: IndexError before")
def test_a_toml_file_gives_a_policy_or_an_error_naming_the_key(pairs: list[tuple[str, Any]], junk: str | None
                                                                ) -> None:
    lines: list[str] = []
    for key, value in pairs:
        table, _, leaf = key.rpartition(".")
        lines += [f"[{table}]", f"{leaf} = {_toml_value(value)}"]
    if junk is not None:
        lines.append(junk)
    with TemporaryDirectory(prefix="xlcredit-fuzz-") as tmp:
        path = Path(tmp) / "policy.toml"
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        try:
            load_policy(path)
        except XlcError as exc:
            assert _names_a_key(exc, {k for k, _ in pairs}), str(exc)


def test_short_score_bins_are_refused_in_words() -> None:
    with pytest.raises(XlcError, match=r"^score.items_over_90.bins: bins must read 'threshold:points, …'"):
        Policy.from_toml("[score.items_over_90]\nbins = [[11], [], []]")
    with pytest.raises(XlcError, match=r"^score.rating.bins: bins must read"):
        Policy.from_rows([("score.rating.bins", [[85, 22, 35], [100]])])
    assert Policy.from_toml("[score.rating]\nbins = [[80, 25], [50, 8]]").score["rating"].bins[1] == (50, 8)
