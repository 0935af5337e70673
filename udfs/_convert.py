"""The adapter between Excel cells and the core: values in, values out, the ``#XLC!`` error text, and the
credit database the customer-level formulas read.

Cells in
--------
* Empty cells arrive as ``None`` and the core says ``<argument>: is empty``. Excel error values arrive as
  their text (``"#N/A"``, ``"#VALUE!"`` … — every argument is declared with xlwings' ``err_to_str=True``;
  without it they would arrive as ``None``) and become ``<argument>: source cell shows #N/A``. The text of
  another xlcredit formula's error (``"#XLC! …"``) is passed on the same way.
* Dates: a date cell arrives as a ``datetime.date`` (arguments are declared ``dates=dt.date``). Cells may
  also hold an Excel serial number (``=DATE(2026,10,31)`` typed into the formula arrives as ``46326``; a
  fraction is a time of day and is dropped) or date text (``2026-10-31``, an unambiguous ``31/10/2026``),
  read by the same rule as files, the API and the command line (:func:`xlcredit.core.coerce.to_date`);
  anything else is refused with ``<argument>: is not a date (…)``.
* Ranges arrive as lists (the column formulas declare ``ndim=2``: always a list of rows). A one-cell range
  is that cell. Formulas that take columns (:func:`spread`, :class:`udfs._pure.Pure`) return one result
  row per input row; the others refuse a range of several cells.

Cells out
---------
Money is computed exactly in ``Decimal`` and rounded once by the core (half up to the cent); it is handed
to Excel as a ``float`` because Excel cells hold binary floats — the conversion is the last step, so no
float ever takes part in a calculation. Whole numbers (days, scores) stay ``int``; text stays text.

Errors
------
A formula never raises into Excel and never returns ``None``/NaN (Excel would show an empty cell): every
problem becomes the text ``#XLC! <argument>: <problem>`` built from :class:`XlcError`'s ``field`` and
``problem`` (so conditional formatting can look for ``#XLC!``); anything unexpected becomes
``#XLC! internal: <type>: <message>`` — never a traceback.

The credit database
-------------------
Found, in this order: the environment variable ``XLCREDIT_DB``; the key ``XLCREDIT_DB`` on the calling
workbook's ``xlwings.conf`` sheet (a relative path is taken from the workbook's folder); beside the calling
workbook — ``<workbook>.credit.db`` (where ``xlcredit refresh --db <workbook>`` and the store put it, see
:func:`xlcredit.io.store.store_path_for_workbook`), else ``credit.sqlite`` in the same folder; outside Excel
``./credit.sqlite`` (also for a workbook without a folder: never saved, or opened from OneDrive/SharePoint
by its web address — name the database in ``XLCREDIT_DB`` or the conf key then). A database that does not
exist yet is never created by a formula.

Each database is opened once per process and kept open. Its results are held in memory; before answering,
the SQLite file (and its ``-wal`` journal) is looked at with two ``stat`` calls: when either changed — a
Refresh committed — the refresh stamp is read again and the results are reloaded if it moved, so a
recalculation straight after a Refresh sees the new figures. The stamp is also re-read at least every
:data:`RECHECK_SECONDS` (for database servers, this is the only check). A file replaced by a new one is
reopened. ``bench/bench_udfs.py`` measures the calls per second.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeAlias

from udfs import _remote
from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError, describe, error_words
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import customer_key
from xlcredit.core.scoring import EXPLAIN_HEADER

log = logging.getLogger("xlcredit.udfs")

#: Every error shown in a cell starts with this, so conditional formatting can find it.
PREFIX = "#XLC!"
#: What one formula call has already asked Excel (set by :func:`excel_errors` for the call's duration).
_CALL: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("xlcredit_formula_call", default=None)

#: One cell's value, or a range as xlwings passes it (a list of rows). Annotating UDF arguments with this
#: alias of ``Any`` matters: xlwings turns type hints into converters, and ``Any`` is its default one.
Cell: TypeAlias = Any

#: Error values Excel may show in a source cell (what xlwings passes with ``err_to_str=True``, and more).
EXCEL_ERRORS: frozenset[str] = frozenset({
    "#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#FIELD!",
    "#GETTING_DATA", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!", "#TIMEOUT!",
})



# =========================================================================== errors
def error_text(exc: BaseException) -> str:
    """What the cell shows for a problem: ``#XLC! <argument>: <problem>`` (one line, never a traceback)."""
    return f"{PREFIX} {error_words(exc)}"


def excel_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Make a UDF safe for a cell: any exception becomes its ``#XLC!`` text, and so does a None result.

    ``functools.wraps`` keeps the name, annotations and (through ``__wrapped__``) the signature, which
    xlwings' ``@xw.func``/``@xw.arg`` read to build the Excel function. The docstring is kept as one line:
    Excel shows it as the function's help exactly as it is.
    """

    @functools.wraps(func)
    def cell_safe(*args: Any, **kwargs: Any) -> Any:
        scope = _CALL.set({})   # the calling workbook is asked for once per formula call (caller_book)
        try:
            result = func(*args, **kwargs)
        except Exception as exc:  # a formula must show text, never raise into Excel
            if not isinstance(exc, XlcError):
                log.exception("%s failed", func.__name__)
            return error_text(exc)
        finally:
            _CALL.reset(scope)
        if result is None:
            return f"{PREFIX} internal: {func.__name__} gave no result"
        return result

    cell_safe.__doc__ = " ".join((func.__doc__ or "").split()) or None
    return cell_safe


# =========================================================================== cells in
def source_error(value: Any) -> str | None:
    """The Excel error (``"#N/A"``…) or xlcredit error text a source cell shows, else None."""
    if isinstance(value, str):
        text = value.strip()
        if text in EXCEL_ERRORS or text.startswith(PREFIX):
            return text
    return None


def _check_source(value: Any, name: str) -> None:
    shown = source_error(value)
    if shown is not None:
        raise XlcError(name, f"source cell shows {shown}", value)


def _flat(value: Any) -> list[Any] | None:
    """The cells of a range (list of rows, flat list, tuple, numpy array) in order; None for a single value."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return None
    cells: list[Any] = []
    for row in value:
        if isinstance(row, (list, tuple)):
            cells.extend(row)
        else:
            cells.append(row)
    return cells


def one(value: Any, name: str) -> Any:
    """A single cell's value: a one-cell range is unwrapped, a longer range refused, an Excel error reported."""
    cells = _flat(value)
    if cells is not None:
        if not cells:
            raise XlcError(name, "is an empty range", value)
        if len(cells) > 1:
            raise XlcError(name, f"takes one cell, not a range of {len(cells)} cells", None)
        value = cells[0]
    _check_source(value, name)
    return value


def optional(value: Any, name: str, default: Any) -> Any:
    """An optional argument: left out or an empty cell → ``default``."""
    value = one(value, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    return value


def date_in(value: Any, name: str) -> dt.date:
    """A date from a date cell, an Excel serial number or date text, by the one date rule
    (:func:`xlcredit.core.coerce.to_date`); :class:`XlcError` naming ``name`` otherwise."""
    return to_date(one(value, name), name)


def value_in(value: Any, name: str) -> Any:
    """Any other argument (number or text): one cell, Excel errors reported; the core checks the rest."""
    return one(value, name)


def customer_id(value: Any) -> str:
    """The customer id in a cell: text as typed, a whole number without ``.0`` (``1001.0`` → ``"1001"``)."""
    return customer_key(one(value, "customer"))


# =========================================================================== cells out
def to_cell(value: Any) -> Any:
    """A core result as a cell value: Decimal → float (already rounded by the core); int, text and dates kept."""
    if value is None:
        raise XlcError("internal", "the calculation gave no result", None)
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return money_out(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise XlcError("result", f"is too large for an Excel cell (got {value})", value)
    return value


def money_out(value: Any) -> float:
    """Money for a cell: the exact, rounded Decimal as a float (Excel's cell type)."""
    if value is None:
        raise XlcError("internal", "the calculation gave no amount", None)
    number = float(value)
    if not math.isfinite(number):
        raise XlcError("result", f"is too large for an Excel cell (got {describe(value)})", value)
    return number


# =========================================================================== columns in, column out
def spread(names: Sequence[str], values: Sequence[Any]) -> tuple[list[list[Any]], bool]:
    """The rows a formula that takes columns computes, and whether its result is a column.

    All single cells: one row, and the result is a single cell. Any argument a range: one row per cell of
    the range (ranges must be one column or one row and all of the same length; single cells are used on
    every row), and the result is a column — a list of one-item rows, which dynamic-array Excel spills
    downwards, where a bad row shows its own ``#XLC!`` text while the other rows are computed.
    """
    columns: list[list[Any] | None] = []
    length, first = 1, ""
    for name, value in zip(names, values, strict=True):
        cells = _column(value, name)
        if cells is not None and len(cells) == 1:
            cells = None  # a one-cell range is a single cell
        columns.append(cells)
        if cells is not None:
            if length == 1:
                length, first = len(cells), name
            elif len(cells) != length:
                raise XlcError(name, f"has {len(cells)} rows but {first} has {length}: give one cell or "
                               "ranges of the same length", None)
    scalars = [one(v, n) if c is None else None for n, v, c in zip(names, values, columns, strict=True)]
    if all(c is None for c in columns):
        return [scalars], False
    return [[scalars[k] if c is None else c[i] for k, c in enumerate(columns)] for i in range(length)], True


def _column(value: Any, name: str) -> list[Any] | None:
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return None
    if not value:
        raise XlcError(name, "is an empty range", None)
    if all(isinstance(row, (list, tuple)) for row in value):
        widths = {len(row) for row in value}
        if widths == {1}:
            return [row[0] for row in value]
        if len(value) == 1 and value[0]:
            return list(value[0])
        if not max(widths):
            raise XlcError(name, "is an empty range", None)
        raise XlcError(name, f"must be one column of cells (got {len(value)} rows × {max(widths)} columns)", None)
    if any(isinstance(row, (list, tuple)) for row in value):
        raise XlcError(name, "mixes single cells and rows", None)
    return list(value)


# =========================================================================== the credit database
DB_ENV = "XLCREDIT_DB"
CONF_KEY = "XLCREDIT_DB"
FALLBACK_NAME = "credit.sqlite"
#: Seconds between re-reads of the refresh stamp (and of where the database is) even when nothing changed.
RECHECK_SECONDS = 1.0


class MissingDatabase(XlcError):
    """No credit database at the place the settings point to (a Refresh creates it)."""


@dataclass(frozen=True)
class DatabaseLocation:
    """Where the credit database is: its SQLAlchemy ``url``, the SQLite ``path`` (None for a database server)
    and ``source`` — which setting pointed there, for messages."""

    url: str
    path: Path | None
    source: str

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else self.source


def caller_book() -> Any | None:
    """The workbook whose formula is being calculated (``xw.Book.caller()``), or None outside Excel.

    Asked of Excel once per formula call (the remote-mode settings and the database location both need it)."""
    scope = _CALL.get()
    if scope is not None and "book" in scope:
        return scope["book"]
    try:
        import xlwings as xw

        book = xw.Book.caller()
    except Exception:  # no Excel (Linux, tests, a Python call): there is no calling workbook
        book = None
    if scope is not None:
        scope["book"] = book
    return book


def book_fullname(book: Any) -> str:
    """Full path of a workbook ("" when it cannot be read)."""
    try:
        return str(book.fullname)
    except Exception:
        return ""


def workbook_config(book: Any) -> dict[str, Any]:
    """The workbook's ``xlwings.conf`` sheet as ``{key: value}`` (empty when it has none)."""
    try:
        from xlwings.utils import read_config_sheet

        return dict(read_config_sheet(book) or {})
    except Exception:
        return {}


_LOCATED: dict[tuple[str, str], tuple[float, DatabaseLocation]] = {}


def locate_database() -> DatabaseLocation:
    """Where the customer-level formulas read from (see the module docstring); cached for a second."""
    env = os.environ.get(DB_ENV, "").strip()
    book = None
    if env:
        key = ("env", env)
    else:
        book = caller_book()
        key = ("book", book_fullname(book) if book is not None else "")
    now = time.monotonic()
    hit = _LOCATED.get(key)
    if hit is not None and now - hit[0] < RECHECK_SECONDS:
        return hit[1]
    if env:
        found = _location(env, DB_ENV, None)
    else:
        found = _book_location(book, key[1])
    _LOCATED[key] = (now, found)
    return found


def _book_location(book: Any, fullname: str) -> DatabaseLocation:
    # a workbook never saved has no folder, nor has one opened from OneDrive/SharePoint (a web address)
    workbook = Path(fullname) if fullname and "://" not in fullname else None
    folder = workbook.parent if workbook is not None and workbook.is_absolute() else None
    if book is not None:
        conf = workbook_config(book)
        setting = next((v for k, v in conf.items() if str(k).strip().upper() == CONF_KEY), None)
        if setting is not None and str(setting).strip():
            return _location(str(setting).strip(), "xlwings.conf XLCREDIT_DB", folder)
    if workbook is None or folder is None:
        return _location(str(Path.cwd() / FALLBACK_NAME), "the current folder", None)
    from xlcredit.io.store import store_path_for_workbook

    candidates = [store_path_for_workbook(workbook), folder / FALLBACK_NAME]
    chosen = next((p for p in candidates if p.is_file()), candidates[0])
    return _location(str(chosen), "beside the workbook", None)


def _location(text: str, source: str, base: Path | None) -> DatabaseLocation:
    from sqlalchemy.engine import make_url

    from xlcredit.io.store import resolve_store_url

    if "://" not in text:
        p = Path(text).expanduser()
        if base is not None and not p.is_absolute():
            p = base / p
        text = str(p)
    try:
        url = resolve_store_url(text)
    except XlcError as exc:
        raise XlcError("database", f"{source}: {exc.problem}", text) from None
    parsed = make_url(url)
    path = None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
    return DatabaseLocation(url, path, source)


_UNSET: Any = object()


@dataclass
class OpenDatabase:
    """One open credit database and the snapshot of results the formulas answer from."""

    location: DatabaseLocation
    store: Any
    identity: tuple[int, int] | None
    signature: tuple[Any, ...] | None = None
    checked: float = float("-inf")
    stamp: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    rows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    policy_cache: Any = _UNSET

    def policy(self) -> Policy | None:
        """The policy stored in the database (None when none was stored), read once per change of the file."""
        if self.policy_cache is _UNSET:
            self.policy_cache = self.store.policy(None)
        return self.policy_cache


_OPEN: dict[str, OpenDatabase] = {}
_OPEN_LOCK = threading.Lock()


def _file_signature(path: Path) -> tuple[Any, ...] | None:
    """(device, inode, mtime, size) of the database file and of its WAL journal; None when the file is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    try:
        wal = os.stat(f"{path}-wal")
        journal: tuple[int, int] = (wal.st_mtime_ns, wal.st_size)
    except OSError:
        journal = (0, -1)
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, *journal)


def open_database() -> OpenDatabase:
    """The credit database the formulas read, open and up to date (see the module docstring).

    Raises :class:`MissingDatabase` when there is none yet, ``XlcError("database", …)`` when it cannot be read.
    """
    if _SESSION is not None:   # xlwings Lite: the results the Refresh script left in this workbook session
        return _SESSION.open()
    loc = locate_database()
    entry = _OPEN.get(loc.url)
    signature = None
    if loc.path is not None:
        signature = _file_signature(loc.path)
        if signature is None:
            raise MissingDatabase("database", f"no credit database at {loc.path} ({loc.source}): run Refresh first",
                                  str(loc.path))
        if entry is not None and entry.identity != signature[:2]:  # the file was replaced: open the new one
            with _OPEN_LOCK:
                _OPEN.pop(loc.url, None)
            entry.store.close()
            entry = None
    now = time.monotonic()
    if entry is not None and signature == entry.signature and now - entry.checked < RECHECK_SECONDS:
        return entry
    with _OPEN_LOCK:
        entry = _OPEN.get(loc.url)
        if entry is None:
            entry = OpenDatabase(loc, _open_store(loc), None if signature is None else signature[:2])
            _OPEN[loc.url] = entry
        try:
            info, rows = entry.store.results_view()
        except XlcError as exc:
            raise XlcError("database", f"{loc.where}: {exc.problem}", loc.where) from None
        except Exception as exc:
            raise XlcError("database", f"cannot be read ({loc.where}): {_short(exc)}", loc.where) from None
        entry.info, entry.rows = info, rows
        entry.stamp = info.get("stamp")
        entry.policy_cache = _UNSET
        entry.signature, entry.checked = signature, time.monotonic()
        return entry


def _open_store(loc: DatabaseLocation) -> Any:
    from xlcredit.io.store import CreditStore

    try:
        # stamp_ttl=0: the store asks for the stamp whenever asked for results; *we* decide when to ask
        return CreditStore(loc.url, stamp_ttl=0 if loc.path is not None else RECHECK_SECONDS)
    except XlcError as exc:
        raise XlcError("database", f"{loc.where}: {exc.problem}", loc.where) from None
    except Exception as exc:
        raise XlcError("database", f"cannot be opened ({loc.where}): {_short(exc)}", loc.where) from None


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = " ".join(str(orig if orig is not None else exc).split())
    return f"{type(orig or exc).__name__}: {text[:150]}"


def close_databases() -> None:
    """Close every database the formulas opened (tests; a new workbook session)."""
    with _OPEN_LOCK:
        entries = list(_OPEN.values())
        _OPEN.clear()
        _LOCATED.clear()
    for entry in entries:
        entry.store.close()


# =========================================================================== xlwings Lite: the workbook session
@dataclass
class WorkbookSession:
    """The credit results held by the workbook's own Python session instead of a database file (xlwings Lite:
    Python runs in the browser, with no files and no desktop add-in). The Refresh script puts its credit store
    (an in-memory SQLite database) here; the formulas then read it exactly as they read a database file."""

    where: str = "this workbook"
    store: Any = None

    def open(self) -> OpenDatabase:
        if self.store is None:
            raise MissingDatabase("database", f"{self.where} holds no credit results yet: run the Refresh Ageing "
                                  "script first", self.where)
        entry = OpenDatabase(DatabaseLocation(self.store.url, None, self.where), self.store, None)
        entry.info, entry.rows = self.store.results_view()
        entry.stamp = entry.info.get("stamp")
        return entry


_SESSION: WorkbookSession | None = None


def use_session(session: WorkbookSession | None) -> None:
    """Answer the formulas from ``session`` (xlwings Lite) instead of a credit database and the desktop add-in's
    settings; None goes back to the desktop behaviour."""
    global _SESSION
    _SESSION = session


def current_session() -> WorkbookSession | None:
    """The workbook session the formulas answer from (xlwings Lite), or None on the desktop."""
    return _SESSION


_REMOTE: dict[str, tuple[float, Any]] = {}


def remote_service() -> _remote.Remote | None:
    """The team service the customer-level formulas ask (UDF remote mode), or None to read the local database.

    ``XLCREDIT_SERVER_URL`` in the environment wins; otherwise the calling workbook's xlwings.conf sheet
    (looked at once a second)."""
    if _SESSION is not None:   # xlwings Lite answers from the workbook session (the service is not asked)
        return None
    if os.environ.get("XLCREDIT_SERVER_URL", "").strip():
        return _remote.remote_settings(None)
    book = caller_book()
    if book is None:
        return None
    name, now = book_fullname(book), time.monotonic()
    hit = _REMOTE.get(name)
    if hit is None or now - hit[0] >= RECHECK_SECONDS:
        hit = (now, _remote.remote_settings(workbook_config(book)))
        _REMOTE[name] = hit
    return hit[1]


def customer_result(customer: Any) -> tuple[str, Mapping[str, Any]]:
    """The customer's id and credit result from the last Refresh (read-only)."""
    key = customer_id(customer)
    remote = remote_service()
    if remote is not None:  # UDF remote mode: the team service's results (udfs._remote)
        rows = _remote.remote_results(remote)
        row = rows.get(key)
        if row is None:
            if not rows:
                raise XlcError("database", f"the service at {remote.url} holds no credit results yet: refresh "
                               "its credit database first", remote.url)
            raise XlcError("customer", f"unknown customer {key!r} (run Refresh?)", customer)
        return key, row
    db = open_database()
    row = db.rows.get(key)
    if row is None:
        if not db.rows:
            raise XlcError("database", f"{db.location.where} holds no credit results yet: run Refresh first",
                           db.location.where)
        raise XlcError("customer", f"unknown customer {key!r} (run Refresh?)", customer)
    return key, row


def results_and_policy() -> tuple[Mapping[str, Mapping[str, Any]], Policy]:
    """Every customer's credit result and the policy the last Refresh computed them under (ORDER_CHECK needs
    both): in UDF remote mode the service's results and policy (one ``GET /v1/results`` and one ``GET
    /v1/policy`` per recalculation, each re-validated with its ETag), else the credit database and the policy
    stored in it (the shipped defaults when it holds none)."""
    remote = remote_service()
    if remote is not None:
        rows = _remote.remote_results(remote)
        if not rows:
            raise XlcError("database", f"the service at {remote.url} holds no credit results yet: refresh "
                           "its credit database first", remote.url)
        return rows, _remote.remote_policy(remote)
    db = open_database()
    if not db.rows:
        raise XlcError("database", f"{db.location.where} holds no credit results yet: run Refresh first",
                       db.location.where)
    stored = db.policy()
    return db.rows, shipped_policy() if stored is None else stored


def result_field(customer: Any, column: str, what: str) -> Any:
    """One figure of the customer's credit result; an explained error when the Refresh left it blank."""
    key, row = customer_result(customer)
    value = row.get(column)
    if value is None:
        raise XlcError("customer", f"{key!r} has no {what} in the credit database (see the Refresh problems)", key)
    return value


@functools.lru_cache(maxsize=1)
def shipped_policy() -> Policy:
    """The shipped default policy (``xlcredit/data/policy.toml``), read once."""
    from xlcredit.io.policy_file import load_policy

    return load_policy()


def policy_in_force() -> Policy:
    """The policy the pure formulas use: the one stored in the credit database, else the shipped defaults."""
    try:
        db = open_database()
    except MissingDatabase:
        return shipped_policy()
    stored = db.policy()
    return shipped_policy() if stored is None else stored


# =========================================================================== the score explanation
#: Label of the last row of CREDIT_EXPLAIN (as ``ScoreResult.as_rows()`` writes it).
TOTAL_LABEL = "Total score"


def explain_table(key: str, row: Mapping[str, Any]) -> list[list[Any]]:
    """The CREDIT_EXPLAIN table from a stored result: header, one row per factor, then the total row.

    The Refresh stores the explanation as JSON: either the scorecard's factor lines (objects with
    ``label``/``factor``, ``value``, ``bin``, ``points``), an object holding them under ``factors``, or the
    table rows of ``ScoreResult.as_rows()``. All three give the same table.
    """
    stored = row.get("explain")
    if isinstance(stored, Mapping):
        stored = stored.get("factors")
    if not stored or not isinstance(stored, (list, tuple)):
        raise XlcError("customer", f"{key!r} has no score explanation in the credit database (run Refresh?)", key)
    body: list[list[Any]] = []
    for line in stored:
        if isinstance(line, Mapping):
            body.append([_text(line.get("label") or line.get("factor")), _text(line.get("value")),
                         _text(line.get("bin")), _points(line.get("points"))])
        elif isinstance(line, (list, tuple)) and len(line) == 4:
            body.append([_text(line[0]), _text(line[1]), _text(line[2]), _points(line[3])])
        else:
            raise XlcError("customer", f"{key!r} has a score explanation the formulas cannot read "
                           f"(got {describe(line)})", key)
    if body and [str(c).strip().lower() for c in body[0]] == [h.lower() for h in EXPLAIN_HEADER]:
        body = body[1:]
    if not body or body[-1][0] != TOTAL_LABEL:
        grade = row.get("grade")
        body.append([TOTAL_LABEL, "", f"Grade {grade}" if grade else "", _points(row.get("score"))])
    return [list(EXPLAIN_HEADER), *body]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _points(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        return value
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return str(value)
    return int(number) if number == number.to_integral_value() else float(number)
