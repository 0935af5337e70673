"""xlcredit: credit control for finance teams who work in Excel.

The calculation core lives in :mod:`xlcredit.core` (pure, no I/O, no clock); the adapters
(tables, workbook, letters, store, CLI, service) sit around it. ``from xlcredit import age_frames``
ages a whole ledger at once (:mod:`xlcredit.bulk`).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "age_frames"]


def __getattr__(name: str) -> Any:
    """``age_frames`` is imported on first use, so ``import xlcredit`` stays light (no pandas, no pyarrow)."""
    if name == "age_frames":
        from xlcredit.bulk import age_frames

        return age_frames
    raise AttributeError(f"module 'xlcredit' has no attribute {name!r}")
