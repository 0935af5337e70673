"""xlcredit for xlwings Lite, as a package: the lean wheel ``xlcredit_lite-<version>-py3-none-any.whl``
(``python lite/build_wheel.py``) holds it together with the pure engine and the formula catalogue.

* :mod:`xlcredit_lite.plugin` declares every formula and the scripts with xlwings Lite's decorators when it is
  imported — ``from xlcredit_lite.plugin import *`` in the add-in's main.py is the whole workbook code;
* :mod:`xlcredit_lite.service` asks the team service (``xlcredit serve``) from the browser: the customer-level
  formulas and the "Generate Letters (team service)" script.

Importing this package imports nothing else (no xlwings), so its modules can be checked anywhere.
"""

__all__: list[str] = []
