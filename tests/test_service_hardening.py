"""The service hardened (issue 17): ``xlcredit serve`` without ``--db`` uses an embedded SQLite database in a
documented place and says which; ``GET /v1/register`` shows no server path; ``/docs`` and ``/redoc`` load nothing
from another host (they work offline)."""

from __future__ import annotations

import re
import subprocess
import sys

from _store_fixtures import ROOT, serve
from test_service import AS_OF, mint, seed

from xlcredit.io.store import CreditStore
from xlcredit.service.docs import ASSETS_URL


def test_serve_without_db_uses_the_embedded_default_and_prints_it(tmp_path):
    data = tmp_path / "data"
    env = {"XDG_DATA_HOME": str(data), "XLCREDIT_DB": ""}
    expected = data / "xlcredit" / "xlcredit.credit.db"
    done = subprocess.run([sys.executable, "-m", "xlcredit.cli", "keys", "create", "Anna", "--role", "read"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env={**_env(), **env})
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    with serve("", tmp_path, cmd=[sys.executable, "-m", "xlcredit.cli", "serve"], env=env) as server, \
            server.client(key) as c:
        assert c.get("/v1/register").status_code == 200            # the key minted without --db works here
        log = server.log.read_text(errors="replace")
    assert f"credit database: sqlite:///{expected}" in log
    assert expected.is_file()


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_the_register_shows_paths_inside_the_letters_folder_only(tmp_path):
    db = str(tmp_path / "team.credit.db")
    seed(db)
    store = CreditStore(db)
    inside = tmp_path / "letters" / "2026" / "C001_reminder.pdf"
    store.record_issue("C001", 1, "Reminder letter", ["I1"], as_of=AS_OF, amount=100, currency="GBP",
                       file_path=str(inside))
    store.record_issue("C002", 1, "Reminder letter", ["I2"], as_of=AS_OF, amount=100, currency="CNY",
                       file_path="/home/anna/secret/out/C002_reminder.pdf")
    store.close()
    key = mint(db, "Maria", "controller")
    with serve(db, tmp_path) as server, server.client(key) as c:
        r = c.get("/v1/register")
        assert r.status_code == 200, r.text
        assert sorted(e["file_path"] for e in r.json()) == ["2026/C001_reminder.pdf", "C002_reminder.pdf"]
        posted = c.post("/v1/register", json={"customer_id": "1003", "step_index": 1, "stage": "Reminder letter",
                                              "items": ["I3"], "as_of": "2026-10-31",
                                              "file_path": "C:\\Users\\anna\\letters\\x.pdf"})
        assert posted.status_code == 201, posted.text
        assert posted.json()["file_path"] == "x.pdf"
        assert str(tmp_path) not in r.text and "/home/anna" not in r.text


def test_docs_and_redoc_load_only_from_the_service(tmp_path):
    db = str(tmp_path / "team.credit.db")
    seed(db)
    with serve(db, tmp_path) as server, server.client() as c:
        for page in ("/docs", "/redoc"):
            html = c.get(page)
            assert html.status_code == 200, page
            urls = re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]?([^'"\s)>]+)""", html.text)
            assert urls, page
            assert not [u for u in urls if re.match(r"(https?:)?//", u)], (page, urls)
            for url in (u for u in urls if u.startswith(ASSETS_URL)):
                assert c.get(url).status_code == 200, url
        assert c.get(f"{ASSETS_URL}/swagger-ui-bundle.js").headers["content-type"].startswith(
            ("application/javascript", "text/javascript"))
