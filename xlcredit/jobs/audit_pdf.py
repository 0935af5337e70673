"""The policy audit as a PDF report a CFO can read at the annual audit meeting.

Page 1: the two policies side by side (the same figures and words as ``xlcredit audit`` prints) and what the
differences mean. Then the charts (sales held and exposure at default carried by month end, per policy; default
rate by grade, per policy), the calibration table and the invoices that defaulted or were paid over 90 days late.
Fonts are the letters' embedded TrueType fonts (a customer or policy name may be Chinese). Written atomically.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlcredit.core.audit import Audit
from xlcredit.core.errors import XlcError
from xlcredit.jobs.audit import (
    calibration_rows,
    comparison_rows,
    default_rows,
    month_rows,
    save_atomically,
    shown_change,
    shown_value,
)

#: Colours of policy A and policy B in both charts (the same pair everywhere, so a reader learns them once).
_COLOURS = ("#1f4e79", "#c55a11")
#: The defaults table lists at most this many invoices (the .xlsx report has them all).
MAX_DEFAULT_ROWS = 60


def write_pdf_report(result: Audit, path: Path, *, source: str = "", notes: tuple[str, ...] = ()) -> Path:
    """Write the audit to ``path`` (.pdf) atomically; ``source`` names the book, ``notes`` what the run assumed."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    from xlcredit.letters.fonts import pdf_fonts
    from xlcredit.letters.render import binary_streams

    out = Path(path)
    if out.suffix.lower() != ".pdf":
        raise XlcError("out", f"must end in .pdf (got {out.name})", str(out))
    if not out.parent.exists():
        raise XlcError("out", f"folder does not exist: {out.parent}", str(out))
    text = " ".join([source, result.a.name, "" if result.b is None else result.b.name,
                     *(r.customer_id for r in result.outcomes)])
    fonts = pdf_fonts("zh" if any(ord(c) > 0x2E7F for c in text) else "en")
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=fonts.regular, fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    h1 = ParagraphStyle("h1", parent=base["Heading1"], fontName=fonts.bold, fontSize=15, leading=18)
    h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=fonts.bold, fontSize=11.5, leading=14,
                        spaceBefore=8)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=9.5)
    cell_right = ParagraphStyle("cell_right", parent=cell, alignment=2)

    first, last = result.month_ends[0], result.month_ends[-1]
    cur = result.currency
    story: list[Any] = [Paragraph(f"Policy audit, month ends {first:%d %b %Y} to {last:%d %b %Y}", h1)]
    who = f"{_esc(source)} · " if source else ""
    policies = f"A: {_esc(result.a.name)}" + ("" if result.b is None else f" · B: {_esc(result.b.name)}")
    story.append(Paragraph(f"{who}{len(result.month_ends)} month ends replayed · money in {cur} · {policies}", body))
    story.append(Paragraph(
        "At each month end each policy decides from what was known then (grade, limit, terms, dunning step, the "
        "order check on the invoices of the following month); the outcome is what happened afterwards: invoices "
        f"written off or unpaid 180 days after due (defaults), paid over 90 days late. Outcomes known to "
        f"{result.observed_to:%d %b %Y}.", small))

    story.append(Paragraph("The policies side by side", h2))
    rows = comparison_rows(result)
    header = ["Measure", f"A: {result.a.name}"] + ([] if result.b is None else [f"B: {result.b.name}", "B − A"])
    data: list[list[Any]] = [[Paragraph(_esc(h), cell) for h in header]]
    for r in rows:
        line = [Paragraph(_esc(r["measure"]), cell), Paragraph(_esc(shown_value(r["a"], r["unit"])), cell_right)]
        if result.b is not None:
            line += [Paragraph(_esc(shown_value(r["b"], r["unit"])), cell_right),
                     Paragraph(_esc(shown_change(r["change"], r["unit"])), cell_right)]
        data.append(line)
    widths = [95 * mm, 38 * mm] + ([] if result.b is None else [38 * mm, 38 * mm])
    story.append(_table(data, widths, TableStyle, colors))
    meanings = [r for r in rows if r["meaning"]]
    if meanings:
        story.append(Paragraph("What the differences mean", h2))
        story += [Paragraph(f"<b>{_esc(r['measure'])}</b>: {_esc(r['meaning'])}", small) for r in meanings]
    if notes or result.problems:
        story.append(Paragraph("Notes", h2))
        story += [Paragraph(_esc(note), small) for note in (*notes, *result.problems)]

    story.append(PageBreak())
    story.append(Paragraph("By month end", h2))
    story.append(_month_chart(result, fonts.regular, "held", "Sales held by the order check"))
    story.append(Spacer(1, 3 * mm))
    story.append(_month_chart(result, fonts.regular, "ead_carried",
                              "Exposure at default carried (orders released that later defaulted)"))
    story.append(PageBreak())
    cal = calibration_rows(result)
    if cal:
        story.append(KeepTogether([Paragraph("Default rate by grade (defaults within a year of the month end)", h2),
                                   _grade_chart(result, fonts.regular)]))
        data = [[Paragraph(h, cell) for h in ("Policy", "Grade", "Customer-months", "Defaults", "Rate")]]
        for r in cal:
            rate = r["default_rate"]
            data.append([Paragraph(_esc(r["policy"]), cell), Paragraph(r["grade"], cell),
                         Paragraph(f"{r['customer_months']:,}", cell_right),
                         Paragraph(f"{r['defaults_within_a_year']:,}", cell_right),
                         Paragraph("—" if rate is None else f"{Decimal(rate) * 100:.1f} %", cell_right)])
        story.append(_table(data, [60 * mm, 20 * mm, 35 * mm, 30 * mm, 30 * mm], TableStyle, colors))

    defaults = default_rows(result)
    story.append(Paragraph(f"Invoices that defaulted or were paid over 90 days late ({len(defaults)})", h2))
    if defaults:
        heads = ("Customer", "Invoice", "Due", f"Amount ({cur})", "Outcome", "Default date",
                 f"Exposure at default ({cur})", "Days late")
        data = [[Paragraph(h, cell) for h in heads]]
        for r in defaults[:MAX_DEFAULT_ROWS]:
            data.append([Paragraph(_esc(r["customer_id"]), cell), Paragraph(_esc(r["invoice_no"]), cell),
                         Paragraph(_day(r["due_date"]), cell),
                         Paragraph(shown_value(r["amount"], "money"), cell_right),
                         Paragraph(_esc(r["outcome"]), cell), Paragraph(_day(r["default_date"]), cell),
                         Paragraph(shown_value(r["exposure_at_default"], "money"), cell_right),
                         Paragraph("" if r["days_late"] is None else str(r["days_late"]), cell_right)])
        story.append(_table(data, [28 * mm, 30 * mm, 22 * mm, 32 * mm, 50 * mm, 24 * mm, 38 * mm, 18 * mm],
                            TableStyle, colors))
        if len(defaults) > MAX_DEFAULT_ROWS:
            story.append(Paragraph(f"The first {MAX_DEFAULT_ROWS} of {len(defaults)} are listed; the .xlsx report "
                                   "(--out audit.xlsx) lists them all.", small))
    else:
        story.append(Paragraph("None in the period.", body))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(fonts.regular, 7.5)
        canvas.drawString(15 * mm, 8 * mm, f"xlcredit policy audit {first.isoformat()} – {last.isoformat()}")
        canvas.drawRightString(doc.pagesize[0] - 15 * mm, 8 * mm, f"page {doc.page}")
        canvas.restoreState()

    def save(tmp: str) -> None:
        binary_streams()
        doc = SimpleDocTemplate(tmp, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                                topMargin=14 * mm, bottomMargin=15 * mm,
                                title=f"Policy audit {first.isoformat()} to {last.isoformat()}",
                                author="xlcredit", subject=source or "policy audit")
        doc.build(story, onFirstPage=footer, onLaterPages=footer)

    return save_atomically(out, save)


def _esc(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _day(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def _table(data: list[list[Any]], widths: list[float], style_cls: Any, colors: Any) -> Any:
    from reportlab.platypus import Table

    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(style_cls([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#1f4e79")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7fa")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    return table


def _month_chart(result: Audit, font: str, field: str, what: str) -> Any:
    """One measure (``held`` or ``ead_carried``) by month end, a line per policy, on its own scale."""
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    months = month_rows(result)
    policies = [result.a.name] + ([] if result.b is None else [result.b.name])
    data = [[float(m[f"{field}_{name}"]) for m in months] for name in policies]
    drawing = Drawing(760, 165)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 60, 22, 470, 125
    chart.data = data
    chart.categoryAxis.categoryNames = [m["month_end"].strftime("%b %y") for m in months]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice(max((max(d) for d in data if d), default=0.0))
    chart.valueAxis.valueStep = chart.valueAxis.valueMax / 5
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    for k in range(len(policies)):
        chart.lines[k].strokeColor = colors.HexColor(_COLOURS[k])
        chart.lines[k].strokeWidth = 1.8
    drawing.add(chart)
    drawing.add(String(60, 155, f"{what} ({result.currency}), by month end", fontName=font, fontSize=8.5))
    legend = Legend()
    legend.x, legend.y = 550, 140
    legend.fontName, legend.fontSize = font, 7.5
    legend.alignment = "right"
    legend.colorNamePairs = [(colors.HexColor(_COLOURS[k]), f"{'AB'[k]}: {name}") for k, name in enumerate(policies)]
    drawing.add(legend)
    return drawing


def _grade_chart(result: Audit, font: str) -> Any:
    """Default rate by grade, one bar per policy."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    replays = [r for r in (result.a, result.b) if r is not None]
    grades = [g.grade for g in replays[0].measures.calibration]
    data = [[float(g.rate or 0) * 100 for g in r.measures.calibration] for r in replays]
    drawing = Drawing(760, 170)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 60, 25, 380, 130
    chart.data = data
    chart.categoryAxis.categoryNames = grades
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice(max((max(d) for d in data if d), default=0.0))
    chart.valueAxis.valueStep = chart.valueAxis.valueMax / 5
    chart.valueAxis.labelTextFormat = "%.0f %%"
    for k in range(len(replays)):
        chart.bars[k].fillColor = colors.HexColor(_COLOURS[k])
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 470, 140
    legend.fontName, legend.fontSize = font, 7.5
    legend.alignment = "right"
    legend.colorNamePairs = [(colors.HexColor(_COLOURS[k]), f"{'AB'[k]}: {r.name}") for k, r in enumerate(replays)]
    drawing.add(legend)
    return drawing


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top`` (1, 2, 2.5 or 5 × a power of ten), 1 for an empty chart."""
    if top <= 0:
        return 1.0
    power = 10 ** (len(str(int(top))) - 1) if top >= 1 else 1.0
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= top:
            return float(step * power)
    return float(10 * power)


__all__ = ["MAX_DEFAULT_ROWS", "write_pdf_report"]
