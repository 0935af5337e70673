"""Reopen a written letter or statement and check it before it is registered (issue 17, item 3).

A file the register names must be one the customer can open and that says what the register says. After the
.docx and .pdf are written, both are read back from disk: python-docx opens the Word file and its text (paragraphs
and table cells) must contain the customer's name and every total due; pypdf opens the PDF, which must have at least
one page, and its text must contain the same. Whitespace is ignored in the comparison (a long name may wrap in the
PDF). A file that fails is reported with the reason, removed, and not registered (:mod:`xlcredit.jobs.letters`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from xlcredit.core.errors import XlcError

__all__ = ["check_written", "docx_text", "pdf_text"]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def docx_text(path: Path) -> str:
    """Every paragraph and table cell of a Word file, one per line (python-docx)."""
    from docx import Document

    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def pdf_text(path: Path) -> tuple[int, str]:
    """The page count and the text of a PDF (pypdf)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path), strict=False)
    return len(reader.pages), "\n".join(page.extract_text() or "" for page in reader.pages)


def check_written(docx: Path, pdf: Path, *, name: str, figures: Sequence[str]) -> None:
    """Raise ``XlcError("file", reason)`` unless both files open and show ``name`` and every one of ``figures``."""
    wanted = [("the customer's name", name), *(("the total", f) for f in figures if f)]
    try:
        text = docx_text(docx)
    except Exception as exc:   # any way python-docx fails to read it is the same finding: Word cannot open it
        raise XlcError("file", f"{docx.name} cannot be opened as a Word document ({type(exc).__name__}: "
                               f"{str(exc)[:120]})", docx.name) from None
    _contains(docx.name, text, wanted)
    try:
        pages, text = pdf_text(pdf)
    except Exception as exc:   # pypdf's errors are many; the finding is one: no reader can open it
        raise XlcError("file", f"{pdf.name} cannot be opened as a PDF ({type(exc).__name__}: {str(exc)[:120]})",
                       pdf.name) from None
    if pages < 1:
        raise XlcError("file", f"{pdf.name} has no pages", pdf.name)
    _contains(pdf.name, text, wanted)


def _contains(file_name: str, text: str, wanted: Sequence[tuple[str, str]]) -> None:
    found = _compact(text)
    for what, value in wanted:
        if _compact(value) and _compact(value) not in found:
            raise XlcError("file", f"{file_name} does not show {what} ({value})", file_name)
