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
