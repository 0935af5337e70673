"""A rendered letter page as an image (pdftoppm) for people to review, and the ``xlcredit letters`` command.

The PNGs land in ``tests/_artifacts/letter_en.png`` and ``letter_zh.png``. The image checks are coarse on purpose (an A4
page with ink in the letterhead, the statement table and the body, not blank, not solid), the
review itself is by eye.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.core.ledger import Invoice, Ledger, Payment
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.jobs.letters import plan_letters
from xlcredit.letters.render import compose, render_pdf

ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_rendered_page_to_png(tmp_path, language):
    """English and Simplified Chinese (fonts embedded: see test_letters_fonts.py for the Chinese glyph check)."""
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed to render letters for review"
    if language == "en":
        customer = Customer("C9", name="Calderwick Fabrications plc", currency="EUR", contact="Jo Marsh",
                            address="4 Quay Road, Leith EH6 6QP, United Kingdom",
                            relationship_start=dt.date(2019, 1, 1))
    else:
        customer = Customer("C9", name="佛山鑫隆塑胶有限公司", currency="EUR", contact="李娜", language="zh",
                            address="佛山市滨江路200号", relationship_start=dt.date(2019, 1, 1))
    invoices = tuple(Invoice("C9", f"INV-2026-{i:05d}", "EUR", Decimal("1234.56") * i, dt.date(2026, 5, i),
                             dt.date(2026, 6, i)) for i in range(1, 9))
    ledger = Ledger(invoices, (Payment("P1", "C9", dt.date(2026, 6, 20), Decimal("500.00"), "EUR"),))
    policy = Policy()
    (letter,), _, _ = plan_letters([customer], ledger, policy, dt.date(2026, 10, 31))
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(render_pdf(compose(letter, policy)))
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(ARTIFACTS / f"letter_{language}")], check=True, capture_output=True, timeout=60)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, timeout=60).stdout.decode()
    assert ("尊敬" in text) == (language == "zh") and "Harbour Trading Ltd" in text
    image = Image.open(ARTIFACTS / f"letter_{language}.png").convert("L")
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.02                       # an A4 page
    pixels = image.tobytes()
    dark = [sum(1 for v in pixels[y * width:(y + 1) * width] if v < 200) for y in range(height)]
    inked_rows = [y for y, n in enumerate(dark) if n]
    assert 0.03 < len(inked_rows) / height < 0.8                        # text, not blank, not solid
    assert inked_rows[0] < height * 0.12                                # the letterhead at the top
    assert any(n > width * 0.3 for n in dark)                           # the table's horizontal rules


def test_cli_letters_on_the_sample_then_rerun(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    register = tmp_path / "register.csv"
    first = runner.invoke(app, ["letters", "--out", str(out), "--register", str(register)], env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    assert "11 letters issued, 0 already issued" in first.output    # and 9 actions: 20 register rows
    assert register.read_text("utf-8").count("\n") == 1 + 20 and "content_hash" in register.read_text("utf-8")
    again = runner.invoke(app, ["letters", "--out", str(out), "--dry-run"], env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "0 letters would be issued, 11 already issued" in again.output
    bad = runner.invoke(app, ["letters", str(tmp_path / "nope.xlsm"), "--out", str(out)])
    assert bad.exit_code == 2 and "workbook: file or folder not found" in bad.output


def test_generate_letters_button_runs_the_same_job_and_fills_the_letters_sheet(tmp_path):
    from test_excel import _Book  # the fake open workbook of the Excel-button tests

    from xlcredit import excel
    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.io.store import CreditStore

    book = _Book(tmp_path)
    excel.generate_letters(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts[0].startswith(f"11 letter(s) written to {tmp_path / 'Letters'}; 0 already issued")
    sheet = book.sheets["Letters"].cells
    header, *rows = sheet["A4"]
    assert sheet["B2"] == SAMPLE_AS_OF and header[:4] == ["No.", "Issued at", "Customer ID", "Kind"]
    register = CreditStore(str(tmp_path / "credit.sqlite")).register_rows()   # the xlwings.conf database
    assert len(rows) == len(register) == 20
    assert len(list((tmp_path / "Letters").glob("*.pdf"))) == 11
    excel.generate_letters(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts[1].startswith(f"0 letter(s) written to {tmp_path / 'Letters'}; 11 already issued")
