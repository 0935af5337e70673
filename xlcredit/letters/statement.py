"""A statement of account (:class:`xlcredit.core.statements.Statement`) in words, then as .docx and .pdf.

The wording is a template beside the letters' (``templates/<lang>/statement.txt``: the subject on its first
``# `` line, paragraphs, and a line ``{{ statement_tables }}`` where the figures go) and the table words are in
``templates/<lang>/statement_labels.toml``; a user templates folder overrides both, as for letters. The
rendering is the letters' (:mod:`xlcredit.letters.render`): the same Jinja environment and filters, the same
Word package and Normal style, the same PDF styles, letterhead and page (:func:`xlcredit.letters.render.pdf_styles`,
``pdf_opening``, ``pdf_bytes``: fonts embedded, Chinese included) — only the tables differ.
"""

from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy
from xlcredit.core.statements import CurrencyStatement, PlanSection, Statement
from xlcredit.letters.render import (
    TEMPLATES_DIR,
    _docx_base,
    _docx_para,
    _environment,
    _labels,
    _payment_reference,
    fmt_money,
    pdf_bytes,
    pdf_opening,
    pdf_styles,
)

__all__ = ["ComposedStatement", "Table", "compose_statement", "render_statement_docx", "render_statement_pdf"]

_TABLES = "\x00TABLES\x00"


@dataclass(frozen=True)
class Table:
    """One table of the statement: a heading line, column headings, rows; ``numeric`` columns align right."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[int, ...]
    bold_last: bool = False
    widths: tuple[float, ...] = ()      # shares of the text width (blank: equal)


@dataclass(frozen=True)
class ComposedStatement:
    """A statement in words: letterhead, subject, paragraphs, and per currency its tables."""

    language: str
    subject: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    tables: tuple[Table, ...]
    labels: dict[str, str]
    sender: tuple[str, ...]
    recipient: tuple[str, ...]
    date_line: str
    salutation: str
    closing: tuple[str, ...]
    payment: str

    def text(self) -> str:
        """The whole statement as plain text (previews and tests)."""
        parts = [*self.sender, *self.recipient, self.date_line, self.subject, self.salutation, *self.before]
        for t in self.tables:
            parts += [t.title, " | ".join(t.header), *(" | ".join(r) for r in t.rows)]
        return "\n".join([*parts, *self.after, self.payment, *self.closing])


@lru_cache(maxsize=16)
def _statement_labels(user_dir: str | None, language: str) -> dict[str, str]:
    merged = dict(_labels(user_dir, language))
    for base in [str(TEMPLATES_DIR), *([user_dir] if user_dir else [])]:
        path = Path(base) / language / "statement_labels.toml"
        if path.is_file():
            try:
                merged.update({k: str(v) for k, v in tomllib.loads(path.read_text("utf-8")).items()})
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise XlcError("templates", f"{path} is not valid TOML ({exc})", str(path)) from None
    return merged


def _paragraphs(text: str, language: str) -> tuple[str, list[str], list[str]]:
    """Subject (first ``# `` line), the paragraphs before the tables marker and after it."""
    subject, before, after = "", [], []
    target = before
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        if lines and not subject and lines[0].startswith("# "):
            subject = lines.pop(0)[2:].strip()
        para = ("" if language == "zh" else " ").join(lines)
        if _TABLES in para:
            head, _, tail = para.partition(_TABLES)
            if head.strip():
                target.append(head.strip())
            target = after
            para = tail.strip()
        if para:
            target.append(para)
    return subject, before, after


def _section_tables(s: CurrencyStatement, statement: Statement, lab: dict[str, str], several: bool) -> list[Table]:
    cur = s.currency

    def m(x: object) -> str:
        return fmt_money(x, cur)  # type: ignore[arg-type]

    tag = f" ({cur})" if several else ""
    kinds = {"invoice": lab["kind_invoice"], "payment": lab["kind_payment"], "credit_note": lab["kind_credit_note"]}
    tables = [Table(f"{lab['currency']}: {cur}", (lab["balance"], lab["amount"]), (
        (f"{lab['opening']} {statement.date_from.isoformat()}", m(s.opening)),
        (lab["invoices"], m(s.invoices)), (lab["payments"], m(-s.payments)),
        (lab["credit_notes"], m(-s.credit_notes)),
        (f"{lab['closing']} {statement.date_to.isoformat()}", m(s.closing))), (1,), bold_last=True,
        widths=(0.7, 0.3))]
    rows = [(statement.date_from.isoformat(), lab["opening"], "", "", "", m(s.opening))]
    for ln in s.lines:
        detail = f"{lab['due']} {ln.detail}" if ln.kind == "invoice" else ln.detail
        rows.append((ln.date.isoformat(), f"{kinds[ln.kind]} {ln.reference}", detail,
                     m(ln.debit) if ln.debit else "", m(ln.credit) if ln.credit else "", m(ln.balance)))
    rows.append((statement.date_to.isoformat(), lab["closing"], "", m(s.invoices),
                 m(s.payments + s.credit_notes), m(s.closing)))
    tables.append(Table(lab["activity"] + tag, (lab["date"], lab["document"], lab["reference"], lab["debit"],
                                                 lab["credit"], lab["balance"]), tuple(rows), (3, 4, 5),
                        bold_last=True, widths=(0.13, 0.25, 0.17, 0.15, 0.15, 0.15)))
    if not s.lines:
        old = tables[-1]
        tables[-1] = Table(old.title, old.header, (old.rows[0], ("", lab["no_activity"], "", "", "", ""),
                                                   *old.rows[1:]), (3, 4, 5), True, old.widths)
    bucket = {"Current": lab.get("current", "Current")}
    items = [(i.invoice_no, i.invoice_date.isoformat(), i.due_date.isoformat(), m(i.amount), m(i.open_amount),
              str(i.days_overdue), bucket.get(i.bucket, i.bucket) + (f" ({lab['disputed']})" if i.disputed else ""))
             for i in s.open_items]
    if items:
        items.append((lab["open"], "", "", "", m(s.open_total), "", ""))
    tables.append(Table(f"{lab['open_items']} {statement.date_to.isoformat()}{tag}",
                        (lab["invoice"], lab["invoice_date"], lab["due_date"], lab["amount"], lab["open"],
                         lab["days"], lab["bucket"]),
                        tuple(items) or ((lab["no_open_items"], "", "", "", "", "", ""),), (3, 4, 5), bool(items),
                        (0.17, 0.13, 0.13, 0.16, 0.16, 0.1, 0.15)))
    if s.open_items:
        title = lab["ageing"] if statement.basis == "due_date" else lab["ageing_invoice_date"]
        tables.append(Table(title + tag, (*(bucket.get(k, k) for k, _ in s.ageing), lab["open"]),
                            ((*(m(a) for _, a in s.ageing), m(s.open_total)),),
                            tuple(range(len(s.ageing) + 1))))
    if s.unapplied:
        rows_u = [(u.date.isoformat(), f"{kinds[u.kind]} {u.reference}", m(u.amount)) for u in s.unapplied]
        tables.append(Table(lab["unapplied"] + tag, (lab["date"], lab["document"], lab["credit"]), tuple(rows_u),
                            (2,), widths=(0.2, 0.5, 0.3)))
    return tables


def _plan_table(plan: PlanSection, lab: dict[str, str], language: str) -> Table:
    """A payment plan: each instalment's due date, amount and status, then the plan's total, what was paid under
    it and the remaining balance."""
    cur = plan.currency

    def m(x: object) -> str:
        return fmt_money(x, cur)  # type: ignore[arg-type]

    title = f"{lab['plan']} {plan.agreed_on.isoformat()} ({cur})"
    if plan.invoice_nos:
        title += f" {lab['plan_invoices']} {', '.join(plan.invoice_nos)}"
    title += f"{'：' if language == 'zh' else ': '}{lab['plan_' + plan.status]}"
    rows = [(str(i.number), i.due_date.isoformat(), m(i.amount), lab["instalment_" + i.status])
            for i in plan.instalments]
    rows += [(lab["plan_total"], "", m(plan.total), ""), (lab["plan_paid"], "", m(plan.paid), ""),
             (lab["plan_remaining"], "", m(plan.remaining), "")]
    return Table(title, (lab["instalment"], lab["due_date"], lab["instalment_amount"], lab["instalment_status"]),
                 tuple(rows), (2,), bold_last=True, widths=(0.3, 0.25, 0.25, 0.2))


def compose_statement(statement: Statement, policy: Policy, templates: str | Path | None = None) -> ComposedStatement:
    """Fill ``<lang>/statement.txt`` and lay out the tables of every currency section."""
    user_dir = str(Path(templates).resolve()) if templates else None
    if user_dir and not Path(user_dir).is_dir():
        raise XlcError("templates", f"folder not found: {templates}", str(templates))
    language = statement.language
    name = f"{language}/statement.txt"
    overdue = [s for s in statement.sections if s.overdue > 0]
    try:
        text = _environment(user_dir).get_template(name).render(
            statement=statement, customer=statement.customer, company=policy.company, overdue=overdue,
            statement_tables=_TABLES)
    except jinja2.TemplateNotFound:
        raise XlcError("template", f"no statement template {name}", name) from None
    except jinja2.TemplateError as exc:
        raise XlcError("template", f"{name}: {exc}", name) from None
    lab = _statement_labels(user_dir, language)
    subject, before, after = _paragraphs(text, language)
    several = len(statement.sections) > 1
    tables = tuple(t for s in statement.sections for t in _section_tables(s, statement, lab, several))
    tables += tuple(_plan_table(plan, lab, language) for plan in statement.plans)
    customer, company = statement.customer, policy.company
    recipient = tuple(x for x in (customer.name, customer.contact, customer.address,
                                  f"{lab['your_ref']}: {customer.customer_id}") if x)
    if language == "zh":
        salutation = f"{lab['dear']}{customer.contact}：" if customer.contact else f"{lab['dear_fallback']}："
    else:
        salutation = f"{lab['dear']} {customer.contact}," if customer.contact else f"{lab['dear_fallback']},"
    return ComposedStatement(
        language=language, subject=subject, before=tuple(before), after=tuple(after), tables=tables, labels=lab,
        sender=(company.name, company.address), recipient=recipient,
        date_line=f"{lab['date']}: {statement.date_to.isoformat()}", salutation=salutation,
        closing=(lab["regards"], company.credit_controller, company.name),
        payment=f"{lab['pay_to']}: {company.bank_details}" + (
            # the letters' word for the payment reference (the statement's own "reference" is a column heading)
            f" · {_labels(user_dir, language).get('reference', 'Reference')}: {ref}"
            if (ref := _payment_reference(customer.customer_id))
            else ""))


# --------------------------------------------------------------------------- docx
def _docx_table(table: Table) -> str:
    from xml.sax.saxutils import escape

    total = 9000
    shares = table.widths or tuple(1 / len(table.header) for _ in table.header)
    widths = [int(total * w) for w in shares]

    def cell(text: str, width: int, right: bool, bold: bool) -> str:
        ppr = '<w:pPr><w:jc w:val="right"/></w:pPr>' if right else ""
        rpr = f"<w:rPr>{'<w:b/>' if bold else ''}<w:sz w:val=\"16\"/></w:rPr>"
        return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p>{ppr}<w:r>{rpr}'
                f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>')

    def row(values: tuple[str, ...], bold: bool) -> str:
        return "<w:tr>" + "".join(cell(v, widths[i], i in table.numeric, bold) for i, v in enumerate(values)) + \
            "</w:tr>"

    body = [row(table.header, True)]
    body += [row(r, table.bold_last and k == len(table.rows) - 1) for k, r in enumerate(table.rows)]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
            f'<w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(body)}</w:tbl>')


def render_statement_docx(doc: ComposedStatement) -> bytes:
    """The statement as a Word document (the letters' package and Normal style, our body)."""
    import zipfile

    base, head, tail = _docx_base(doc.language)
    body = [_docx_para(doc.sender[0], right=True, bold=True), _docx_para(doc.sender[1:], right=True),
            _docx_para(doc.recipient), _docx_para(doc.date_line, right=True), _docx_para(doc.subject, bold=True),
            _docx_para(doc.salutation), *(_docx_para(p) for p in doc.before)]
    for table in doc.tables:
        body += [_docx_para(table.title, bold=True), _docx_table(table), "<w:p/>"]
    body += [*(_docx_para(p) for p in doc.after), _docx_para(doc.payment), _docx_para(doc.closing)]
    buf = io.BytesIO(base)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", head + "".join(body) + tail)
    return buf.getvalue()


# --------------------------------------------------------------------------- pdf
def render_statement_pdf(doc: ComposedStatement) -> bytes:
    """The statement as a PDF (reportlab, A4), every font embedded as a subset, as the letters are."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    st = pdf_styles(doc.language, doc.labels)
    font, bold, body, cell, para = st.font, st.bold, st.body, st.cell, st.para
    heading = ParagraphStyle("heading", parent=body, fontName=bold, fontSize=9, spaceBefore=4, spaceAfter=2)

    story = pdf_opening(doc, st)
    story += [para(p, body) for p in doc.before]
    width = A4[0] - 40 * mm
    for table in doc.tables:
        n = len(table.header)
        shares = table.widths or tuple(1 / n for _ in range(n))
        data = [[para(h, cell) for h in table.header], *[list(r) for r in table.rows]]
        style = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                 ("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), font),
                 ("FONTSIZE", (0, 1), (-1, -1), 8), ("LEADING", (0, 1), (-1, -1), 10),
                 *(("ALIGN", (c, 1), (c, -1), "RIGHT") for c in table.numeric)]
        if table.bold_last:
            style.append(("FONTNAME", (0, len(data) - 1), (-1, -1), bold))
        pdf_table = PdfTable(data, colWidths=[width * w for w in shares], repeatRows=1)
        pdf_table.setStyle(TableStyle(style))
        story += [KeepTogether([para(table.title, heading), pdf_table]) if len(data) < 25
                  else para(table.title, heading), *([] if len(data) < 25 else [pdf_table]), Spacer(1, 3 * mm)]
    story += [para(p, body) for p in doc.after]
    story += [para(doc.payment, body), Spacer(1, 4 * mm), para("\n".join(doc.closing), body)]
    return pdf_bytes(story, doc, st)
