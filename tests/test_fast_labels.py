"""Id columns to codes without pyarrow (the Review Portfolio script in xlwings Lite, whose Pyodide has no pyarrow):
the same codes and labels as the Arrow path, column by column, for text with spaces, case, non-ASCII letters,
blanks, numbers and categoricals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.fast.ageing import _CASES, _shared_codes
from xlcredit.core.fast.labels import shared_codes_without_arrow

CELLS = st.one_of(
    st.sampled_from(["C001", " C001", "c001 ", "C002", "Müller", "MÜLLER ", " ", "", "eur", "EUR", " Eur ", "usd",
                     "客户", "ǅ"]),
    st.none(), st.just(float("nan")), st.integers(0, 5), st.text(max_size=4))


def _both(columns, case):
    arrow_codes, arrow_labels = _shared_codes(columns, case)
    plain_codes, plain_labels = shared_codes_without_arrow(columns, _CASES[case])
    return (arrow_codes, arrow_labels.to_pylist()), (plain_codes, list(plain_labels))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=0, max_size=12), min_size=1, max_size=3), st.sampled_from(["", "upper"]))
def test_the_codes_without_arrow_are_the_arrow_codes(cells, case):
    columns = [pd.Series(c, dtype=object) for c in cells]
    (a_codes, a_labels), (p_codes, p_labels) = _both(columns, case)
    assert p_labels == a_labels
    for a, p in zip(a_codes, p_codes, strict=True):
        assert np.array_equal(a.astype(np.int64), p.astype(np.int64))


def test_an_inline_ledger_of_ids_and_a_categorical():
    customers = pd.Series([" C1", "C2", None, "C1 ", "", "C3"], dtype=object)
    more = pd.Series(pd.Categorical(["C3", "C9", None], categories=["C9", "C3", "C7"]))
    codes, labels = shared_codes_without_arrow([customers, more], _CASES[""])
    assert list(labels) == ["C1", "C2", "C3", "C9", "C7"]
    assert codes[0].tolist() == [0, 1, -1, 0, -1, 2]
    assert codes[1].tolist() == [2, 3, -1]
    (a_codes, a_labels), _ = _both([customers, more], "")
    assert a_labels == list(labels) and [c.tolist() for c in a_codes] == [c.tolist() for c in codes]


def test_a_categorical_of_numbers_is_coded_as_the_arrow_path_codes_it():
    """Reviewer's case: categories that are not text (the Arrow path turns them into text, first seen first)."""
    column = pd.Series(pd.Categorical([20, 10, 20], categories=[10, 20]))
    (a_codes, a_labels), (p_codes, p_labels) = _both([column], "")
    assert p_labels == a_labels == ["20", "10"]
    assert p_codes[0].tolist() == a_codes[0].tolist() == [0, 1, 0]


def test_currencies_are_upper_cased_and_numbers_read_as_pandas_writes_them():
    columns = [pd.Series(["eur", " EUR", "gbp"]), pd.Series([1001, "1001", 7.5], dtype=object)]
    codes, labels = shared_codes_without_arrow(columns, _CASES["upper"])
    assert list(labels) == ["EUR", "GBP", "1001", "7.5"]
    assert codes[0].tolist() == [0, 0, 1] and codes[1].tolist() == [2, 2, 3]
    (a_codes, a_labels), _ = _both(columns, "upper")
    assert a_labels == list(labels) and [c.tolist() for c in a_codes] == [c.tolist() for c in codes]


def test_the_review_without_pyarrow_is_the_review_with_it(monkeypatch):
    """The Review Portfolio job on the bundled sample: the same Review sheet whether the id columns, amounts and
    invoice numbers go through Arrow or (as in Pyodide) through pandas alone."""
    import xlcredit.core.fast.labels as labels
    import xlcredit.io.ledger as ledger
    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs.book import FolderBook
    from xlcredit.jobs.review import review, review_sheet

    with_arrow = review(FolderBook(), SAMPLE_AS_OF, record=False, write=False)
    monkeypatch.setattr(labels, "arrow_available", lambda: False)
    monkeypatch.setattr(ledger, "arrow_available", lambda: False)
    import xlcredit.core.fast.ageing as ageing

    def no_arrow(*_args, **_kwargs):
        raise AssertionError("an Arrow path was taken")

    for name in ("_text_of", "_arrow_of", "_normalised"):   # where the bulk path turns columns into Arrow arrays
        monkeypatch.setattr(ageing, name, no_arrow)
    without = review(FolderBook(), SAMPLE_AS_OF, record=False, write=False)
    pd.testing.assert_frame_equal(review_sheet(without.review), review_sheet(with_arrow.review))
    assert without.review.provision.total_ecl == with_arrow.review.provision.total_ecl
    assert [p.problem for p in without.problems] == [p.problem for p in with_arrow.problems]
