"""Every PDF we write embeds its fonts, so a letter renders the same in any reader — Chinese included.

How this is checked (poppler-utils): ``pdffonts`` lists every font of the PDF with ``emb yes``; then the Chinese
page is rendered by ``pdftoppm`` with *no* fonts from the computer (``FONTCONFIG_FILE`` pointing at an empty
configuration) and, where the test can (root, ``unshare``), with Debian's ``poppler-data`` hidden too — so only
what the PDF carries can draw the glyphs. A PDF that names the CID font STSong-Light without embedding it draws
empty boxes (or nothing) there. The check: the crops of two different characters of the salutation 尊敬的李娜 hold
ink, and different ink (a font's glyphs, not the same rectangle twice).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import Invoice, Ledger
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.jobs.letters import plan_letters
from xlcredit.letters import fonts
from xlcredit.letters.render import compose, render_pdf

pytestmark = pytest.mark.skipif(not shutil.which("pdffonts") or not shutil.which("pdftoppm"),
                                reason="needs poppler-utils (installed by .ci/run)")
if os.environ.get("CI") and not shutil.which("pdftoppm"):   # in CI the tools must be there
    raise RuntimeError("poppler-utils missing in CI")

DPI = 150


def letter_pdf(tmp_path: Path, language: str, claim: str = "contract", regime: str = "") -> Path:
    if language == "zh":
        customer = Customer("C9", name="佛山鑫隆塑胶有限公司", currency="EUR", contact="李娜", language="zh",
                            address="佛山市滨江路200号", relationship_start=dt.date(2019, 1, 1))
    else:
        customer = Customer("C9", name="Mécanique Montaubry SAS", currency="EUR", contact="Élodie Brière",
                            address="12 rue des Forges, Lyon", statutory_regime=regime,
                            relationship_start=dt.date(2019, 1, 1))
    invoices = tuple(Invoice("C9", f"INV-{i}", "EUR", Decimal("1234.56") * i, dt.date(2026, 5, i),
                             dt.date(2026, 6, i)) for i in range(1, 6))
    policy = Policy.from_rows([("late.claim", claim)])
    (letter,), _, _ = plan_letters([customer], Ledger(invoices, ()), policy, dt.date(2026, 10, 31))
    pdf = tmp_path / f"{language}-{claim}.pdf"
    pdf.write_bytes(render_pdf(compose(letter, policy)))
    return pdf


def pdffonts(pdf: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True, timeout=60).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


@pytest.mark.parametrize(("language", "claim", "regime"), [("en", "contract", ""), ("zh", "contract", ""),
                                                           ("en", "statutory", "EU")])
def test_every_font_is_embedded(tmp_path, language, claim, regime):
    """The English and Chinese letters and a statement of account with statutory interest and compensation."""
    rows = pdffonts(letter_pdf(tmp_path, language, claim, regime))
    assert rows
    for row in rows:
        emb, sub = row[-5], row[-4]                   # … emb sub uni object ID
        assert (emb, sub) == ("yes", "yes"), row      # embedded, as a subset
        assert "Helvetica" not in row[0] and "STSong" not in row[0]


def render_isolated(pdf: Path, tmp_path: Path) -> Image.Image:
    """Page 1 at DPI with no system fonts and, where possible, without poppler-data."""
    conf = tmp_path / "no-fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>", "utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    target = tmp_path / "page"
    cmd = ["pdftoppm", "-r", str(DPI), "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)]
    poppler_data = Path("/usr/share/poppler")
    if poppler_data.is_dir() and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare"):
        empty = tmp_path / "empty"
        empty.mkdir()
        hidden = ["unshare", "-m", "sh", "-c", f'mount --bind "{empty}" "{poppler_data}" && exec "$@"', "sh", *cmd]
        if subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30).returncode == 0:
            cmd = hidden
    subprocess.run(cmd, check=True, capture_output=True, timeout=120, env=env)
    return Image.open(f"{target}.png").convert("L")


def word_box(pdf: Path, word: str) -> tuple[float, float, float, float, str]:
    """(xMin, yMin, xMax, yMax, text) in points of the first word of page 1 starting with ``word`` (pdftotext -bbox)."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    import re

    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                         html):
        if m.group(5).startswith(word):
            return (*(float(m.group(i)) for i in range(1, 5)), m.group(5))  # type: ignore[return-value]
    raise AssertionError(f"{word!r} not found on the page: {html[:500]}")


def ink(image: Image.Image) -> int:
    return sum(1 for v in image.tobytes() if v < 128)


def test_chinese_page_draws_its_own_glyphs_without_system_fonts_or_poppler_data(tmp_path):
    pdf = letter_pdf(tmp_path, "zh")
    page = render_isolated(pdf, tmp_path)
    x0, y0, x1, y1, text = word_box(pdf, "尊敬的李娜")
    scale = DPI / 72
    size = (x1 - x0) / len(text)                     # full-width glyphs: each one em wide
    crops = []
    for n in (0, 1):                                 # 尊 and 敬
        left = x0 + n * size
        crops.append(page.crop((round(left * scale), round(y0 * scale), round((left + size) * scale),
                                round(y1 * scale))))
    first, second = crops
    assert ink(first) > 40 and ink(second) > 40, "no glyphs drawn (the font is not in the PDF)"
    differing = ink(ImageChops.difference(first, second).point(lambda v: 0 if v > 96 else 255))
    assert differing > 0.25 * min(ink(first), ink(second)), "the same shape twice: boxes, not glyphs"
    ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"
    ARTIFACTS.mkdir(exist_ok=True)
    page.save(ARTIFACTS / "letter_zh_isolated.png")


def test_no_chinese_truetype_font_is_one_clear_line_naming_the_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "_known", lambda role: [])
    monkeypatch.setattr(fonts, "_fontconfig", lambda role: [])
    fonts._find.cache_clear()
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    monkeypatch.setenv(fonts.CJK_SETTING, str(not_a_font))
    try:
        with pytest.raises(XlcError, match=r"font: no Chinese TrueType font found .*font\.ttf is not a TrueType font"
                                           r".*set XLCREDIT_CJK_FONT"):
            fonts.pdf_fonts("zh")
        cff = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")   # CFF outlines: cannot be embedded
        if cff.is_file():
            monkeypatch.setenv(fonts.CJK_SETTING, str(cff))
            with pytest.raises(XlcError, match="XLCREDIT_CJK_FONT"):
                fonts.pdf_fonts("zh")
        assert fonts.pdf_fonts("en").regular                   # Latin text falls back to the shipped Vera
    finally:
        fonts._find.cache_clear()


def test_the_setting_comes_first(tmp_path, monkeypatch):
    wqy = next((p for p in fonts._known("cjk") if Path(p).is_file() and "wqy" in p), None)
    if wqy is None:
        pytest.skip("WenQuanYi Micro Hei not installed (fonts-wqy-microhei)")
    monkeypatch.setenv(fonts.CJK_SETTING, wqy + "#1")         # the second font of the collection
    fonts._find.cache_clear()
    try:
        chosen = fonts.pdf_fonts("zh")
        assert chosen.files == (wqy,) and chosen.regular.endswith("-1")
    finally:
        fonts._find.cache_clear()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_statement_of_account_embeds_its_fonts_too(tmp_path, language):
    from xlcredit.core.statements import statement_for
    from xlcredit.letters.statement import compose_statement, render_statement_pdf

    customer = Customer("C9", name="佛山鑫隆塑胶有限公司" if language == "zh" else "Mécanique Montaubry SAS",
                        currency="EUR", language=language, relationship_start=dt.date(2019, 1, 1))
    ledger = Ledger(tuple(Invoice("C9", f"INV-{i}", "EUR", Decimal("1234.56") * i, dt.date(2026, 9, i),
                                  dt.date(2026, 10, i)) for i in range(1, 4)), ())
    policy = Policy()
    statement = statement_for(customer, ledger, dt.date(2026, 9, 1), dt.date(2026, 10, 31), policy)
    pdf = tmp_path / f"statement-{language}.pdf"
    pdf.write_bytes(render_statement_pdf(compose_statement(statement, policy)))
    rows = pdffonts(pdf)
    assert rows and all(row[-5:-3] == ["yes", "yes"] for row in rows), rows
