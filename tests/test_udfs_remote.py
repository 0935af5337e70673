"""UDF remote mode (udfs._remote, udfs._pure): every formula answered by a real team service process on
127.0.0.1 gives exactly what the in-process engine gives for the same credit database — values, spilled
columns and ``#XLC!`` texts for bad input — with one HTTP request per recalculation (customer-level) or per
spilled column (pure formulas), under the service's policy; every service failure shows
``#XLC! server: <reason>`` in the cell."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
import time
from decimal import Decimal

import pytest
from _store_fixtures import ROOT, free_port, serve
from hypothesis import given, settings
from hypothesis import strategies as st
from test_service import seed

from udfs import _remote
from udfs import functions as f
from xlcredit.io.store import CreditStore

#: The team's policy differs from the shipped one where the pure formulas can show it: ageing buckets
#: 1-15/16-45/46-90/90+ (shipped 1-30 … 180+) and grade cut-offs A ≥ 85, B ≥ 70 (shipped 80, 65).
TEAM_POLICY = [("ageing.bounds", "0, 15, 45, 90"), ("grades.A", 85), ("grades.B", 70)]

CUSTOMER_LEVEL = [f.credit_score, f.credit_grade, f.credit_limit, f.credit_available, f.credit_terms,
                  f.deposit_required, f.dunning_stage, f.credit_explain]
CELLS = ["C001", "C002", 1003.0, [["C002"]], "C999", None, "#N/A", [["C001", "C002"]]]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("remote")
    db = str(folder / "team.credit.db")
    seed(db)
    store = CreditStore(db)
    store.set_policy(TEAM_POLICY, "test")
    key = store.create_api_key("Reader", "read")
    store.close()
    with serve(db, folder) as server:
        yield server, key, db


@pytest.fixture
def requests():
    seen: list[str] = []

    def hook(response) -> None:
        seen.append(f"{response.request.method} {response.request.url.path} {response.status_code}")

    _remote._client.event_hooks["response"].append(hook)
    _remote.clear_cache()
    yield seen
    _remote._client.event_hooks["response"].remove(hook)
    _remote.clear_cache()


def _all_cells() -> list[object]:
    return [func(cell) for func in CUSTOMER_LEVEL for cell in CELLS]


def test_remote_equals_in_process_for_every_customer_level_function(service, requests, monkeypatch):
    """Same database, same answers — values, spilled CREDIT_EXPLAIN tables and #XLC! texts for bad input."""
    _server, key, db = service
    monkeypatch.delenv("XLCREDIT_SERVER_URL", raising=False)
    monkeypatch.setenv("XLCREDIT_DB", db)
    local = _all_cells()
    assert requests == []
    monkeypatch.setenv("XLCREDIT_DB", db + ".absent")            # remote mode must not touch a local database
    monkeypatch.setenv("XLCREDIT_SERVER_URL", _server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    remote = _all_cells()
    assert remote == local
    assert local[0] == 84 and local[CELLS.index("C999")].startswith("#XLC! customer: unknown customer 'C999'")
    assert requests == ["GET /v1/results 200"]                 # 64 cells, one request


def test_the_workbooks_conf_sheet_switches_remote_mode_on(service, requests, monkeypatch, tmp_path):
    """The settings typed into the bundled workbook's xlwings.conf sheet (no environment variables) send every
    formula to the service."""
    import openpyxl

    from udfs import _convert as conv
    from xlcredit.io.workbook import read_config

    server, key, _db = service
    book = tmp_path / "CreditControl.xlsm"
    wb = openpyxl.load_workbook(ROOT / "workbook" / "CreditControl.xlsm", keep_vba=True)
    ws = wb["xlwings.conf"]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    ws.cell(rows["XLCREDIT_SERVER_URL"], 2, server.base)
    ws.cell(rows["XLCREDIT_API_KEY"], 2, key)
    ws.cell(rows["XLCREDIT_SERVER_TIMEOUT"], 2, 3)
    wb.save(book)
    for name in ("XLCREDIT_SERVER_URL", "XLCREDIT_API_KEY", "XLCREDIT_SERVER_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XLCREDIT_DB", str(tmp_path / "absent.db"))
    monkeypatch.setattr(conv, "caller_book", lambda: type("Book", (), {"fullname": str(book)})())
    monkeypatch.setattr(conv, "workbook_config", lambda _book: read_config(book))
    conv._REMOTE.clear()
    assert _remote.remote_settings(read_config(book)) == _remote.Remote(server.base, key, 3.0)
    assert _remote.remote_settings({"xlcredit_server_url ": server.base + "/", "Xlcredit_Api_Key": key}) == \
        _remote.Remote(server.base, key, 5.0)                               # keys in any case, as xlwings reads them
    assert f.credit_grade("C001") == "A" and f.grade_of(84) == "B"      # the team's results and policy
    assert requests == ["GET /v1/results 200", "GET /v1/policy 200", "POST /v1/functions/grade_of 200"]
    conv._REMOTE.clear()


def test_unreachable_service_shows_server_error(requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", f"http://127.0.0.1:{free_port()}")   # nobody listens there
    monkeypatch.setenv("XLCREDIT_SERVER_TIMEOUT", "2")
    shown = f.credit_limit("C001")
    assert shown.startswith("#XLC! server: cannot reach http://127.0.0.1:")
    assert f.credit_explain("C001") == shown


def test_wrong_key_is_refused_by_name(service, requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", service[0].base)
    monkeypatch.setenv("XLCREDIT_API_KEY", "xlc_wrong")
    assert f.credit_score("C001") == ("#XLC! server: the service refused the API key (HTTP 401): "
                                      "check XLCREDIT_API_KEY")


def test_bad_timeout_setting_is_named(monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("XLCREDIT_SERVER_TIMEOUT", "soon")
    assert f.credit_grade("C001") == "#XLC! server: XLCREDIT_SERVER_TIMEOUT is not a number of seconds (got 'soon')"


class _Stub(http.server.BaseHTTPRequestHandler):
    """A service that fails: 503 for /fail, a 2 s silence for /slow (longer than the timeout set below), a web
    page for /page (a URL that is not an xlcredit service)."""

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(2)
        if self.path.startswith("/page"):
            body = b"<html>not here</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stub():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_failing_service_shows_its_status(stub, requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", stub + "/fail")
    assert f.dunning_stage("C001") == "#XLC! server: the service failed (HTTP 503)"


def test_silent_service_times_out_with_the_setting(stub, requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", stub + "/slow")
    monkeypatch.setenv("XLCREDIT_SERVER_TIMEOUT", "0.3")
    assert f.credit_terms("C001") == f"#XLC! server: no answer from {stub}/slow within 0.3 s"


# =========================================================================== pure formulas
DUE, AS_OF = dt.date(2026, 9, 30), dt.date(2026, 10, 31)
COLUMN_DUE = [[dt.date(2026, 10, 20)], [dt.date(2026, 10, 1)], [46_280], ["2026-08-01"], [None], ["#N/A"], [True],
              ["31/12/2026"], [dt.date(2026, 11, 30)]]
AMOUNTS = [[1000], [250.5], ["1,234.50"], [-5], ["abc"], [None], [True], [1e30], [dt.date(2026, 1, 1)]]

#: Calls of every pure formula: good values, every kind of bad cell, columns with bad rows, ranges where a single
#: cell belongs, rows JSON cannot carry as they are (a date cell as an amount, a Decimal from a Python caller).
PURE_CALLS: list[tuple[str, tuple[object, ...]]] = [
    ("days_overdue", (DUE, AS_OF)), ("days_overdue", ("2026-10-31", 46_326)), ("days_overdue", (None, AS_OF)),
    ("days_overdue", (True, AS_OF)), ("days_overdue", (COLUMN_DUE, AS_OF)),
    ("days_overdue", (COLUMN_DUE, [[AS_OF]] * 3)),                                      # lengths differ
    ("ageing_bucket", (DUE, AS_OF)), ("ageing_bucket", (dt.date(2026, 10, 21), AS_OF)),
    ("ageing_bucket", (COLUMN_DUE, AS_OF)), ("ageing_bucket", ("#REF!", AS_OF)),
    ("late_interest", (10_000, DUE, AS_OF, 0.08)), ("late_interest", (10_000, DUE, AS_OF, 0.08, 360)),
    ("late_interest", (10_000, DUE, AS_OF, 0.08, None)), ("late_interest", (10_000, DUE, AS_OF, 0.08, 364)),
    ("late_interest", (AMOUNTS, DUE, AS_OF, 0.08)), ("late_interest", (AMOUNTS, COLUMN_DUE, AS_OF, "8%")),
    ("late_interest", (Decimal("100.10"), DUE, AS_OF, Decimal("0.08"))),
    ("late_interest", (10_000, DUE, AS_OF, [[0.08], [0.1]])),
    ("daily_penalty", (10_000, DUE, AS_OF)), ("daily_penalty", (AMOUNTS, DUE, AS_OF, 0.001)),
    ("daily_penalty", (AMOUNTS, DUE, AS_OF, None)), ("daily_penalty", (5000, COLUMN_DUE, AS_OF, -1)),
    ("statutory_interest", (10_000, dt.date(2024, 1, 31), AS_OF, "UK")),
    ("statutory_interest", (10_000, dt.date(2024, 1, 31), AS_OF, "EU")),
    ("statutory_interest", (10_000, DUE, AS_OF, "FR")), ("statutory_interest", ([[1], [2]], DUE, AS_OF, "UK")),
    ("early_pay_discount", (1000, dt.date(2026, 10, 1), dt.date(2026, 10, 11), "2/10 net 30")),
    ("early_pay_discount", (1000, dt.date(2026, 10, 1), dt.date(2026, 10, 12), "2/10 net 30")),
    ("early_pay_discount", (1000, dt.date(2026, 10, 1), dt.date(2026, 10, 5), "two percent")),
    ("early_pay_discount", (dt.date(2026, 1, 1), dt.date(2026, 10, 1), dt.date(2026, 10, 5), "2/10 net 30")),
    ("score_of", (82, 0.45, 1.3, 0.25, 3, 6)), ("score_of", (None, None, None, None, None, None)),
    ("score_of", (82, "#DIV/0!", 1.3, 0.25, 3, 6)), ("score_of", (120, 0.45, 1.3, 0.25, 3, 6)),
    ("score_of", (dt.date(2026, 1, 1), 0.45, 1.3, 0.25, 3, 6)),
    ("grade_of", (84,)), ("grade_of", (85,)), ("grade_of", (69.5,)), ("grade_of", (101,)), ("grade_of", ("x",)),
    ("grade_of", (dt.date(2026, 1, 1),)), ("grade_of", (Decimal("85"),)),
    ("dso", (120_000, 360_000, 90)), ("dso", (120_000, 0, 90)), ("dso", (120_000, 360_000, "a quarter")),
]


def _pure_cells() -> list[object]:
    return [getattr(f, name)(*args) for name, args in PURE_CALLS]


def test_pure_formulas_remote_equal_in_process_under_the_services_policy(service, requests, monkeypatch):
    server, key, db = service
    monkeypatch.delenv("XLCREDIT_SERVER_URL", raising=False)
    monkeypatch.setenv("XLCREDIT_DB", db)                       # in process: the same database's policy
    local = _pure_cells()
    assert requests == []
    monkeypatch.setenv("XLCREDIT_DB", db + ".absent")
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    remote = _pure_cells()
    for (name, args), mine, theirs in zip(PURE_CALLS, local, remote, strict=True):
        assert theirs == mine, (name, args)
    shown = dict(zip([f"{n}{a!r}" for n, a in PURE_CALLS], remote, strict=True))
    # the team policy, not the shipped one: 21 days past due is "16-45" (shipped: "1-30"); 84 is a B (shipped: A)
    assert shown[f"ageing_bucket{(dt.date(2026, 10, 21), AS_OF)!r}"] == "1-15"
    assert shown[f"ageing_bucket{(DUE, AS_OF)!r}"] == "16-45"
    assert shown["grade_of(84,)"] == "B" and shown["grade_of(85,)"] == "A"
    assert shown[f"late_interest{(10_000, DUE, AS_OF, 0.08)!r}"] == 67.95
    assert shown[f"days_overdue{(True, AS_OF)!r}"] == "#XLC! due_date: is not a date (got True)"
    column = shown[f"late_interest{(AMOUNTS, DUE, AS_OF, 0.08)!r}"]
    assert column[0] == [6.79] and column[4][0].startswith("#XLC! amount: ") and len(column) == len(AMOUNTS)
    # every formula call is at most one request; every spilled column exactly one
    posts = [r for r in requests if r.startswith("POST")]
    assert len(posts) <= len(PURE_CALLS) and all(r.endswith(" 200") for r in posts)
    assert "POST /v1/functions/late_interest 200" in posts and "GET /v1/policy 200" in requests


def test_a_spilled_column_is_one_request(service, requests, monkeypatch):
    server, key, _db = service
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    dues = [[DUE - dt.timedelta(days=i)] for i in range(2_500)]
    amounts = [[1000 + i] for i in range(2_500)]
    column = f.late_interest(amounts, dues, AS_OF, 0.08)
    assert requests == ["GET /v1/policy 200", "POST /v1/functions/late_interest 200"]
    assert len(column) == 2_500 and column[0] == [6.79] and column[-1] == [float(Decimal(3499 * 0.08 * 2530 / 365)
                                                                                 .quantize(Decimal("0.01")))]
    monkeypatch.setattr(_remote, "MAX_BATCH_ROWS", 1_000)          # a column longer than one request may carry
    _remote.clear_cache()
    requests.clear()
    assert f.late_interest(amounts, dues, AS_OF, 0.08) == column
    assert requests == ["GET /v1/policy 200"] + ["POST /v1/functions/late_interest 200"] * 3


def test_pure_answers_are_kept_while_the_services_calculation_basis_holds(service, requests, monkeypatch):
    """A recalculation asking for the same arguments again (TODAY() makes every cell recalculate) sends only a
    304 check of the policy's ETag; a changed policy on the service changes the answers at the next check."""
    server, key, db = service
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    monkeypatch.setattr(_remote, "RECHECK_SECONDS", 0.0)
    dues = [[DUE - dt.timedelta(days=10 * i)] for i in range(30)]
    first = f.ageing_bucket(dues, AS_OF)
    cells = [f.ageing_bucket(d[0], AS_OF) for d in dues]              # the same rows as single cells
    assert [[c] for c in cells] == first
    assert requests.count("POST /v1/functions/ageing_bucket 200") == 1   # the column's request answered them all
    requests.clear()
    assert f.ageing_bucket(dues, AS_OF) == first and [f.ageing_bucket(d[0], AS_OF) for d in dues] == cells
    assert set(requests) == {"GET /v1/policy 304"}                    # nothing computed twice
    store = CreditStore(db)
    try:
        store.set_policy([*TEAM_POLICY[1:], ("ageing.bounds", "0, 30, 60")], "test")   # the admin changes buckets
        requests.clear()
        changed = f.ageing_bucket(dues, AS_OF)
        assert requests == ["GET /v1/policy 200", "POST /v1/functions/ageing_bucket 200"]
        assert changed[0] == ["31-60"] and changed[-1] == ["60+"] and first[-1] == ["90+"]
    finally:
        store.set_policy(TEAM_POLICY, "test")
        store.close()


def test_results_are_revalidated_with_the_snapshot_etag(service, requests, monkeypatch):
    server, key, db = service
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    monkeypatch.setattr(_remote, "RECHECK_SECONDS", 0.0)           # every call asks the service
    assert f.credit_limit("C001") == 180_000.0
    assert f.credit_limit("C001") == 180_000.0
    assert requests == ["GET /v1/results 200", "GET /v1/results 304"]   # unchanged: no body sent again
    store = CreditStore(db)
    try:
        store.set_limit_override("C001", Decimal("150000"), "test: revalidation", "test")
        assert f.credit_limit("C001") == 150_000.0                     # a new snapshot: a new ETag, new figures
        assert requests[-1] == "GET /v1/results 200"
    finally:
        store.clear_limit_override("C001", "test")
        store.close()
    assert f.credit_limit("C001") == 180_000.0


def test_a_service_without_results_says_so(tmp_path, requests, monkeypatch):
    db = str(tmp_path / "empty.credit.db")
    store = CreditStore(db)
    key = store.create_api_key("Reader", "read")
    store.close()
    with serve(db, tmp_path) as server:
        monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
        monkeypatch.setenv("XLCREDIT_API_KEY", key)
        assert f.credit_grade("C001") == (f"#XLC! database: the service at {server.base} holds no credit results "
                                          "yet: refresh its credit database first")
        assert f.days_overdue(DUE, AS_OF) == 31                      # the pure formulas need no results


def test_pure_formulas_show_server_errors(stub, requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", stub + "/fail")
    assert f.days_overdue(DUE, AS_OF) == "#XLC! server: the service failed (HTTP 503)"
    assert f.late_interest(AMOUNTS, DUE, AS_OF, 0.08) == "#XLC! server: the service failed (HTTP 503)"
    monkeypatch.setenv("XLCREDIT_SERVER_URL", stub + "/page")
    assert f.grade_of(70) == "#XLC! server: the service's answer is not JSON"
    monkeypatch.setenv("XLCREDIT_SERVER_URL", stub + "/slow")
    monkeypatch.setenv("XLCREDIT_SERVER_TIMEOUT", "0.3")
    assert f.dso(1, 2, 3) == f"#XLC! server: no answer from {stub}/slow within 0.3 s"


CELL_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**9),
    st.floats(-1e12, 1e12, allow_nan=False), st.sampled_from(["", " ", "#N/A", "abc", "8%", "1,000.50", "2026-02-30"]),
    st.dates(dt.date(1899, 12, 1), dt.date(2100, 1, 1)), st.decimals(-10**6, 10**6, places=3, allow_nan=False))
DATE_CELLS = st.one_of(st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)), st.integers(-5, 80_000),
                       st.sampled_from([None, "", "2026-10-31", "31/10/2026", "#VALUE!", True, 60.0, 46_326.75]))
FORMULAS = st.sampled_from(["late_interest", "daily_penalty", "days_overdue", "ageing_bucket", "grade_of", "dso",
                            "early_pay_discount", "statutory_interest"])


@settings(max_examples=150, deadline=None)
@given(name=FORMULAS, values=st.lists(CELL_VALUES, min_size=4, max_size=4),
       dates=st.lists(DATE_CELLS, min_size=3, max_size=3), rows=st.integers(1, 4))
def test_any_cells_give_the_same_answer_remote_and_in_process(service, name, values, dates, rows):
    server, key, db = service
    a, b, c, d = values
    due, as_of, other = dates
    column = [[due], [other], [a]][:rows] if rows > 1 else due
    args = {"late_interest": (a, column, as_of, b, c), "daily_penalty": (a, column, as_of, b),
            "days_overdue": (column, as_of), "ageing_bucket": (column, as_of), "grade_of": (a,), "dso": (a, b, c),
            "early_pay_discount": (a, due, as_of, d), "statutory_interest": (a, due, as_of, d)}[name]
    func = getattr(f, name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLCREDIT_SERVER_URL", server.base)
        mp.setenv("XLCREDIT_API_KEY", key)
        mp.setenv("XLCREDIT_DB", db + ".absent")
        remote = func(*args)
        mp.delenv("XLCREDIT_SERVER_URL")
        mp.setenv("XLCREDIT_DB", db)
        assert remote == func(*args)


# --------------------------------------------------------------------------- TLS: the computer's trust store
@pytest.fixture(scope="module")
def tls_stub(tmp_path_factory: pytest.TempPathFactory):
    """An HTTPS service (the failing stub) with a certificate from a private certificate authority."""
    import ssl

    import trustme

    ca = trustme.CA()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ca_file = tmp_path_factory.mktemp("ca") / "company-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield f"https://127.0.0.1:{server.server_address[1]}", ca_file
    server.shutdown()
    server.server_close()


def test_a_certificate_the_computer_does_not_trust_is_named(tls_stub, requests, monkeypatch):
    url, _ca = tls_stub
    monkeypatch.setenv("XLCREDIT_SERVER_URL", url + "/fail")
    assert f.credit_limit("C001") == (f"#XLC! server: this computer does not trust the certificate of {url}/fail: "
                                      "install the certificate authority that issued it in the computer's "
                                      "certificate store")


def test_a_company_certificate_authority_in_the_computers_trust_store_is_trusted(tls_stub, requests, monkeypatch):
    """truststore: the add-in trusts what the computer trusts (here the system CA file, as SSL_CERT_FILE names it;
    on Windows the certificate store) — not only the public CAs bundled with Python packages."""
    url, ca = tls_stub
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    client = _remote.new_client()
    hooks = _remote._client.event_hooks
    monkeypatch.setattr(_remote, "_client", client)
    client.event_hooks = hooks
    monkeypatch.setenv("XLCREDIT_SERVER_URL", url + "/fail")
    assert f.credit_limit("C001") == "#XLC! server: the service failed (HTTP 503)"     # the handshake succeeded
    assert requests == ["GET /fail/v1/results 503"]
    client.close()


def test_a_service_taking_fewer_rows_per_request_gets_smaller_batches(tmp_path, requests, monkeypatch):
    """`xlcredit serve --max-rows 300`: a 1,000-row column is halved until it fits (413, 413, then 4 requests of
    250 rows), the size is remembered, and the answers are those of an ordinary service."""
    db = str(tmp_path / "small.credit.db")
    store = CreditStore(db)
    key = store.create_api_key("Reader", "read")
    store.close()
    dues = [[DUE - dt.timedelta(days=i)] for i in range(1_000)]
    with serve(db, tmp_path, "--max-rows", "300") as server:
        monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
        monkeypatch.setenv("XLCREDIT_API_KEY", key)
        column = f.days_overdue(dues, AS_OF)
        posts = [r for r in requests if r.startswith("POST")]
        assert posts == ["POST /v1/functions/days_overdue 413"] * 2 + ["POST /v1/functions/days_overdue 200"] * 4
        assert column == [[31 + i] for i in range(1_000)]
        requests.clear()
        f.days_overdue([[d[0] - dt.timedelta(days=5_000)] for d in dues], AS_OF)
        assert requests == ["POST /v1/functions/days_overdue 200"] * 4


def test_the_results_travel_compressed(service, requests, monkeypatch):
    """The results snapshot is gzip-compressed on the wire (a team's results are megabytes of JSON)."""
    server, key, _db = service
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    seen: list[str] = []
    _remote._client.event_hooks["response"].append(lambda r: seen.append(r.headers.get("content-encoding", "")))
    try:
        assert f.credit_grade("C001") == "A"
    finally:
        _remote._client.event_hooks["response"].pop()
    assert seen == ["gzip"]


def test_formulas_from_many_threads_at_once_agree(service, monkeypatch):
    """xlwings may calculate formulas on several threads (async UDFs): the shared snapshot, kept answers and
    connection pool give every thread the same answers as one thread alone."""
    from concurrent.futures import ThreadPoolExecutor

    server, key, _db = service
    monkeypatch.setenv("XLCREDIT_SERVER_URL", server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    monkeypatch.setattr(_remote, "RECHECK_SECONDS", 0.0)       # every call re-validates: the most contention
    _remote.clear_cache()
    calls = [(f.credit_limit, ("C002",)), (f.credit_grade, ("C001",)), (f.days_overdue, (DUE, AS_OF)),
             (f.late_interest, (AMOUNTS, DUE, AS_OF, 0.08)), (f.grade_of, (70,)), (f.credit_limit, ("C999",))]
    alone = [func(*args) for func, args in calls]
    _remote.clear_cache()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: calls[i % len(calls)][0](*calls[i % len(calls)][1]), range(240)))
    assert results == [alone[i % len(calls)] for i in range(240)]
    _remote.clear_cache()
