"""The lean xlwings Lite wheel (issue 20, item 2): built from the repository's own sources by ``lite/build_wheel.py``,
``py3-none-any``, requiring nothing (pandas, numpy and SQLAlchemy only as the scripts' extra), holding the engine,
the formula catalogue and the Refresh/Review/Worklist jobs but none of the service, letters or CLI — and,
installed with micropip inside the real Pyodide (the pinned npm package, under Node, from a local file), giving
CPython's answers: LATE_INTEREST (worked example: 1,000.00 at 8 % for the 31 days from 2026-09-30 to 2026-10-31 =
1000 × 0.08 × 31 / 365 = 6.79), an ageing, error cells as ``#XLC!`` texts."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from test_pyodide_core import _node_ready

REPO = Path(__file__).resolve().parents[1]
NODE_DIR = REPO / "lite" / "node"
spec = importlib.util.spec_from_file_location("lite_build_wheel", REPO / "lite" / "build_wheel.py")
build_wheel = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_wheel)

#: The I/O modules in the wheel: the two pure readers of shipped files the formulas use, and the table readers and
#: credit store the scripts' jobs use.
ALLOWED_IO = {"xlcredit/io/__init__.py", "xlcredit/io/rates.py", "xlcredit/io/policy_file.py",
              "xlcredit/io/collector.py", "xlcredit/io/ledger.py", "xlcredit/io/oserrors.py", "xlcredit/io/store.py",
              "xlcredit/io/tables.py", "xlcredit/io/workbook.py"}
#: The jobs in the wheel: the three the Lite scripts run, and what they share.
ALLOWED_JOBS = {"xlcredit/jobs/__init__.py", "xlcredit/jobs/book.py", "xlcredit/jobs/collector.py",
                "xlcredit/jobs/refresh.py", "xlcredit/jobs/review.py", "xlcredit/jobs/worklist.py"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel.build(tmp_path_factory.mktemp("dist"))


def test_the_wheel_holds_the_engine_and_the_catalogue_and_nothing_heavy(wheel):
    assert wheel.name == f"xlcredit_lite-{build_wheel.version()}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = f"xlcredit_lite-{build_wheel.version()}.dist-info"
        metadata = z.read(f"{info}/METADATA").decode()
        tags = z.read(f"{info}/WHEEL").decode()
        record = z.read(f"{info}/RECORD").decode().splitlines()
        data = {n: z.read(n) for n in names}
    core = {p.relative_to(REPO).as_posix() for p in (REPO / "xlcredit" / "core").rglob("*.py")}
    assert core <= names   # the whole pure core, from the same files
    for needed in ("udfs/functions.py", "udfs/lite.py", "udfs/_convert.py", "udfs/_pure.py", "udfs/_remote.py",
                   "xlcredit/__init__.py", "xlcredit/data/policy.toml", "xlcredit/data/rates/ecb_mro.csv",
                   "xlcredit/data/rates/boe_bank_rate.csv", "xlcredit_lite/plugin.py", "xlcredit_lite/service.py"):
        assert needed in names, needed
    modules = {n for n in names if n.endswith(".py")}
    assert {n for n in modules if n.startswith("xlcredit/io/")} == ALLOWED_IO
    assert {n for n in modules if n.startswith("xlcredit/jobs/")} == ALLOWED_JOBS
    assert "xlcredit/excel.py" in names   # the workbook adapter the scripts write through
    for left_out in ("xlcredit/service/", "xlcredit/letters/", "xlcredit/cli/", "xlcredit/bulk", "xlcredit/dask",
                     "xlcredit/data/sample/", "workbook/", "tests/"):
        assert not any(n.startswith(left_out) for n in names), left_out
    assert {n for n in modules if n.startswith("xlcredit/") and n.count("/") == 1} == {
        "xlcredit/__init__.py", "xlcredit/excel.py"}
    # requires nothing; the scripts' packages are the "scripts" extra only
    assert "Name: xlcredit-lite" in metadata and "Provides-Extra: scripts" in metadata
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires == [f'Requires-Dist: {p}; extra == "scripts"' for p in ("pandas", "numpy", "sqlalchemy")]
    assert "Tag: py3-none-any" in tags and "Root-Is-Purelib: true" in tags
    # the same bytes as the sources (no copies that could drift), each listed in RECORD with its hash
    for line in record:
        name, digest, size = line.rsplit(",", 2)
        if name.endswith("RECORD"):
            continue
        expected = base64.urlsafe_b64encode(hashlib.sha256(data[name]).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expected}" and int(size) == len(data[name]), name
    assert data["udfs/functions.py"] == (REPO / "udfs" / "functions.py").read_bytes()
    assert data["xlcredit_lite/plugin.py"] == (REPO / "lite" / "xlcredit_lite" / "plugin.py").read_bytes()


def test_the_build_is_reproducible(wheel, tmp_path):
    again = build_wheel.build(tmp_path)
    assert again.read_bytes() == wheel.read_bytes()


def _micropip_wheel() -> Path:
    """PyPI's micropip wheel of the version the pinned Pyodide's lock file names (fetched once into
    lite/node/wheels, like npm ci fetches Pyodide; the Node run itself is offline)."""
    lock = json.loads((NODE_DIR / "node_modules" / "pyodide" / "pyodide-lock.json").read_text())
    version = lock["packages"]["micropip"]["version"]
    python = ".".join(lock["info"]["python"].split(".")[:2])
    folder = NODE_DIR / "wheels"
    found = folder / f"micropip-{version}-py3-none-any.whl"
    if not found.is_file():
        folder.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as part:  # then moved in whole: a test in another pytest
            done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",  # worker never reads half
                                   "--only-binary=:all:", "--python-version", python, f"micropip=={version}",
                                   "-d", part], capture_output=True, text=True, timeout=300)
            fetched = Path(part) / found.name
            if done.returncode == 0 and fetched.is_file():
                os.replace(fetched, found)
        if not found.is_file():
            message = f"micropip {version} could not be downloaded: {done.stderr[-500:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    return found


def _cpython_answers(wheel: Path, tmp_path: Path) -> dict:
    """wheel_cases.py under this CPython, on the wheel unpacked alone (not the repository), with the same stand-in."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    (site / "xlwings").mkdir()
    shutil.copy(NODE_DIR / "xlwings_stand_in.py", site / "xlwings" / "__init__.py")
    shutil.copy(NODE_DIR / "wheel_cases.py", site / "wheel_cases.py")
    shutil.copy(NODE_DIR / "core_cases.py", site / "core_cases.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLCREDIT_")}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); "
                           "import asyncio, json, wheel_cases; "
                           "print(json.dumps(asyncio.run(wheel_cases.cases()), sort_keys=True, default=str))"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_wheel_installs_with_micropip_in_pyodide_and_answers_as_cpython(wheel, tmp_path):
    _node_ready()
    micropip = _micropip_wheel()
    run = subprocess.run(["node", "run_wheel.mjs", str(wheel), str(micropip)], cwd=NODE_DIR, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    in_pyodide = json.loads(run.stdout.strip().splitlines()[-1])
    in_cpython = _cpython_answers(wheel, tmp_path)
    assert in_pyodide.pop("python").startswith("3.13")   # Pyodide's own Python
    assert in_pyodide.pop("engine_from").startswith("/lib/python3.13/site-packages/")   # installed by micropip
    assert in_pyodide.pop("heavy_installed") == []   # nothing else was installed, nothing else was needed
    # Pyodide without pandas in requirements.txt: the Refresh script says what to add (CPython here has pandas)
    alone = in_pyodide.pop("script_with_the_wheel_alone")
    assert alone.startswith("Refresh Ageing needs pandas, which this workbook's Python does not have: add the lines "
                            "pandas, numpy and sqlalchemy to the requirements.txt tab"), alone
    assert in_pyodide.pop("script_alerts") == [alone]
    for key in ("python", "engine_from", "heavy_installed", "script_with_the_wheel_alone", "script_alerts"):
        in_cpython.pop(key)
    assert in_pyodide == in_cpython
    formulas = in_pyodide["formulas"]
    assert formulas["late_interest"] == 6.79 == formulas["late_interest_serial"]
    assert formulas["late_interest_column"] == [[6.79], ["#XLC! amount: must not be negative (got -5)"],
                                                ["#XLC! amount: source cell shows #N/A"]]
    assert formulas["days_overdue_na"] == "#XLC! due_date: source cell shows #N/A"
    assert formulas["grade_of_div0"] == "#XLC! score: source cell shows #DIV/0!"
    assert formulas["credit_limit"].startswith("#XLC! database: this workbook holds no credit results yet")
    assert len(in_pyodide["declared"]) == 18 and in_pyodide["scripts"] == ["generate_letters_team_service"]
    core = in_pyodide["core"]
    assert core["contract"] == "6.58"   # 1,000.00 at 8 % for 30 days: 1000 × 0.08 × 30 / 365
    c1 = core["ageing"][0]
    assert c1[0] == "C1" and c1[2]["1-30"] == "1000.00" and c1[2]["91-180"] == "300.00" and c1[5] == "1300.00"

