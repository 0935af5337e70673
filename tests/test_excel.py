"""The button entry points over an open workbook, with a stand-in for xlwings' Book (no Excel here).

The stand-in implements only what :class:`xlcredit.excel.XlwingsBook` uses (sheets, tables,
ranges with ``options(pd.DataFrame)``, ``app.alert``/``app.calculate``), so these tests prove the
adapter's logic and the shared job, not Excel itself.
"""

import datetime as dt

import pandas as pd

from xlcredit import excel
from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
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

    def range(self, ref):
        return _Range(self, ref)


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


class _Book:
    def __init__(self, folder, customers=None):
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
            _Sheet("Dashboard"), _Sheet("Ageing"), _Sheet("Letters"), _Sheet("Review"),
        ])


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
