"""Safe file names for letters built from customer data (ids and names typed by users).

A customer called ``../../etc/passwd`` or ``CON`` must not escape the output folder or hit a
Windows device name, yet ``佛山鑫隆塑胶有限公司`` and ``Müller GmbH`` should stay readable. The rule:
Unicode NFC; path separators, control characters and the characters Windows forbids
(``<>:"/\\|?*``) become ``_``; runs of ``_``/spaces collapse; leading/trailing dots, spaces and
underscores go; Windows reserved device names (CON, PRN, AUX, NUL, COM1–9, LPT1–9, also with an
extension) get a ``_`` appended; the result is cut to ``max_len`` characters (and 200 UTF-8 bytes,
under every common file-system limit) and is never empty.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

__all__ = ["RESERVED_NAMES", "letter_stem", "safe_filename"]

RESERVED_NAMES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                            *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10)),
                            "COM¹", "COM²", "COM³", "LPT¹", "LPT²", "LPT³"})
_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RUNS = re.compile(r"[\s_]+")
MAX_BYTES = 200


def safe_filename(text: object, max_len: int = 60, fallback: str = "unnamed") -> str:
    """One path component from ``text`` that is safe on Windows, macOS and Linux (see module docstring)."""
    value = unicodedata.normalize("NFC", "" if text is None else str(text))
    value = "".join("_" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value)
    value = _BAD.sub("_", value)
    value = _RUNS.sub("_", value).strip(" ._")
    value = value[:max_len]
    while len(value.encode("utf-8")) > MAX_BYTES:
        value = value[:-1]
    value = value.strip(" ._")
    if not value:
        value = fallback
    if value.split(".")[0].upper().rstrip(" ") in RESERVED_NAMES:
        value = value + "_"
    return value


def letter_stem(as_of: dt.date, customer_id: str, name: str, template: str, resend: int = 0) -> str:
    """File name (without extension) of one letter: ``2026-10-31_C001_Ostermoor_reminder`` (``-r1`` on a resend)."""
    parts = [as_of.isoformat(), safe_filename(customer_id, 30), safe_filename(name, 40), safe_filename(template, 30)]
    stem = "_".join(parts)
    return f"{stem}-r{resend}" if resend else stem
