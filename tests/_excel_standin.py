"""A stand-in for an xlwings Book loaded from a real workbook file: every sheet's cell values in a grid, and the
Excel Tables with their ranges (no Excel here).

It implements what :class:`xlcredit.excel.XlwingsBook` uses — ``sheets``, ``sheet.range("A4")`` /
``range((row, col), (row, col))``, ``expand``, ``resize``, ``options(pd.DataFrame | ndim=2)``, ``clear_contents``,
``used_range``, ``tables`` with ``range``, ``header_row_range``, ``data_body_range`` and ``resize``, and
``app.alert`` / ``app.calculate`` — with xlwings' value shapes (a scalar for one cell, a list for one row or one
column, a list of rows otherwise). Built from a copy of the bundled CreditControl.xlsm, a button then runs on the
real layout: the input cells, the header rows and the tables where the build put them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def _rowcol(ref: str) -> tuple[int, int]:
    m = _REF.match(ref.strip().upper())
    assert m, ref
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _point(a: Any) -> tuple[int, int]:
    return a if isinstance(a, tuple) else _rowcol(a)


class Range:
    def __init__(self, sheet: Sheet, a: Any, b: Any = None, *, convert: Any = None, ndim: int | None = None):
        if isinstance(a, str) and ":" in a:
            a, b = a.split(":")
        self.sheet = sheet
        self.r1, self.c1 = _point(a)
        self.r2, self.c2 = _point(b) if b is not None else (self.r1, self.c1)
        self.convert, self.ndim = convert, ndim

    # --- shape
    @property
    def row(self) -> int:
        return self.r1

    @property
    def column(self) -> int:
        return self.c1

    @property
    def last_cell(self) -> Range:
        return Range(self.sheet, (self.r2, self.c2))

    def options(self, convert: Any = None, **kwargs: Any) -> Range:
        return Range(self.sheet, (self.r1, self.c1), (self.r2, self.c2), convert=convert,
                     ndim=kwargs.get("ndim", self.ndim))

    def expand(self, mode: str = "table") -> Range:
        grid = self.sheet.grid
        r2, c2 = self.r1, self.c1
        if mode in ("table", "down", "d"):
            while grid.get((r2 + 1, self.c1)) is not None:
                r2 += 1
        if mode in ("table", "right", "r"):
            while grid.get((self.r1, c2 + 1)) is not None:
                c2 += 1
        return Range(self.sheet, (self.r1, self.c1), (r2, c2), convert=self.convert, ndim=self.ndim)

    def resize(self, row_size: int | None = None, column_size: int | None = None) -> Range:
        rows = row_size or (self.r2 - self.r1 + 1)
        cols = column_size or (self.c2 - self.c1 + 1)
        return Range(self.sheet, (self.r1, self.c1), (self.r1 + rows - 1, self.c1 + cols - 1),
                     convert=self.convert, ndim=self.ndim)

    def clear_contents(self) -> None:
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                self.sheet.grid.pop((r, c), None)

    # --- values
    @property
    def value(self) -> Any:
        rows = [[self.sheet.grid.get((r, c)) for c in range(self.c1, self.c2 + 1)] for r in range(self.r1, self.r2 + 1)]
        if self.convert is pd.DataFrame:
            return pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
        if self.ndim == 2:
            return rows
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]
        if len(rows) == 1:
            return rows[0]
        if all(len(r) == 1 for r in rows):
            return [r[0] for r in rows]
        return rows

    @value.setter
    def value(self, new: Any) -> None:
        if isinstance(new, list) and new and isinstance(new[0], list):
            matrix = new
        elif isinstance(new, list):
            matrix = [new]
        else:
            matrix = [[new]]
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if isinstance(v, dt.datetime):
                    pass
                elif isinstance(v, dt.date):       # Excel keeps dates as date-times
                    v = dt.datetime(v.year, v.month, v.day)
                if v is None or (isinstance(v, str) and v == ""):   # Excel: an empty string leaves the cell empty
                    self.sheet.grid.pop((self.r1 + i, self.c1 + j), None)
                else:
                    self.sheet.grid[(self.r1 + i, self.c1 + j)] = v


class Table:
    def __init__(self, sheet: Sheet, name: str, ref: str):
        self.sheet, self.name = sheet, name
        a, b = ref.split(":")
        (self.r1, self.c1), (self.r2, self.c2) = _rowcol(a), _rowcol(b)

    @property
    def range(self) -> Range:
        return Range(self.sheet, (self.r1, self.c1), (self.r2, self.c2))

    @property
    def header_row_range(self) -> Range:
        return Range(self.sheet, (self.r1, self.c1), (self.r1, self.c2))

    @property
    def data_body_range(self) -> Range | None:
        return Range(self.sheet, (self.r1 + 1, self.c1), (self.r2, self.c2)) if self.r2 > self.r1 else None

    def resize(self, rng: Range) -> None:
        self.r1, self.c1, self.r2, self.c2 = rng.r1, rng.c1, rng.r2, rng.c2


class Sheet:
    def __init__(self, name: str):
        self.name = name
        self.grid: dict[tuple[int, int], Any] = {}
        self.tables: list[Table] = []

    def range(self, a: Any, b: Any = None) -> Range:
        return Range(self, a, b)

    @property
    def used_range(self) -> Range:
        if not self.grid:
            return Range(self, (1, 1))
        return Range(self, (1, 1), (max(r for r, _ in self.grid), max(c for _, c in self.grid)))

    def cell(self, ref: str) -> Any:
        return self.grid.get(_rowcol(ref))

    def rows_from(self, ref: str) -> list[list[Any]]:
        """Test helper: the rows from ``ref`` to the last used row and column (what the button wrote)."""
        top, last = Range(self, ref), self.used_range.last_cell
        rows = Range(self, (top.r1, top.c1), (last.r2, last.c2)).options(ndim=2).value
        while rows and all(v is None for v in rows[-1]):
            rows.pop()
        return rows


class Sheets(list):
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)


class App:
    def __init__(self) -> None:
        self.alerts: list[str] = []
        self.calculated = 0

    def alert(self, prompt: str, title: str = "") -> None:
        self.alerts.append(prompt)

    def calculate(self) -> None:
        self.calculated += 1


class Book:
    """The workbook at ``path`` as Excel would hold it open (values as last saved; formulas' cached results)."""

    def __init__(self, path: Path) -> None:
        self.fullname, self.name, self.app = str(path), path.name, App()
        self.sheets = Sheets()
        wb = openpyxl.load_workbook(path, data_only=True)
        try:
            for ws in wb.worksheets:
                sheet = Sheet(ws.title)
                for row in ws.iter_rows():
                    for c in row:
                        if c.value is not None and not (isinstance(c.value, str) and c.value == ""):
                            sheet.grid[(c.row, c.column)] = c.value
                sheet.tables = [Table(sheet, name, ref) for name, ref in ws.tables.items()]
                self.sheets.append(sheet)
        finally:
            wb.close()

    def table(self, name: str) -> Table:
        return next(t for s in self.sheets for t in s.tables if t.name == name)

    def table_rows(self, name: str) -> list[list[Any]]:
        """Test helper: a table's data rows."""
        t = self.table(name)
        return [[t.sheet.grid.get((r, c)) for c in range(t.c1, t.c2 + 1)] for r in range(t.r1 + 1, t.r2 + 1)]
