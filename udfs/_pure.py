"""The pure formulas (DAYS_OVERDUE … DSO): one description each, computed in Excel's own Python or, in UDF
remote mode, by the team service — with the same answers, errors included.

A :class:`Pure` formula names its arguments and how each cell is read (:class:`Arg`), the core call, and
whether it takes columns. Calling it:

1. spreads the cells into rows (:func:`udfs._convert.spread`: one row for single cells, one row per cell
   of a column range — single cells are used on every row);
2. reads each row's cells as the adapter always does (:mod:`udfs._convert`: dates from date cells, serial
   numbers or ISO text; Excel errors; blank optional arguments take their default). A row whose cells
   cannot be read shows that problem and is never sent anywhere;
3. computes the readable rows — in process with the core, or (remote mode) as ONE request to
   ``POST /v1/functions/<name>`` for the whole column, dates sent as ISO text (rows it answered before under
   the same policy are not sent again: :func:`udfs._remote.call_function`). The service runs the same
   core and answers each row with its value or its problem in the same words, so a bad row shows the same
   ``#XLC! <argument>: <problem>`` either way. A row holding something JSON cannot carry as it is (a date
   cell where a number belongs, a Python ``Decimal``) is refused by the core's input checks in process,
   under the service's policy when the formula has one.

AGEING_BUCKET, SCORE_OF and GRADE_OF follow the credit policy in force: in process the credit database's
(:func:`udfs._convert.policy_in_force`); remote, the service's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from udfs import _remote
from udfs._convert import (
    date_in,
    error_text,
    log,
    one,
    optional,
    policy_in_force,
    remote_service,
    spread,
    to_cell,
    value_in,
)
from xlcredit.core.errors import XlcError

_BLANK: Any = object()


@dataclass(frozen=True)
class Arg:
    """One argument of a formula: its name (as in the catalogue and the service's rows) and how its cell is read."""

    name: str
    kind: Literal["value", "date", "optional"] = "value"
    default: Any = None

    def read(self, cell: Any) -> Any:
        """The cell as the core takes it; :class:`XlcError` naming the argument when it cannot be read."""
        if self.kind == "date":
            return date_in(cell, self.name)
        if self.kind == "optional":
            return optional(cell, self.name, self.default)
        return value_in(cell, self.name)

    def wire(self, cell: Any) -> Any:
        """The cell as sent to the service (ISO text for dates); ``_BLANK`` for a blank optional argument,
        which is left out so the service applies the same default."""
        if self.kind == "date":
            return date_in(cell, self.name).isoformat()
        if self.kind == "optional":
            return optional(cell, self.name, _BLANK)
        return value_in(cell, self.name)


def value(name: str) -> Arg:
    """A number or text argument, checked by the core."""
    return Arg(name)


def date(name: str) -> Arg:
    """A date argument."""
    return Arg(name, "date")


def optional_arg(name: str, default: Any) -> Arg:
    """An argument that may be left out or blank, meaning ``default``."""
    return Arg(name, "optional", default)


@dataclass(frozen=True)
class Pure:
    """A formula that is a pure function of its arguments (and, with ``uses_policy``, of the credit policy).

    ``compute`` takes the read arguments in order (plus ``policy=`` when ``uses_policy``) and returns the
    core's result; ``name`` is the formula's catalogue name, which is also the service's function; ``columns``
    lets any argument be a column range (one result per row, spilled); ``decimal`` says the result is an exact
    decimal, which the service sends as text.
    """

    name: str
    args: tuple[Arg, ...]
    compute: Callable[..., Any]
    columns: bool = False
    decimal: bool = False
    uses_policy: bool = False

    def __call__(self, *cells: Any) -> Any:
        names = [a.name for a in self.args]
        if self.columns:
            rows, column = spread(names, cells)
        else:
            rows, column = [[one(c, n) for n, c in zip(names, cells, strict=True)]], False
        remote = remote_service()
        answers = self._in_process(rows) if remote is None else self._on_service(remote, rows)
        if not column:
            answer = answers[0]
            if isinstance(answer, Exception):
                raise answer
            return answer
        return [[error_text(a) if isinstance(a, Exception) else a] for a in answers]

    # ------------------------------------------------------------------ engines
    def _in_process(self, rows: Sequence[Sequence[Any]], policy: Any = None) -> list[Any]:
        extra = {}
        if self.uses_policy:
            extra["policy"] = policy_in_force() if policy is None else policy
        return [self._row(row, extra) for row in rows]

    def _row(self, row: Sequence[Any], extra: dict[str, Any]) -> Any:
        """One row in process: its value for the cell, or the exception that says what is wrong."""
        try:
            return to_cell(self.compute(*[a.read(c) for a, c in zip(self.args, row, strict=True)], **extra))
        except XlcError as exc:
            return exc
        except Exception as exc:  # one bad row shows its own error; the others are still computed
            log.exception("%s failed on a row", self.name)
            return exc

    def _on_service(self, remote: _remote.Remote, rows: Sequence[Sequence[Any]]) -> list[Any]:
        answers: list[Any] = [None] * len(rows)
        sent: list[int] = []
        wire_rows: list[dict[str, Any]] = []
        local: list[int] = []
        for i, row in enumerate(rows):
            try:
                wire = {a.name: a.wire(c) for a, c in zip(self.args, row, strict=True)}
            except XlcError as exc:   # a cell that cannot be read: its problem, never sent
                answers[i] = exc
                continue
            wire = {k: v for k, v in wire.items() if v is not _BLANK}
            if all(_carriable(v) for v in wire.values()):
                sent.append(i)
                wire_rows.append(wire)
            else:
                local.append(i)
        if wire_rows:
            for i, got in zip(sent, _remote.call_function(remote, self.name, wire_rows), strict=True):
                answers[i] = self._decode(got)
        if local:
            policy = _remote.remote_policy(remote) if self.uses_policy else None
            for i, answer in zip(local, self._in_process([rows[i] for i in local], policy), strict=True):
                answers[i] = answer
        return answers

    def _decode(self, got: Any) -> Any:
        """A service answer row as the cell shows it: the value, or the problem in the cell's words."""
        if "error" in got:
            return _ServiceProblem(str(got["error"]))
        if "value" not in got:
            return XlcError("server", f"answered a row without a value for {self.name}", None)
        found = got["value"]
        if self.decimal and isinstance(found, str):
            try:
                found = Decimal(found)
            except ArithmeticError:
                return XlcError("server", f"sent {found!r} for {self.name}, not a number", found)
        try:
            return to_cell(found)
        except XlcError as exc:
            return exc


class _ServiceProblem(XlcError):
    """A row the service refused: its words are shown as they came (``<argument>: <problem>``)."""

    def __init__(self, words: str) -> None:
        field, sep, problem = words.partition(": ")
        if not sep:   # not in the service's "<field>: <problem>" form: say it came from the server
            field, problem = "server", words
        super().__init__(field, problem, None)


def _carriable(value: Any) -> bool:
    """Whether JSON carries the cell exactly as the core would see it (text, number, true/false, blank)."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    return isinstance(value, float) and math.isfinite(value)


__all__ = ["Arg", "Pure", "date", "optional_arg", "value"]
