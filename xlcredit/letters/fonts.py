"""Fonts for PDF letters: TrueType files embedded (as subsets) so a letter looks the same in every reader.

A PDF that names a font without embedding it (Helvetica, or the CID font STSong-Light) is drawn
with whatever the reader has: a reader without the Adobe Asian font pack shows Chinese as empty
boxes. So every PDF we write embeds its fonts, and the canvas starts in one of them (an unused
Helvetica would otherwise stay in the page resources, unembedded).

reportlab embeds TrueType outlines only (``glyf``); OpenType/CFF fonts such as Noto Sans CJK are
skipped. Each font is looked for, first found wins:

1. the setting: ``XLCREDIT_LATIN_FONT`` / ``XLCREDIT_LATIN_BOLD_FONT`` / ``XLCREDIT_CJK_FONT`` (a .ttf
   or .ttc file; ``file.ttc#1`` picks the second font of a collection), or ``font`` / ``font_bold``
   in ``<lang>/labels.toml`` of your letter templates folder;
2. the usual files on Windows (Arial; Microsoft YaHei, SimSun), macOS (Arial; PingFang, Songti,
   Arial Unicode) and Linux (DejaVu Sans; WenQuanYi Micro/Zen Hei, AR PL UMing);
3. fontconfig (``fc-match`` / ``fc-list :lang=zh``) where it is installed;
4. for Latin text only: Bitstream Vera, shipped with reportlab (open licence).

When no Chinese TrueType font is found the letter is refused with one line naming the setting.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from xlcredit.core.errors import XlcError

__all__ = ["CJK_SETTING", "LATIN_BOLD_SETTING", "LATIN_SETTING", "PdfFonts", "pdf_fonts"]

LATIN_SETTING = "XLCREDIT_LATIN_FONT"
LATIN_BOLD_SETTING = "XLCREDIT_LATIN_BOLD_FONT"
CJK_SETTING = "XLCREDIT_CJK_FONT"
#: Characters a Chinese letter font must have (from the shipped templates: 尊敬的, 逾期, 合计).
_CJK_PROBE = "尊敬的逾期合计"
_LATIN_PROBE = "AZaz09€äéü"


@dataclass(frozen=True)
class PdfFonts:
    """Registered reportlab font names for a letter's text and its bold lines, and the files behind them."""

    regular: str
    bold: str
    files: tuple[str, ...]


def _windows_fonts() -> Path:
    return Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"


def _known(role: str) -> list[str]:
    """The usual font files of this role on Windows, macOS and Linux (only existing ones matter)."""
    win, mac, lin = _windows_fonts(), Path("/System/Library/Fonts"), Path("/usr/share/fonts")
    if role == "latin":
        return [str(lin / "truetype/dejavu/DejaVuSans.ttf"), str(win / "arial.ttf"),
                str(mac / "Supplemental/Arial.ttf"), "/Library/Fonts/Arial.ttf",
                str(lin / "truetype/liberation/LiberationSans-Regular.ttf"),
                str(lin / "truetype/liberation2/LiberationSans-Regular.ttf")]
    if role == "latin_bold":
        return [str(lin / "truetype/dejavu/DejaVuSans-Bold.ttf"), str(win / "arialbd.ttf"),
                str(mac / "Supplemental/Arial Bold.ttf"), "/Library/Fonts/Arial Bold.ttf",
                str(lin / "truetype/liberation/LiberationSans-Bold.ttf"),
                str(lin / "truetype/liberation2/LiberationSans-Bold.ttf")]
    return [str(win / "msyh.ttc"), str(win / "simsun.ttc"), str(win / "simhei.ttf"),
            str(mac / "PingFang.ttc"), str(mac / "Supplemental/Songti.ttc"), str(mac / "STHeiti Light.ttc"),
            "/Library/Fonts/Arial Unicode.ttf", str(mac / "Supplemental/Arial Unicode.ttf"),
            str(lin / "truetype/wqy/wqy-microhei.ttc"), str(lin / "truetype/wqy/wqy-zenhei.ttc"),
            str(lin / "truetype/arphic/uming.ttc"), str(lin / "truetype/arphic/ukai.ttc")]


def _fontconfig(role: str) -> list[str]:
    """Font files fontconfig offers for the role (nothing when fontconfig is not installed)."""
    if shutil.which("fc-match") is None or sys.platform == "win32":
        return []
    if role == "cjk":
        args = [["fc-list", ":lang=zh", "file"]]
    else:
        style = ":bold" if role == "latin_bold" else ""
        args = [["fc-match", "-f", "%{file}\n", f"DejaVu Sans{style}"], ["fc-match", "-f", "%{file}\n", f"sans{style}"]]
    found: list[str] = []
    for cmd in args:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        found += [line.strip().rstrip(":") for line in out.splitlines() if line.strip()]
    # TrueType collections and fonts first (.ttf/.ttc); CFF-based .otf files cannot be embedded anyway
    return sorted(dict.fromkeys(found), key=lambda f: (not f.lower().endswith((".ttf", ".ttc")), f))


def _shipped(role: str) -> list[str]:
    if role == "cjk":
        return []
    import reportlab

    folder = Path(reportlab.__file__).resolve().parent / "fonts"
    return [str(folder / ("VeraBd.ttf" if role == "latin_bold" else "Vera.ttf"))]


def _split(spec: str) -> tuple[str, int]:
    path, _, index = spec.partition("#")
    return path, int(index) if index.strip().isdigit() else 0


def _load(spec: str, probe: str) -> object | None:
    """A reportlab TTFont for ``spec`` when it is a TrueType font holding every ``probe`` character."""
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    path, index = _split(spec)
    if not Path(path).is_file():
        return None
    name = f"xlc-{Path(path).stem}-{index}"
    try:
        font = TTFont(name, path, subfontIndex=index)
    except (TTFError, OSError, ValueError, KeyError, IndexError):   # CFF outlines, damaged or not a font
        return None
    cmap = font.face.charToGlyph
    if any(ord(ch) not in cmap for ch in probe):
        return None
    return font


def _candidates(role: str, setting: Iterable[str]) -> Iterator[str]:
    yield from (s for s in setting if s)
    yield from _known(role)
    yield from _fontconfig(role)
    yield from _shipped(role)


@lru_cache(maxsize=32)
def _find(role: str, setting: tuple[str, ...]) -> tuple[str, str] | None:
    """Register the first usable font of the role; (registered name, file) or None."""
    from reportlab.pdfbase import pdfmetrics

    probe = _CJK_PROBE if role == "cjk" else _LATIN_PROBE
    for spec in dict.fromkeys(_candidates(role, setting)):
        font = _load(spec, probe)
        if font is not None:
            pdfmetrics.registerFont(font)
            return font.fontName, _split(spec)[0]  # type: ignore[attr-defined]
    return None


def pdf_fonts(language: str, labels: dict[str, str] | None = None) -> PdfFonts:
    """The embedded fonts for a letter in ``language`` (see the module docstring for where they come from)."""
    labels = labels or {}
    if language == "zh":
        setting = (labels.get("font", ""), os.environ.get(CJK_SETTING, ""))
        found = _find("cjk", setting)
        if found is None:
            given = [s for s in setting if s]
            detail = f" ({', '.join(given)} is not a TrueType font with Chinese characters)" if given else ""
            raise XlcError("font", f"no Chinese TrueType font found{detail}: set {CJK_SETTING} (or font in "
                                   "zh/labels.toml of your letter templates) to a .ttf/.ttc file such as "
                                   "simsun.ttc or wqy-microhei.ttc", given[0] if given else None)
        bold = _find("cjk", (labels.get("font_bold", ""),)) if labels.get("font_bold") else None
        return PdfFonts(found[0], (bold or found)[0], tuple(dict.fromkeys((found[1], (bold or found)[1]))))
    regular = _find("latin", (labels.get("font", ""), os.environ.get(LATIN_SETTING, "")))
    bold = _find("latin_bold", (labels.get("font_bold", ""), os.environ.get(LATIN_BOLD_SETTING, "")))
    if regular is None or bold is None:  # pragma: no cover - reportlab ships Vera
        raise XlcError("font", f"no Latin TrueType font found: set {LATIN_SETTING} to a .ttf file", None)
    return PdfFonts(regular[0], bold[0], (regular[1], bold[1]))
