"""Run xlwings' own classic-UDF VBA generator on Linux (for a snapshot comparison in the tests).

xlwings.udfs imports pywin32 (pythoncom, pywintypes, win32com.client) at import time; those modules
are replaced by empty stand-ins here, which is enough for ``xlfunc``/``xlarg``/``xlret``/``xlsub`` and
``generate_vba_wrapper`` (they touch none of them). Run as a separate process so the stand-ins never
reach the test process: ``python tests/_xlwings_reference.py MODULE [MODULE ...]`` prints JSON
``{module: vba_text}``.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import types


def main(names: list[str]) -> None:
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["pythoncom"].CoInitialize = lambda: None  # type: ignore[attr-defined]
    sys.modules["pywintypes"].com_error = Exception  # type: ignore[attr-defined]
    sys.modules["win32com.client"].Dispatch = lambda *a: None  # type: ignore[attr-defined]
    sys.modules["win32com"].client = sys.modules["win32com.client"]  # type: ignore[attr-defined]
    import xlwings
    import xlwings.udfs as udfs

    xlwings.func, xlwings.arg, xlwings.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
    xlwings.sub = xlwings.script = udfs.xlsub

    class Workbook:  # the one attribute generate_vba_wrapper reads
        Name = "CreditControl.xlsm"

    out = {}
    for name in names:
        module = importlib.import_module(name)
        buffer = io.StringIO()
        udfs.generate_vba_wrapper(name, module, buffer, Workbook())
        out[name] = buffer.getvalue()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
