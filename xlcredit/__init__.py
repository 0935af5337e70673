"""xlcredit: credit control for finance teams who work in Excel.

The calculation core lives in :mod:`xlcredit.core` (pure, no I/O, no clock); the adapters
(tables, workbook, letters, store, CLI, service) sit around it.
"""

__version__ = "0.1.0"
