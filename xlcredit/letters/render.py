"""Turn a :class:`LetterContent` into words (Jinja2 templates) and then into .docx and .pdf bytes.

Templates are plain text files users can edit (see ``templates/README.md``); a user folder given
with ``--templates`` (or the Policy setting ``company.letter_templates``) is searched first, the
shipped ``templates/`` folder second. The .docx is built with python-docx (Chinese text in Word's
SimSun East-Asian font), the .pdf with reportlab, its fonts embedded (:mod:`xlcredit.letters.fonts`:
a Chinese TrueType font such as Microsoft YaHei, SimSun or WenQuanYi, and DejaVu Sans or Arial).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import jinja2

from xlcredit.core.errors import XlcError
from xlcredit.core.money import minor_units, round_money
from xlcredit.core.policy import Policy
from xlcredit.letters.content import LetterContent
from xlcredit.letters.fonts import pdf_fonts

__all__ = ["TEMPLATES_DIR", "ComposedLetter", "compose", "letter_payment_reference", "render_docx", "render_pdf"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_STATEMENT = "\x00STATEMENT\x00"


@dataclass(frozen=True)
class ComposedLetter:
    """A letter in words: subject, paragraphs before and after the statement table, table rows."""

    language: str
    subject: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total_rows: tuple[tuple[str, ...], ...]
    labels: dict[str, str]
    sender: tuple[str, ...]
    recipient: tuple[str, ...]
    date_line: str
    salutation: str
    closing: tuple[str, ...]
    payment: str
    reference: str = ""      # the letter's own ISO 11649 RF reference (xlcredit match: exactly its invoices)
    qr_payload: str = ""     # EPC QR code ("GiroCode") text for a one-currency euro letter, else ""

    def text(self) -> str:
        """The whole letter as plain text (for previews and tests)."""
        table = "\n".join(" | ".join(r) for r in (self.header, *self.rows, *self.total_rows))
        return "\n".join([*self.sender, *self.recipient, self.date_line, self.subject, self.salutation,
                          *self.before, table, *self.after, self.payment, *self.closing])


def fmt_money(amount: Decimal, currency: str = "") -> str:
    """``12,345.67 EUR``, ``1,234 JPY``: the currency's minor unit (ROUND_HALF_UP), thousands separated."""
    digits = minor_units(currency) if currency else 2
    text = f"{round_money(Decimal(amount), currency or 'EUR'):,.{digits}f}"
    return f"{text} {currency}".strip()


def _pct(rate: Decimal | None) -> str:
    if rate is None:
        return ""
    value = (rate * 100).normalize()
    return f"{value:f} %"


def charge_words(letter: LetterContent) -> str:
    """How the late charge is described in the letter's language."""
    zh = letter.language == "zh"
    if letter.claim == "contract":
        return f"年利率 {_pct(letter.rate)} 的逾期利息" if zh else f"interest at {_pct(letter.rate)} a year"
    if letter.claim == "penalty":
        return f"每日 {_pct(letter.rate)} 的违约金" if zh else f"a late fee of {_pct(letter.rate)} a day"
    if letter.claim == "statutory":
        if zh:
            return "法定逾期利息及固定补偿金"
        if letter.regime == "UK":
            return ("statutory interest and fixed compensation under the Late Payment of Commercial Debts "
                    "(Interest) Act 1998")
        return "statutory interest and fixed compensation under Directive 2011/7/EU"
    return ""


def _lower_first(stage: str) -> str:
    """``Reminder letter`` → ``reminder letter`` (an acronym such as ``LBA`` stays as it is)."""
    return stage[:1].lower() + stage[1:] if stage[:2].istitle() or len(stage) == 1 else stage


def earlier_words(letter: LetterContent) -> str:
    """The earlier letters the register holds, in words: ``our reminder letter of 2026-09-08 and our formal
    demand of 2026-10-01`` ("" when there are none: the letter is the first written notice)."""
    parts = [f"our {_lower_first(e.stage)} of {e.as_of.isoformat()}" for e in letter.earlier]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1] if parts else ""


@lru_cache(maxsize=16)
def _environment(user_dir: str | None) -> jinja2.Environment:
    paths = ([user_dir] if user_dir else []) + [str(TEMPLATES_DIR)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(paths), autoescape=False,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    env.filters["money"] = fmt_money
    env.filters["date"] = lambda d: d.isoformat() if isinstance(d, dt.date) else str(d)
    env.filters["pct"] = _pct
    return env


@lru_cache(maxsize=16)
def _labels(user_dir: str | None, language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for base in [str(TEMPLATES_DIR), *([user_dir] if user_dir else [])]:
        path = Path(base) / language / "labels.toml"
        if path.is_file():
            try:
                merged.update({k: str(v) for k, v in tomllib.loads(path.read_text("utf-8")).items()})
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise XlcError("templates", f"{path} is not valid TOML ({exc})", str(path)) from None
    return merged


def compose(letter: LetterContent, policy: Policy, templates: str | Path | None = None) -> ComposedLetter:
    """Fill the template of the letter's stage and language; lay out the statement of account."""
    user_dir = str(Path(templates).resolve()) if templates else None
    if user_dir and not Path(user_dir).is_dir():
        raise XlcError("templates", f"folder not found: {templates}", str(templates))
    env = _environment(user_dir)
    name = f"{letter.language}/{letter.template}.txt"
    try:
        text = env.get_template(name).render(letter=letter, customer=letter.customer, company=policy.company,
                                             statement=_STATEMENT, charge_words=charge_words(letter),
                                             earlier_words=earlier_words(letter),
                                             earlier_dates="、".join(e.as_of.isoformat() for e in letter.earlier))
    except jinja2.TemplateNotFound:
        raise XlcError("template", f"no letter template {name} (looked in "
                       f"{', '.join(([user_dir] if user_dir else []) + [str(TEMPLATES_DIR)])})", name) from None
    except jinja2.TemplateError as exc:
        raise XlcError("template", f"{name}: {exc}", name) from None
    labels = _labels(user_dir, letter.language)
    subject = ""
    before: list[str] = []
    after: list[str] = []
    target = before
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if lines and not subject and lines[0].startswith("# "):
            subject = lines.pop(0)[2:].strip()
        para = " ".join(ln.strip() for ln in lines) if letter.language != "zh" else "".join(ln.strip() for ln in lines)
        if not para:
            continue
        if _STATEMENT in para:
            head, _, tail = para.partition(_STATEMENT)
            if head.strip():
                target.append(head.strip())
            target = after
            if tail.strip():
                target.append(tail.strip())
            continue
        target.append(para)
    charge_label = labels.get("penalty" if letter.claim == "penalty" else "interest", "Interest")
    statutory = letter.claim == "statutory"
    header = [labels["invoice"], labels["invoice_date"], labels["due_date"], labels["days"], labels["open"],
              charge_label, *([labels["compensation"]] if statutory else []), labels["total"]]
    rows = []
    for line in letter.lines:
        rows.append((line.invoice_no, line.invoice_date.isoformat(), line.due_date.isoformat(),
                     str(line.days_overdue), fmt_money(line.open_amount, line.currency),
                     fmt_money(line.interest, line.currency),
                     *([fmt_money(line.compensation, line.currency)] if statutory else []),
                     fmt_money(line.total, line.currency)))
    total_rows = tuple((labels["total_due"], "", "", "", fmt_money(t.principal, t.currency),
                        fmt_money(t.interest, t.currency),
                        *([fmt_money(t.compensation, t.currency)] if statutory else []),
                        fmt_money(t.total, t.currency)) for t in letter.totals)
    company = policy.company
    customer = letter.customer
    reference = letter_payment_reference(letter)
    recipient = tuple(x for x in (customer.name, customer.contact, customer.address,
                                  f"{labels['your_ref']}: {customer.customer_id}") if x)
    if letter.language == "zh":
        salutation = f"{labels['dear']}{customer.contact}：" if customer.contact else f"{labels['dear_fallback']}："
    else:
        salutation = f"{labels['dear']} {customer.contact}," if customer.contact else f"{labels['dear_fallback']},"
    return ComposedLetter(
        language=letter.language, subject=subject, before=tuple(before), after=tuple(after), header=tuple(header),
        rows=tuple(rows), total_rows=total_rows, labels=labels, sender=(company.name, company.address),
        recipient=recipient, date_line=f"{labels['date']}: {letter.as_of.isoformat()}", salutation=salutation,
        closing=(labels["regards"], company.credit_controller, company.name),
        payment=f"{labels['pay_to']}: {company.bank_details}" + (
            f" · {labels.get('reference', 'Reference')}: {reference}" if reference else ""),
        reference=reference, qr_payload=_giro_code(letter, company.name, company.bank_details, reference))


def letter_payment_reference(letter: LetterContent) -> str:
    """The letter's own RF reference: customer, ladder step and invoices (stable on resend; "" without invoices).

    Recorded in the register with the letter's invoices, so ``xlcredit match`` resolves a payment quoting it to
    exactly those invoices (:func:`xlcredit.core.cashapp.letter_reference`).
    """
    from xlcredit.core.cashapp import letter_reference

    try:
        return letter_reference(letter.customer.customer_id, letter.step_index, letter.invoice_nos)
    except XlcError:
        return ""


def _payment_reference(customer_id: str) -> str:
    """The customer's RF creditor reference ("" when the id cannot be carried by one): a statement's, which covers
    everything open."""
    from xlcredit.core.cashapp import rf_reference

    try:
        return rf_reference(customer_id)
    except XlcError:
        return ""


def _giro_code(letter: LetterContent, beneficiary: str, bank_details: str, reference: str) -> str:
    """EPC QR text for a letter whose total is in euro alone; "" otherwise (the bank details stay in text)."""
    from xlcredit.core.cashapp import epc_qr_payload, is_valid_iban

    found = re.search(r"IBAN[:\s]*([A-Z]{2}\d{2}(?:\s?[A-Z0-9]){11,30})", bank_details or "")
    bic = re.search(r"BIC[:\s]*([A-Z0-9]{8,11})", bank_details or "")
    if not reference or found is None or len(letter.totals) != 1 or letter.totals[0].currency != "EUR":
        return ""
    compact = re.sub(r"\s", "", found.group(1))
    iban = next((compact[:n] for n in range(len(compact), 14, -1) if is_valid_iban(compact[:n])), compact)
    try:
        return epc_qr_payload(beneficiary, iban, letter.totals[0].total, reference, bic=bic.group(1) if bic else "")
    except XlcError:
        return ""


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR code of ``payload`` as rows of dark (True) modules, quiet zone included (segno, error level M).

    The bytes are UTF-8, as the EPC payload's third line ("1") declares: left to itself segno writes ISO 8859-1
    where it can, so a banking app reading the declared UTF-8 would garble "Müller" in the beneficiary's name."""
    import segno

    code = segno.make(payload, error="m", micro=False, encoding="utf-8")
    return [[bool(v) for v in row] for row in code.matrix_iter(border=4)]


#: Pixels per QR module in a letter's QR image (nearest-neighbour: every edge stays sharp at any zoom or print).
QR_PIXELS = 8


def qr_image(matrix: list[list[bool]]) -> object:
    """The QR matrix as a black-and-white greyscale Pillow image, :data:`QR_PIXELS` pixels per module (greyscale:
    reportlab embeds it as one byte a pixel, where a 1-bit image is widened to RGB, three times the bytes)."""
    from PIL import Image

    n = len(matrix)
    image = Image.frombytes("L", (n, n), bytes(0 if dark else 255 for row in matrix for dark in row))
    return image.resize((n * QR_PIXELS, n * QR_PIXELS), Image.Resampling.NEAREST)


# --------------------------------------------------------------------------- docx
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx_table(letter: ComposedLetter) -> str:
    """The statement table as WordprocessingML (built as text: python-docx's cell API is slow for this)."""
    from xml.sax.saxutils import escape

    money_cols = len(letter.header) - 4
    widths = [1500, 1200, 1200, 600] + [4100 // money_cols] * money_cols

    def cell(text: str, width: int, right: bool, bold: bool, span: int = 1) -> str:
        ppr = '<w:pPr><w:jc w:val="right"/></w:pPr>' if right else ""
        rpr = f"<w:rPr>{'<w:b/>' if bold else ''}<w:sz w:val=\"16\"/></w:rPr>"   # 8 pt
        grid = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
        return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{grid}</w:tcPr><w:p>{ppr}<w:r>{rpr}'
                f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>')

    def row(values: tuple[str, ...], bold: bool, span_label: bool = False) -> str:
        if span_label:
            cells = [cell(values[0], sum(widths[:4]), False, bold, 4)]
            cells += [cell(v, widths[i], True, bold) for i, v in enumerate(values) if i >= 4]
        else:
            cells = [cell(v, widths[i], i >= 3, bold) for i, v in enumerate(values)]
        return "<w:tr>" + "".join(cells) + "</w:tr>"

    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    rows = [row(letter.header, True), *(row(r, False) for r in letter.rows),
            *(row(r, True, span_label=True) for r in letter.total_rows)]
    return (f'<w:tbl xmlns:w="{_W}"><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
            f'<w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>')


@lru_cache(maxsize=4)
def _docx_base(language: str) -> tuple[bytes, str, str]:
    """python-docx's default package with our Normal style, minus ``word/document.xml`` (compressed once),
    and the document part's text before and after its body content."""
    import zipfile

    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    if language == "zh":
        rpr = normal.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), "SimSun")
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                document = src.read(info).decode("utf-8")
            else:
                dst.writestr(info, src.read(info))
    body_start = document.index("<w:body>") + len("<w:body>")
    sect = document.index("<w:sectPr", body_start)
    return out.getvalue(), document[:body_start], document[sect:]


def _docx_para(lines: str | tuple[str, ...], *, right: bool = False, bold: bool = False) -> str:
    from xml.sax.saxutils import escape

    parts = (lines,) if isinstance(lines, str) else lines
    rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    runs = "<w:r><w:br/></w:r>".join(f'<w:r>{rpr}<w:t xml:space="preserve">{escape(x)}</w:t></w:r>' for x in parts)
    ppr = '<w:pPr><w:jc w:val="right"/></w:pPr>' if right else ""
    return f"<w:p>{ppr}{runs}</w:p>"


def render_docx(letter: ComposedLetter) -> bytes:
    """The letter as a Word document: python-docx's package and styles, our body (built as WordprocessingML)."""
    import zipfile

    base, head, tail = _docx_base(letter.language)
    body = [
        _docx_para(letter.sender[0], right=True, bold=True), _docx_para(letter.sender[1:], right=True),
        _docx_para(letter.recipient), _docx_para(letter.date_line, right=True),
        _docx_para(letter.subject, bold=True), _docx_para(letter.salutation),
        *(_docx_para(p) for p in letter.before),
        _docx_table(letter).replace(f' xmlns:w="{_W}"', "", 1), "<w:p/>",
        *(_docx_para(p) for p in letter.after),
        _docx_para(letter.payment), _docx_para(letter.closing)]
    buf = io.BytesIO(base)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", head + "".join(body) + tail)
    return buf.getvalue()


# --------------------------------------------------------------------------- pdf
def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class PdfStyles:
    """The paragraph styles every generated PDF uses (letters and statements), in the document's fonts."""

    font: str          # the regular font's name (embedded)
    bold: str
    body: Any          # reportlab ParagraphStyle objects (reportlab is imported on use)
    right: Any
    strong: Any
    cell: Any

    def para(self, text: str, style: Any = None) -> Any:
        """A paragraph of plain text (escaped; line breaks kept)."""
        from reportlab.platypus import Paragraph

        return Paragraph(_esc(text).replace("\n", "<br/>"), style or self.body)


def pdf_styles(language: str, labels: dict[str, str]) -> PdfStyles:
    """The fonts of ``language`` (:func:`xlcredit.letters.fonts.pdf_fonts`) and the styles built on them."""
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    fonts = pdf_fonts(language, labels)
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=10, leading=14, spaceAfter=6,
                          wordWrap="CJK" if language == "zh" else None)
    return PdfStyles(fonts.regular, fonts.bold, body, ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
                     ParagraphStyle("strong", parent=body, fontName=fonts.bold, fontSize=11, spaceBefore=6),
                     ParagraphStyle("cell", parent=body, fontSize=8, leading=10, spaceAfter=0))


class Composed(Protocol):
    """What a composed letter and a composed statement both have: the parts every document opens with."""

    sender: tuple[str, ...]
    recipient: tuple[str, ...]
    date_line: str
    subject: str
    salutation: str


def pdf_opening(doc: Composed, st: PdfStyles) -> list[Any]:
    """Letterhead (sender, right), recipient, date, subject and salutation: how every letter and statement opens."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    return [Paragraph(f'<font face="{st.bold}">{_esc(doc.sender[0])}</font><br/>'
                      + "<br/>".join(_esc(x) for x in doc.sender[1:]), st.right),
            Spacer(1, 6 * mm), st.para("\n".join(doc.recipient)), Spacer(1, 4 * mm),
            st.para(doc.date_line, st.right), st.para(doc.subject, st.strong), st.para(doc.salutation)]


def binary_streams() -> None:
    """Write PDF streams as binary Flate data, not ASCII85 text: a quarter smaller and no pure-Python encoding pass
    (≈ 8 ms a letter). reportlab has this only as a process-wide setting (``rl_config.useA85``); every PDF xlcredit
    writes wants it, and any PDF reader reads both."""
    from reportlab import rl_config

    rl_config.useA85 = 0


def pdf_bytes(story: list[Any], doc: Composed, st: PdfStyles) -> bytes:
    """Lay out ``story`` on A4 (20 mm margins) with the document's title and author; the PDF's bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    binary_streams()
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                      bottomMargin=18 * mm, title=doc.subject, author=doc.sender[0], invariant=1,
                      initialFontName=st.font).build(story)
    return buf.getvalue()


def render_pdf(letter: ComposedLetter) -> bytes:
    """The letter as a PDF (reportlab), A4, every font embedded as a subset (:mod:`xlcredit.letters.fonts`)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table, TableStyle

    st = pdf_styles(letter.language, letter.labels)
    font, bold, body, para = st.font, st.bold, st.body, st.para
    cell_b = ParagraphStyle("cell_b", parent=st.cell, fontName=bold)
    cell_br = ParagraphStyle("cell_br", parent=cell_b, alignment=TA_RIGHT)

    story = pdf_opening(letter, st)
    story += [para(p, body) for p in letter.before]
    n = len(letter.header)
    data = [[para(h, cell_b if i < 3 else cell_br) for i, h in enumerate(letter.header)]]
    # body cells are plain strings (no wrapping needed; far cheaper than a Paragraph per cell)
    data += [list(row) for row in letter.rows]
    data += [list(row) for row in letter.total_rows]
    width = A4[0] - 40 * mm
    first = [0.16, 0.12, 0.12, 0.115]   # "Days overdue" in two lines, never split inside the word
    rest = (1 - sum(first)) / (n - 4)
    table = Table(data, colWidths=[width * w for w in (*first, *([rest] * (n - 4)))], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 1), (-1, -1), 8), ("LEADING", (0, 1), (-1, -1), 10),
        ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
        ("FONTNAME", (0, len(data) - len(letter.total_rows)), (-1, -1), bold),
        *(("SPAN", (0, r), (3, r)) for r in range(len(data) - len(letter.total_rows), len(data))),
    ]))
    story += [Spacer(1, 2 * mm), table, Spacer(1, 4 * mm)]
    story += [para(p, body) for p in letter.after]
    story += [para(letter.payment, body)]
    if letter.qr_payload:   # EPC QR code: the customer's banking app fills in IBAN, amount and reference
        from reportlab.platypus import Flowable

        matrix, module = qr_matrix(letter.qr_payload), 0.8 * mm

        class _QrCode(Flowable):   # one black-and-white image, QR_PIXELS pixels per module: sharp when printed
            def wrap(self, *_: object) -> tuple[float, float]:
                return len(matrix) * module, len(matrix) * module

            def draw(self) -> None:   # an image, not hundreds of rectangles: quick to write, view and read back
                from reportlab.lib.utils import ImageReader

                size = len(matrix) * module
                self.canv.drawImage(ImageReader(qr_image(matrix)), 0, 0, width=size, height=size)

        story.append(_QrCode())
    story += [Spacer(1, 4 * mm), para("\n".join(letter.closing), body)]
    return pdf_bytes(story, letter, st)
