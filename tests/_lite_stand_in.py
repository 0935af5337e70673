"""xlwings Lite's ``xlwings`` stood in for (``lite/node/xlwings_stand_in.py``, the same file the Pyodide harness uses)
while the Lite plugin is imported: there is no Excel and no Lite runtime here."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path

LITE_DIR = Path(__file__).resolve().parents[1] / "lite"   # the plugin package xlcredit_lite (in the wheel in Lite)


def stand_in_xlwings() -> types.ModuleType:
    """A fresh stand-in module: decorators that record what they were given (``SEEN``, ``__lite_func__`` …)."""
    spec = importlib.util.spec_from_file_location("xlwings", LITE_DIR / "node" / "xlwings_stand_in.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def as_lite() -> Iterator[types.ModuleType]:
    """While inside: the stand-in is ``xlwings`` and the plugin package is importable; the plugin module is declared
    afresh with the stand-in's decorators on its next import."""
    fake = stand_in_xlwings()
    real = sys.modules.get("xlwings")
    sys.modules["xlwings"] = fake
    sys.modules.pop("xlcredit_lite.plugin", None)
    sys.path.insert(0, str(LITE_DIR))
    try:
        yield fake
    finally:
        sys.path.remove(str(LITE_DIR))
        if real is not None:
            sys.modules["xlwings"] = real
        else:
            sys.modules.pop("xlwings", None)


def lite_sheets(path: Path) -> dict:
    """A workbook's sheets as xlwings Lite's add-in hands them to a script (``xlwings_stand_in.Book``): every cell's
    value as Excel shows it (formulas' last results; dates as ``datetime``, whole numbers as ``int``), the Excel
    tables by name and address, the used range. Read once with openpyxl."""
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    sheets = {}
    for ws in book.worksheets:
        values = [[_lite_value(c.value) for c in row] for row in ws.iter_rows(min_row=1, min_col=1)]
        sheets[ws.title] = {"values": values, "tables": dict(ws.tables.items()),
                            "used_range": f"A1:{ws.cell(ws.max_row, ws.max_column).coordinate}"}
    return sheets


def _lite_value(value):
    """JavaScript has one number type: Pyodide hands a whole number over as ``int``; empty text is an empty cell."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None if value == "" else value
