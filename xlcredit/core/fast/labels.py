"""Customer and currency labels to codes without pyarrow: the same codes as the Arrow path, for Pythons that lack it.

The bulk path (:func:`xlcredit.core.fast.ageing.frames_to_arrays`) hashes id columns with Arrow kernels. Pyodide —
the Python inside xlwings Lite — ships pandas and numpy but not pyarrow, so the Review Portfolio script there takes
this path: each column is factorised by pandas, only its distinct values are trimmed (and upper- or lower-cased) in
Python, and equal labels share one code. Codes and label order are those of the Arrow path (labels first seen
first, column by column; a categorical column of text in its categories' order; blank = -1), so results do not
depend on which path ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["arrow_available", "shared_codes_without_arrow"]


@lru_cache(maxsize=1)
def arrow_available() -> bool:
    """Whether pyarrow can be imported here (it cannot in Pyodide)."""
    try:
        import pyarrow  # noqa: F401 - the bulk path imports it next anyway
    except ImportError:
        return False
    return True


def _text(value: Any) -> str:
    """A cell as the text the Arrow path compares: strings as they are, anything else as pandas writes it."""
    return value if isinstance(value, str) else str(pd.Series([value], dtype=object).astype("string").iloc[0])


def shared_codes_without_arrow(columns: Sequence[pd.Series], normalise: Callable[[str], str]
                               ) -> tuple[list[np.ndarray], np.ndarray]:
    """Codes per row of each column (-1 = blank) on one shared list of labels, and that list (object array).

    ``normalise`` trims (and cases) one label, as the Arrow path does; a label that is empty after it is blank.
    """
    code_of: dict[str, int] = {}
    out: list[np.ndarray] = []
    for series in columns:
        if isinstance(series.dtype, pd.CategoricalDtype) and all(isinstance(c, str) for c in series.cat.categories):
            # a categorical of text: the Arrow path keeps its dictionary's own order (other categoricals it turns
            # into text first, first seen first, as factorize does below)
            codes = series.cat.codes.to_numpy(dtype=np.int64)
            uniques: Sequence[Any] = list(series.cat.categories)
        else:
            codes, found = pd.factorize(series, use_na_sentinel=True)
            uniques = list(found)
        remap = np.empty(len(uniques) + 1, np.int32)
        for i, value in enumerate(uniques):
            label = normalise(_text(value))
            remap[i] = -1 if label == "" else code_of.setdefault(label, len(code_of))
        remap[-1] = -1
        out.append(remap[codes])   # factorize's -1 (missing) picks the last entry: blank
    return out, np.array(list(code_of), dtype=object)
