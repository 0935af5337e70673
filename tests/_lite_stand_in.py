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
