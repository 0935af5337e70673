"""The layering of docs/ARCHITECTURE.md, checked on the source: the core imports no adapter and no I/O library,
jobs and commands live in their packages, and there is one date coercion."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "xlcredit" / "core"
#: What the pure core must never import: the adapters and the libraries of files, Excel and HTTP.
FORBIDDEN = ("xlcredit.io", "xlcredit.jobs", "xlcredit.cli", "xlcredit.service", "xlcredit.letters",
             "xlcredit.excel", "udfs", "workbook", "xlwings", "openpyxl", "xlsxwriter", "docx", "docxtpl",
             "reportlab", "fastapi", "starlette", "httpx", "uvicorn", "sqlalchemy", "typer", "rich", "pathlib",
             "os", "shutil", "tempfile", "io", "sqlite3", "urllib", "socket")


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_the_core_imports_no_adapter_and_no_io_library():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {name}"
           for p in sorted(CORE.rglob("*.py")) for line, name in _imports(p)
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == []


def test_jobs_and_commands_have_their_packages():
    top = {p.name for p in (ROOT / "xlcredit").iterdir()}
    assert not [n for n in top if n.endswith("_job.py") or n.startswith("cli_") or n in ("cli.py", "jobs.py")]
    assert {"book.py", "refresh.py", "review.py", "letters.py"} <= {p.name for p in (ROOT / "xlcredit/jobs").iterdir()}
    assert {"app.py", "common.py"} <= {p.name for p in (ROOT / "xlcredit/cli").iterdir()}


def test_one_date_coercion():
    """Text becomes a date in xlcredit.core.coerce.to_date only: no other module parses date text."""
    parsers = ("fromisoformat", "strptime", "parse_cell_date", "parse_date", "parse_day", "to_datetime")
    allowed = {
        "xlcredit/core/coerce.py",
        "xlcredit/io/rates.py",       # the shipped reference-rate tables (our own ISO files), not user input
        "xlcredit/io/store.py",       # timestamps the database itself wrote
    }
    offenders = []
    for path in sorted([*(ROOT / "xlcredit").rglob("*.py"), *(ROOT / "udfs").rglob("*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = (node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name)
                    else None)
            if name in parsers:
                offenders.append(f"{rel}:{node.lineno} {name}")
    assert offenders == []
