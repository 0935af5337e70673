"""OS errors (issue 17): a folder the user cannot write to, a full disk, a file locked by Excel or a missing folder is
one red line naming the path and what to do, exit 2, no traceback — and nothing half-written."""

from __future__ import annotations

import errno
import sys

import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.cli.common import user_errors
from xlcredit.io import tables

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=WIDE)


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/sys: nobody, not even root, adds files")
def test_a_folder_that_cannot_be_written_is_one_line_naming_it():
    line = _one_error_line(run("score", "--out", "/sys/scores.csv"))
    assert "/sys/scores.csv" in line and "permission denied" in line and "choose a folder you can write to" in line


def test_a_full_disk_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    out = tmp_path / "scores.csv"
    out.write_text("the old scores\n", encoding="utf-8")

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(src))

    monkeypatch.setattr(tables.os, "replace", full)
    line = _one_error_line(run("score", "--out", str(out)))
    assert str(out) in line and "the disk is full" in line
    assert out.read_text(encoding="utf-8") == "the old scores\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_a_file_locked_by_excel_is_named(tmp_path, monkeypatch):
    out = tmp_path / "limits.xlsx"

    def locked(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(tables.os, "replace", locked)
    line = _one_error_line(run("limits", "--out", str(out)))
    assert str(out) in line and "close the file if Excel has it open" in line
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_named_before_any_work(tmp_path):
    line = _one_error_line(run("score", "--out", str(tmp_path / "nowhere" / "scores.csv")))
    assert "folder does not exist" in line and str(tmp_path / "nowhere") in line


@pytest.mark.parametrize(("exc", "words"), [
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/data/ledger"), "/data/ledger: cannot use it: is a folder"),
    (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/x.db"), "/mnt/ro/x.db: cannot use it: the folder is read"),
    (OSError(errno.EIO, "Input/output error", "/mnt/usb/x.csv"),
     "/mnt/usb/x.csv: cannot use it: Input/output error — check the path"),
])
def test_any_os_error_in_a_command_becomes_one_line_and_exit_2(exc, words, capsys):
    import typer

    with pytest.raises(typer.Exit) as stopped, user_errors():
        raise exc
    assert stopped.value.exit_code == 2
    assert capsys.readouterr().err.strip().startswith(f"error: {words}")
