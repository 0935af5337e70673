"""xlcredit in xlwings Lite (Excel on the web, on the Mac and on Windows, Python running in Pyodide in the add-in).

One catalogue: every Lite formula IS the desktop formula of :mod:`udfs.functions` (same function object underneath,
so the same name, argument names and order, docstring, ``#XLC!`` texts and answers), declared again with xlwings
Lite's own ``func``/``arg`` decorators by :func:`register`. The argument help texts are read from the desktop's
``@xw.arg(..., doc=...)`` lines, so they cannot drift either.

What differs is where the answers come from (:class:`udfs._convert.WorkbookSession`):

* the customer-level formulas (CREDIT_LIMIT, CREDIT_SCORE … ORDER_CHECK) read, with a team service set
  (``XLCREDIT_SERVER_URL``), that service's results (:mod:`xlcredit_lite.service`); else the results of the last
  **Refresh Ageing script run in this workbook session** — the same result rows the desktop Refresh writes to the
  credit database, held in an in-memory SQLite credit store inside Pyodide (Lite has no files; the script needs
  pandas, numpy and SQLAlchemy in the workbook's requirements.txt). Until the script has run they show
  ``#XLC! database: this workbook holds no credit results yet: run the Refresh Ageing script first``; after Excel
  is closed the script must run again;
* error cells: Lite hands an error cell over as Office.js' error value; with ``err_to_str`` (declared on every
  argument) and :func:`excel_value_in` it reaches the desktop formula as "#N/A", which answers ``#XLC!
  <argument>: source cell shows #N/A`` as on the desktop;
* the pure formulas (DAYS_OVERDUE … DSO) compute in the browser; AGEING_BUCKET, SCORE_OF and GRADE_OF follow
  the policy of the last Refresh in the session (the workbook's Policy sheet over the shipped defaults), else the
  shipped defaults — as the desktop follows the policy stored in the credit database;
* dates: Lite hands date cells over as Excel serial numbers; they are read by the same one date rule as the
  desktop (:func:`udfs._convert.date_in`), so the answers are the same.

Scripts (buttons): :func:`refresh_ageing`, :func:`review_portfolio` and :func:`worklist` run the desktop jobs
(:mod:`xlcredit.jobs.refresh`, :mod:`xlcredit.jobs.review`, :mod:`xlcredit.jobs.worklist`, in the wheel) over the
open workbook through :class:`LiteBook`, the desktop adapter :class:`xlcredit.excel.XlwingsBook` (whose calls stay
inside the part of xlwings' ``Book`` that Lite has) with the session's credit store instead of a file. Pyodide has no
pyarrow; the review's bulk ageing then reads ids and amounts through pandas alone (:mod:`xlcredit.core.fast.labels`).
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import functools
import inspect
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from udfs import _convert
from udfs import functions as desktop

#: The formulas, by their Python names (``credit_limit`` is ``=CREDIT_LIMIT``): the desktop's whole catalogue.
CATALOGUE: tuple[str, ...] = tuple(desktop.__all__)
#: The scripts (buttons) Lite shows, by their Python names.
SCRIPTS: tuple[str, ...] = ("refresh_ageing", "review_portfolio", "worklist")
#: Desktop ``@xw.arg`` options that Lite is given too. ``err_to_str``: Lite's custom functions are registered with
#: ``allowErrorForDataTypeAny``, so an error cell reaches Python as Office.js' error value, which xlwings' converter
#: turns into its text ("#N/A") only with ``err_to_str`` (without it: None, an empty cell). ``dates`` stays a
#: desktop converter: Lite passes dates as serial numbers, read by the same one date rule.
LITE_ARG_OPTIONS = ("doc", "ndim", "err_to_str")
#: Office.js error types (``{"type": "Error", "errorType": …}``) and the text Excel shows for them, as xlwings maps
#: them (xlwings/pro/_xlofficejs.py, ``errorstr_to_errortype``).
EXCEL_ERROR_TYPES = {"Div0": "#DIV/0!", "NotAvailable": "#N/A", "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!",
                     "Ref": "#REF!", "Value": "#VALUE!", "Spill": "#SPILL!", "Calc": "#CALC!",
                     "GettingData": "#GETTING_DATA", "Busy": "#BUSY!", "Field": "#FIELD!", "Connect": "#CONNECT!",
                     "Blocked": "#BLOCKED!", "Unknown": "#UNKNOWN!"}


@functools.lru_cache(maxsize=1)
def desktop_arg_options() -> dict[str, dict[str, dict[str, Any]]]:
    """``{function: {argument: {"doc": …, "ndim": …}}}`` from the ``@xw.arg`` lines of :mod:`udfs.functions`.

    On Linux and in Pyodide xlwings' desktop decorators keep nothing, so the source is read (the help texts are
    expressions over the module's constants, evaluated in the module's namespace)."""
    tree = ast.parse(inspect.getsource(desktop))
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name not in CATALOGUE:
            continue
        per_arg: dict[str, dict[str, Any]] = {}
        for deco in node.decorator_list:
            if not (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr == "arg"):
                continue
            name = ast.literal_eval(deco.args[0])
            options: dict[str, Any] = {}
            for kw in deco.keywords:
                if kw.arg is None:   # **CELL, **COLUMN …: the options dicts of the module
                    options.update(eval(compile(ast.Expression(kw.value), "<udfs.functions>", "eval"), vars(desktop)))
                else:
                    options[kw.arg] = eval(compile(ast.Expression(kw.value), "<udfs.functions>", "eval"),
                                           vars(desktop))
            per_arg[name] = {k: v for k, v in options.items() if k in LITE_ARG_OPTIONS}
        found[node.name] = per_arg
    return found


def excel_value_in(value: Any) -> Any:
    """A cell value as Lite hands it over, with an Excel error value as the text Excel shows ("#N/A"), which the
    desktop formulas answer as ``#XLC! <argument>: source cell shows #N/A`` — in a range too.

    With ``err_to_str`` xlwings already gives the text; an Office.js error object (``{"type": "Error",
    "basicValue": "#N/A", "errorType": "NotAvailable"}``) that reaches the formula unconverted is read here."""
    if isinstance(value, dict) and value.get("type") == "Error":
        text = value.get("basicValue")
        if isinstance(text, str) and text.startswith("#"):
            return text
        return EXCEL_ERROR_TYPES.get(str(value.get("errorType")), "#VALUE!")
    if isinstance(value, list | tuple):
        return [excel_value_in(v) for v in value]
    return value


def lite_formula(name: str, func: Callable[..., Any], arg: Callable[..., Any] | None = None,
                 prepare: Callable[[], Awaitable[Any]] | None = None) -> Callable[..., Any]:
    """The desktop formula ``name`` declared with xlwings Lite's ``func`` (and ``arg`` for the help texts).

    ``prepare``: awaited before each call (the formula is then an ``async def``, which Lite awaits): it makes the
    formulas answer from the team service (:func:`xlcredit_lite.service.prepare`); a failure is the cell's
    ``#XLC!`` text."""
    original = getattr(desktop, name)

    if prepare is None:
        def formula(*args: Any) -> Any:
            return original(*(excel_value_in(a) for a in args))
    else:
        async def formula(*args: Any) -> Any:
            try:
                await prepare()
            except Exception as exc:   # the service cannot be asked: the cell says why
                return _convert.error_text(exc)
            return original(*(excel_value_in(a) for a in args))

    # updated=(): the desktop function's own attributes (a decorator's metadata) are not shared with the Lite one
    formula = functools.wraps(original, updated=())(formula)
    if arg is not None:
        options = desktop_arg_options().get(name, {})
        for arg_name in reversed(list(inspect.signature(original).parameters)):
            if options.get(arg_name):
                formula = arg(arg_name, **options[arg_name])(formula)
    return func(category=desktop.CATEGORY)(formula)


def register(func: Callable[..., Any], arg: Callable[..., Any] | None = None, *,
             prepare: Callable[[], Awaitable[Any]] | None = None,
             prepared: Collection[str] = ()) -> dict[str, Callable[..., Any]]:
    """Every formula of the catalogue declared with Lite's decorators, by name (for a module's globals), and the
    formulas switched to answer from this workbook session (:func:`start`). The formulas named in ``prepared``
    await ``prepare`` first (see :func:`lite_formula`)."""
    start()
    return {name: lite_formula(name, func, arg, prepare if name in prepared else None) for name in CATALOGUE}


# =========================================================================== the workbook session
_SESSION = _convert.WorkbookSession()


def start() -> _convert.WorkbookSession:
    """Make the formulas answer from this workbook session (called when Lite loads ``main.py``)."""
    _convert.use_session(_SESSION)
    return _SESSION


def session_store() -> Any:
    """The session's credit store: an in-memory SQLite database, created once (Pyodide has no files to keep)."""
    if _SESSION.store is None:
        from xlcredit.io.store import CreditStore

        _SESSION.store = CreditStore("sqlite://", stamp_ttl=0)
    return _SESSION.store


class LiteBook:
    """The workbook open in xlwings Lite as a :class:`xlcredit.jobs.book.Book`: tables are read and output sheets
    written exactly as the desktop adapter does (:class:`xlcredit.excel.XlwingsBook`, whose range/table calls
    Lite's ``Book`` also has); the credit store is the session's, not a file beside the workbook."""

    def __init__(self, book: Any) -> None:
        from xlcredit.excel import XlwingsBook

        self._desktop = XlwingsBook(book)
        self.book = book

    @property
    def label(self) -> str:
        return self._desktop.label

    def read_tables(self) -> Any:
        return self._desktop.read_tables()

    def read_policy_rows(self) -> list[tuple[str, Any]]:
        return self._desktop.read_policy_rows()

    def write_outputs(self, outputs: Any, cells: Any) -> None:
        self._desktop.write_outputs(outputs, cells)

    def default_store(self) -> str:
        return str(session_store().url)


#: What the scripts import beyond the wheel and the standard library: Pyodide ships them; Lite installs them from
#: the lines of requirements.txt (``lite/requirements.txt`` has them).
SCRIPT_PACKAGES: tuple[str, ...] = ("pandas", "numpy", "sqlalchemy")


def engine_missing(script: str, exc: ModuleNotFoundError) -> str:
    """What a script says when the workbook's Python lacks a module it needs: which one, and what to do."""
    missing = (exc.name or "").split(".")[0]
    if missing in SCRIPT_PACKAGES:
        return (f"{script} needs {missing}, which this workbook's Python does not have: add the lines pandas, numpy "
                "and sqlalchemy to the requirements.txt tab (see lite/requirements.txt) and restart xlwings Lite. "
                "The formulas work without them.")
    return (f"{script} needs {exc.name}, which xlwings Lite's Python does not have. The formulas and the Refresh "
            "Ageing, Review Portfolio and Worklist scripts work here; the team service (XLCREDIT_SERVER_URL, "
            "XLCREDIT_API_KEY) has the rest.")


def _tell(book: Any, message: str | None) -> None:
    """Show the script's message in a message box where Lite offers one (and print it to Lite's output pane)."""
    if not message:
        return
    print(message)
    with contextlib.suppress(Exception):   # no alert in this host: the output pane has it
        book.app.alert(message, title="xlcredit")


def _script(book: Any, name: str, run: Callable[[], str]) -> str:
    """Run a script's job and show what it says: a missing engine and every failure in plain words, never a
    traceback."""
    start()
    try:
        message = run()
    except ModuleNotFoundError as exc:
        message = engine_missing(name, exc)
    except Exception as exc:  # the user sees every failure in plain words
        message = _convert.error_text(exc)
    _tell(book, message)
    return message


def refresh_ageing(book: Any, as_of: dt.date | None = None) -> str:
    """Refresh Ageing script: the desktop Refresh job over the open workbook (Ageing sheet and Dashboard written,
    results kept in the session for the customer-level formulas). Returns (and shows) what it did."""
    def run() -> str:
        from xlcredit.excel import _problem_lines
        from xlcredit.jobs.refresh import refresh

        outcome = refresh(LiteBook(book), as_of or dt.date.today(), store=session_store(), who="xlwings Lite")
        return " ".join([f"Refreshed {len(outcome.portfolio.customers)} customers.",
                         *_problem_lines(outcome.problems, 15)])

    return _script(book, "Refresh Ageing", run)


def review_portfolio(book: Any, as_of: dt.date | None = None) -> str:
    """Review Portfolio script: the desktop Review job over the open workbook (Review sheet and the Dashboard's
    forecast written; reviews recorded in the session's credit store). Returns (and shows) what it did."""
    def run() -> str:
        from xlcredit.excel import _problem_lines
        from xlcredit.jobs.review import review

        outcome = review(LiteBook(book), as_of or dt.date.today(), store=session_store())
        result = outcome.review
        message = (f"Reviewed {len(result.cases)} customers: {len(result.due)} due for review. "
                   f"Provision (IFRS 9): {result.provision.total_ecl:,.2f} {result.currency}.")
        missed = sum(len(s.missed) for s in result.insurance.values())
        if missed:
            message += f"\nINSURER DEADLINES MISSED: {missed} (cover at risk) — see the Review sheet."
        return "\n".join([message, *_problem_lines(outcome.problems, 10)])

    return _script(book, "Review Portfolio", run)


def worklist(book: Any, as_of: dt.date | None = None) -> str:
    """Worklist script: the desktop Worklist job over the open workbook (the Worklist sheet ranked from the ledger,
    the Promises, Disputes, Plans and Contacts sheets and the session's records). Returns (and shows) who comes
    first and why, as the desktop button does."""
    def run() -> str:
        from xlcredit.excel import worklist_message
        from xlcredit.jobs.worklist import worklist as run_worklist

        return worklist_message(run_worklist(LiteBook(book), as_of or dt.date.today(), store=session_store(),
                                             who="xlwings Lite"))

    return _script(book, "Worklist", run)


__all__ = ["CATALOGUE", "EXCEL_ERROR_TYPES", "SCRIPTS", "SCRIPT_PACKAGES", "LiteBook", "desktop_arg_options",
           "engine_missing", "excel_value_in", "lite_formula", "refresh_ageing", "register", "review_portfolio",
           "session_store", "start", "worklist"]
