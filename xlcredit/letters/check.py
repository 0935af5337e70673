"""Reopen a written letter or statement and check it before it is registered (issue 17, item 3).

A file the register names must be one the customer can open and that says what the register says. After the
.docx and .pdf are written, both are read back from disk. The Word file must be a whole package (every part's
checksum right, the content types and the main document there and parsing), and its text (paragraphs and table
cells) must contain the customer's name and every total due. PDFium (the PDF engine of Chrome and Edge, through
pypdfium2) opens the PDF, which must have at least one page, and its text must contain the same. Whitespace is
ignored in the comparison (a long name may wrap in the PDF). A file that fails is reported with the reason, removed,
and not registered (:mod:`xlcredit.jobs.letters`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from xlcredit.core.errors import XlcError

__all__ = ["check_written", "docx_text", "pdf_text"]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(path: Path) -> str:
    """Every paragraph of a Word file (body and table cells), one per line — after checking the file is a whole
    Word package: every part's checksum is right, the content types and the main document are there and parse.

    Read with the standard library (zipfile, ElementTree) rather than python-docx, which parses every part of the
    package into objects (≈ 10 ms a letter) to give the same text."""
    import zipfile
    from xml.etree import ElementTree

    with zipfile.ZipFile(path) as package:
        broken = package.testzip()
        if broken is not None:
            raise ValueError(f"part {broken} is damaged (checksum)")
        names = set(package.namelist())
        for part in ("[Content_Types].xml", "word/document.xml"):
            if part not in names:
                raise ValueError(f"no {part}")
        ElementTree.fromstring(package.read("[Content_Types].xml"))
        body = ElementTree.fromstring(package.read("word/document.xml"))
    return "\n".join("".join(t.text or "" for t in p.iter(f"{_W}t")) for p in body.iter(f"{_W}p"))


def pdf_text(path: Path) -> tuple[int, str]:
    """The page count and the text of a PDF, as PDFium reads them (pypdfium2: the engine that shows the PDF in
    Chrome and Edge; ≈ 1 ms a letter, where pypdf's pure-Python extraction took ≈ 10–35 ms)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        texts = []
        for i in range(len(document)):
            page = document[i]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return len(texts), "\n".join(texts)
    finally:
        document.close()


def check_written(docx: Path, pdf: Path, *, name: str, figures: Sequence[str]) -> None:
    """Raise ``XlcError("file", reason)`` unless both files open and show ``name`` and every one of ``figures``."""
    wanted = [("the customer's name", name), *(("the total", f) for f in figures if f)]
    try:
        text = docx_text(docx)
    except Exception as exc:   # any way the package fails to read is the same finding: Word cannot open it
        raise XlcError("file", f"{docx.name} cannot be opened as a Word document ({type(exc).__name__}: "
                               f"{str(exc)[:120]})", docx.name) from None
    _contains(docx.name, text, wanted)
    try:
        pages, text = pdf_text(pdf)
    except Exception as exc:   # PDFium's errors are many; the finding is one: no reader can open it
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
