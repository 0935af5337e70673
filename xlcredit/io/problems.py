"""Re-export of :class:`~xlcredit.core.ledger.RowProblem` (one bad row of an input table).

``RowProblem`` lives in ``xlcredit/core/ledger.py``, its agreed home; this module keeps the name
importable from the adapters' side (``from xlcredit.io.problems import RowProblem``).
"""

from __future__ import annotations

from xlcredit.core.ledger import RowProblem

__all__ = ["RowProblem"]
