"""The Send job: e-mail the letters and statements of the collection register that have not gone yet.

Behind ``xlcredit send``, the workbook's Send button (``xlcredit.excel.send_letters``) and ``POST /v1/send``.
What is **due**: every register entry of kind ``letter`` or ``statement`` whose PDF lies in the letters folder,
dated on or before ``as_of``, that is the customer's latest of its kind (an older letter not yet sent is
*superseded* by the newer one and is not sent), and that has no message sent, drafted, going or possibly gone.
A letter whose last attempt was refused for good (SMTP 5xx) to the same address is not retried; with a new
address in the customers table it is.

Each message: the PDF attached, subject and body in the customer's language (``templates/<lang>/email.txt``),
To the ``email`` column of the customers table (several addresses separated by ``;`` or ``,``), From, Reply-To
and Bcc from the settings, and a Message-ID that is recorded.

**Settings** (:func:`smtp_settings`): the command line over the environment (``XLCREDIT_SMTP_HOST``, ``_PORT``,
``_SECURITY``, ``_USER``, ``_FROM``, ``_REPLY_TO``, ``_BCC``) over the policy's ``[send]`` section. The password
comes from ``XLCREDIT_SMTP_PASSWORD`` only and is never stored. With no SMTP host the messages are written as
``.eml`` drafts (to open in a mail program) instead.

**Never twice — the protocol.** For each message:

1. record it as ``sending`` with its Message-ID (one transaction; refused if the entry already has a message
   sent, drafted, sending or unconfirmed — so two runs at once cannot both send it);
2. the SMTP transaction: MAIL, RCPT for every recipient, DATA;
3. record the outcome: ``sent`` (250 after the data), or ``failed`` with the server's code and words (a
   refusal at MAIL, RCPT or DATA: the message certainly did not go; 4xx and connection errors are retried by
   the next run, 5xx only for a changed address).

Every run first **reconciles** what an earlier run left in ``sending`` (it was killed between 1 and 3): a draft
whose file is whole becomes ``drafted``, one without its file ``failed``; an SMTP message becomes
``unconfirmed`` and is **not** sent again.

The one window that cannot be closed: between the end of the data (the final ``.``) and the server's answer,
the server may have accepted the message while the client never learns it — because the run was killed, or
the connection dropped at that moment (RFC 1047). Nothing on the client side can tell "accepted" from "not
accepted" then, so such a message is recorded ``unconfirmed`` and held back rather than risk sending it twice;
``retry_unconfirmed`` (``--retry-unconfirmed``) sends it again once someone has checked the mailbox or the
server's log. A connection lost *before* the data's end stops the run with that message ``failed``; the rest
stay due for the next run, which sends exactly the missing ones.

**Dry run**: lists what would go; nothing is written, nothing connects.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, getaddresses
from pathlib import Path
from typing import Any

import jinja2

from xlcredit.core.errors import XlcError, describe
from xlcredit.core.policy import Policy
from xlcredit.io.store import AlreadySent, CreditStore
from xlcredit.jobs.letters import write_atomic

__all__ = ["ENV", "PASSWORD_ENV", "SECURITY", "Contact", "SendOutcome", "SendResult", "SmtpSettings",
           "contacts_from_customers", "contacts_from_rows", "plan_sends", "reconcile", "run_send", "smtp_settings"]

PASSWORD_ENV = "XLCREDIT_SMTP_PASSWORD"
#: Environment variables of the settings (the password has its own, :data:`PASSWORD_ENV`).
ENV: dict[str, str] = {"host": "XLCREDIT_SMTP_HOST", "port": "XLCREDIT_SMTP_PORT",
                       "security": "XLCREDIT_SMTP_SECURITY", "user": "XLCREDIT_SMTP_USER",
                       "from_address": "XLCREDIT_SMTP_FROM", "reply_to": "XLCREDIT_SMTP_REPLY_TO",
                       "bcc": "XLCREDIT_SMTP_BCC"}
SECURITY: tuple[str, ...] = ("none", "starttls", "ssl")
_DEFAULT_PORT = {"none": 25, "starttls": 587, "ssl": 465}
_OPTION = {"host": "--smtp-host", "port": "--smtp-port", "security": "--smtp-security", "user": "--smtp-user",
           "from_address": "--from", "reply_to": "--reply-to", "bcc": "--bcc"}
_SETTING = {"host": "smtp_host", "port": "smtp_port", "security": "smtp_security", "user": "smtp_user",
            "from_address": "from_address", "reply_to": "reply_to", "bcc": "bcc"}
_SPLIT = re.compile(r"[;,]")


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class SmtpSettings:
    """Where and how messages go. No ``host``: .eml drafts are written instead. ``password`` is never stored."""

    host: str = ""
    port: int = 0                     # 0: the usual port of the security (25, 587, 465)
    security: str = "starttls"
    user: str = ""
    from_address: str = ""
    reply_to: str = ""
    bcc: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.host)

    @property
    def effective_port(self) -> int:
        return self.port or _DEFAULT_PORT[self.security]


def _address(value: str, field_name: str, *, several: bool = False) -> str:
    text = value.strip()
    if not text:
        return ""
    found = getaddresses([text])
    if not found or any("@" not in addr or " " in addr for _, addr in found) or (len(found) > 1 and not several):
        raise XlcError(field_name, f"is not an e-mail address (got {describe(value)})", value)
    return text


def smtp_settings(policy: Policy | None = None, env: Mapping[str, str] | None = None,
                  **given: Any) -> SmtpSettings:
    """The settings of a run: ``given`` (the command line; None = not given) over ``env`` (default: the
    process environment) over the policy's ``[send]`` section. The password only from ``XLCREDIT_SMTP_PASSWORD``."""
    environ = os.environ if env is None else env
    send = getattr(policy, "send", None)
    values: dict[str, tuple[Any, str]] = {}
    for name, env_name in ENV.items():
        value, label = given.get(name), _OPTION[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            value, label = environ.get(env_name, ""), env_name
        if value is None or (isinstance(value, str) and not value.strip()):
            value, label = getattr(send, _SETTING[name], ""), f"send.{_SETTING[name]}"
        values[name] = (value, label)
    port_value, port_label = values["port"]
    try:
        port = int(str(port_value).strip() or 0)
    except ValueError:
        raise XlcError(port_label, f"must be a port number (got {describe(port_value)})", port_value) from None
    if not 0 <= port <= 65535:
        raise XlcError(port_label, f"must be a port number from 1 to 65535 (got {port})", port_value)
    security, sec_label = values["security"]
    security = str(security).strip().lower() or "starttls"
    if security not in SECURITY:
        raise XlcError(sec_label, f"must be none, starttls or ssl (got {describe(security)})", security)
    return SmtpSettings(
        host=str(values["host"][0]).strip(), port=port, security=security, user=str(values["user"][0]).strip(),
        from_address=_address(str(values["from_address"][0]), values["from_address"][1]),
        reply_to=_address(str(values["reply_to"][0]), values["reply_to"][1]),
        bcc=_address(str(values["bcc"][0]), values["bcc"][1], several=True),
        password=environ.get(PASSWORD_ENV, ""))


# --------------------------------------------------------------------------- who gets what
@dataclass(frozen=True)
class Contact:
    """What sending needs to know of a customer (from the customers table)."""

    customer_id: str
    name: str = ""
    email: str = ""
    language: str = "en"
    contact: str = ""

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in _SPLIT.split(self.email) if a.strip())


def contacts_from_customers(customers: Iterable[Any]) -> dict[str, Contact]:
    """Contacts from :class:`xlcredit.core.records.Customer` records (a book's customers table)."""
    return {c.customer_id: Contact(c.customer_id, c.name, c.email, c.language or "en", c.contact) for c in customers}


def contacts_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, Contact]:
    """Contacts from stored customer rows (the service's customers, as the last refresh stored them)."""
    out = {}
    for r in rows:
        cid = str(r.get("customer_id") or "").strip()
        if cid:
            out[cid] = Contact(cid, str(r.get("name") or ""), str(r.get("email") or ""),
                               str(r.get("language") or "en"), str(r.get("contact") or ""))
    return out


@dataclass(frozen=True)
class SendResult:
    """One register entry in a send run and what happened to it.

    ``status``: sent | drafted | would send | would draft | failed | unconfirmed | not attempted | no address |
    missing file | failed earlier | superseded.
    """

    register_id: int
    customer_id: str
    name: str
    kind: str
    stage: str
    as_of: dt.date
    language: str
    recipient: str
    status: str
    message_id: str = ""
    code: int | None = None
    detail: str = ""
    file: str = ""


@dataclass(frozen=True)
class SendOutcome:
    """What a send run did: one row per entry considered, what the reconciliation did, how messages went."""

    as_of: dt.date
    channel: str                      # smtp | draft
    results: tuple[SendResult, ...]
    reconciled: tuple[str, ...]
    drafts: str = ""

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def reconcile(store: CreditStore, *, who: str = "send", now: dt.datetime | None = None) -> list[str]:
    """Settle messages an earlier run left in ``sending`` (see the module docstring); return what was done."""
    done = []
    for row in store.delivery_rows(state="sending"):
        if row["channel"] == "draft":
            path = Path(row["file_path"]) if row["file_path"] else None
            if path is not None and path.is_file():
                store.finish_delivery(row["id"], "drafted", detail="draft found whole after an interrupted run",
                                      who=who, now=now)
                done.append(f"entry {row['register_id']}: draft {path.name} found whole, recorded as drafted")
            else:
                store.finish_delivery(row["id"], "failed", detail="interrupted before the draft was written",
                                      who=who, now=now)
                done.append(f"entry {row['register_id']}: draft never written, it is due again")
        else:
            store.finish_delivery(row["id"], "unconfirmed", detail=(
                "the run stopped during the SMTP transaction: whether the server accepted the message is unknown; "
                "check the mailbox or the server's log, then send again with --retry-unconfirmed if it did not "
                "arrive"), who=who, now=now)
            done.append(f"entry {row['register_id']} ({row['message_id']}): interrupted while sending, recorded as "
                        "unconfirmed and held back")
    return done


def _inside(path: str, folder: Path) -> bool:
    try:
        return bool(path) and Path(path).resolve().is_relative_to(folder)
    except OSError:
        return False


def plan_sends(store: CreditStore, letters_dir: str | Path, as_of: dt.date, contacts: Mapping[str, Contact], *,
               retry_unconfirmed: bool = False) -> list[tuple[dict[str, Any], SendResult]]:
    """Every register entry of the letters folder with what should happen to it (``status`` "due" when it goes)."""
    folder = Path(letters_dir).resolve()
    entries = [r for r in store.register_rows() if r["kind"] in ("letter", "statement")
               and _inside(r["file_path"], folder) and r["as_of"] <= as_of]
    latest: dict[tuple[str, str], int] = {}
    for r in sorted(entries, key=lambda e: (e["as_of"], e["id"])):
        latest[(r["customer_id"], r["kind"])] = r["id"]
    deliveries: dict[int, list[dict[str, Any]]] = {}
    for d in store.delivery_rows():
        deliveries.setdefault(int(d["register_id"]), []).append(d)
    plan = []
    for r in entries:
        contact = contacts.get(r["customer_id"], Contact(r["customer_id"]))
        language = contact.language if contact.language in ("en", "zh") else "en"
        recipient = ", ".join(contact.addresses)
        base = SendResult(int(r["id"]), r["customer_id"], contact.name, r["kind"], r["stage"], r["as_of"], language,
                          recipient, "due", file=r["file_path"])
        history = deliveries.get(int(r["id"]), [])
        holding = [d for d in history if d["state"] in ("sent", "drafted", "sending")]
        unconfirmed = [d for d in history if d["state"] == "unconfirmed"]
        if holding:
            d = holding[-1]
            plan.append((r, replace(base, status=f"already {d['state']}", message_id=d["message_id"])))
            continue
        if unconfirmed and not retry_unconfirmed:
            d = unconfirmed[-1]
            plan.append((r, replace(base, status="unconfirmed", message_id=d["message_id"], detail=d["detail"])))
            continue
        if latest[(r["customer_id"], r["kind"])] != r["id"]:
            plan.append((r, replace(base, status="superseded", detail=f"a later {r['kind']} of the customer goes "
                                                                        "instead")))
            continue
        last = history[-1] if history else None
        if last is not None and last["state"] == "failed" and (last["code"] or 0) >= 500 \
                and last["recipient"] == recipient:
            plan.append((r, replace(base, status="failed earlier", code=last["code"], detail=last["detail"])))
            continue
        if not recipient:
            plan.append((r, replace(base, status="no address", detail="no e-mail address in the customers table")))
            continue
        if not Path(r["file_path"]).is_file():
            plan.append((r, replace(base, status="missing file", detail=f"{Path(r['file_path']).name} is not in "
                                                                          "the letters folder any more")))
            continue
        plan.append((r, base))
    return plan


# --------------------------------------------------------------------------- the message
@dataclass(frozen=True)
class _Entry:
    kind: str
    stage: str
    as_of: dt.date
    amount: Any
    currency: str


def _compose(entry: Mapping[str, Any], contact: Contact, language: str, policy: Policy, settings: SmtpSettings,
             templates: str | Path | None, message_id: str) -> EmailMessage:
    from xlcredit.letters.render import _environment

    user_dir = str(Path(templates).resolve()) if templates else None
    step = int(entry["step_index"] or 0)
    key = policy.dunning[step - 1].letter if 1 <= step <= len(policy.dunning) else ""
    pdf = Path(entry["file_path"])
    name = f"{language}/email.txt"
    try:
        text = _environment(user_dir).get_template(name).render(
            entry=_Entry(entry["kind"], entry["stage"], entry["as_of"], entry["amount"], entry["currency"]),
            customer=contact, company=policy.company, letter_key=key, file_name=pdf.name)
    except jinja2.TemplateError as exc:
        raise XlcError("template", f"{name}: {exc}", name) from None
    lines = text.strip().split("\n")
    subject = lines[0][2:].strip() if lines and lines[0].startswith("# ") else ""
    body = "\n".join(lines[1:] if subject else lines).strip() + "\n"
    msg = EmailMessage()
    msg["Subject"] = subject
    if settings.from_address:
        msg["From"] = settings.from_address
    msg["To"] = ", ".join(contact.addresses)
    if settings.reply_to:
        msg["Reply-To"] = settings.reply_to
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id
    msg["Content-Language"] = "zh-CN" if language == "zh" else "en"
    msg["X-Xlcredit-Register-Id"] = str(entry["id"])
    msg.set_content(body)
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    return msg


def _message_id(entry: Mapping[str, Any], settings: SmtpSettings) -> str:
    domain = settings.from_address.rpartition("@")[2].strip("> ") or "xlcredit.invalid"
    return f"<xlcredit.{entry['id']}.{secrets.token_hex(8)}@{domain}>"   # short: never folded over two lines


# --------------------------------------------------------------------------- SMTP
class _ConnectionLost(Exception):
    def __init__(self, in_doubt: bool, detail: str) -> None:
        super().__init__(detail)
        self.in_doubt = in_doubt
        self.detail = detail


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    try:
        if settings.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.effective_port, timeout=settings.timeout,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.effective_port, timeout=settings.timeout)
            if settings.security == "starttls":
                smtp.starttls(context=context)
        smtp.ehlo_or_helo_if_needed()
        if settings.user:
            if not settings.password:
                smtp.close()
                raise XlcError(PASSWORD_ENV, f"is not set: the SMTP user {settings.user} needs a password", None)
            smtp.login(settings.user, settings.password)
    except (OSError, smtplib.SMTPException) as exc:
        raise XlcError("smtp", f"cannot connect to {settings.host}:{settings.effective_port} "
                               f"({settings.security}): {_words(exc)}", settings.host) from None
    return smtp


def _words(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    return str(exc) or type(exc).__name__


def _reply(code: int, text: bytes) -> str:
    return f"{code} {text.decode('utf-8', 'replace')}".strip()


def _transaction(smtp: smtplib.SMTP, sender: str, recipients: Sequence[str], data: bytes) -> tuple[int, str]:
    """MAIL, RCPT, DATA; (250, answer) when the server took the message, else (code, answer) of the refusal.

    Raises :class:`_ConnectionLost` when the connection fails; ``in_doubt`` when that happened after the end of
    the data had been sent (the server may have taken the message)."""
    in_doubt = False
    try:
        code, text = smtp.mail(sender)
        if code != 250:
            smtp.rset()
            return code, _reply(code, text)
        for rcpt in recipients:
            code, text = smtp.rcpt(rcpt)
            if code not in (250, 251):
                smtp.rset()
                return code, f"{rcpt}: {_reply(code, text)}"
        smtp.putcmd("data")
        code, text = smtp.getreply()
        if code != 354:
            smtp.rset()
            return code, _reply(code, text)
        quoted = re.sub(rb"(?m)^\.", b"..", data)
        if not quoted.endswith(b"\r\n"):
            quoted += b"\r\n"
        in_doubt = True
        smtp.send(quoted + b".\r\n")
        code, text = smtp.getreply()
        return code, _reply(code, text)
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        raise _ConnectionLost(in_doubt, _words(exc)) from None
    except smtplib.SMTPResponseException as exc:   # a 421 "closing" from the server
        if exc.smtp_code == 421:
            raise _ConnectionLost(in_doubt, _words(exc)) from None
        return exc.smtp_code, _words(exc)


# --------------------------------------------------------------------------- the run
def run_send(store: CreditStore, letters_dir: str | Path, as_of: dt.date, contacts: Mapping[str, Contact],
             policy: Policy, settings: SmtpSettings, *, drafts: str | Path | None = None, dry_run: bool = False,
             retry_unconfirmed: bool = False, templates: str | Path | None = None, who: str = "send",
             now: dt.datetime | None = None, progress: Callable[[str], None] | None = None) -> SendOutcome:
    """Send (or draft) every due letter and statement of ``letters_dir`` by the protocol of the module docstring.

    ``drafts``: write .eml drafts into this folder even when SMTP is configured; without SMTP they go to
    ``drafts`` or ``<letters_dir>/drafts``.
    """
    say = progress or (lambda _m: None)
    folder = Path(letters_dir)
    if not folder.is_dir():
        raise XlcError("letters", f"folder not found: {folder}", str(folder))
    use_smtp = settings.configured and drafts is None
    drafts_dir = None if use_smtp else Path(drafts) if drafts is not None else folder / "drafts"
    if use_smtp and not settings.from_address:
        raise XlcError("from", f"is not set: give --from, set {ENV['from_address']} or send.from_address on the "
                               "Policy sheet", None)
    reconciled = [] if dry_run else reconcile(store, who=who, now=now)
    plan = plan_sends(store, folder, as_of, contacts, retry_unconfirmed=retry_unconfirmed)
    due = [(entry, result) for entry, result in plan if result.status == "due"]
    results: dict[int, SendResult] = {result.register_id: result for _, result in plan}
    channel = "smtp" if use_smtp else "draft"
    if dry_run:
        for _, result in due:
            results[result.register_id] = replace(result, status="would send" if use_smtp else "would draft")
        return SendOutcome(as_of, channel, tuple(results.values()), (), str(drafts_dir or ""))
    smtp: smtplib.SMTP | None = None
    if due and use_smtp:
        say(f"connecting to {settings.host}:{settings.effective_port}")
        smtp = _connect(settings)
    if drafts_dir is not None and due:
        drafts_dir.mkdir(parents=True, exist_ok=True)
    lost = ""
    try:
        for n, (entry, result) in enumerate(due, start=1):
            rid = result.register_id
            if lost:
                results[rid] = replace(result, status="not attempted", detail=f"connection lost earlier: {lost}")
                continue
            say(f"message {n}/{len(due)} {result.customer_id} {result.stage}")
            contact = contacts[result.customer_id]
            message_id = _message_id(entry, settings)
            try:
                msg = _compose(entry, contact, result.language, policy, settings, templates, message_id)
            except (XlcError, OSError) as exc:
                results[rid] = replace(result, status="failed", detail=str(exc))
                continue
            data = msg.as_bytes(policy=SMTP_POLICY)
            if smtp is None:
                assert drafts_dir is not None
                path = drafts_dir / f"{Path(entry['file_path']).stem}.eml"
                try:
                    did = store.begin_delivery(rid, result.customer_id, channel="draft", recipient=result.recipient,
                                               message_id=message_id, file_path=str(path.resolve()), who=who, now=now)
                except AlreadySent:
                    results[rid] = replace(result, status="already sent", detail="another run took it")
                    continue
                write_atomic(path, data)
                store.finish_delivery(did, "drafted", detail=path.name, who=who, now=now)
                results[rid] = replace(result, status="drafted", message_id=message_id, file=str(path))
                continue
            recipients = [*contact.addresses, *(a for _, a in getaddresses([settings.bcc]) if a)]
            sender = getaddresses([settings.from_address])[0][1]
            try:
                did = store.begin_delivery(rid, result.customer_id, channel="smtp", recipient=result.recipient,
                                           message_id=message_id, retry_unconfirmed=retry_unconfirmed, who=who,
                                           now=now)
            except AlreadySent:
                results[rid] = replace(result, status="already sent", detail="another run took it")
                continue
            try:
                code, answer = _transaction(smtp, sender, recipients, data)
            except _ConnectionLost as exc:
                lost = exc.detail
                state = "unconfirmed" if exc.in_doubt else "failed"
                detail = (f"connection lost after the message was sent, before the server answered ({exc.detail}): "
                          "it may have arrived; held back" if exc.in_doubt
                          else f"connection lost before the message was sent ({exc.detail}): due again")
                store.finish_delivery(did, state, detail=detail, who=who, now=now)
                results[rid] = replace(result, status=state, message_id=message_id, detail=detail)
                continue
            if code == 250:
                store.finish_delivery(did, "sent", code=code, detail=answer, who=who, now=now)
                results[rid] = replace(result, status="sent", message_id=message_id, code=code, detail=answer)
            else:
                store.finish_delivery(did, "failed", code=code, detail=answer, who=who, now=now)
                results[rid] = replace(result, status="failed", message_id=message_id, code=code, detail=answer)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return SendOutcome(as_of, channel, tuple(results.values()), tuple(reconciled), str(drafts_dir or ""))
