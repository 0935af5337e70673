"""The button entry points over an open workbook, with a stand-in for xlwings' Book (no Excel here).

The stand-in implements only what :class:`xlcredit.excel.XlwingsBook` uses (sheets, tables,
ranges with ``options(pd.DataFrame)``, ``app.alert``/``app.calculate``), so these tests prove the
adapter's logic and the shared job, not Excel itself.
"""

import datetime as dt

import pandas as pd

from xlcredit import excel
from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR, sample_path
from xlcredit.io.store import CreditStore


class _Range:
    def __init__(self, sheet, ref, frame=None):
        self.sheet, self.ref, self.frame = sheet, ref, frame

    def options(self, *_args, **_kwargs):
        return self

    def expand(self, *_args):
        return self

    def resize(self, **_kwargs):
        return self

    def clear_contents(self):
        self.sheet.cleared.append(self.ref)

    @property
    def value(self):
        if self.frame is not None:
            return self.frame.copy()
        return self.sheet.cells.get(self.ref)

    @value.setter
    def value(self, new):
        self.sheet.cells[self.ref] = new


class _Table:
    def __init__(self, sheet, name, frame):
        self.name = name
        self.range = _Range(sheet, "A1", frame)


class _Sheet:
    def __init__(self, name, table=None, frame=None, cells=None):
        self.name, self.cells, self.cleared = name, dict(cells or {}), []
        self.tables = [_Table(self, table, frame)] if table else []

    def range(self, ref, last=None):
        return _Range(self, ref if last is None else (ref, last))

    @property
    def used_range(self):   # the writes are kept by their top-left cell: a used range as big as they can be
        class _Last:
            row, column = 1_048_576, 16_384

        used = _Range(self, "A1")
        used.last_cell = _Last()
        return used


class _Sheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)


class _App:
    def __init__(self):
        self.alerts, self.calculated = [], 0

    def alert(self, prompt, title=""):
        self.alerts.append(prompt)

    def calculate(self):
        self.calculated += 1


def _collector_sheet(name):
    """A stand-in collector sheet (Promises …) with the workbook's headers in words and the sample's rows."""
    from xlcredit.io.collector import COLUMNS
    from xlcredit.io.tables import alias_index, normalise_header
    from xlcredit.io.workbook import header_text

    index = alias_index(COLUMNS[name])
    frame = pd.read_csv(SAMPLE_DIR / f"{name}.csv", dtype=str, keep_default_na=False)
    frame = frame.rename(columns=lambda c: header_text(index[normalise_header(c)]))
    return _Sheet(name.title(), name.title(), frame)


class _Book:
    def __init__(self, folder, customers=None, collector=False):
        read = lambda name: pd.read_csv(sample_path(name), dtype=str, keep_default_na=False)  # noqa: E731
        db = folder / "credit.sqlite"
        self.name, self.fullname, self.app = "CreditControl.xlsm", str(folder / "CreditControl.xlsm"), _App()
        self.sheets = _Sheets([
            _Sheet("Customers", "Customers", customers if customers is not None else read("customers")),
            _Sheet("Invoices", "Invoices", read("invoices")), _Sheet("Payments", "Payments", read("payments")),
            _Sheet("Credit Notes", "CreditNotes", read("credit_notes")),
            _Sheet("FX Rates", "FxRates", read("fx_rates")),
            _Sheet("Policy", cells={"A1": [["Setting", "Value"], ["limits.step", 500]]}),
            _Sheet("xlwings.conf", cells={"A1": [["XLCREDIT_DB", str(db)]]}),
            _Sheet("Dashboard"), _Sheet("Ageing"), _Sheet("Letters"), _Sheet("Review"), _Sheet("Worklist"),
        ])
        if collector:
            self.sheets.extend(_collector_sheet(name) for name in ("promises", "disputes", "plans", "contacts"))


def test_refresh_button_runs_the_shared_job_on_the_open_workbook(tmp_path):
    book = _Book(tmp_path)
    excel.refresh_ageing(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts == [] and book.app.calculated == 1
    ageing = book.sheets["Ageing"].cells["A4"]
    assert ageing[0][:3] == ["Customer ID", "Name", "Currency"]   # headers in words
    assert len(ageing) == 1 + 57 + 1             # header, 57 customers with documents (3 prospects), total
    dash = book.sheets["Dashboard"].cells
    assert dash["C2"] == SAMPLE_AS_OF and isinstance(dash["C9"], float) and dash["B17"] == "Current"
    store = CreditStore(str(tmp_path / "credit.sqlite"))   # the xlwings.conf XLCREDIT_DB setting was used
    assert store.result("C001")["grade"] in "ABCDE"
    assert store.policy().limits.step == 500     # the Policy sheet overrides the shipped policy


def test_a_bad_table_shows_a_message_not_a_traceback(tmp_path):
    book = _Book(tmp_path, customers=pd.DataFrame({"colour": ["red"]}))
    excel.refresh_ageing(book, as_of=dt.date(2026, 10, 31))
    assert len(book.app.alerts) == 1 and book.app.alerts[0].startswith("#XLC! ")
    assert "customer_id" in book.app.alerts[0]


def test_review_button_fills_the_review_sheet_and_records_the_reviews(tmp_path):
    book = _Book(tmp_path)
    excel.review_portfolio(book, as_of=SAMPLE_AS_OF)
    assert len(book.app.alerts) == 1
    assert book.app.alerts[0].startswith("Reviewed 60 customers: 60 due for review")   # none reviewed before
    assert "INSURER DEADLINES MISSED: 3" in book.app.alerts[0]   # C006, and C008 twice (60 days after due)
    sheet = book.sheets["Review"].cells
    assert sheet["B2"] == SAMPLE_AS_OF
    header, *rows = sheet["A4"]
    assert header[:3] == ["Customer ID", "Name", "Review"] and len(rows) == 60
    assert all(isinstance(v, float) for v in (r[header.index("Exposure")] for r in rows))   # Decimals → floats
    store = CreditStore(str(tmp_path / "credit.sqlite"))
    assert len(store.reviews()) == 60
    book.app.alerts.clear()
    excel.review_portfolio(book, as_of=SAMPLE_AS_OF + dt.timedelta(days=1))   # the next day: reviewed yesterday
    assert "due for review (" in book.app.alerts[0]
    assert not book.app.alerts[0].startswith("Reviewed 60 customers: 60 due")


def test_worklist_button_ranks_the_open_workbook_with_its_collector_sheets(tmp_path):
    """The Worklist button runs jobs.worklist.worklist on the open workbook: the Promises … Contacts sheets count
    (C008's broken promise), the Worklist sheet gets the same ranking as the run over the sample's files."""
    from xlcredit.jobs.book import FolderBook
    from xlcredit.jobs.worklist import worklist

    book = _Book(tmp_path, collector=True)
    excel.worklist(book, as_of=SAMPLE_AS_OF)
    expected = worklist(FolderBook(None), SAMPLE_AS_OF, write=False)
    assert len(book.app.alerts) == 1
    first = expected.rows[0]
    assert book.app.alerts[0].startswith(f"Worklist as of 2026-10-31: {len(expected.rows)} customer(s) with open "
                                         f"items.\nFirst: {first.customer_id} ")
    sheet = book.sheets["Worklist"].cells
    assert sheet["B2"] == SAMPLE_AS_OF
    header, *rows = sheet["A4"]
    assert header[:4] == ["Rank", "Customer ID", "Name", "Priority"]
    assert [r[1] for r in rows] == [r.customer_id for r in expected.rows]
    c008 = next(r for r in rows if r[1] == "C008")
    assert c008[header.index("Promises broken")] == 1
    assert all(isinstance(r[header.index("Overdue")], float | None) for r in rows)   # Decimals → floats


def test_worklist_button_without_collector_sheets_still_ranks(tmp_path):
    """An older workbook without the Promises … Contacts sheets: the worklist runs on the ledger alone."""
    book = _Book(tmp_path)
    excel.worklist(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts[0].startswith("Worklist as of 2026-10-31: ")
    header, *rows = book.sheets["Worklist"].cells["A4"]
    assert all(r[header.index("Promises broken")] == 0 for r in rows)


def test_the_new_buttons_on_a_workbook_made_before_their_sheets_say_so(tmp_path):
    """A workbook without the Statements, Policy Audit, Bank and Matches sheets: Statements and Policy Audit still
    run and say the sheet is missing (the statements are written all the same); Match Bank and Apply Matches say
    what to do instead of failing with a traceback."""
    book = _Book(tmp_path)
    excel.policy_audit(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts[0].startswith("Policy audit 2025-11-30 to 2026-10-31 (12 month ends): policy A 'current' "
                                         "alone.")
    assert "note: this workbook has no Policy Audit sheet" in book.app.alerts[0]
    excel.generate_statements(book, as_of=dt.date(2026, 11, 3))
    assert book.app.alerts[1].startswith("Statements 2026-10-01 to 2026-10-31: ")
    assert "note: this workbook has no Statements sheet" in book.app.alerts[1]
    assert any((tmp_path / "Letters").glob("statement_2026-10-01_2026-10-31_*.pdf"))
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts[2].startswith("#XLC! workbook: has no Bank and Matches sheets (made before the Match Bank "
                                         "button)")
    excel.apply_bank_matches(book)
    assert book.app.alerts[3] == "Nothing to apply: press Match Bank first (the Matches sheet lists no matches)."
