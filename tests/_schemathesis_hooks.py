"""Schemathesis hooks of ``tests/test_service_fuzz.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

* ``no_internal_words``: no answer of the service — whatever its status — says ``internal:`` or shows a traceback;
  a problem is told in the words of its field (issue 17 item 8).
* every operation that got an answer is written to the file named by ``XLCREDIT_FUZZ_SEEN`` (one
  ``METHOD path`` per line), so the test can prove the run reached every endpoint of the OpenAPI description.
"""

from __future__ import annotations

import os
import re
from typing import Any

import schemathesis

_INTERNAL = re.compile(r"\binternal:|Traceback \(most recent call last\)")


@schemathesis.check
def no_internal_words(ctx: Any, response: Any, case: Any) -> bool | None:
    """The answer names a field in words: never ``internal:``, never a traceback."""
    seen = os.environ.get("XLCREDIT_FUZZ_SEEN")
    if seen:
        with open(seen, "a", encoding="utf-8") as fh:
            fh.write(f"{case.operation.method.upper()} {case.operation.path}\n")
    text = response.text if isinstance(response.text, str) else ""
    found = _INTERNAL.search(text)
    if found:
        raise AssertionError(f"the answer says {found.group(0)!r}: {text[:300]}")
    return None
