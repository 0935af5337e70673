"""xlcredit for xlwings Lite, as a package: the lean wheel ``xlcredit_lite-<version>-py3-none-any.whl``
(``python lite/build_wheel.py``) holds it together with the pure engine and the formula catalogue.

* :mod:`xlcredit_lite.plugin` declares every formula and the scripts with xlwings Lite's decorators when it is
  imported — ``from xlcredit_lite.plugin import *`` in the add-in's main.py is the whole workbook code;
* :mod:`xlcredit_lite.service` asks the team service (``xlcredit serve``) from the browser: the customer-level
  formulas and the "Generate Letters (team service)" script.

The package's own names are the plugin's formulas and scripts too, looked up on first use (PEP 562): a runtime that
scans this package's members for ``@func``/``@script`` marks, as xlwings Lite scans main.py's, finds them all;
importing the package alone imports nothing else (no xlwings), so :mod:`xlcredit_lite.service` can be used anywhere.
"""

from __future__ import annotations

from typing import Any

_PLUGIN = "xlcredit_lite.plugin"


def _plugin() -> Any:
    import importlib

    return importlib.import_module(_PLUGIN)


def __getattr__(name: str) -> Any:
    if name.startswith("__") or name in ("plugin", "service"):   # dunders; submodules are imported as such
        raise AttributeError(name)
    plugin = _plugin()
    if name in plugin.__all__:
        return getattr(plugin, name)
    raise AttributeError(f"module 'xlcredit_lite' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_plugin().__all__})
