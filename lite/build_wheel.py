"""Build the lean xlwings Lite wheel ``dist/xlcredit_lite-<version>-py3-none-any.whl`` from the repository's own
sources (no copies kept anywhere): ``python lite/build_wheel.py [--out DIR]``.

What goes in: the pure core (``xlcredit/core``), the lazy ``xlcredit/__init__``, the two pure file readers the
formulas use (``xlcredit/io/rates.py`` — the reference-rate tables of STATUTORY_INTEREST — and
``xlcredit/io/policy_file.py`` — the shipped policy), the shipped policy and rate tables, the formula catalogue
(``udfs/functions.py`` with ``_convert``, ``_pure``, ``_remote`` and ``lite``), the Lite plugin
(``lite/xlcredit_lite`` → ``xlcredit_lite``) and the script engine (:data:`SCRIPT_ENGINE`: the Refresh, Review and
Worklist jobs, the workbook adapter, the table readers and the credit store). What stays out: the service,
letters, statements, sending, audit, bank matching, the CLI, the bulk and Dask paths, the sample data.

The formulas import nothing outside the standard library, so the wheel requires nothing; the scripts need pandas,
numpy and SQLAlchemy, declared as the ``scripts`` extra (``Requires-Dist: …; extra == "scripts"``) — Pyodide ships
all three, and Lite's requirements.txt lists them by name, since micropip ignores the extras of a wheel given by
URL. xlwings is the add-in's own.

Written with :mod:`zipfile` and fixed timestamps, so the same sources give the same bytes (reproducible), and no
build backend is needed. The version is the project's (``pyproject.toml``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = "xlcredit_lite"
DIST_NAME = "xlcredit-lite"
#: Files of the catalogue beside the core, by their path in the repository (= their path in the wheel).
CATALOGUE = ("udfs/__init__.py", "udfs/_convert.py", "udfs/_pure.py", "udfs/_remote.py", "udfs/functions.py",
             "udfs/lite.py", "xlcredit/__init__.py", "xlcredit/io/__init__.py", "xlcredit/io/rates.py",
             "xlcredit/io/policy_file.py")
#: The script engine: what the Refresh Ageing, Review Portfolio and Worklist scripts of ``lite/main.py`` run — the
#: desktop jobs, the workbook adapter they write through, and the table readers and credit store the jobs use. They
#: import pandas, numpy and SQLAlchemy (the ``scripts`` extra; Pyodide ships all three) and nothing else outside
#: the standard library (tests/test_lite_scripts.py runs them in an interpreter that has nothing else).
SCRIPT_ENGINE = ("xlcredit/excel.py", "xlcredit/jobs/__init__.py", "xlcredit/jobs/book.py",
                 "xlcredit/jobs/collector.py", "xlcredit/jobs/refresh.py", "xlcredit/jobs/review.py",
                 "xlcredit/jobs/worklist.py", "xlcredit/io/collector.py", "xlcredit/io/ledger.py",
                 "xlcredit/io/oserrors.py", "xlcredit/io/store.py", "xlcredit/io/tables.py",
                 "xlcredit/io/workbook.py")
#: What the scripts need beyond the wheel, as the ``scripts`` extra (``pip install 'xlcredit-lite[scripts]'``).
#: micropip (0.10) drops the extras of a requirement given by URL, so Lite's requirements.txt names them itself.
SCRIPT_REQUIRES = ("pandas", "numpy", "sqlalchemy")
#: Data the core and the readers open (importlib.resources under ``xlcredit/data``).
DATA = ("xlcredit/data/policy.toml", "xlcredit/data/policies/*.toml", "xlcredit/data/rates/*.csv",
        "xlcredit/data/rates/README.md")
#: The plugin package: its folder in the repository and its name in the wheel.
PLUGIN_SOURCE = "lite/xlcredit_lite"
_EPOCH = (1980, 1, 1, 0, 0, 0)   # zip's earliest date: fixed, so the bytes depend on the sources only


def version() -> str:
    """The project's version, from ``pyproject.toml``."""
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def wheel_name(ver: str | None = None) -> str:
    """``xlcredit_lite-<version>-py3-none-any.whl``."""
    return f"{NAME}-{ver or version()}-py3-none-any.whl"


def sources() -> list[tuple[str, Path]]:
    """``(path in the wheel, file)`` of every module and data file, sorted."""
    found: dict[str, Path] = {}
    for path in sorted((REPO / "xlcredit" / "core").rglob("*.py")):
        found[path.relative_to(REPO).as_posix()] = path
    for rel in (*CATALOGUE, *SCRIPT_ENGINE):
        found[rel] = REPO / rel
    for pattern in DATA:
        for path in sorted(REPO.glob(pattern)):
            found[path.relative_to(REPO).as_posix()] = path
    plugin = REPO / PLUGIN_SOURCE
    for path in sorted(plugin.rglob("*.py")):
        found[f"{NAME}/{path.relative_to(plugin).as_posix()}"] = path
    missing = [rel for rel, path in found.items() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"missing sources: {', '.join(missing)}")
    return sorted(found.items())


def _metadata(ver: str) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {DIST_NAME}\n"
        f"Version: {ver}\n"
        "Summary: xlcredit's formulas for xlwings Lite (Excel on the web, on the Mac and on Windows): the pure "
        "credit engine and the formula catalogue, with nothing heavy\n"
        "Requires-Python: >=3.11\n"
        "License: LicenseRef-Proprietary\n"
        "Provides-Extra: scripts\n"
        + "".join(f'Requires-Dist: {name}; extra == "scripts"\n' for name in SCRIPT_REQUIRES)
    )


_WHEEL = "Wheel-Version: 1.0\nGenerator: xlcredit lite/build_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def wheel_bytes(ver: str | None = None) -> bytes:
    """The wheel as bytes (what :func:`build` writes)."""
    ver = ver or version()
    info = f"{NAME}-{ver}.dist-info"
    entries: list[tuple[str, bytes]] = [(rel, path.read_bytes()) for rel, path in sources()]
    entries += [(f"{info}/METADATA", _metadata(ver).encode()), (f"{info}/WHEEL", _WHEEL.encode()),
                (f"{info}/top_level.txt", b"udfs\nxlcredit\nxlcredit_lite\n")]
    record = "\n".join([_record_line(n, d) for n, d in entries] + [f"{info}/RECORD,,"]) + "\n"
    entries.append((f"{info}/RECORD", record.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            item = zipfile.ZipInfo(name, date_time=_EPOCH)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(item, data)
    return buffer.getvalue()


def build(out_dir: Path | str = REPO / "dist") -> Path:
    """Write the wheel into ``out_dir`` (atomically: a temporary file renamed into place) and return its path."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / wheel_name()
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(wheel_bytes())
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", default=str(REPO / "dist"), help="folder for the wheel (default: dist/)")
    args = parser.parse_args(argv)
    path = build(args.out)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
