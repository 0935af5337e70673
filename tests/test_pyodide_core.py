"""The pure-Python core inside real Pyodide (the pinned ``pyodide`` npm package under Node) gives CPython's answers.

``lite/node/run_core.mjs`` copies the core (without its numpy modules) into Pyodide's filesystem and
runs ``lite/node/core_cases.py``: late interest (contract, EU and UK statutory, CN daily penalty),
the ageing of a small ledger, a score and a limit. The same file runs here under CPython; the JSON
answers (money as text) must be equal to the cent. Worked example in the cases: 1,000.00 EUR 30 days
late at 8 % → 1000 × 0.08 × 30 / 365 = 6.58 (as tests/test_bulk_api.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "lite" / "node"


def _node_ready() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are needed (installed by .ci/run)")
        pytest.skip("node/npm not installed")
    if not (NODE_DIR / "node_modules" / "pyodide").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=600)


@pytest.mark.slow
def test_core_in_pyodide_equals_cpython():
    _node_ready()
    run = subprocess.run(["node", "run_core.mjs"], cwd=NODE_DIR, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    in_pyodide = json.loads(run.stdout.strip().splitlines()[-1])
    import sys

    sys.path.insert(0, str(NODE_DIR))
    try:
        import core_cases
    finally:
        sys.path.remove(str(NODE_DIR))
    in_cpython = core_cases.cases()
    assert in_pyodide.pop("python").startswith("3.")  # Pyodide's own Python, not this one
    in_cpython.pop("python")
    assert json.loads(json.dumps(in_cpython, sort_keys=True)) == in_pyodide
    assert in_pyodide["contract"] == "6.58"
