"""The one exception type users see, naming the field and the bad value."""

from __future__ import annotations

from typing import Any


class XlcError(ValueError):
    """Bad input: ``field`` names the argument/column/policy key, ``problem`` says what is wrong.

    The message reads ``"<field>: <problem>"`` so that Excel shows ``#XLC! <field>: <problem>``
    and the CLI and HTTP service show the same words.
    """

    def __init__(self, field: str, problem: str, value: Any = None) -> None:
        self.field = field
        self.problem = problem
        self.value = value
        super().__init__(f"{field}: {problem}")


def describe(value: Any) -> str:
    """Short, readable rendering of a bad value for an error message."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


#: Longest message of an unexpected error shown to a user (the log keeps the whole of it).
MAX_INTERNAL_TEXT = 200


def error_words(exc: BaseException) -> str:
    """What a user is shown for a calculation that failed, on one line — the same words in a cell (after
    ``#XLC!``), at the command line and in a service answer row.

    Bad input reads ``<field>: <problem>``; anything else ``internal: <Type>: <message>`` (a number too
    large or too precise for exact arithmetic is said in words: the decimal module's own message is just
    the class name in brackets).
    """
    from decimal import DecimalException

    if isinstance(exc, XlcError):
        return " ".join(f"{exc.field}: {exc.problem}".splitlines())
    if isinstance(exc, DecimalException):
        return f"internal: {type(exc).__name__}: a number is too large or too precise to compute exactly"
    message = " ".join(str(exc).split())
    if len(message) > MAX_INTERNAL_TEXT:
        message = message[:MAX_INTERNAL_TEXT - 3] + "..."
    return f"internal: {type(exc).__name__}: {message}" if message else f"internal: {type(exc).__name__}"
