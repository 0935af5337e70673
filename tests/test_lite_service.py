"""xlwings Lite and the team service (issue 20, items 3 and 4), over real HTTP to a real ``xlcredit serve``.

* ``xlcredit serve --cors-origin ORIGIN`` (repeatable) and ``$XLCREDIT_CORS_ORIGINS``: only the named browser origins
  get the CORS headers (Lite's add-in origin is https://addin.xlwings.org, per the xlwings Lite docs, "Web API
  Requests"); a bad origin is one red line and exit 2;
* the service hosts the lean wheel at ``/lite/<wheel>`` — the address ``lite/requirements.txt`` names;
* the plugin's customer-level formulas, asked through a stand-in for the browser's fetch (httpx, sending Lite's
  ``Origin`` and refusing an answer without the CORS header, as a browser does), give the desktop's remote-mode
  answers from the same service; a wrong key and a refused origin are ``#XLC! server: …`` in words;
* the "Generate Letters (team service)" script uploads the workbook's tables to ``POST /v1/letters`` and writes
  the collection register with a link to each letter into a sheet; the link downloads the PDF.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import httpx
import pytest
from _lite_stand_in import as_lite
from _store_fixtures import ROOT, serve
from typer.testing import CliRunner

from udfs import _convert, _remote
from udfs import functions as desktop

LITE = "https://addin.xlwings.org"
LITE_DIR = ROOT / "lite"
AS_OF = dt.date(2026, 10, 31)


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_wheel = _load(LITE_DIR / "build_wheel.py", "lite_build_wheel_for_service")


def _cli_serve(db: str) -> list[str]:
    return [sys.executable, "-m", "xlcredit.cli", "serve", "--db", db]


def _module_serve(db: str) -> list[str]:
    return [sys.executable, "-m", "xlcredit.service", "--db", db]


#: The two ways to start the service: both take --cors-origin and read $XLCREDIT_CORS_ORIGINS.
SERVE_COMMANDS = {"xlcredit serve": _cli_serve, "python -m xlcredit.service": _module_serve}


# =========================================================================== --cors-origin
@pytest.mark.parametrize("command", sorted(SERVE_COMMANDS))
def test_serve_cors_origin_option_over_http(tmp_path, command):
    db = str(tmp_path / "team.credit.db")
    with serve(db, tmp_path, "--cors-origin", LITE, "--cors-origin", "http://localhost:3000/",
               cmd=SERVE_COMMANDS[command](db)) as server, httpx.Client(base_url=server.base) as c:
        for origin in (LITE, "http://localhost:3000"):
            ok = c.get("/health", headers={"Origin": origin})
            assert ok.status_code == 200 and ok.headers.get("access-control-allow-origin") == origin
        other = c.get("/health", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers
        pre = c.options("/v1/results", headers={"Origin": LITE, "Access-Control-Request-Method": "GET",
                                                "Access-Control-Request-Headers": "X-API-Key"})
        assert pre.status_code == 200 and "x-api-key" in pre.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("command", sorted(SERVE_COMMANDS))
def test_serve_reads_the_origins_from_the_environment(tmp_path, command):
    db = str(tmp_path / "team.credit.db")
    env = {"XLCREDIT_CORS_ORIGINS": f"{LITE} https://lite.example.com"}
    with serve(db, tmp_path, cmd=SERVE_COMMANDS[command](db), env=env) as server, \
            httpx.Client(base_url=server.base) as c:
        for origin in (LITE, "https://lite.example.com"):
            assert c.get("/health", headers={"Origin": origin}).headers.get("access-control-allow-origin") == origin
        assert "access-control-allow-origin" not in c.get("/health", headers={"Origin": "https://x.example"}).headers


@pytest.mark.parametrize("bad", ["https://addin.xlwings.org/taskpane.html", "*", "addin.xlwings.org", "ftp://x.org"])
def test_a_bad_origin_is_one_red_line_and_exit_2(tmp_path, bad):
    from xlcredit.cli import app

    result = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "x.credit.db"), "--cors-origin", bad])
    assert result.exit_code == 2
    assert "--cors-origin: must be a browser origin: scheme and host, e.g. https://addin.xlwings.org" in result.output
    assert not (tmp_path / "x.credit.db").exists()   # refused before anything was opened


def test_python_m_xlcredit_service_refuses_a_bad_origin_in_one_line_exit_2(tmp_path):
    done = subprocess.run([*_module_serve(str(tmp_path / "x.credit.db")), "--cors-origin", "*"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: --cors-origin: must be a browser origin: scheme and host, e.g. "
                                   "https://addin.xlwings.org (no path, no *)"), done.stderr
    assert not (tmp_path / "x.credit.db").exists()


# =========================================================================== the wheel at /lite/
def test_the_service_hosts_the_wheel_that_requirements_txt_names(tmp_path):
    from fastapi.testclient import TestClient

    from xlcredit.io.store import CreditStore
    from xlcredit.service.app import Settings, create_app

    wheel = build_wheel.build(tmp_path / "dist")
    store = CreditStore(f"sqlite:///{tmp_path / 'credit.sqlite'}")
    app = create_app(store.url, store=store, settings=Settings(cors_origins=(LITE,), lite_dir=str(wheel.parent)))
    with TestClient(app) as c:
        r = c.get(f"/lite/{wheel.name}", headers={"Origin": LITE})
        assert r.status_code == 200 and r.content == wheel.read_bytes()
        assert r.headers["access-control-allow-origin"] == LITE   # micropip fetches it from the add-in's page
        missing = c.get("/lite/xlcredit_lite-9.9.9-py3-none-any.whl")
        assert missing.status_code == 404 and "is not a wheel this service hosts" in missing.json()["detail"]
        assert c.get("/lite/..%2Fcredit.sqlite").status_code == 404
    store.close()
    requirements = (LITE_DIR / "requirements.txt").read_text()
    named = [line for line in requirements.splitlines() if line.strip() and not line.startswith("#")]
    assert any(line.endswith(f"/lite/{build_wheel.wheel_name()}") for line in named), named


# =========================================================================== the plugin over HTTP
@pytest.fixture(scope="module")
def plugin():
    with as_lite():
        import xlcredit_lite.plugin as module
        import xlcredit_lite.service as service
    yield module, service
    service.use_transport(None)
    service.forget()
    sys.modules.pop("xlcredit_lite.plugin", None)
    _convert.use_session(None)


#: Request headers a page may send without a CORS preflight, and response headers it may always read (Fetch
#: standard: CORS-safelisted request and response headers).
SAFE_REQUEST = {"accept", "accept-language", "content-language"}
SAFE_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
SAFE_RESPONSE = {"cache-control", "content-language", "content-length", "content-type", "expires", "last-modified",
                 "pragma"}


def browser(origin: str = LITE):
    """A stand-in for the browser's fetch from a page at ``origin``, with the browser's CORS rules: a request with
    other headers than the safelisted ones (X-API-Key, If-None-Match …) is preflighted (OPTIONS) and sent only when
    the service allows the origin and each header; an answer that does not name the origin is refused (``TypeError:
    Failed to fetch`` in a browser, an OSError here); the page reads only the safelisted and exposed headers."""
    async def transport(method, url, headers, body):
        from xlcredit_lite.service import Answer

        extra = sorted(h.lower() for h, v in headers.items() if h.lower() not in SAFE_REQUEST and not (
            h.lower() == "content-type" and v.split(";")[0].strip().lower() in SAFE_CONTENT_TYPES))
        async with httpx.AsyncClient(timeout=30) as client:
            try:
                if extra or method not in ("GET", "HEAD", "POST"):
                    pre = await client.options(url, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                                             "Access-Control-Request-Headers": ", ".join(extra)})
                    listed = pre.headers.get("access-control-allow-headers", "")
                    allowed = {h.strip().lower() for h in listed.split(",")}
                    if pre.status_code != 200 or pre.headers.get("access-control-allow-origin") != origin or not (
                            set(extra) <= allowed):
                        raise OSError(f"Failed to fetch (CORS preflight refused: {', '.join(extra)})")
                r = await client.request(method, url, headers={**headers, "Origin": origin}, content=body)
            except httpx.HTTPError as exc:
                raise OSError(f"Failed to fetch ({type(exc).__name__})") from None
        if r.headers.get("access-control-allow-origin") not in (origin, "*"):
            raise OSError("Failed to fetch (CORS: the answer does not name this origin)")
        exposed = {h.strip().lower() for h in r.headers.get("access-control-expose-headers", "").split(",")}
        visible = {k.lower(): v for k, v in r.headers.items() if k.lower() in SAFE_RESPONSE | exposed}
        return Answer(r.status_code, visible, r.content)
    return transport


def run(formula, *args):
    answer = formula(*args)
    return asyncio.run(answer) if inspect.iscoroutine(answer) else answer


@pytest.fixture(scope="module")
def team_service(tmp_path_factory):
    """A refreshed credit database (the bundled workbook as of 2026-10-31) served by ``xlcredit serve`` with Lite's
    origin allowed, and a controller's API key."""
    from xlcredit.io.store import CreditStore
    from xlcredit.jobs.book import WorkbookFile
    from xlcredit.jobs.refresh import refresh

    folder = tmp_path_factory.mktemp("team")
    copy = folder / "CreditControl.xlsm"
    copy.write_bytes((ROOT / "workbook" / "CreditControl.xlsm").read_bytes())
    db = str(folder / "team.credit.db")
    refresh(WorkbookFile(copy), AS_OF, store=db)
    store = CreditStore(db)
    key = store.create_api_key("Maria (Lite)", "controller")
    customers = sorted(store.results_view()[1])
    store.close()
    with serve(db, folder, "--cors-origin", LITE, cmd=_cli_serve(db)) as server:
        yield server, key, customers


@pytest.fixture
def lite_env(monkeypatch, plugin, team_service):
    server, key, _ = team_service
    _, service = plugin
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    service.use_transport(browser())
    service.forget()
    _remote.clear_cache()
    yield
    service.use_transport(None)
    service.forget()
    _convert.use_session(None)


def _desktop_remote(name, *args):
    """The desktop formula in UDF remote mode (XLCREDIT_SERVER_URL set, no workbook session)."""
    previous = _convert.current_session()
    _convert.use_session(None)
    try:
        return getattr(desktop, name)(*args)
    finally:
        _convert.use_session(previous)


def test_customer_formulas_from_the_service_equal_the_desktop_remote_mode(plugin, team_service, lite_env):
    module, _ = plugin
    _, _, customers = team_service
    assert len(customers) >= 5
    for customer in customers[:6]:
        for name in ("credit_limit", "credit_available", "credit_score", "credit_grade", "credit_terms",
                     "deposit_required", "dunning_stage"):
            lite_answer = run(getattr(module, name), customer)
            assert lite_answer == _desktop_remote(name, customer), (name, customer)
            assert not str(lite_answer).startswith("#XLC!"), (name, customer, lite_answer)
        assert run(module.order_check, customer, 1000) == _desktop_remote("order_check", customer, 1000)
        assert run(module.credit_explain, customer) == _desktop_remote("credit_explain", customer)
    # policy-dependent pure formulas follow the service's policy, as in remote mode
    assert run(module.ageing_bucket, dt.date(2026, 6, 1), AS_OF) == _desktop_remote(
        "ageing_bucket", dt.date(2026, 6, 1), AS_OF)
    assert run(module.credit_limit, "NOPE-1") == "#XLC! customer: unknown customer 'NOPE-1' (run Refresh?)"
    # an error cell as Office.js hands it over
    na = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
    assert run(module.credit_limit, na) == _desktop_remote("credit_limit", "#N/A")
    assert run(module.credit_limit, na).startswith("#XLC! customer: source cell shows #N/A")


def test_the_copy_is_revalidated_with_its_etag_through_the_browser_rules(plugin, team_service, lite_env, monkeypatch):
    """The second look at the service sends If-None-Match (a preflighted header the service must allow) and the
    304 keeps the copy: the formulas go on answering, and nothing is downloaded again."""
    module, service = plugin
    _, _, customers = team_service
    statuses: list[tuple[str, int]] = []
    inner = browser()

    async def counting(method, url, headers, body):
        answer = await inner(method, url, headers, body)
        statuses.append((url.rsplit("/", 1)[-1], answer.status))
        return answer

    service.use_transport(counting)
    monkeypatch.setattr(service, "RECHECK_SECONDS", 0.0)
    first = run(module.credit_limit, customers[0])
    second = run(module.credit_limit, customers[0])
    assert first == second == _desktop_remote("credit_limit", customers[0])
    assert statuses == [("results", 200), ("policy", 200), ("results", 304), ("policy", 304)]


def test_cells_recalculated_together_share_one_look_at_the_service(plugin, team_service, lite_env):
    """A sheet of CREDIT_LIMIT cells recalculated at once (Lite awaits them together) asks the service once."""
    module, service = plugin
    _, _, customers = team_service
    asked: list[str] = []
    inner = browser()

    async def counting(method, url, headers, body):
        asked.append(url.rsplit("/", 1)[-1])
        return await inner(method, url, headers, body)

    service.use_transport(counting)

    async def sheet():
        return await asyncio.gather(*(module.credit_limit(c) for c in customers for _ in range(5)))

    answers = asyncio.run(sheet())
    assert asked == ["results", "policy"]
    assert answers[::5] == [_desktop_remote("credit_limit", c) for c in customers]


def test_a_wrong_key_and_a_refused_origin_are_said_in_the_cell(plugin, team_service, lite_env, monkeypatch):
    module, service = plugin
    _, _, customers = team_service
    monkeypatch.setenv("XLCREDIT_API_KEY", "not-a-key")
    service.forget()
    assert run(module.credit_limit, customers[0]) == (
        "#XLC! server: the service refused the API key (HTTP 401): check XLCREDIT_API_KEY")
    monkeypatch.undo()
    server, key, _ = team_service
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    service.forget()
    service.use_transport(browser("https://other.example.com"))
    got = run(module.credit_limit, customers[0])
    assert got.startswith(f"#XLC! server: cannot reach {server.base} (Failed to fetch (CORS")
    assert "xlcredit serve --cors-origin https://addin.xlwings.org" in got
    # the pure formulas need no service: offline they still answer
    assert run(module.late_interest, 1000, dt.date(2026, 9, 30), AS_OF, 0.08) == 6.79


def test_an_unreachable_service_leaves_the_pure_formulas_computing_in_the_browser(plugin, monkeypatch):
    """After a failed call the formulas are not left in the desktop's remote mode (blocking HTTP, which the browser
    does not have): LATE_INTEREST still computes in process while the service is down."""
    import socket

    module, service = plugin
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("XLCREDIT_SERVER_URL", closed)
    monkeypatch.setenv("XLCREDIT_API_KEY", "k")
    service.forget()
    service.use_transport(browser())
    try:
        assert run(module.credit_limit, "C001").startswith(f"#XLC! server: cannot reach {closed} (Failed to fetch")
        assert _convert.current_session() is not None
        assert run(module.late_interest, 1000, dt.date(2026, 9, 30), AS_OF, 0.08) == 6.79
        assert run(module.dso, 250000, 1000000, 90) == _desktop_remote_off("dso", 250000, 1000000, 90)
    finally:
        service.use_transport(None)
        service.forget()


def _desktop_remote_off(name, *args):
    previous = _convert.current_session()
    _convert.use_session(None)
    saved = {k: os.environ.pop(k) for k in ("XLCREDIT_SERVER_URL",) if k in os.environ}
    try:
        return getattr(desktop, name)(*args)
    finally:
        os.environ.update(saved)
        _convert.use_session(previous)


def test_without_a_service_the_formulas_answer_from_the_workbook_session(plugin, monkeypatch):
    from udfs import lite

    module, service = plugin
    monkeypatch.delenv("XLCREDIT_SERVER_URL", raising=False)
    monkeypatch.setattr(lite._SESSION, "store", None)   # no Refresh Ageing run in this session (yet)
    service.forget()
    assert run(module.credit_limit, "C1").startswith(
        "#XLC! database: this workbook holds no credit results yet: run the Refresh Ageing script first")
    assert _convert.current_session() is lite._SESSION


# =========================================================================== Generate Letters (team service)
def lite_book(path: Path, *, serial_dates: bool = False):
    """The workbook as xlwings Lite's ``Book`` shows it to a script: the stand-in of Lite's Book
    (``lite/node/xlwings_stand_in.py``) over the file's cells; ``serial_dates``: date cells as Excel serial numbers,
    as Lite may hand them over. Returns the book and how many dates became serial numbers."""
    from _lite_stand_in import lite_sheets, stand_in_xlwings

    sheets = lite_sheets(path)
    serials = 0
    if serial_dates:
        for spec in sheets.values():
            for row in spec["values"]:
                for i, v in enumerate(row):
                    if isinstance(v, dt.datetime):
                        row[i] = float((v - dt.datetime(1899, 12, 30)).days)
                        serials += 1
    return stand_in_xlwings().Book(path.name, sheets), serials


def _register(book, sheet: str) -> list[list]:
    """The rows the script left on ``sheet`` (what Excel then shows), down to the last non-blank row."""
    rows = [list(r) for r in book.state()[sheet]["values"]]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def test_generate_letters_on_the_team_service_writes_the_register_with_links(plugin, team_service, lite_env):
    from xlcredit.jobs.letters import folder_book, run_letters

    _, service = plugin
    server, key, _ = team_service
    book, _ = lite_book(ROOT / "workbook" / "CreditControl.xlsm")
    message = asyncio.run(service.generate_letters(book, AS_OF))
    assert message.startswith("Letters on the service as of 2026-10-31: "), message
    assert "letters issued" in message and "Service Letters sheet" in message
    rows = _register(book, service.LETTERS_SHEET)
    assert rows[0] == service.REGISTER_HEADER
    letters = [r for r in rows[1:] if r[3] == "letter"]
    expected = run_letters(folder_book(None, Path(server.log).parent / "local"), AS_OF,
                           Path(server.log).parent / "local", dry_run=True)
    assert sorted((r[1], r[2]) for r in letters) == sorted((x.customer_id, x.stage) for x in expected.letters)
    first = letters[0]
    assert first[8] == f'=HYPERLINK("{server.base}/v1/letters/{first[0]}","PDF")'
    with server.client(key) as c:
        pdf = c.get(f"/v1/letters/{first[0]}")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    again = asyncio.run(service.generate_letters(book, AS_OF))   # the register: never the same rung twice
    assert "letters already issued" in again and "letters issued" not in again.replace("already issued", "")


def test_the_letters_tables_are_the_workbook_input_tables():
    from xlcredit.io import workbook as wb

    sys.path.insert(0, str(LITE_DIR))
    try:
        from xlcredit_lite.service import LETTER_TABLES
    finally:
        sys.path.remove(str(LITE_DIR))
    from xlcredit.service.uploads import BOOK_TABLES

    specs = {t.key: (t.key, t.sheet, t.table) for t in wb.INPUT_TABLES}
    assert list(LETTER_TABLES) == [specs[k] for k in BOOK_TABLES]


@pytest.mark.slow
def test_in_pyodide_the_formulas_ask_the_service_with_pyfetch(team_service, tmp_path, monkeypatch):
    """The lean wheel installed with micropip inside the real Pyodide (under Node) asks a real xlcredit service
    through the browser transport itself (``pyodide.http.pyfetch``) and gives the desktop remote mode's answers."""
    from test_lite_wheel import _micropip_wheel, _node_ready

    _node_ready()
    server, key, customers = team_service
    wheel = build_wheel.build(tmp_path / "dist")
    asked = customers[:3]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("XLCREDIT_")},
           "XLCREDIT_SERVER_URL": server.base, "XLCREDIT_API_KEY": key, "XLCREDIT_TEST_CUSTOMERS": ",".join(asked),
           "XLCREDIT_SERVER_TIMEOUT": "30"}
    run_node = subprocess.run(["node", "run_wheel.mjs", str(wheel), str(_micropip_wheel()), "service_cases.py"],
                              cwd=LITE_DIR / "node", capture_output=True, text=True, timeout=300, env=env)
    assert run_node.returncode == 0, run_node.stderr[-3000:]
    got = json.loads(run_node.stdout.strip().splitlines()[-1])
    assert got["transport"] is True   # no stand-in: pyfetch
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    _remote.clear_cache()
    for customer in asked:
        for name in ("credit_limit", "credit_available", "credit_score", "credit_grade", "credit_terms",
                     "dunning_stage"):
            assert got[customer][name] == _desktop_remote(name, customer), (customer, name)
        assert got[customer]["order_check"] == _desktop_remote("order_check", customer, 1000)
    assert got["unknown"] == "#XLC! customer: unknown customer 'NOPE-1' (run Refresh?)"
    assert got["wrong_key"] == "#XLC! server: the service refused the API key (HTTP 401): check XLCREDIT_API_KEY"


def test_letters_read_dates_given_as_serial_numbers_as_the_same_dates(plugin, team_service, lite_env):
    """Lite may hand date cells over as Excel serial numbers: the uploaded tables then carry serial numbers, which
    the service reads by the one date rule — the same decisions as with dates (dry runs, compared)."""
    _, service = plugin
    as_dates, _ = lite_book(ROOT / "workbook" / "CreditControl.xlsm")
    as_serials, serial = lite_book(ROOT / "workbook" / "CreditControl.xlsm", serial_dates=True)
    assert serial > 20
    with_dates = asyncio.run(service.generate_letters(as_dates, AS_OF, dry_run=True))
    with_serials = asyncio.run(service.generate_letters(as_serials, AS_OF, dry_run=True))
    assert with_dates.startswith("Letters on the service as of 2026-10-31: ") and "problems" not in with_dates
    assert with_serials.split("\n")[0] == with_dates.split("\n")[0]
