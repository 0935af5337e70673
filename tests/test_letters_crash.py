"""A letters run killed midway (SIGKILL, a real subprocess) leaves no half-written letter and no
register row without its file; the next run finishes the job and every letter is issued exactly once.

The protocol under test is documented in ``xlcredit/letters/job.py``: pending marker → atomic
.docx/.pdf (temp + fsync + os.replace) → register row in one transaction → marker removed; the next
run's ``recover`` completes markers whose row exists and removes the files of those without.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR
from xlcredit.io.store import CreditStore
from xlcredit.jobs.letters import PENDING_DIR, TMP_SUFFIX, folder_book, run_letters

CHILD = r'''
import os, sys, time
from pathlib import Path
import xlcredit.jobs.letters as job
from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR
from xlcredit.io.store import CreditStore

mode, out = sys.argv[1], Path(sys.argv[2])
calls = {"n": 0}

def pause():
    print("PAUSED", flush=True)
    time.sleep(120)

if mode == "before_row":          # files written, killed before the register row
    original = CreditStore.record_issue
    def record_issue(self, *args, **kwargs):
        if kwargs.get("kind") == "letter":
            calls["n"] += 1
            if calls["n"] == 3:
                pause()
        return original(self, *args, **kwargs)
    CreditStore.record_issue = record_issue
elif mode == "mid_file":          # killed while the third PDF is half written to its temp file
    original_write = job._write_temp
    def write_temp(path, data):
        if path.suffix == ".pdf":
            calls["n"] += 1
            if calls["n"] == 3:
                tmp = path.with_name(f".{path.name}.{os.getpid()}{job.TMP_SUFFIX}")
                tmp.write_bytes(data[: len(data) // 2])
                pause()
        return original_write(path, data)
    job._write_temp = write_temp
job.run_letters(job.folder_book(SAMPLE_DIR, out), SAMPLE_AS_OF, out)
print("FINISHED", flush=True)
'''


def kill_midway(mode: str, out: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        for _ in range(600):                      # wait (up to 60 s) for the child to reach the pause
            if any("PAUSED" in s for s in seen) or proc.poll() is not None:
                break
            threading.Event().wait(0.1)
        assert any("PAUSED" in s for s in seen), f"child did not pause: {seen} {proc.stderr.read()}"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def letter_rows(out: Path) -> list[dict]:
    return [r for r in CreditStore(out / "xlcredit.credit.db").register_rows() if r["kind"] == "letter"]


def letter_files(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if p.suffix in (".pdf", ".docx")}


def assert_consistent(out: Path, expected_letters: int) -> None:
    rows = letter_rows(out)
    assert len(rows) == expected_letters
    keys = [(r["customer_id"], r["step_index"], r["items_key"], r["resend"]) for r in rows]
    assert len(set(keys)) == len(keys)
    from_rows = set()
    for r in rows:
        pdf = Path(r["file_path"])
        from_rows |= {pdf.name, pdf.with_suffix(".docx").name}
        assert hashlib.sha256(pdf.read_bytes()).hexdigest() == r["content_hash"]
        assert len(PdfReader(pdf).pages) >= 1
    assert letter_files(out) == from_rows                     # no file without a row, no row without a file
    assert not list(out.glob(f".*{TMP_SUFFIX}")) and not list((out / PENDING_DIR).iterdir())


@pytest.mark.parametrize("mode", ["before_row", "mid_file"])
def test_sigkill_midway_then_rerun_issues_each_letter_once(tmp_path, mode):
    out = tmp_path / "letters"
    kill_midway(mode, out)
    # the state the kill left: two letters registered; the third is on disk only as a pending letter
    assert len(letter_rows(out)) == 2
    markers = list((out / PENDING_DIR).glob("*.json"))
    assert len(markers) == 1
    stem = markers[0].stem
    if mode == "before_row":
        assert {f"{stem}.docx", f"{stem}.pdf"} <= letter_files(out)      # whole files, but no row
    else:
        assert not {f"{stem}.pdf", f"{stem}.docx"} & letter_files(out)  # never a half-written final file
        assert list(out.glob(f".{stem}.pdf.*{TMP_SUFFIX}"))
    registered = {Path(r["file_path"]).name for r in letter_rows(out)}
    assert f"{stem}.pdf" not in registered
    # restart: leftovers are removed, the rest of the run completes, each letter exactly once
    outcome = run_letters(folder_book(SAMPLE_DIR, out), SAMPLE_AS_OF, out)
    assert any(f"removed {stem}" in line for line in outcome.recovered)
    assert outcome.count("issued") == 9 and outcome.count("already issued") == 2
    assert_consistent(out, 11)
