"""Load the credit policy from a TOML file (or the shipped defaults)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy


def default_policy_path() -> Path:
    """The shipped default policy file (``xlcredit/data/policy.toml``)."""
    return Path(str(files("xlcredit") / "data" / "policy.toml"))


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy from a TOML file over the defaults, or the shipped defaults when ``path`` is None."""
    if path is None:
        return Policy.from_toml(default_policy_path().read_text(encoding="utf-8"))
    p = Path(path)
    if not p.is_file():
        raise XlcError("policy", f"file not found: {p}", str(p))
    return Policy.from_toml(p.read_text(encoding="utf-8"))
