"""What a user is told when the operating system refuses a file: one line naming the path and what to do.

A read-only folder, a full disk, a file locked by Excel or a missing folder is not a bug in xlcredit; the
command line shows :func:`os_error_words` as one red line (exit 2) instead of a traceback.
"""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = ["os_error_words"]

_ADVICE: dict[int, str] = {
    errno.EACCES: "permission denied — choose a folder you can write to, or close the file if Excel has it open",
    errno.EPERM: "permission denied — choose a folder you can write to, or close the file if Excel has it open",
    errno.EROFS: "the folder is read-only — choose a folder you can write to",
    errno.ENOSPC: "the disk is full — free some space (or choose another disk) and run again",
    errno.EDQUOT: "the disk quota is used up — free some space (or choose another disk) and run again",
    errno.ENOENT: "no such file or folder — check the path (create the folder first)",
    errno.ENOTDIR: "a part of the path is not a folder — check the path",
    errno.EISDIR: "is a folder, not a file — give a file name",
    errno.EBUSY: "the file is in use — close it (in Excel, say) and run again",
    errno.ETXTBSY: "the file is in use — close it (in Excel, say) and run again",
}


def os_error_words(exc: OSError, path: str | Path | None = None) -> str:
    """``<path>: <what happened> — <what to do>`` for an :class:`OSError` (``path`` overrides the exception's)."""
    where = path if path is not None else (exc.filename if exc.filename is not None else exc.filename2)
    advice = _ADVICE.get(exc.errno or -1)
    if advice is None:
        reason = exc.strerror or type(exc).__name__
        advice = f"{reason} — check the path and run again"
    return f"{where}: cannot use it: {advice}" if where is not None else f"cannot use a file: {advice}"
