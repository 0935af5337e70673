"""Stand-in for xlwings Lite's ``xlwings`` (Lite always brings its own; it is not on PyPI as a Pyodide wheel here),
used by the Pyodide harness and the CPython tests.

* ``func``, ``arg``, ``script``: decorators that record what they were given.
* ``Book``: the workbook as xlwings Lite hands it to a script, over plain cell values — only the part of Lite's
  ``Book`` API a script may use, behaving as Lite's does. Lite's ``Book`` is xlwings' "remote" engine fed by the
  add-in (xlwings 0.37.8, ``xlwings/pro/_xlremote.py``, read for this, not used): the add-in sends every sheet's
  cell values, tables and used range once when the script starts; ``.value`` reads that snapshot (a write is
  not seen by a later read in the same script); every write (``.value = …``, ``clear_contents``,
  ``number_format = …``, ``app.alert``) is an action sent back to Excel when the script ends. Date cells arrive
  as ``datetime``, empty cells as None, whole numbers as ``int`` (JavaScript numbers through Pyodide). What Lite
  refuses is refused here (``number_format``/``formula``/``color``/``column_width`` read synchronously,
  ``current_region``, ``autofit`` on a sheet …), and what Lite's ``Book`` does not have at all (``fullname`` as a
  path, ``save``, ``api`` calls …) is simply missing, so a script that strays outside Lite's API fails here too.
"""

from __future__ import annotations

import datetime as _dt
import re as _re

SEEN = {"func": [], "arg": [], "script": []}


def func(f=None, **options):
    def mark(fn):
        fn.__lite_func__ = options
        SEEN["func"].append(fn.__name__)
        return fn
    return mark(f) if f is not None else mark


def arg(name, *converter, **options):
    def mark(fn):
        fn.__dict__.setdefault("__lite_args__", {})[name] = options
        SEEN["arg"].append((fn.__name__, name))
        return fn
    return mark


def script(f=None, **options):
    def mark(fn):
        fn.__lite_script__ = options
        SEEN["script"].append(fn.__name__)
        return fn
    return mark(f) if f is not None else mark


# =========================================================================== the Book of a script
_A1 = _re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_EMPTY = (None, "")


def column_letters(column: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_of(ref: str) -> tuple[int, int]:
    """``"B7"`` → ``(7, 2)``."""
    found = _A1.match(ref.strip())
    if not found:
        raise ValueError(f"not a cell address: {ref!r}")
    column = 0
    for ch in found.group(1).upper():
        column = column * 26 + ord(ch) - 64
    return int(found.group(2)), column


def _corners(address: str) -> tuple[tuple[int, int], tuple[int, int]]:
    first, _, last = address.partition(":")
    top = cell_of(first)
    return top, cell_of(last) if last else top


def _to_excel(value):
    """What Lite sends to Excel for a Python value (xlwings' remote engine, ``prepare_xl_data_element``): None,
    NaN and NaT as an empty cell, numpy numbers as numbers, dates as dates; anything it cannot send (a Decimal, an
    object) is refused, as Lite's JSON hand-over would."""
    if value is None:
        return None
    kind = type(value)
    if kind.__module__.startswith("numpy"):
        value = value.item()
    if kind.__name__ in ("NaTType",):
        return None
    if hasattr(value, "to_pydatetime"):   # a pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, _dt.datetime):
        return value.date() if value.time() == _dt.time(0) else value.replace(tzinfo=None)
    if isinstance(value, bool | int | float | str | _dt.date):
        return value
    raise TypeError(f"xlwings Lite cannot send a {kind.__name__} to Excel ({value!r})")


class App:
    """Lite's ``App``: ``alert`` and ``calculate`` are actions sent back to Excel."""

    def __init__(self, book: Book) -> None:
        self._book = book

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self._book.actions.append(("alert", title, prompt))
        self._book.alerts.append(prompt)

    def calculate(self):
        self._book.actions.append(("calculate",))


class Book:
    """A workbook as xlwings Lite hands it to a script: ``Book(name, sheets)`` with ``sheets`` =
    ``{sheet name: {"values": rows, "tables": {table name: "A4:H40"}, "used_range": "A1:H40"}}`` (rows from A1;
    ``used_range`` optional: the values' extent). After the script, :meth:`state` is the workbook as Excel then
    shows it (the values with every action applied) — hand it to a new Book for the next script, as Lite does."""

    def __init__(self, name: str, sheets: dict) -> None:
        self.name = name
        self.actions: list[tuple] = []
        self.alerts: list[str] = []
        self._sheets = [Sheet(self, n, spec, i) for i, (n, spec) in enumerate(sheets.items(), start=1)]
        self.app = App(self)

    @property
    def sheets(self) -> Sheets:
        return Sheets(self._sheets)

    @property
    def fullname(self) -> str:
        return self.name   # Lite: the name only, no folder (an add-in has no access to the file system)

    def state(self) -> dict:
        """Every sheet after the script's actions: ``{sheet: {"values": rows, "tables": …, "used_range": …}}``."""
        return {s.name: s._state() for s in self._sheets}

    def written(self, sheet: str) -> dict[tuple[int, int], object]:
        """The cells the script set on ``sheet`` (cleared cells as None), by ``(row, column)``."""
        return dict(next(s for s in self._sheets if s.name == sheet)._written)


class Sheets:
    """``book.sheets``: by name (``["Ageing"]`` or ``("Ageing")``), by position, iterated, counted."""

    def __init__(self, sheets: list[Sheet]) -> None:
        self._sheets = sheets

    def __getitem__(self, key):
        if isinstance(key, str):
            for sheet in self._sheets:
                if sheet.name == key:
                    return sheet
            raise KeyError(key)
        return self._sheets[key]

    def __call__(self, key):
        return self[key] if isinstance(key, str) else self._sheets[key - 1]

    def __iter__(self):
        return iter(list(self._sheets))

    def __len__(self):
        return len(self._sheets)

    def add(self, name=None, before=None, after=None):
        """A new empty sheet at the end (Lite: an action; its name is known at once)."""
        book = self._sheets[0].book
        name = name or f"Sheet{len(self._sheets) + 1}"
        if any(s.name == name for s in self._sheets):
            raise ValueError(f"xlwings Lite: a sheet named {name!r} exists already")
        book.actions.append(("addSheet", name))
        sheet = Sheet(book, name, {}, len(self._sheets) + 1)
        self._sheets.append(sheet)
        return sheet


class Table:
    """An Excel table: ``name``, ``range`` (header and body), ``header_row_range``, ``data_body_range``."""

    def __init__(self, sheet: Sheet, name: str, address: str) -> None:
        self.name, self._sheet, self._address = name, sheet, address

    @property
    def range(self) -> Range:
        return self._sheet.range(self._address)

    @property
    def header_row_range(self) -> Range:
        (r1, c1), (_, c2) = _corners(self._address)
        return self._sheet.range((r1, c1), (r1, c2))

    @property
    def data_body_range(self) -> Range | None:
        (r1, c1), (r2, c2) = _corners(self._address)
        return self._sheet.range((r1 + 1, c1), (r2, c2)) if r2 > r1 else None


class Sheet:
    def __init__(self, book: Book, name: str, spec: dict, index: int) -> None:
        self.book, self.name, self.index = book, name, index
        self._values = [list(row) for row in spec.get("values", [])]
        self._tables = dict(spec.get("tables", {}))
        self._used = spec.get("used_range")
        self._written: dict[tuple[int, int], object] = {}

    # ---- reading: the snapshot the add-in sent when the script started
    def _value_at(self, row: int, column: int):
        try:
            value = self._values[row - 1][column - 1]
        except IndexError:
            return None
        return None if value == "" else value

    @property
    def tables(self) -> list[Table]:
        return [Table(self, n, a) for n, a in self._tables.items()]

    def range(self, cell1, cell2=None) -> Range:
        if isinstance(cell1, Range):
            cell1 = (cell1.row, cell1.column)
        if isinstance(cell2, Range):
            cell2 = (cell2.last_cell.row, cell2.last_cell.column)
        if isinstance(cell1, str):
            if cell1 in self._tables:   # Lite: a table's name is its body
                table = Table(self, cell1, self._tables[cell1])
                body = table.data_body_range
                return body if body is not None else table.header_row_range
            top, bottom = _corners(cell1)
        else:
            top, bottom = tuple(cell1), tuple(cell1)
        if cell2 is not None:
            bottom = _corners(cell2)[1] if isinstance(cell2, str) else tuple(cell2)
        return Range(self, top, bottom)

    def __getitem__(self, ref):
        return self.range(ref)

    @property
    def cells(self) -> Range:
        return Range(self, (1, 1), (1048576, 16384))

    @property
    def used_range(self) -> Range:
        if self._used:
            return self.range(self._used)
        rows = len(self._values)
        columns = max((len(r) for r in self._values), default=0)
        return Range(self, (1, 1), (max(rows, 1), max(columns, 1)))

    # ---- writing: actions sent back to Excel
    def _set(self, row: int, column: int, value) -> None:
        self._written[(row, column)] = value

    def clear_contents(self) -> None:
        self.book.actions.append(("sheetClearContents", self.name))
        for r, row in enumerate(self._values, start=1):
            for c in range(1, len(row) + 1):
                self._set(r, c, None)

    def clear(self) -> None:
        self.clear_contents()

    def autofit(self, axis=None):
        raise NotImplementedError("xlwings Lite: Sheet.autofit() is not supported")

    def _state(self) -> dict:
        rows = len(self._values)
        columns = max((len(r) for r in self._values), default=0)
        for r, c in self._written:
            rows, columns = max(rows, r), max(columns, c)
        values = [[self._value_at(r, c) for c in range(1, columns + 1)] for r in range(1, rows + 1)]
        for (r, c), value in self._written.items():
            values[r - 1][c - 1] = value
        return {"values": values, "tables": dict(self._tables)}


def _lite_refuses(what: str):
    def getter(self):
        raise NotImplementedError(f"xlwings Lite cannot read Range.{what} synchronously (await get_{what}())")
    return getter


class Range:
    """A rectangle of a sheet, rows and columns from 1 (Excel's numbering)."""

    def __init__(self, sheet: Sheet, top: tuple[int, int], bottom: tuple[int, int], options: dict | None = None):
        self.sheet = sheet
        self._top = (min(top[0], bottom[0]), min(top[1], bottom[1]))
        self._bottom = (max(top[0], bottom[0]), max(top[1], bottom[1]))
        self._options = dict(options or {})

    def __repr__(self) -> str:
        return f"<Range {self.sheet.name}!{self.address}>"

    # ---- where
    @property
    def row(self) -> int:
        return self._top[0]

    @property
    def column(self) -> int:
        return self._top[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self._bottom[0] - self._top[0] + 1, self._bottom[1] - self._top[1] + 1

    @property
    def address(self) -> str:
        first = f"${column_letters(self._top[1])}${self._top[0]}"
        if self._top == self._bottom:
            return first
        return f"{first}:${column_letters(self._bottom[1])}${self._bottom[0]}"

    @property
    def last_cell(self) -> Range:
        return Range(self.sheet, self._bottom, self._bottom)

    def __call__(self, row: int, column: int) -> Range:   # rng(1, 1): relative, from 1
        cell = (self._top[0] + row - 1, self._top[1] + column - 1)
        return Range(self.sheet, cell, cell)

    def resize(self, row_size: int | None = None, column_size: int | None = None) -> Range:
        rows, columns = self.shape
        bottom = (self._top[0] + (row_size or rows) - 1, self._top[1] + (column_size or columns) - 1)
        return Range(self.sheet, self._top, bottom, self._options)

    def offset(self, row_offset: int = 0, column_offset: int = 0) -> Range:
        return Range(self.sheet, (self._top[0] + row_offset, self._top[1] + column_offset),
                     (self._bottom[0] + row_offset, self._bottom[1] + column_offset), self._options)

    def _end_down(self, row: int, column: int) -> int:
        while self.sheet._value_at(row + 1, column) not in _EMPTY:
            row += 1
        return row

    def _end_right(self, row: int, column: int) -> int:
        while self.sheet._value_at(row, column + 1) not in _EMPTY:
            column += 1
        return column

    def expand(self, mode: str = "table") -> Range:
        """xlwings' expansion over the snapshot: down the first column and right along the first row to the first
        blank (so a cell written earlier in the same script is not seen, as in Lite)."""
        r, c = self._top
        rows, columns = self.shape
        value = self.sheet._value_at
        if mode in ("table", "down", "d", "vertical"):
            if value(r + 1, c) in _EMPTY:
                bottom = r
            elif value(r + 2, c) in _EMPTY:
                bottom = r + 1
            else:
                bottom = self._end_down(r + 1, c)
        else:
            bottom = r + rows - 1
        if mode in ("table", "right", "r", "horizontal"):
            if value(r, c + 1) in _EMPTY:
                right = c
            elif value(r, c + 2) in _EMPTY:
                right = c + 1
            else:
                right = self._end_right(r, c + 1)
        else:
            right = c + columns - 1
        return Range(self.sheet, self._top, (bottom, right), self._options)

    # ---- values
    def options(self, convert=None, **options) -> Range:
        merged = {**self._options, **options}
        if convert is not None:
            merged["convert"] = convert
        return Range(self.sheet, self._top, self._bottom, merged)

    def _grid(self) -> list[list]:
        return [[self.sheet._value_at(r, c) for c in range(self._top[1], self._bottom[1] + 1)]
                for r in range(self._top[0], self._bottom[0] + 1)]

    @property
    def value(self):
        rng = self.expand(self._options["expand"]) if self._options.get("expand") else self
        grid = rng._grid()
        convert = self._options.get("convert")
        if convert is not None and getattr(convert, "__name__", "") == "DataFrame":
            return _frame(grid, self._options)
        if convert is not None and convert is not list:
            raise NotImplementedError(f"stand-in: converter {convert!r} not stood in for")
        ndim = self._options.get("ndim")
        rows, columns = len(grid), len(grid[0])
        if ndim == 2:
            return grid
        if ndim != 1 and rows == 1 and columns == 1:
            return grid[0][0]
        if ndim == 1 or rows == 1 or columns == 1:
            return [v for row in grid for v in row]
        return grid

    @value.setter
    def value(self, data) -> None:
        if hasattr(data, "to_numpy") or hasattr(data, "tolist"):
            raise TypeError("stand-in: write plain lists (the adapter writes lists of rows)")
        if not isinstance(data, list | tuple):
            rows, columns = self.shape
            data = [[data] * columns for _ in range(rows)]
        elif data and not isinstance(data[0], list | tuple):
            data = [list(data)]
        grid = [[_to_excel(v) for v in row] for row in data]
        if grid and len({len(row) for row in grid}) != 1:
            raise ValueError("xlwings Lite: every row of a written block must have the same length")
        self.sheet.book.actions.append(("setValues", self.sheet.name, self.address, len(grid)))
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                self.sheet._set(self._top[0] + i, self._top[1] + j, value)

    def clear_contents(self) -> None:
        self.sheet.book.actions.append(("rangeClearContents", self.sheet.name, self.address))
        for r in range(self._top[0], self._bottom[0] + 1):
            for c in range(self._top[1], self._bottom[1] + 1):
                self.sheet._set(r, c, None)

    # ---- what Lite has only as an action, or not at all
    number_format = property(_lite_refuses("number_format"),
                             lambda self, fmt: self.sheet.book.actions.append(("setNumberFormat", self.address, fmt)))
    formula = property(_lite_refuses("formula"))
    color = property(_lite_refuses("color"))
    column_width = property(_lite_refuses("column_width"))
    row_height = property(_lite_refuses("row_height"))

    @property
    def current_region(self):
        raise NotImplementedError("xlwings Lite: Range.current_region is not supported (await get_current_region())")


def _frame(grid: list[list], options: dict):
    """xlwings' DataFrame converter (header row, optional index columns), as Lite's xlwings reads one."""
    import pandas as pd

    header = options.get("header", 1)
    index = options.get("index", 1)
    columns = pd.Index(grid[0]) if header else None
    frame = pd.DataFrame(grid[1 if header else 0:], columns=columns, dtype=options.get("dtype"))
    if index:
        names = list(frame.columns[:index])
        frame = frame.set_index(names)
    return frame
