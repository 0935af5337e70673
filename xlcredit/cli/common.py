"""Glue shared by every ``xlcredit`` command: options, policy, ``--as-of``, input tables, problems, ``--out``.

A command body should read like the job it does: ``with user_errors():`` around it turns any
:class:`XlcError` into one red line on stderr and exit code 2; :func:`load_customers` reads the
customers table (the bundled sample when no file is given); :func:`print_problems` lists the rows
that could not be used; :func:`write_out` writes ``--out``; :func:`finish` prints the summary line.

Exit codes: 0 = done (even when some rows had problems — they are listed), 1 = nothing could be
processed (every row had a problem), 2 = bad input on the command line (file, date, policy).

The clock is read here and only here (:func:`today`): the core never reads it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.ledger import RowProblem
from xlcredit.core.money import minor_units
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.io.oserrors import os_error_words
from xlcredit.io.tables import CustomerTable, read_customers, write_table

EXIT_OK, EXIT_NOTHING_DONE, EXIT_BAD_INPUT = 0, 1, 2


# --------------------------------------------------------------------------- help that reads well
def unwrap_paragraphs(text: str) -> str:
    """Join the hard line breaks inside each paragraph of a docstring (paragraphs are separated by a blank
    line), so the terminal wraps the help to its own width. A paragraph starting with ``\\b`` (click's
    "keep as is" mark) and lines that start a list item (``*``, ``-``, ``•``) keep their breaks."""
    out = []
    for para in text.split("\n\n"):
        if para.startswith("\b"):
            out.append(para)
            continue
        lines: list[str] = []
        for line in para.split("\n"):
            stripped = line.strip()
            if lines and stripped and not stripped.startswith(("* ", "- ", "• ")):
                lines[-1] = f"{lines[-1]} {stripped}"
            else:
                lines.append(line.rstrip())
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _readable_help() -> None:
    """Typer's help, as users expect it: paragraphs rewrapped to the terminal (Typer keeps a docstring's hard
    line breaks after the first paragraph), and boolean flags shown as ``--dry-run``, not ``--dry-run <bool>``."""
    from typer import rich_utils
    from typer.core import TyperOption

    if getattr(rich_utils, "_xlc_readable", False):
        return
    fix_linebreaks = rich_utils._fix_linebreaks
    display_type = TyperOption.display_type_rich

    def _fix(paragraphs: list[str], markup_mode: Any) -> str:
        return fix_linebreaks([unwrap_paragraphs(p) for p in paragraphs], markup_mode)

    def _display_type(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else display_type(self, ctx)

    rich_utils._fix_linebreaks = _fix  # type: ignore[assignment]
    TyperOption.display_type_rich = _display_type  # type: ignore[method-assign]
    rich_utils._xlc_readable = True  # type: ignore[attr-defined]


_readable_help()

# Options shared by the commands (Annotated aliases keep each signature short).
CustomersFile = Annotated[Path | None, typer.Argument(
    help="Customers table (.csv, .xlsx, .xlsm, .parquet); default: the bundled sample.", show_default=False)]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="Date of the run, YYYY-MM-DD (default: 2026-10-31 for the sample, today for your file).")]
Out = Annotated[Path | None, typer.Option("--out", help="Also write the result to this .csv or .xlsx file.")]
Sheet = Annotated[str | None, typer.Option("--sheet", help="Worksheet to read in a workbook (default: the first).")]
LedgerAsOf = Annotated[str | None, typer.Option(
    "--as-of", help="Date of the run, YYYY-MM-DD (default: the newest document date in the ledger; 2026-10-31 for the "
                    "sample).")]


# --------------------------------------------------------------------------- consoles and errors
def console() -> Console:
    """Console for results (stdout); made per call so the terminal width and redirection are current."""
    return Console(highlight=False)


def err_console() -> Console:
    """Console for problems, progress and errors (stderr)."""
    return Console(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print one red error line on stderr and stop with ``code`` (no traceback)."""
    err_console().print(Text(f"error: {message}", style="bold red"), soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn bad input (:class:`XlcError`) and a file the system refuses (:class:`OSError`: read-only folder, full
    disk, file locked, missing folder — named with its path) anywhere in a command into :func:`fail` (exit 2)."""
    try:
        yield
    except XlcError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(os_error_words(exc))


def today() -> dt.date:
    """The clock — read by the command line only, never by the core."""
    return dt.date.today()


# --------------------------------------------------------------------------- global state
@dataclass
class CliState:
    """What the global options set (``ctx.obj``): the policy file, loaded once on first use."""

    policy_path: Path | None = None
    _policy: Policy | None = field(default=None, repr=False)

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            from xlcredit.io.policy_file import load_policy

            self._policy = load_policy(self.policy_path)
        return self._policy


def cli_state(ctx: typer.Context) -> CliState:
    """The global options of this run (``ctx.obj``)."""
    state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
    ctx.obj = state
    return state


def base_policy(ctx: typer.Context) -> Policy | None:
    """``--policy FILE`` when given, else None: a workbook's Policy sheet then applies over the shipped defaults."""
    state = cli_state(ctx)
    return state.policy if state.policy_path is not None else None


def get_policy(ctx: typer.Context) -> Policy:
    """The policy of this run (``--policy FILE`` over the defaults, or the shipped policy)."""
    state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
    ctx.obj = state
    return state.policy


def parse_as_of(text: str | None, default: dt.date | None = None) -> dt.date | None:
    """``--as-of``: ``today`` or a date by the one date rule (:func:`xlcredit.core.coerce.to_date`: ISO,
    an unambiguous dd/mm/yyyy, …); ``default`` when not given."""
    if text is None or not text.strip():
        return default
    if text.strip().lower() == "today":
        return today()
    return to_date(text, "--as-of")


# --------------------------------------------------------------------------- input tables
def open_book(source: Path | None, *, field: str = "source", register: Path | None = None) -> Any:
    """The book a command reads: the bundled sample (None), a folder of table files, or a workbook file.

    ``register``: for a folder or the sample, the credit database the job keeps (the letters' register);
    a workbook keeps its own beside it.
    """
    from xlcredit.jobs.book import FolderBook, WorkbookFile

    if source is None or source.is_dir():
        return FolderBook(source, register)
    if source.is_file():
        return WorkbookFile(source)
    raise XlcError(field, f"file or folder not found: {source}", str(source))


@dataclass(frozen=True)
class CustomerBook:
    """The customers of one run and where they came from."""

    table: CustomerTable
    source: str
    is_sample: bool
    as_of_default: dt.date


def load_customers(path: Path | None, policy: Policy, *, sheet: str | None = None) -> CustomerBook:
    """Read the customers file, or the bundled sample when ``path`` is None.

    The default as-of date is the sample's own date (2026-10-31) for the sample and today for a
    user's file (``--as-of`` overrides both).
    """
    if path is None:
        from xlcredit.data.sample import SAMPLE_AS_OF, sample_path

        sample = sample_path("customers")
        table = read_customers(sample, default_currency=policy.company.currency)
        return CustomerBook(table, f"bundled sample ({sample.name})", True, SAMPLE_AS_OF)
    table = read_customers(path, sheet=sheet, default_currency=policy.company.currency)
    return CustomerBook(table, str(path), False, today())


@dataclass(frozen=True)
class Run:
    """What every customer command starts from: the policy, the customers and the as-of date."""

    policy: Policy
    book: CustomerBook
    as_of: dt.date


def start_run(ctx: typer.Context, customers_file: Path | None, *, as_of: str | None, out: Path | None = None,
              sheet: str | None = None) -> Run:
    """Check the command line first (date, --out), then load the policy and the customers file."""
    given = parse_as_of(as_of)
    check_out(out)
    policy = get_policy(ctx)
    book = load_customers(customers_file, policy, sheet=sheet)
    return Run(policy, book, given or book.as_of_default)


def check_out(out: Path | None) -> None:
    """Refuse a bad ``--out`` before any work is done (same rule as :func:`write_table`)."""
    if out is None:
        return
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise XlcError("out", f"must end in .csv or .xlsx (got {out.name})", str(out))
    if not out.parent.exists():
        raise XlcError("out", f"folder does not exist: {out.parent}", str(out))


def score_customers(book: CustomerBook, policy: Policy, as_of: dt.date
                    ) -> tuple[list[tuple[Customer, Any]], list[RowProblem]]:
    """Score every customer; a customer the scorecard refuses becomes a problem, the others go on."""
    from xlcredit.core.scoring import score_customer

    scored: list[tuple[Customer, Any]] = []
    problems: list[RowProblem] = []
    for customer in book.table.customers:
        try:
            scored.append((customer, score_customer(customer, policy, as_of)))
        except XlcError as exc:
            problems.append(row_problem(book, customer, exc))
    return scored, problems


def row_problem(book: CustomerBook, customer: Customer, exc: XlcError) -> RowProblem:
    """A problem found after reading (by the core) reported against the customer's row in the file."""
    column = book.table.columns.get(exc.field, exc.field)
    return RowProblem("customers", book.table.rows.get(customer.customer_id, 0), column, exc.value,
                      f"{customer.customer_id}: {exc.problem}")


# --------------------------------------------------------------------------- output
def print_problems(problems: Sequence[RowProblem]) -> None:
    """The rows that could not be used, as a table on stderr (nothing when there are none)."""
    if not problems:
        return
    table = Table(title="Rows with problems (left out)", title_style="bold yellow", show_lines=False)
    for name in ("table", "row", "column", "value", "problem"):
        table.add_column(name, justify="right" if name == "row" else "left", overflow="fold")
    for p in problems:
        value = "(blank)" if p.value is None or (isinstance(p.value, str) and not p.value.strip()) \
            else describe(p.value)
        table.add_row(p.table, str(p.row) if p.row > 0 else "", Text(str(p.column)), Text(value),   # 0: not a row
                      Text(p.problem))
    err_console().print(table)


@dataclass(frozen=True)
class Column:
    """One column of a printed result table: the row key, its heading, alignment."""

    key: str
    heading: str
    justify: str = "left"
    percent: bool = False   # show a share (0.3) as "30 %"
    flexible: bool = False  # may be cut short on a narrow terminal (names, rules, notes)
    money: str = ""         # an amount: the row key of its currency ("currency") or an ISO code ("EUR")


def show_table(title: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> None:
    """Print result rows as a rich table on stdout (money with thousands separators), never wider than the terminal.

    Fixed columns (ids, grades, amounts) always show in full; flexible ones share what is left: a name is cut
    with "…", longer text (reasons, notes) wraps. When even that does not fit, the rightmost columns are left
    out and one line on stderr names them and points to ``--out``, which has every column and character.
    Widths count display cells, so a Chinese name takes its real width.
    Amounts: a ``money`` column shows each amount with its currency's decimals (EUR 2, JPY 0); in any
    other column the decimal numbers share the column's decimals, so zero is ``0.00`` beside ``12.50``.
    """
    from rich.cells import cell_len

    out = console()
    places = [_column_places(rows, col) for col in columns]
    cells = [[_display(row.get(col.key), col.percent, _places(row, col, places[j]))
              for j, col in enumerate(columns)] for row in rows]
    natural = [max([cell_len(col.heading), *(cell_len(r[j]) for r in cells)]) for j, col in enumerate(columns)]
    shown = list(range(len(columns)))

    def need(keep: list[int]) -> int:   # the narrowest the kept columns can be, with borders and padding
        return sum(natural[j] if not columns[j].flexible else min(natural[j], _MIN_FLEXIBLE) for j in keep) \
            + 3 * len(keep) + 1

    while len(shown) > 2 and need(shown) > out.width:
        shown.pop()
    hidden = [columns[j].heading for j in range(len(columns)) if j not in shown]
    fixed = sum(natural[j] for j in shown if not columns[j].flexible)
    flexible = sorted((natural[j], j) for j in shown if columns[j].flexible)
    room = out.width - fixed - (3 * len(shown) + 1)
    allowed: dict[int, int] = {}
    for k, (want, j) in enumerate(flexible):   # narrowest first; what one does not need goes to the next
        share = max(_MIN_FLEXIBLE, room // (len(flexible) - k))
        allowed[j] = min(want, share)
        room -= allowed[j]
    table = Table(title=title, title_style="bold")
    for j in shown:
        col = columns[j]
        if col.flexible:
            wrap = col.key != "name"   # names are cut (the id beside them is the key); reasons and notes wrap
            table.add_column(col.heading, justify=col.justify, no_wrap=not wrap,  # type: ignore[arg-type]
                             overflow="fold" if wrap else "ellipsis", max_width=allowed[j])
        else:
            table.add_column(col.heading, justify=col.justify, no_wrap=True,  # type: ignore[arg-type]
                             min_width=natural[j])
    for r in cells:
        table.add_row(*(Text(r[j]) for j in shown))
    out.print(table)
    if hidden:
        err_console().print(Text(f"not shown at this width ({out.width} columns): {', '.join(hidden)} — widen the "
                                 "terminal, or write every column with --out FILE.csv", style="yellow"),
                            soft_wrap=True)


#: A flexible column (name, reason, note) is never narrower than this many cells.
_MIN_FLEXIBLE = 10


def _column_places(rows: Sequence[Mapping[str, Any]], col: Column) -> int | None:
    """Decimals shared by a plain column's decimal numbers: the most any of them has (None: no decimals)."""
    if col.money or col.percent:
        return None
    exps = [-int(v.as_tuple().exponent) for r in rows if isinstance(v := r.get(col.key), Decimal) and v.is_finite()]
    return max(0, *exps) if exps else None


def _places(row: Mapping[str, Any], col: Column, shared: int | None) -> int | None:
    if not col.money:
        return shared
    code = col.money if col.money.isupper() else str(row.get(col.money) or "")
    return minor_units(code) if len(code) == 3 else 2


def fmt_amount(value: Decimal | int | float, places: int) -> str:
    """An amount with thousands separators and ``places`` decimals, rounded half up (``1,234.50``, ``0.00``)."""
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def _display(value: Any, percent: bool = False, places: int | None = None) -> str:
    if value is None:
        return ""
    if percent and isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        return f"{Decimal(str(value)) * 100:.0f} %"
    if places is not None and isinstance(value, (Decimal, int, float)) and not isinstance(value, bool) \
            and (not isinstance(value, float) or math.isfinite(value)) \
            and (not isinstance(value, Decimal) or value.is_finite()):
        return fmt_amount(value, places)
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value.as_tuple().exponent < 0 else f"{value:,}"  # type: ignore[operator]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def write_out(rows: Sequence[Mapping[str, Any]], out: Path | None, *, sheet: str = "Data",
              formats: Mapping[str, str] | None = None) -> None:
    """Write ``--out`` (.csv or .xlsx) when given, and say where."""
    if out is None:
        return
    path = write_table(list(rows), out, sheet=sheet, formats=formats)
    err_console().print(f"wrote {len(rows)} rows to {path}")


def rows_with_problems(problems: Sequence[RowProblem]) -> int:
    """Number of distinct rows that had at least one problem."""
    return len({(p.table, p.row) for p in problems})


def finish(done: int, noun: str, verb: str, problems: Sequence[RowProblem]) -> None:
    """Print the summary line, e.g. ``58 customers scored, 2 rows with problems``; exit 1 if nothing was done."""
    bad = rows_with_problems(problems)
    tail = "no problems" if bad == 0 else f"{bad} row{'s' if bad != 1 else ''} with problems"
    console().print(f"{done} {noun}{'s' if done != 1 else ''} {verb}, {tail}")
    if done == 0:
        raise typer.Exit(EXIT_NOTHING_DONE)


# --------------------------------------------------------------------------- notes and policy findings
def print_notes(notes: Sequence[str]) -> None:
    """One line each on stderr: what date a run took and why (a warning in yellow)."""
    for note in notes:
        err_console().print(Text(note, style="yellow" if note.startswith("warning") else ""), soft_wrap=True)


def print_findings(findings: Sequence[Any]) -> None:
    """The policy check's findings on stderr: errors in red, warnings in yellow, each a plain sentence."""
    for f in findings:
        err_console().print(Text(f"policy {f.level}: {f.message}", style="bold red" if f.level == "error"
                                 else "yellow"), soft_wrap=True)

