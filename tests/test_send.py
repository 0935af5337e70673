"""Sending letters by e-mail against a real SMTP server on loopback (aiosmtpd, 127.0.0.1, a free port).

Three customers of an inline book are dunned at 2026-10-31 (``xlcredit letters``' job writes three letters into
the register): C1 English (reminder), C2 Chinese (reminder), C3 English (formal demand). Then ``run_send``:

* every message arrives once with its PDF attached, subject and body in the customer's language;
* a server answering 550 for C2's address: C2 recorded failed (code 550) and not sent, C1 and C3 go; a second run
  sends nothing (a permanent refusal to the same address is not retried);
* a server dropping the connection at the second MAIL: one sent, one failed, one not attempted; the re-run sends
  exactly the two missing ones; a third run sends nothing;
* a crash after the server took a message but before "sent" was recorded: the next run reconciles it to
  unconfirmed and does not send it again (each letter reaches the server exactly once);
* a dry run lists the three and neither connects nor writes.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from pathlib import Path

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

from xlcredit.core.policy import Policy  # noqa: E402
from xlcredit.io.store import CreditStore  # noqa: E402
from xlcredit.jobs.book import FolderBook, read_book  # noqa: E402
from xlcredit.jobs.letters import run_letters  # noqa: E402
from xlcredit.jobs.send import SmtpSettings, contacts_from_customers, run_send, smtp_settings  # noqa: E402

AS_OF = dt.date(2026, 10, 31)
CUSTOMERS = """customer_id,name,country,currency,language,email,contact,relationship_start
C1,Ostermoor Werkzeugbau AG,DE,EUR,en,c1@ostermoor.example,Miriam Lorenz,2019-01-01
C2,佛山鑫隆塑胶有限公司,CN,EUR,zh,c2@xinlong.example,李娜,2019-01-01
C3,Calder Mills Ltd,GB,EUR,en,c3@calder.example,,2019-01-01
"""
INVOICES = """customer_id,invoice_no,currency,amount,invoice_date,due_date
C1,INV-1,EUR,1200.00,2026-09-20,2026-10-20
C2,INV-2,EUR,880.50,2026-09-20,2026-10-20
C3,INV-3,EUR,4300.00,2026-08-25,2026-09-24
"""


class Recorder:
    """An aiosmtpd handler: keeps every message; refuses ``refuse`` at RCPT with 550; drops the connection at the
    ``drop_at``-th MAIL (1-based) of its life."""

    def __init__(self, refuse: frozenset[str] = frozenset(), drop_at: int | None = None) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse, self.drop_at, self.mails = refuse, drop_at, 0

    async def handle_MAIL(self, server, session, envelope, address, options):
        self.mails += 1
        if self.drop_at is not None and self.mails == self.drop_at:
            server.transport.close()                      # the connection drops mid-run
            return "421 4.3.2 going away"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 2.0.0 queued"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server():
    """Start servers on 127.0.0.1 (a free port each); every one is stopped at teardown."""
    started = []

    def start(handler: Recorder) -> SmtpSettings:
        controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=_free_port())
        controller.start()
        started.append(controller)
        return SmtpSettings(host="127.0.0.1", port=controller.port, security="none",
                            from_address="Credit Control <credit@harbour.example>", timeout=10)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def book(tmp_path):
    """The inline book, its three letters written and registered in ``letters/``."""
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "customers.csv").write_text(CUSTOMERS, "utf-8")
    (folder / "invoices.csv").write_text(INVOICES, "utf-8")
    letters = tmp_path / "letters"
    store = CreditStore(letters.parent / "register.db")
    outcome = run_letters(FolderBook(folder), AS_OF, letters, store=store)
    assert [(r.customer_id, r.stage, r.status) for r in outcome.letters] == [
        ("C1", "Reminder letter", "issued"), ("C2", "Reminder letter", "issued"), ("C3", "Formal demand", "issued")]
    data = read_book(FolderBook(folder).read_tables(), [])
    yield store, letters, contacts_from_customers(data.customers), data.policy
    store.close()


def send(book, settings, **kw):
    store, letters, contacts, policy = book
    return run_send(store, letters, AS_OF, contacts, policy, settings, **kw)


def statuses(outcome):
    return {r.customer_id: r.status for r in outcome.results}


def test_messages_arrive_once_with_the_pdf_in_the_customers_language(book, smtp_server):
    server = Recorder()
    outcome = send(book, smtp_server(server))
    assert statuses(outcome) == {"C1": "sent", "C2": "sent", "C3": "sent"}
    assert len(server.messages) == 3
    by_to = {m["To"]: m for m in server.messages}
    zh, en = by_to["c2@xinlong.example"], by_to["c1@ostermoor.example"]
    assert "付款提醒函" in zh["Subject"] and "尊敬的李娜" in zh.get_body(("plain",)).get_content()
    assert "Reminder letter" in en["Subject"] and "Dear Miriam Lorenz" in en.get_body(("plain",)).get_content()
    assert "Formal demand" in by_to["c3@calder.example"]["Subject"]
    for msg in server.messages:
        (pdf,) = list(msg.iter_attachments())
        assert pdf.get_content_type() == "application/pdf" and pdf.get_filename().endswith(".pdf")
        assert pdf.get_content().startswith(b"%PDF")
    # every message is in the register with its Message-ID, as it arrived
    store = book[0]
    rows = store.delivery_rows()
    assert sorted(r["message_id"] for r in rows) == sorted(m["Message-ID"] for m in server.messages)
    assert {r["state"] for r in rows} == {"sent"} and {r["code"] for r in rows} == {250}
    again = send(book, smtp_server(Recorder()))
    assert statuses(again) == {"C1": "already sent", "C2": "already sent", "C3": "already sent"}


def test_a_5xx_for_one_recipient_leaves_that_letter_unsent_and_failed_while_the_rest_go(book, smtp_server):
    server = Recorder(refuse=frozenset({"c2@xinlong.example"}))
    settings = smtp_server(server)
    outcome = send(book, settings)
    assert statuses(outcome) == {"C1": "sent", "C2": "failed", "C3": "sent"}
    failed = next(r for r in outcome.results if r.customer_id == "C2")
    assert failed.code == 550 and "mailbox unavailable" in failed.detail
    assert sorted(m["To"] for m in server.messages) == ["c1@ostermoor.example", "c3@calder.example"]
    second = send(book, settings)
    assert statuses(second) == {"C1": "already sent", "C2": "failed earlier", "C3": "already sent"}
    assert len(server.messages) == 2


def test_connection_dropped_mid_run_then_a_rerun_sends_exactly_the_missing_ones(book, smtp_server):
    first_server = Recorder(drop_at=2)
    first = send(book, smtp_server(first_server))
    assert statuses(first) == {"C1": "sent", "C2": "failed", "C3": "not attempted"}
    assert "connection lost before the message was sent" in next(r.detail for r in first.results
                                                                 if r.customer_id == "C2")
    assert [m["To"] for m in first_server.messages] == ["c1@ostermoor.example"]
    second_server = Recorder()
    settings = smtp_server(second_server)
    second = send(book, settings)
    assert statuses(second) == {"C1": "already sent", "C2": "sent", "C3": "sent"}
    assert sorted(m["To"] for m in second_server.messages) == ["c2@xinlong.example", "c3@calder.example"]
    third = send(book, settings)
    assert {r.status for r in third.results} == {"already sent"} and len(second_server.messages) == 2


def test_a_crash_between_sending_and_recording_never_sends_twice(book, smtp_server, monkeypatch):
    store = book[0]
    server = Recorder()
    settings = smtp_server(server)
    real = CreditStore.finish_delivery
    calls = {"sent": 0}

    def dies_after_the_second_send(self, delivery_id, state, **kw):
        if state == "sent":
            calls["sent"] += 1
            if calls["sent"] == 2:
                raise SystemExit("killed")     # the process dies: the server has the message, "sent" is not recorded
        return real(self, delivery_id, state, **kw)

    monkeypatch.setattr(CreditStore, "finish_delivery", dies_after_the_second_send)
    with pytest.raises(SystemExit):
        send(book, settings)
    monkeypatch.undo()
    assert len(server.messages) == 2 and [r["state"] for r in store.delivery_rows()] == ["sent", "sending"]
    rerun = send(book, settings)
    assert len(rerun.reconciled) == 1 and "unconfirmed" in rerun.reconciled[0]
    assert statuses(rerun) == {"C1": "already sent", "C2": "unconfirmed", "C3": "sent"}
    assert sorted(m["To"] for m in server.messages) == ["c1@ostermoor.example", "c2@xinlong.example",
                                                          "c3@calder.example"]   # each exactly once
    assert {r.status for r in send(book, settings).results} <= {"already sent", "unconfirmed"}
    assert len(server.messages) == 3
    # after checking the mailbox, the user may release it: it goes again, knowingly
    released = send(book, settings, retry_unconfirmed=True)
    assert statuses(released)["C2"] == "sent" and len(server.messages) == 4


def test_dry_run_lists_what_would_go_and_writes_nothing(book, smtp_server):
    server = Recorder()
    outcome = send(book, smtp_server(server), dry_run=True)
    assert statuses(outcome) == {"C1": "would send", "C2": "would send", "C3": "would send"}
    assert server.messages == [] and server.mails == 0 and book[0].delivery_rows() == []


def test_without_smtp_it_writes_eml_drafts_once(book, tmp_path):
    outcome = send(book, SmtpSettings(from_address="credit@harbour.example"))
    assert outcome.channel == "draft" and set(statuses(outcome).values()) == {"drafted"}
    drafts = sorted((book[1] / "drafts").glob("*.eml"))
    assert len(drafts) == 3
    msg = email.message_from_bytes(drafts[0].read_bytes(), policy=email.policy.default)
    assert msg["Message-ID"] in {r["message_id"] for r in book[0].delivery_rows()}
    assert set(statuses(send(book, SmtpSettings())).values()) == {"already drafted"}


def test_settings_come_from_options_over_environment_over_policy_and_the_password_only_from_its_variable():
    env = {"XLCREDIT_SMTP_HOST": "mail.env.example", "XLCREDIT_SMTP_PORT": "2525", "XLCREDIT_SMTP_FROM": "a@b.example",
           "XLCREDIT_SMTP_PASSWORD": "s3cret"}
    s = smtp_settings(Policy(), env, host="mail.cli.example", port=None, security="ssl")
    assert (s.host, s.port, s.security, s.from_address, s.password) == ("mail.cli.example", 2525, "ssl",
                                                                         "a@b.example", "s3cret")
    assert "s3cret" not in repr(s)
    assert smtp_settings(Policy(), {}).configured is False and SmtpSettings(security="ssl").effective_port == 465
    from_sheet = smtp_settings(Policy.from_mapping({"send.smtp_host": "mail.sheet.example", "send.smtp_port": 2525,
                                                    "send.bcc": "copy@harbour.example"}), {})
    assert (from_sheet.host, from_sheet.effective_port, from_sheet.bcc) == ("mail.sheet.example", 2525,
                                                                           "copy@harbour.example")
    from xlcredit.core.errors import XlcError

    with pytest.raises(XlcError, match="--smtp-security: must be none, starttls or ssl"):
        smtp_settings(Policy(), {}, security="tls")
    with pytest.raises(XlcError, match="XLCREDIT_SMTP_PORT: must be a port number"):
        smtp_settings(Policy(), {"XLCREDIT_SMTP_PORT": "smtp"})
    with pytest.raises(XlcError, match="--from: is not an e-mail address"):
        smtp_settings(Policy(), {}, from_address="credit control")


def test_the_command_drafts_and_a_second_run_sends_nothing(tmp_path):
    from typer.testing import CliRunner

    from xlcredit.cli import app

    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "customers.csv").write_text(CUSTOMERS, "utf-8")
    (folder / "invoices.csv").write_text(INVOICES, "utf-8")
    letters = tmp_path / "letters"
    env = {"COLUMNS": "200", "NO_COLOR": "1", "XLCREDIT_SMTP_HOST": ""}
    runner = CliRunner()
    assert runner.invoke(app, ["letters", str(folder), "--as-of", "2026-10-31", "--out", str(letters)],
                         env=env).exit_code == 0
    dry = runner.invoke(app, ["send", str(folder), "--letters", str(letters), "--as-of", "2026-10-31", "--dry-run"],
                        env=env)
    assert dry.exit_code == 0 and "3 would go" in dry.output and not (letters / "drafts").exists()
    first = runner.invoke(app, ["send", str(folder), "--letters", str(letters), "--as-of", "2026-10-31"], env=env)
    assert first.exit_code == 0 and "3 drafted" in first.output, first.output
    second = runner.invoke(app, ["send", str(folder), "--letters", str(letters), "--as-of", "2026-10-31"], env=env)
    assert "0 drafted, 3 already gone" in second.output
    bad = runner.invoke(app, ["send", "--letters", str(tmp_path / "nowhere")], env=env)
    assert bad.exit_code == 2 and "--letters: folder not found" in bad.output
    assert Path(letters / "drafts").is_dir()


def test_the_service_writes_statements_and_sends_for_the_controller_role(tmp_path, smtp_server, monkeypatch):
    """POST /v1/refresh (stores the customers and their addresses), /v1/letters, /v1/statements, then /v1/send to
    the loopback server: letters and the statements arrive once; a reader may not send; a second run sends nothing."""
    from fastapi.testclient import TestClient

    from xlcredit.service.app import Settings, create_app

    server = Recorder()
    settings = smtp_server(server)
    monkeypatch.setenv("XLCREDIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("XLCREDIT_SMTP_PORT", str(settings.port))
    monkeypatch.setenv("XLCREDIT_SMTP_SECURITY", "none")
    monkeypatch.setenv("XLCREDIT_SMTP_FROM", "credit@harbour.example")
    db = tmp_path / "team.credit.db"
    store = CreditStore(db, stamp_ttl=0)
    keys = {role: store.create_api_key(role, role) for role in ("read", "controller")}
    files = {"customers": ("customers.csv", CUSTOMERS.encode()), "invoices": ("invoices.csv", INVOICES.encode())}
    app = create_app(str(db), store=store, settings=Settings(letters_dir=str(tmp_path / "letters")))
    with TestClient(app) as client:
        ctl, rd = {"X-API-Key": keys["controller"]}, {"X-API-Key": keys["read"]}
        assert client.post("/v1/refresh", data={"as_of": "2026-10-31"}, files=files, headers=ctl).status_code == 200
        assert client.post("/v1/letters", data={"as_of": "2026-10-31"}, files=files, headers=ctl).status_code == 200
        bad = client.post("/v1/statements", data={"date_from": "2026-10-31", "date_to": "2026-10-01"}, files=files,
                          headers=ctl)
        assert bad.status_code == 422 and "from: is after the end of the period" in bad.text
        made = client.post("/v1/statements", data={"date_from": "2026-10-01", "date_to": "2026-10-31"}, files=files,
                           headers=ctl)
        assert made.status_code == 200, made.text
        assert made.json()["counts"] == {"written": 3}
        assert client.post("/v1/send", json={"as_of": "2026-10-31"}, headers=rd).status_code == 403
        dry = client.post("/v1/send", json={"as_of": "2026-10-31", "dry_run": True}, headers=ctl).json()
        assert dry["counts"] == {"would send": 6} and server.messages == []
        sent = client.post("/v1/send", json={"as_of": "2026-10-31"}, headers=ctl)
        assert sent.status_code == 200, sent.text
        assert sent.json()["channel"] == "smtp" and sent.json()["counts"] == {"sent": 6}
        again = client.post("/v1/send", json={"as_of": "2026-10-31"}, headers=ctl).json()
        assert again["counts"] == {"already sent": 6}
    kinds = sorted(m["To"] + (" statement" if "statement" in m["Subject"] or "对账单" in m["Subject"] else "")
                   for m in server.messages)
    assert kinds == ["c1@ostermoor.example", "c1@ostermoor.example statement", "c2@xinlong.example",
                     "c2@xinlong.example statement", "c3@calder.example", "c3@calder.example statement"]
    store.close()
