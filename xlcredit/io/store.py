"""The credit database ("store"): one place for the engine's results, the policy, the collection
register, reviews, API keys and the audit trail.

Who uses it: the Excel formulas (``=CREDIT_LIMIT(A2)`` reads :meth:`CreditStore.result` in-process),
the refresh job (:meth:`CreditStore.replace_snapshot`), the letters run (:meth:`CreditStore.record_issue`
so the same dunning stage is never sent twice for the same overdue items), the quarterly review
(:meth:`CreditStore.record_review`) and the team's HTTP service (everything, with API keys).

Where it lives: a SQLite file beside the workbook by default (``CreditControl.xlsm`` →
``CreditControl.credit.db``, see :func:`store_path_for_workbook`), or any SQLAlchemy URL —
``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user:pass@host/db`` (a plain
``postgresql://`` URL is read as psycopg 3).

How it is kept safe:

* **Schema versions**: the ``schema_version`` table records each migration applied; on open, the
  missing migrations of :data:`MIGRATIONS` run in order, each in its own transaction. A migration
  only adds (tables, columns, indexes, backfilled values) — an upgrade never drops data. A database
  written by a newer xlcredit is refused rather than damaged.
* **One writer at a time**: every change runs in one transaction that first takes the database's
  write lock (SQLite ``BEGIN IMMEDIATE``, WAL journal and a busy timeout; PostgreSQL a transaction-level
  advisory lock), so concurrent refreshes, letters and policy edits queue instead of interleaving.
* **Refresh is atomic**: :meth:`CreditStore.replace_snapshot` swaps all customers and results in one
  transaction; a reader sees the old snapshot or the new one, never half of each.
* **Money is exact**: amounts are ``NUMERIC`` on PostgreSQL and exact decimal text on SQLite (SQLite's
  own NUMERIC would turn them into binary floats); floats are refused.
* **Every change is audited**: who, what, before, after, when — written in the same transaction as the
  change itself.

Fast reads for formulas: a workbook recalculation calls :meth:`CreditStore.result` thousands of
times. The store keeps the whole results table in memory, keyed by the database's **refresh stamp**
(a counter bumped by every change to the results). The stamp is checked at most every
``stamp_ttl`` seconds (1 s by default; 0 = on every call, as the HTTP service does), so a refresh
made by another process shows up within that time and a refresh made through the same store object
shows up at once. See ``bench/bench_store.py`` for the calls per second.

The store is an adapter: it may read the clock (timestamps default to now, UTC) — pass ``now=`` to
fix them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import numbers
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.types import TypeDecorator

from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.limits import available_credit
from xlcredit.core.policy import Policy

__all__ = [
    "CUSTOMER_FIELDS", "DB_SUFFIX", "DELIVERY_STATES", "IDEMPOTENCY", "IDEMPOTENCY_KEEP", "MIGRATIONS",
    "RESULT_FIELDS", "ROLES", "SCHEMA_VERSION", "AlreadyIssued", "AlreadySent", "CreditStore", "ExactDecimal",
    "IdempotencySlot", "Migration", "RequestAlreadyDone", "items_key", "open_store", "resolve_store_url", "role_allows",
    "store_path_for_workbook", "to_json_data", "workbook_store",
]

DB_SUFFIX = ".credit.db"
ROLES: tuple[str, ...] = ("read", "controller", "admin")   # each role may do everything the ones before it may
ISSUE_KINDS: tuple[str, ...] = ("letter", "action", "statement")
#: What a message (row of ``deliveries``) can be: ``sending`` is written before the SMTP transaction, the others after.
DELIVERY_STATES: tuple[str, ...] = ("sending", "sent", "drafted", "failed", "unconfirmed")
#: States that hold a register entry back from being sent again.
DELIVERY_HOLDING: tuple[str, ...] = ("sending", "sent", "drafted", "unconfirmed")
DELIVERY_CHANNELS: tuple[str, ...] = ("smtp", "draft")
KEY_PREFIX = "xlc_"
_PG_WRITE_LOCK = 7_246_913_001          # pg_advisory_xact_lock key: "the xlcredit write lock"
#: How long the HTTP service keeps the first answer to an ``Idempotency-Key`` (docs/service.md).
IDEMPOTENCY_KEEP = dt.timedelta(hours=24)
#: SQLite ``synchronous`` setting: FULL (default: a commit survives a power cut), or NORMAL/EXTRA by
#: ``$XLCREDIT_SQLITE_SYNCHRONOUS`` (NORMAL survives a process kill, not a power cut; faster writes).
_SYNCHRONOUS_ENV = "XLCREDIT_SQLITE_SYNCHRONOUS"
_WORKBOOK_SUFFIXES = (".xlsm", ".xlsx", ".xlsb", ".xls")

# Columns of credit_results the refresh job may fill (customer_id is required; the rest may be None).
# ``binding_rule`` is the machine code of the cap that sets the limit, ``limit_reason`` the same in words;
# ``bank_guarantee`` is the guarantee held, which the order check (ORDER_CHECK) needs for grade D.
RESULT_FIELDS: tuple[str, ...] = (
    "customer_id", "as_of", "score", "grade", "credit_limit", "binding_rule", "open_receivables", "exposure",
    "available", "terms", "deposit_share", "dunning_stage", "days_past_due", "overdue_amount", "explain",
    "limit_reason", "bank_guarantee",
)
_RESULT_MONEY = ("credit_limit", "open_receivables", "exposure", "available", "deposit_share", "overdue_amount",
                 "bank_guarantee")
_RESULT_INTS = ("score", "days_past_due")
_RESULT_TEXT = ("grade", "binding_rule", "terms", "dunning_stage", "limit_reason")
# Columns of customers kept as their own columns (everything else of the input row goes into ``data``).
CUSTOMER_FIELDS: tuple[str, ...] = ("customer_id", "name", "country", "currency", "language")


# =========================================================================== column types
class ExactDecimal(TypeDecorator):
    """Exact decimal money: ``NUMERIC`` on PostgreSQL, decimal text on SQLite; Decimal in, Decimal out.

    SQLite's NUMERIC affinity would store ``0.1`` as a binary float, so there the value is kept as its
    exact text (``format(d, "f")``). Floats are refused: a float reaching money is a bug.
    """

    impl = sa.String
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(asdecimal=True))
        return dialect.type_descriptor(sa.String())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        number = _exact(value, "amount")
        text = format(number, "f")
        return Decimal(text) if dialect.name == "postgresql" else text

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


class UtcTimestamp(TypeDecorator):
    """A moment in time, always returned as an aware UTC ``datetime`` (``timestamptz`` on PostgreSQL)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise XlcError("timestamp", f"must be a datetime (got {describe(value)})", value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLAlchemy parses SQLite's text already
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _exact(value: Any, field: str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise XlcError(field, f"must be an exact Decimal, not a {type(value).__name__} (got {value!r}); "
                       "money is never stored as a float", value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise XlcError(field, f"is not a number (got {describe(value)})", value) from None
    else:
        raise XlcError(field, f"is not a number (got {describe(value)})", value)
    if not number.is_finite():
        raise XlcError(field, f"is not a finite number (got {describe(value)})", value)
    return number


# =========================================================================== the current schema
# These Table objects describe the schema as the latest migration leaves it; they are used for
# queries only. The migrations below create and alter the tables (and a test checks the two agree).
metadata = sa.MetaData()

schema_version_table = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_at", UtcTimestamp, nullable=False),
)
customers_table = sa.Table(
    "customers", metadata,
    sa.Column("customer_id", sa.String, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("country", sa.String, nullable=False, server_default=""),
    sa.Column("currency", sa.String, nullable=False, server_default=""),
    sa.Column("language", sa.String, nullable=False, server_default=""),
    sa.Column("data", sa.JSON, nullable=False),
)
credit_results_table = sa.Table(
    "credit_results", metadata,
    sa.Column("customer_id", sa.String, primary_key=True),
    sa.Column("as_of", sa.Date),
    sa.Column("score", sa.Integer),
    sa.Column("grade", sa.String),
    sa.Column("credit_limit", ExactDecimal),
    sa.Column("binding_rule", sa.Text),
    sa.Column("open_receivables", ExactDecimal),
    sa.Column("exposure", ExactDecimal),
    sa.Column("available", ExactDecimal),
    sa.Column("terms", sa.String),
    sa.Column("deposit_share", ExactDecimal),
    sa.Column("dunning_stage", sa.String),
    sa.Column("days_past_due", sa.Integer),
    sa.Column("overdue_amount", ExactDecimal),
    sa.Column("explain", sa.JSON),
    sa.Column("refreshed_at", UtcTimestamp),
    sa.Column("recommended_limit", ExactDecimal),          # v2
    sa.Column("limit_reason", sa.Text),                    # v3
    sa.Column("bank_guarantee", ExactDecimal),             # v3
)
last_refresh_table = sa.Table(
    "last_refresh", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("stamp", sa.BigInteger, nullable=False),
    sa.Column("as_of", sa.Date),
    sa.Column("refreshed_at", UtcTimestamp),
    sa.Column("refreshed_by", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("customer_count", sa.Integer, nullable=False, server_default="0"),
)
policy_table = sa.Table(
    "policy", metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
register_table = sa.Table(
    "register", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.String, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("step_index", sa.Integer, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("amount", ExactDecimal),
    sa.Column("currency", sa.String, nullable=False, server_default=""),
    sa.Column("items_key", sa.String, nullable=False),
    sa.Column("resend", sa.Integer, nullable=False, server_default="0"),
    sa.Column("file_path", sa.Text, nullable=False, server_default=""),
    sa.Column("content_hash", sa.String, nullable=False, server_default=""),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False, server_default=""),
    sa.Column("payment_reference", sa.String, nullable=False, server_default=""),   # v7
    sa.Column("invoice_nos", sa.JSON),                                             # v7
)
audit_table = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
    sa.Column("at", UtcTimestamp, nullable=False),
)
api_keys_table = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("key_prefix", sa.String, nullable=False),
    sa.Column("key_hash", sa.String, nullable=False, unique=True),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False, server_default=""),
    sa.Column("revoked_at", UtcTimestamp),
)
reviews_table = sa.Table(
    "reviews", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.String, nullable=False),
    sa.Column("review_date", sa.Date, nullable=False),
    sa.Column("grade", sa.String),
    sa.Column("score", sa.Integer),
    sa.Column("credit_limit", ExactDecimal),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False, server_default=""),
)
limit_overrides_table = sa.Table(                                 # v2
    "limit_overrides", metadata,
    sa.Column("customer_id", sa.String, primary_key=True),
    sa.Column("credit_limit", ExactDecimal, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("set_by", sa.Text, nullable=False),
    sa.Column("set_at", UtcTimestamp, nullable=False),
)
deliveries_table = sa.Table(                                      # v4
    "deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("register_id", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.String, nullable=False),
    sa.Column("channel", sa.String, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False, server_default=""),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("state", sa.String, nullable=False),
    sa.Column("code", sa.Integer),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("file_path", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False, server_default=""),
)
sa.Index("ux_register_issue", register_table.c.customer_id, register_table.c.step_index, register_table.c.items_key,
         register_table.c.resend, unique=True)
sa.Index("ix_register_customer", register_table.c.customer_id)
sa.Index("ix_register_reference", register_table.c.payment_reference)                    # v7
sa.Index("ix_audit_entity", audit_table.c.entity)
sa.Index("ix_reviews_customer", reviews_table.c.customer_id, reviews_table.c.review_date)
sa.Index("ix_deliveries_register", deliveries_table.c.register_id)
sa.Index("ux_deliveries_message", deliveries_table.c.message_id, unique=True)


def _collector_tables(md: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table, sa.Table]:
    """The collector's tables as migration 5 creates them (promises, disputes, payment plans, contacts).

    Frozen like the other migrations: a later change to these tables is a new migration, never an edit here.
    """
    text = {"nullable": False, "server_default": ""}
    promises = sa.Table(
        "promises", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String, nullable=False),
        sa.Column("promised_date", sa.Date, nullable=False), sa.Column("taken_on", sa.Date, nullable=False),
        sa.Column("amount", ExactDecimal), sa.Column("currency", sa.String, **text),
        sa.Column("invoice_nos", sa.Text, **text), sa.Column("taken_by", sa.Text, **text),
        sa.Column("channel", sa.String, **text), sa.Column("note", sa.Text, **text),
        sa.Column("created_at", UtcTimestamp, nullable=False), sa.Column("created_by", sa.Text, **text))
    disputes = sa.Table(
        "disputes", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String, nullable=False), sa.Column("invoice_no", sa.String, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False), sa.Column("reason", sa.String, **text),
        sa.Column("amount", ExactDecimal), sa.Column("owner", sa.Text, **text), sa.Column("note", sa.Text, **text),
        sa.Column("resolved_on", sa.Date), sa.Column("resolution", sa.String, **text),
        sa.Column("outcome", sa.Text, **text), sa.Column("credited", ExactDecimal),
        sa.Column("created_at", UtcTimestamp, nullable=False), sa.Column("created_by", sa.Text, **text),
        sa.Column("resolved_at", UtcTimestamp), sa.Column("resolved_by", sa.Text, **text))
    plans = sa.Table(
        "plans", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String, nullable=False), sa.Column("agreed_on", sa.Date, nullable=False),
        sa.Column("currency", sa.String, nullable=False), sa.Column("invoice_nos", sa.Text, **text),
        sa.Column("annual_rate", ExactDecimal), sa.Column("owner", sa.Text, **text),
        sa.Column("note", sa.Text, **text), sa.Column("instalments", sa.JSON, nullable=False),
        sa.Column("created_at", UtcTimestamp, nullable=False), sa.Column("created_by", sa.Text, **text))
    contacts = sa.Table(
        "contacts", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String, nullable=False), sa.Column("contact_date", sa.Date, nullable=False),
        sa.Column("channel", sa.String, **text), sa.Column("outcome", sa.String, **text),
        sa.Column("who", sa.Text, **text), sa.Column("note", sa.Text, **text),
        sa.Column("created_at", UtcTimestamp, nullable=False), sa.Column("created_by", sa.Text, **text))
    for table in (promises, disputes, plans, contacts):
        sa.Index(f"ix_{table.name}_customer", table.c.customer_id)
    return promises, disputes, plans, contacts


promises_table, disputes_table, plans_table, contacts_table = _collector_tables(metadata)   # v5
idempotency_table = sa.Table(                                      # v6
    "idempotency_keys", metadata,
    sa.Column("owner", sa.String, primary_key=True),
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("fingerprint", sa.String, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("answer", sa.LargeBinary),
    sa.Column("headers", sa.JSON),
    sa.Column("created_at", UtcTimestamp, nullable=False),
)
sa.Index("ix_idempotency_created", idempotency_table.c.created_at)


# =========================================================================== migrations
@dataclass(frozen=True)
class Migration:
    """One schema step: ``apply(conn)`` runs inside the step's own transaction; it only ever adds."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1(conn: Connection) -> None:
    """The credit database as first released (the table definitions are frozen here on purpose)."""
    md = sa.MetaData()
    sa.Table("customers", md,
             sa.Column("customer_id", sa.String, primary_key=True),
             sa.Column("name", sa.Text, nullable=False, server_default=""),
             sa.Column("country", sa.String, nullable=False, server_default=""),
             sa.Column("currency", sa.String, nullable=False, server_default=""),
             sa.Column("language", sa.String, nullable=False, server_default=""),
             sa.Column("data", sa.JSON, nullable=False))
    sa.Table("credit_results", md,
             sa.Column("customer_id", sa.String, primary_key=True),
             sa.Column("as_of", sa.Date), sa.Column("score", sa.Integer), sa.Column("grade", sa.String),
             sa.Column("credit_limit", ExactDecimal), sa.Column("binding_rule", sa.Text),
             sa.Column("open_receivables", ExactDecimal), sa.Column("exposure", ExactDecimal),
             sa.Column("available", ExactDecimal), sa.Column("terms", sa.String),
             sa.Column("deposit_share", ExactDecimal), sa.Column("dunning_stage", sa.String),
             sa.Column("days_past_due", sa.Integer), sa.Column("overdue_amount", ExactDecimal),
             sa.Column("explain", sa.JSON), sa.Column("refreshed_at", UtcTimestamp))
    sa.Table("last_refresh", md,
             sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("stamp", sa.BigInteger, nullable=False), sa.Column("as_of", sa.Date),
             sa.Column("refreshed_at", UtcTimestamp),
             sa.Column("refreshed_by", sa.Text, nullable=False, server_default=""),
             sa.Column("source", sa.Text, nullable=False, server_default=""),
             sa.Column("customer_count", sa.Integer, nullable=False, server_default="0"))
    sa.Table("policy", md,
             sa.Column("key", sa.String, primary_key=True), sa.Column("value", sa.Text, nullable=False))
    reg = sa.Table("register", md,
                   sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                   sa.Column("customer_id", sa.String, nullable=False), sa.Column("stage", sa.Text, nullable=False),
                   sa.Column("step_index", sa.Integer, nullable=False), sa.Column("kind", sa.String, nullable=False),
                   sa.Column("as_of", sa.Date, nullable=False), sa.Column("amount", ExactDecimal),
                   sa.Column("currency", sa.String, nullable=False, server_default=""),
                   sa.Column("items_key", sa.String, nullable=False),
                   sa.Column("resend", sa.Integer, nullable=False, server_default="0"),
                   sa.Column("file_path", sa.Text, nullable=False, server_default=""),
                   sa.Column("content_hash", sa.String, nullable=False, server_default=""),
                   sa.Column("created_at", UtcTimestamp, nullable=False),
                   sa.Column("created_by", sa.Text, nullable=False, server_default=""))
    sa.Index("ux_register_issue", reg.c.customer_id, reg.c.step_index, reg.c.items_key, reg.c.resend, unique=True)
    sa.Index("ix_register_customer", reg.c.customer_id)
    aud = sa.Table("audit", md,
                   sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                   sa.Column("who", sa.Text, nullable=False), sa.Column("action", sa.String, nullable=False),
                   sa.Column("entity", sa.Text, nullable=False), sa.Column("before", sa.JSON),
                   sa.Column("after", sa.JSON), sa.Column("at", UtcTimestamp, nullable=False))
    sa.Index("ix_audit_entity", aud.c.entity)
    sa.Table("api_keys", md,
             sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("name", sa.Text, nullable=False), sa.Column("key_prefix", sa.String, nullable=False),
             sa.Column("key_hash", sa.String, nullable=False, unique=True),
             sa.Column("role", sa.String, nullable=False), sa.Column("created_at", UtcTimestamp, nullable=False),
             sa.Column("created_by", sa.Text, nullable=False, server_default=""),
             sa.Column("revoked_at", UtcTimestamp))
    rev = sa.Table("reviews", md,
                   sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                   sa.Column("customer_id", sa.String, nullable=False),
                   sa.Column("review_date", sa.Date, nullable=False), sa.Column("grade", sa.String),
                   sa.Column("score", sa.Integer), sa.Column("credit_limit", ExactDecimal),
                   sa.Column("notes", sa.Text, nullable=False, server_default=""),
                   sa.Column("created_at", UtcTimestamp, nullable=False),
                   sa.Column("created_by", sa.Text, nullable=False, server_default=""))
    sa.Index("ix_reviews_customer", rev.c.customer_id, rev.c.review_date)
    md.create_all(conn)
    conn.execute(sa.text("INSERT INTO last_refresh (id, stamp, refreshed_by, source, customer_count) "
                         "VALUES (1, 0, '', '', 0)"))


def _v2(conn: Connection) -> None:
    """Manual limit overrides by a credit controller, kept across refreshes; the engine's figure stays visible."""
    md = sa.MetaData()
    sa.Table("limit_overrides", md,
             sa.Column("customer_id", sa.String, primary_key=True),
             sa.Column("credit_limit", ExactDecimal, nullable=False),
             sa.Column("reason", sa.Text, nullable=False), sa.Column("set_by", sa.Text, nullable=False),
             sa.Column("set_at", UtcTimestamp, nullable=False))
    md.create_all(conn)
    kind = "NUMERIC" if conn.dialect.name == "postgresql" else "VARCHAR"
    conn.execute(sa.text(f"ALTER TABLE credit_results ADD COLUMN recommended_limit {kind}"))
    conn.execute(sa.text("UPDATE credit_results SET recommended_limit = credit_limit"))


def _v3(conn: Connection) -> None:
    """The limit's reason in words and the bank guarantee held, beside each credit result.

    ``bank_guarantee`` is filled from the customer rows the last refresh stored (their ``data`` JSON), so
    ORDER_CHECK on an upgraded database knows a grade D customer's guarantee before the next refresh;
    ``limit_reason`` stays blank until then (the words need the refresh's figures).
    """
    kind = "NUMERIC" if conn.dialect.name == "postgresql" else "VARCHAR"
    conn.execute(sa.text("ALTER TABLE credit_results ADD COLUMN limit_reason TEXT"))
    conn.execute(sa.text(f"ALTER TABLE credit_results ADD COLUMN bank_guarantee {kind}"))
    md = sa.MetaData()
    customers = sa.Table("customers", md, sa.Column("customer_id", sa.String), sa.Column("data", sa.JSON))
    results = sa.Table("credit_results", md, sa.Column("customer_id", sa.String),
                       sa.Column("bank_guarantee", ExactDecimal))
    for cid, data in conn.execute(sa.select(customers.c.customer_id, customers.c.data)):
        raw = data.get("bank_guarantee") if isinstance(data, dict) else None
        try:
            amount = None if raw in (None, "") else _exact(raw if not isinstance(raw, float) else repr(raw),
                                                           "bank_guarantee")
        except XlcError:
            amount = None   # unreadable: left blank (no guarantee) until the next refresh stores it
        conn.execute(results.update().where(results.c.customer_id == cid).values(
            bank_guarantee=amount if amount is not None else Decimal(0)))


def _v4(conn: Connection) -> None:
    """Sending letters and statements by e-mail: one row per message, its Message-ID and state (xlcredit.jobs.send)."""
    md = sa.MetaData()
    table = sa.Table("deliveries", md,
                     sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                     sa.Column("register_id", sa.Integer, nullable=False),
                     sa.Column("customer_id", sa.String, nullable=False),
                     sa.Column("channel", sa.String, nullable=False),
                     sa.Column("recipient", sa.Text, nullable=False, server_default=""),
                     sa.Column("message_id", sa.Text, nullable=False),
                     sa.Column("state", sa.String, nullable=False), sa.Column("code", sa.Integer),
                     sa.Column("detail", sa.Text, nullable=False, server_default=""),
                     sa.Column("file_path", sa.Text, nullable=False, server_default=""),
                     sa.Column("created_at", UtcTimestamp, nullable=False),
                     sa.Column("updated_at", UtcTimestamp, nullable=False),
                     sa.Column("created_by", sa.Text, nullable=False, server_default=""))
    sa.Index("ix_deliveries_register", table.c.register_id)
    sa.Index("ux_deliveries_message", table.c.message_id, unique=True)
    md.create_all(conn)


def _v5(conn: Connection) -> None:
    """Promises to pay, disputes, payment plans and the append-only contact log (xlcredit.io.collector)."""
    md = sa.MetaData()
    _collector_tables(md)
    md.create_all(conn)


def _v6(conn: Connection) -> None:
    """Idempotency keys of the HTTP service: a retried request with the same key is answered, not repeated."""
    md = sa.MetaData()
    table = sa.Table("idempotency_keys", md,
                     sa.Column("owner", sa.String, primary_key=True), sa.Column("key", sa.String, primary_key=True),
                     sa.Column("fingerprint", sa.String, nullable=False), sa.Column("status", sa.Integer),
                     sa.Column("answer", sa.LargeBinary), sa.Column("headers", sa.JSON),
                     sa.Column("created_at", UtcTimestamp, nullable=False))
    sa.Index("ix_idempotency_created", table.c.created_at)
    md.create_all(conn)


def _v7(conn: Connection) -> None:
    """A letter's own payment reference (ISO 11649 RF) and the invoice numbers it covers, so a payment quoting the
    reference is matched to exactly those invoices (xlcredit.core.cashapp). Older entries keep both blank."""
    conn.execute(sa.text("ALTER TABLE register ADD COLUMN payment_reference VARCHAR NOT NULL DEFAULT ''"))
    conn.execute(sa.text("ALTER TABLE register ADD COLUMN invoice_nos JSON"))
    conn.execute(sa.text("CREATE INDEX ix_register_reference ON register (payment_reference)"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "credit database: customers, credit results, policy, collection register, audit, API keys, "
                 "reviews", _v1),
    Migration(2, "manual limit overrides (limit_overrides table, credit_results.recommended_limit)", _v2),
    Migration(3, "the limit's reason in words and the bank guarantee held (credit_results.limit_reason, "
                 "credit_results.bank_guarantee)", _v3),
    Migration(4, "sending by e-mail: the deliveries table (one row per message: register entry, Message-ID, state)",
              _v4),
    Migration(5, "the collector's records: promises to pay, disputes, payment plans, the contact log", _v5),
    Migration(6, "idempotency keys of the HTTP service (idempotency_keys: the first answer to each key, 24 h)", _v6),
    Migration(7, "a letter's own payment reference and its invoice numbers in the register (register."
                 "payment_reference, register.invoice_nos)", _v7),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


# =========================================================================== helpers
def role_allows(role: str | None, needed: str) -> bool:
    """True when ``role`` may do what ``needed`` may (read < controller < admin)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def items_key(invoice_nos: Iterable[Any]) -> str:
    """The register key of a set of overdue items: SHA-256 of their sorted, de-duplicated invoice numbers.

    The same stage for the same items gives the same key, so re-running the letters never issues it
    twice; a new overdue invoice changes the key (it has not been dunned yet).
    """
    numbers = sorted({str(n).strip() for n in invoice_nos if str(n).strip()})
    if not numbers:
        raise XlcError("items", "no invoice numbers given for the register entry", None)
    return hashlib.sha256("\n".join(numbers).encode("utf-8")).hexdigest()


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_json_data(value: Any) -> Any:
    """Plain JSON data: Decimal → exact text, dates → ISO, dataclasses/tuples → dicts/lists."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json_data(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        return to_json_data(value.item())
    return str(value)


def _json_dumps(value: Any) -> str:
    return json.dumps(to_json_data(value), ensure_ascii=False, separators=(",", ":"))


def _as_date(value: Any, field: str) -> dt.date:
    return to_date(value, field)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _customer_key(value: Any, field: str = "customer_id") -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = _text(value)
    if not key:
        raise XlcError(field, "is empty", value)
    return key


def _policy_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def store_path_for_workbook(workbook: str | Path) -> Path:
    """The default credit database of a workbook: ``CreditControl.xlsm`` → ``CreditControl.credit.db`` beside it."""
    p = Path(workbook)
    return p.with_name(p.stem + DB_SUFFIX)


def workbook_store(workbook: str | Path, configured: Any = None) -> str:
    """A workbook's credit database: its xlwings.conf ``XLCREDIT_DB`` setting (a URL, an absolute path, or
    a path relative to the workbook's folder), else the ``.credit.db`` file beside the workbook."""
    text = str(configured).strip() if configured is not None else ""
    if not text:
        return str(store_path_for_workbook(workbook))
    if "://" in text or Path(text).is_absolute():
        return text
    return str(Path(workbook).parent / text)


def resolve_store_url(path_or_url: str | Path | None = None) -> str:
    """A SQLAlchemy URL from a URL, a database file, a workbook (→ the file beside it) or ``$XLCREDIT_DB``.

    ``postgresql://`` URLs are read with the psycopg 3 driver. Raises :class:`XlcError` when nothing
    is given, the folder of a database file does not exist, or the URL is not SQLite/PostgreSQL.
    """
    if path_or_url is None or not str(path_or_url).strip():
        path_or_url = os.environ.get("XLCREDIT_DB", "")
        if not path_or_url.strip():
            raise XlcError("db", "is not set: give a database file or URL (or set XLCREDIT_DB)", None)
    text = str(path_or_url).strip()
    if "://" not in text:
        p = Path(text).expanduser()
        if p.suffix.lower() in _WORKBOOK_SUFFIXES:
            p = store_path_for_workbook(p)
        p = p.resolve()
        if not p.parent.is_dir():
            raise XlcError("db", f"folder does not exist: {p.parent}", text)
        return f"sqlite:///{p}"
    try:
        url = make_url(text)
    except ArgumentError:
        raise XlcError("db", f"is not a database URL (got {describe(text)})", text) from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    if backend == "sqlite":
        return text
    raise XlcError("db", f"must be a sqlite:/// or postgresql+psycopg:// URL (got {url.drivername})", text)


class AlreadyIssued(XlcError):
    """The register already holds this dunning stage for the same overdue items (send it with resend=True)."""


class AlreadySent(XlcError):
    """A register entry already has a message that was sent, drafted, is being sent or may have been sent."""


class RequestAlreadyDone(Exception):
    """Another request with the same idempotency key has already changed the database (nothing was written)."""


@dataclass
class IdempotencySlot:
    """The idempotency key of the HTTP request being served (set by the service around the request).

    The first write transaction of the request records the key in the same transaction as its change
    (``claimed``), so a change and its key commit together or not at all: a retry after a crash finds
    the key and does not change anything a second time.
    """

    owner: str
    key: str
    fingerprint: str
    claimed: bool = False
    duplicate: bool = False


#: The idempotency key of the request in progress (None outside the HTTP service, or without the header).
IDEMPOTENCY: ContextVar[IdempotencySlot | None] = ContextVar("xlcredit_idempotency", default=None)


def _sqlite_synchronous() -> str:
    value = os.environ.get(_SYNCHRONOUS_ENV, "").strip().upper() or "FULL"
    if value not in ("FULL", "NORMAL", "EXTRA"):
        raise XlcError(_SYNCHRONOUS_ENV, f"must be FULL, NORMAL or EXTRA (got {describe(value)})", value)
    return value


# The statements of the service's per-request reads, built once: building a select and its cache key cost
# more than running it — a customer lookup and its API-key check took about twice as long (issue 23).
_API_KEY_IDENTITY = sa.select(api_keys_table.c.id, api_keys_table.c.name, api_keys_table.c.role).where(
    api_keys_table.c.key_hash == sa.bindparam("key_hash"), api_keys_table.c.revoked_at.is_(None))
_CUSTOMER_RESULT = sa.select(credit_results_table).where(
    credit_results_table.c.customer_id == sa.bindparam("customer_id"))
_CUSTOMER_DATA = sa.select(customers_table.c.data).where(customers_table.c.customer_id == sa.bindparam("customer_id"))


# =========================================================================== the store
@dataclass
class _Snapshot:
    stamp: int
    rows: dict[str, dict[str, Any]]
    order: tuple[str, ...]
    info: dict[str, Any]


class CreditStore:
    """The credit database behind one SQLAlchemy URL (see the module docstring).

    ``stamp_ttl``: seconds between checks of the refresh stamp for in-memory reads (0 = every call).
    ``busy_timeout``: seconds a SQLite writer waits for another writer before giving up.
    ``migrate``: apply missing migrations on open (``upto`` stops at a version — for tests of upgrades).
    ``pool_size``: connections kept open (the HTTP service uses more for its worker threads).
    """

    def __init__(self, url: str | Path, *, stamp_ttl: float = 1.0, busy_timeout: float = 30.0,
                 migrate: bool = True, upto: int | None = None, pool_size: int = 5) -> None:
        self.url = resolve_store_url(url)
        self.stamp_ttl = float(stamp_ttl)
        self.engine = _make_engine(self.url, busy_timeout, pool_size)
        self.dialect = self.engine.dialect.name
        self._snapshot: _Snapshot | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        if migrate:
            self.migrate(upto)
        else:
            self._check_not_newer()

    def __repr__(self) -> str:
        return f"CreditStore({make_url(self.url).render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close every pooled connection (the store can be used again afterwards; it reconnects)."""
        self.engine.dispose()

    # ---------------------------------------------------------------- transactions
    @contextmanager
    def _write(self, *, claim: bool = True) -> Iterator[Connection]:
        """One write transaction holding the database's write lock (writers queue, never interleave).

        Inside an HTTP request with an idempotency key, the first write records the key in the same
        transaction (``claim``), or raises :class:`RequestAlreadyDone` when the key is already there.
        """
        slot = IDEMPOTENCY.get() if claim else None
        claimed_here = False
        with self.engine.connect() as conn:
            conn.execution_options(xlc_write=True)
            try:
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_WRITE_LOCK})
                    if slot is not None and not slot.claimed:
                        self._claim(conn, slot)
                        claimed_here = True
                    yield conn
            except BaseException:
                if claimed_here and slot is not None:
                    slot.claimed = False      # rolled back with the change
                raise

    def _claim(self, conn: Connection, slot: IdempotencySlot) -> None:
        it = idempotency_table
        now = _utcnow()
        conn.execute(it.delete().where(it.c.created_at < now - IDEMPOTENCY_KEEP))
        found = conn.execute(sa.select(it.c.fingerprint).where(it.c.owner == slot.owner, it.c.key == slot.key)).first()
        if found is not None:
            slot.duplicate = True
            raise RequestAlreadyDone(slot.key)
        conn.execute(it.insert().values(owner=slot.owner, key=slot.key, fingerprint=slot.fingerprint, status=None,
                                        answer=None, headers=None, created_at=now))
        slot.claimed = True

    # ---------------------------------------------------------------- idempotency keys (HTTP service)
    def idempotent_answer(self, owner: str, key: str) -> dict[str, Any] | None:
        """The kept record of an idempotency key (fingerprint, status, answer, headers), None when none is kept."""
        it = idempotency_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(it).where(it.c.owner == owner, it.c.key == key,
                                                   it.c.created_at >= _utcnow() - IDEMPOTENCY_KEEP)).mappings().first()
        return None if row is None else dict(row)

    def keep_answer(self, owner: str, key: str, fingerprint: str, status: int, answer: bytes,
                    headers: Mapping[str, str]) -> None:
        """Keep the answer to an idempotency key (the key's row was written with the change it made)."""
        it = idempotency_table
        values = {"status": int(status), "answer": bytes(answer), "headers": dict(headers)}
        with self._write(claim=False) as conn:
            done = conn.execute(it.update().where(it.c.owner == owner, it.c.key == key,
                                                  it.c.fingerprint == fingerprint).values(**values))
            if done.rowcount == 0:
                conn.execute(it.insert().values(owner=owner, key=key, fingerprint=fingerprint, created_at=_utcnow(),
                                                **values))

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read transaction that sees a single consistent state of the database."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def _audit(self, conn: Connection, who: str, action: str, entity: str, before: Any, after: Any,
               at: dt.datetime) -> None:
        conn.execute(audit_table.insert().values(who=who or "unknown", action=action, entity=entity,
                                           before=to_json_data(before), after=to_json_data(after), at=at))

    # ---------------------------------------------------------------- schema
    def schema_version(self) -> int:
        """The schema version of the database (0 = empty)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_version"):
                return 0
            return int(conn.execute(sa.select(sa.func.max(schema_version_table.c.version))).scalar() or 0)

    def _check_not_newer(self) -> int:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise XlcError("db", f"was written by a newer xlcredit (schema version {current}; this one knows up to "
                           f"{SCHEMA_VERSION}): upgrade xlcredit", self.url)
        return current

    def migrate(self, upto: int | None = None) -> int:
        """Apply the missing migrations in order, each in one transaction; return the schema version."""
        current = self._check_not_newer()
        for step in MIGRATIONS:
            if step.version <= current or (upto is not None and step.version > upto):
                continue
            with self._write() as conn:
                schema_version_table.create(conn, checkfirst=True)
                done = int(conn.execute(sa.select(sa.func.max(schema_version_table.c.version))).scalar() or 0)
                if step.version <= done:
                    continue  # another process applied it while we waited for the lock
                step.apply(conn)
                conn.execute(schema_version_table.insert().values(version=step.version, description=step.description,
                                                            applied_at=_utcnow()))
            current = step.version
        return self.schema_version()

    # ---------------------------------------------------------------- refresh
    def replace_snapshot(self, as_of: dt.date | str, customers: Sequence[Mapping[str, Any] | Any],
                         results: Sequence[Mapping[str, Any]], who: str = "", *, source: str = "",
                         now: dt.datetime | None = None) -> int:
        """Replace every customer and every credit result in one transaction; return the new refresh stamp.

        ``customers``: the input rows (dicts, or records such as ``Customer``); ``customer_id`` is
        required and unique; ``name``/``country``/``currency``/``language`` get their own columns and
        the whole row is kept in ``data`` (JSON). ``results``: one dict per customer with keys from
        :data:`RESULT_FIELDS` (money as ``Decimal``; ``explain`` any JSON-able data, e.g. the score
        factors); each result's customer must be among ``customers``. A standing manual limit override
        replaces the engine's ``credit_limit`` (kept as ``recommended_limit``) and ``available`` is
        recomputed as limit − exposure. Readers see the old snapshot or the new one, never a mix.
        Problems raise :class:`XlcError` before anything is written.
        """
        day = _as_date(as_of, "as_of")
        at = now or _utcnow()
        cust_rows = self._customer_rows(customers)
        ids = {r["customer_id"] for r in cust_rows}
        res_rows = self._result_rows(results, ids, day, at)
        with self._write() as conn:
            overrides = {r.customer_id: r for r in conn.execute(sa.select(limit_overrides_table))}
            for row in res_rows:
                _apply_override(row, overrides.get(row["customer_id"]))
            before = self._refresh_info(conn)
            conn.execute(credit_results_table.delete())
            conn.execute(customers_table.delete())
            if cust_rows:
                conn.execute(customers_table.insert(), cust_rows)
            if res_rows:
                conn.execute(credit_results_table.insert(), res_rows)
            stamp = int(before["stamp"]) + 1
            conn.execute(last_refresh_table.update().where(last_refresh_table.c.id == 1).values(
                stamp=stamp, as_of=day, refreshed_at=at, refreshed_by=who or "unknown", source=source,
                customer_count=len(cust_rows)))
            self._audit(conn, who, "refresh", "snapshot",
                        {k: before[k] for k in ("as_of", "refreshed_at", "customer_count", "source")},
                        {"as_of": day, "refreshed_at": at, "customer_count": len(cust_rows),
                         "result_count": len(res_rows), "source": source}, at)
        self._invalidate()
        return stamp

    @staticmethod
    def _customer_rows(items: Sequence[Mapping[str, Any] | Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            data = to_json_data(item)
            if not isinstance(data, dict):
                raise XlcError(f"customers[{i}]", f"must be a row of named fields (got {describe(item)})", item)
            cid = _customer_key(data.get("customer_id"), f"customers[{i}].customer_id")
            if cid in seen:
                raise XlcError(f"customers[{i}].customer_id", f"{cid} appears twice (first at customers[{seen[cid]}])",
                               cid)
            seen[cid] = i
            data["customer_id"] = cid
            rows.append({"customer_id": cid, "name": _text(data.get("name")), "country": _text(data.get("country")),
                         "currency": _text(data.get("currency")), "language": _text(data.get("language")),
                         "data": data})
        return rows

    @staticmethod
    def _result_rows(items: Sequence[Mapping[str, Any]], ids: set[str], day: dt.date,
                     at: dt.datetime) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            if dataclasses.is_dataclass(item) and not isinstance(item, type):
                item = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
            if not isinstance(item, Mapping):
                raise XlcError(f"results[{i}]", f"must be a row of named fields (got {describe(item)})", item)
            unknown = sorted(set(item) - set(RESULT_FIELDS))
            if unknown:
                raise XlcError(f"results[{i}].{unknown[0]}", f"is not a column of credit_results (columns: "
                               f"{', '.join(RESULT_FIELDS)})", unknown[0])
            cid = _customer_key(item.get("customer_id"), f"results[{i}].customer_id")
            if cid not in ids:
                raise XlcError(f"results[{i}].customer_id", f"{cid} is not among the customers of this refresh", cid)
            if cid in seen:
                raise XlcError(f"results[{i}].customer_id", f"{cid} has two results", cid)
            seen.add(cid)
            row: dict[str, Any] = {"customer_id": cid, "refreshed_at": at}
            row["as_of"] = _as_date(item["as_of"], f"results[{i}].as_of") if item.get("as_of") else day
            for name in _RESULT_MONEY:
                value = item.get(name)
                row[name] = None if value is None else _exact(value, f"results[{i}].{name}")
            for name in _RESULT_INTS:
                value = item.get(name)
                if value is not None and (isinstance(value, bool) or not isinstance(value, (numbers.Integral, Decimal))
                                          or not Decimal(int(value)) == value):
                    raise XlcError(f"results[{i}].{name}", f"must be a whole number (got {describe(value)})", value)
                row[name] = None if value is None else int(value)
            for name in _RESULT_TEXT:
                value = item.get(name)
                row[name] = None if value is None else str(value)
            row["explain"] = to_json_data(item.get("explain"))
            row["recommended_limit"] = row["credit_limit"]
            rows.append(row)
        return rows

    def _refresh_info(self, conn: Connection) -> dict[str, Any]:
        row = conn.execute(sa.select(last_refresh_table).where(last_refresh_table.c.id == 1)).mappings().first()
        if row is None:  # pragma: no cover - created by migration 1
            raise XlcError("db", "has no last_refresh row: the database is damaged", self.url)
        return dict(row)

    def refresh_info(self) -> dict[str, Any]:
        """The last refresh: stamp, as_of, refreshed_at, refreshed_by, source, customer_count."""
        with self._read() as conn:
            info = self._refresh_info(conn)
        info.pop("id", None)
        return info

    def stamp(self) -> int:
        """The refresh stamp: bumped by every change to the credit results."""
        with self.engine.connect() as conn:
            lr = last_refresh_table
            return int(conn.execute(sa.select(lr.c.stamp).where(lr.c.id == 1)).scalar() or 0)

    # ---------------------------------------------------------------- reads (cached)
    def _invalidate(self) -> None:
        with self._lock:
            self._snapshot = None
            self._checked_at = float("-inf")

    def _current(self) -> _Snapshot:
        snap = self._snapshot
        now = time.monotonic()
        if snap is not None and now - self._checked_at < self.stamp_ttl:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and time.monotonic() - self._checked_at < self.stamp_ttl:
                return snap
            stamp = self.stamp()
            if snap is None or snap.stamp != stamp:
                snap = self._load_snapshot()
                self._snapshot = snap
            self._checked_at = time.monotonic()
            return snap

    def _load_snapshot(self) -> _Snapshot:
        with self._read() as conn:
            info = self._refresh_info(conn)
            cr = credit_results_table
            rows = conn.execute(sa.select(cr).order_by(cr.c.customer_id)).mappings().all()
        by_id = {r["customer_id"]: dict(r) for r in rows}
        info.pop("id", None)
        return _Snapshot(int(info["stamp"]), by_id, tuple(by_id), info)

    def result(self, customer_id: Any) -> dict[str, Any] | None:
        """The credit result of one customer (None when unknown) — served from memory, for Excel formulas."""
        key = _text(int(customer_id) if isinstance(customer_id, float) and customer_id.is_integer()
                    else customer_id)
        row = self._current().rows.get(key)
        return None if row is None else dict(row)

    def results(self) -> list[dict[str, Any]]:
        """Every credit result, by customer id (one consistent snapshot)."""
        snap = self._current()
        return [dict(snap.rows[k]) for k in snap.order]

    def snapshot(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The refresh information and every result of one and the same snapshot."""
        snap = self._current()
        return dict(snap.info), [dict(snap.rows[k]) for k in snap.order]

    def results_view(self) -> tuple[dict[str, Any], Mapping[str, Mapping[str, Any]]]:
        """The refresh information and a read-only view of every result of one snapshot (no copies).

        For answering a whole batch from one and the same refresh (the HTTP service does): later
        refreshes replace the snapshot, they never change this one.
        """
        snap = self._current()
        return dict(snap.info), MappingProxyType(snap.rows)

    def customer_answer(self, customer_id: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """One customer's credit result and input row, read in one transaction (one consistent state)."""
        cid = {"customer_id": _customer_key(customer_id)}
        with self._read() as conn:
            result = conn.execute(_CUSTOMER_RESULT, cid).mappings().first()
            data = conn.execute(_CUSTOMER_DATA, cid).first()
        return (None if result is None else dict(result)), (None if data is None else dict(data[0]))

    def customer(self, customer_id: Any) -> dict[str, Any] | None:
        """The input row of one customer as stored by the last refresh (the ``data`` JSON), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(customers_table.c.data).where(
                customers_table.c.customer_id == _customer_key(customer_id))).first()
        return None if row is None else dict(row[0])

    def customer_rows(self) -> list[dict[str, Any]]:
        """Every customer input row stored by the last refresh."""
        with self.engine.connect() as conn:
            ct = customers_table
            return [dict(r[0]) for r in conn.execute(sa.select(ct.c.data).order_by(ct.c.customer_id))]

    # ---------------------------------------------------------------- limit overrides
    def set_limit_override(self, customer_id: Any, credit_limit: Decimal | int | str, reason: str, who: str, *,
                           now: dt.datetime | None = None,
                           expect: Callable[[dict[str, Any] | None], None] | None = None) -> dict[str, Any]:
        """A controller's manual credit limit for a customer; kept across refreshes until cleared.

        Applied at once to the customer's current result (``available`` = limit − exposure) and audited.
        Returns the updated result (or the override alone when the customer has no result yet).
        ``expect``: called under the write lock with the customer's current result (None when none) before
        anything is written; it raises to refuse the change (the service's If-Match check).
        """
        cid = _customer_key(customer_id)
        limit = _exact(credit_limit, "credit_limit")
        if limit < 0:
            raise XlcError("credit_limit", f"must not be negative (got {limit})", credit_limit)
        if not _text(reason):
            raise XlcError("reason", "is empty: say why the limit is set by hand", reason)
        at = now or _utcnow()
        with self._write() as conn:
            if expect is not None:
                expect(self._result_row(conn, cid))
            before = conn.execute(sa.select(limit_overrides_table).where(limit_overrides_table.c.customer_id == cid)
                                  ).mappings().first()
            values = {"credit_limit": limit, "reason": _text(reason), "set_by": who or "unknown", "set_at": at}
            if before is None:
                conn.execute(limit_overrides_table.insert().values(customer_id=cid, **values))
            else:
                lo = limit_overrides_table
                conn.execute(lo.update().where(lo.c.customer_id == cid).values(**values))
            result = self._reapply_override(conn, cid)
            self._audit(conn, who, "set_limit", f"customer:{cid}",
                        dict(before) if before else {"credit_limit": result and result.get("recommended_limit")},
                        {"customer_id": cid, **values}, at)
        self._invalidate()
        return result or {"customer_id": cid, **values}

    def clear_limit_override(self, customer_id: Any, who: str, *, now: dt.datetime | None = None,
                             expect: Callable[[dict[str, Any] | None], None] | None = None) -> bool:
        """Remove a manual limit: the engine's recommended limit applies again. False when there was none.

        ``expect``: as for :meth:`set_limit_override`."""
        cid = _customer_key(customer_id)
        at = now or _utcnow()
        with self._write() as conn:
            if expect is not None:
                expect(self._result_row(conn, cid))
            before = conn.execute(sa.select(limit_overrides_table).where(limit_overrides_table.c.customer_id == cid)
                                  ).mappings().first()
            if before is None:
                return False
            conn.execute(limit_overrides_table.delete().where(limit_overrides_table.c.customer_id == cid))
            result = self._reapply_override(conn, cid)
            self._audit(conn, who, "clear_limit", f"customer:{cid}", dict(before),
                        {"credit_limit": result and result.get("credit_limit")}, at)
        self._invalidate()
        return True

    def limit_overrides(self) -> list[dict[str, Any]]:
        """Every standing manual limit."""
        with self.engine.connect() as conn:
            lo = limit_overrides_table
            return [dict(r) for r in conn.execute(sa.select(lo).order_by(lo.c.customer_id)).mappings()]

    @staticmethod
    def _result_row(conn: Connection, cid: str) -> dict[str, Any] | None:
        cr = credit_results_table
        row = conn.execute(sa.select(cr).where(cr.c.customer_id == cid)).mappings().first()
        return None if row is None else dict(row)

    def _reapply_override(self, conn: Connection, cid: str) -> dict[str, Any] | None:
        current = conn.execute(sa.select(credit_results_table).where(credit_results_table.c.customer_id == cid)
                               ).mappings().first()
        if current is None:
            return None
        row = dict(current)
        row["credit_limit"] = row["recommended_limit"]
        row["binding_rule"] = _strip_manual(row["binding_rule"])
        row["limit_reason"] = _strip_manual_reason(row.get("limit_reason"))
        if row["credit_limit"] is not None and row["exposure"] is not None:
            row["available"] = available_credit(row["credit_limit"], row["exposure"])
        lo = limit_overrides_table
        override = conn.execute(sa.select(lo).where(lo.c.customer_id == cid)).first()
        _apply_override(row, override)
        conn.execute(credit_results_table.update().where(credit_results_table.c.customer_id == cid).values(
            credit_limit=row["credit_limit"], available=row["available"], binding_rule=row["binding_rule"],
            limit_reason=row["limit_reason"]))
        lr = last_refresh_table
        conn.execute(lr.update().where(lr.c.id == 1).values(stamp=lr.c.stamp + 1))
        return row

    # ---------------------------------------------------------------- policy
    def policy_rows(self) -> list[tuple[str, str]]:
        """The stored policy as (key, value) rows, sorted by key (empty when none was ever stored)."""
        with self.engine.connect() as conn:
            return [(r.key, r.value) for r in conn.execute(sa.select(policy_table).order_by(policy_table.c.key))]

    def policy(self, default: Policy | None = None) -> Policy | None:
        """The stored policy as a :class:`Policy` (``default`` when none was stored)."""
        rows = self.policy_rows()
        return Policy.from_rows(rows) if rows else default

    def set_policy(self, rows: Iterable[tuple[Any, Any]] | Policy, who: str, *, previous: Policy | None = None,
                   now: dt.datetime | None = None,
                   expect: Callable[[list[tuple[str, str]]], None] | None = None) -> Policy:
        """Store a new policy (validated first; over the defaults) and audit the settings that changed.

        ``rows``: (key, value) rows as on the Policy sheet, or a :class:`Policy`. The complete
        validated policy is stored, so the database always holds every setting. While the database
        holds no policy yet, the audit compares with ``previous`` (the policy in force; default the
        shipped defaults). ``expect``: called under the write lock with the stored (key, value) rows, sorted
        (empty when none), before anything is written; it raises to refuse the change (If-Match).
        """
        new = rows if isinstance(rows, Policy) else Policy.from_rows(rows)
        new_rows = {k: _policy_text(v) for k, v in new.to_rows()}
        at = now or _utcnow()
        with self._write() as conn:
            old_rows = {r.key: r.value for r in conn.execute(sa.select(policy_table))}
            if expect is not None:
                expect(sorted(old_rows.items()))
            first = not old_rows
            if first:
                old_rows = {k: _policy_text(v) for k, v in (previous or Policy()).to_rows()}
            changed = sorted(k for k in set(new_rows) | set(old_rows) if new_rows.get(k) != old_rows.get(k))
            if changed or first:
                conn.execute(policy_table.delete())
                conn.execute(policy_table.insert(), [{"key": k, "value": v} for k, v in new_rows.items()])
                self._audit(conn, who, "set_policy", "policy", {k: old_rows.get(k) for k in changed},
                            {k: new_rows.get(k) for k in changed}, at)
        return new

    # ---------------------------------------------------------------- collection register
    def record_issue(self, customer_id: Any, step_index: int, stage: str, items: str | Iterable[Any], *,
                     as_of: dt.date | str, amount: Decimal | int | str | None, currency: str = "",
                     kind: str = "letter", file_path: str | Path = "", content_hash: str = "", who: str = "",
                     resend: bool = False, now: dt.datetime | None = None, payment_reference: str = "",
                     invoice_nos: Iterable[Any] = ()) -> dict[str, Any]:
        """Write one dunning letter, action or statement (step 0) into the collection register; return the entry.

        ``items``: the overdue invoice numbers it covers (or an :func:`items_key`). The same
        ``(customer, step_index, items)`` is issued once: a second issue raises :class:`AlreadyIssued`
        unless ``resend=True``, which records it again with the next ``resend`` counter (1, 2, …).
        ``payment_reference`` and ``invoice_nos``: a letter's own RF reference and the invoices it asks to be paid
        (the cash matcher resolves the reference to exactly those).
        """
        cid = _customer_key(customer_id)
        first_step = 0 if kind == "statement" else 1
        if isinstance(step_index, bool) or not isinstance(step_index, int) or step_index < first_step:
            raise XlcError("step_index", f"must be a ladder step number from 1 (got {describe(step_index)})",
                           step_index)
        if kind not in ISSUE_KINDS:
            raise XlcError("kind", f"must be letter, action or statement (got {describe(kind)})", kind)
        if not _text(stage):
            raise XlcError("stage", "is empty", stage)
        key = items if isinstance(items, str) else items_key(items)
        if not key.strip():
            raise XlcError("items", "is empty", items)
        day = _as_date(as_of, "as_of")
        value = None if amount is None else _exact(amount, "amount")
        at = now or _utcnow()
        with self._write() as conn:
            last = conn.execute(sa.select(sa.func.max(register_table.c.resend)).where(
                register_table.c.customer_id == cid, register_table.c.step_index == step_index,
                register_table.c.items_key == key)).scalar()
            if last is not None and not resend:
                raise AlreadyIssued("register", f"{stage} (step {step_index}) was already issued to {cid} for these "
                                    "items; resend it explicitly to issue it again", cid)
            entry = {"customer_id": cid, "stage": _text(stage), "step_index": step_index, "kind": kind, "as_of": day,
                     "amount": value, "currency": _text(currency).upper(), "items_key": key,
                     "resend": 0 if last is None else int(last) + 1, "file_path": str(file_path),
                     "content_hash": _text(content_hash), "created_at": at, "created_by": who or "unknown",
                     "payment_reference": _text(payment_reference).upper(),
                     "invoice_nos": [_text(n) for n in invoice_nos if _text(n)] or None}
            try:
                new_id = conn.execute(register_table.insert().values(**entry)).inserted_primary_key[0]
            except IntegrityError:  # pragma: no cover - the write lock makes this a backstop only
                raise AlreadyIssued("register", f"{stage} (step {step_index}) was just issued to {cid} by "
                                    "someone else", cid) from None
            entry["id"] = int(new_id)
            self._audit(conn, who, "resend" if entry["resend"] else "issue", f"register:{cid}", None, entry, at)
        return entry

    def issued(self, customer_id: Any, step_index: int, items: str | Iterable[Any]) -> bool:
        """True when this ladder step was already issued to the customer for the same overdue items."""
        key = items if isinstance(items, str) else items_key(items)
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(register_table.c.id).where(
                register_table.c.customer_id == _customer_key(customer_id), register_table.c.step_index == step_index,
                register_table.c.items_key == key).limit(1)).first()
        return found is not None

    def register_entry(self, entry_id: int) -> dict[str, Any] | None:
        """One entry of the collection register by its id, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(register_table).where(register_table.c.id == int(entry_id))).mappings().first()
        return None if row is None else dict(row)

    def register_rows(self, customer_id: Any = None) -> list[dict[str, Any]]:
        """The collection register (every letter and action issued), oldest first."""
        query = sa.select(register_table).order_by(register_table.c.id)
        if customer_id is not None:
            query = query.where(register_table.c.customer_id == _customer_key(customer_id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # ---------------------------------------------------------------- deliveries (sending by e-mail)
    def begin_delivery(self, register_id: int, customer_id: Any, *, channel: str, recipient: str, message_id: str,
                       file_path: str = "", retry_unconfirmed: bool = False, who: str = "",
                       now: dt.datetime | None = None) -> int:
        """Record that a message for a register entry is about to go ("sending"), before it goes; return its id.

        Refused (:class:`AlreadySent`) when the entry already has a message that went, is going or may have
        gone (sent, drafted, sending, unconfirmed — the last not with ``retry_unconfirmed``, the user's word
        that it did not arrive) — checked and written under the write lock, so two runs cannot both send it.
        """
        if channel not in DELIVERY_CHANNELS:
            raise XlcError("channel", f"must be {' or '.join(DELIVERY_CHANNELS)} (got {describe(channel)})", channel)
        cid = _customer_key(customer_id)
        at = now or _utcnow()
        with self._write() as conn:
            d = deliveries_table
            holding = [h for h in DELIVERY_HOLDING if not (retry_unconfirmed and h == "unconfirmed")]
            busy = conn.execute(sa.select(d.c.id, d.c.state).where(
                d.c.register_id == int(register_id), d.c.state.in_(holding)).limit(1)).first()
            if busy is not None:
                raise AlreadySent("register_id", f"entry {register_id} already has a message ({busy.state})",
                                  register_id)
            values = {"register_id": int(register_id), "customer_id": cid, "channel": channel,
                      "recipient": _text(recipient), "message_id": _text(message_id), "state": "sending",
                      "code": None, "detail": "", "file_path": str(file_path), "created_at": at, "updated_at": at,
                      "created_by": who or "unknown"}
            new_id = int(conn.execute(d.insert().values(**values)).inserted_primary_key[0])
            self._audit(conn, who, "sending", f"delivery:{register_id}", None, {"id": new_id, **values}, at)
        return new_id

    def finish_delivery(self, delivery_id: int, state: str, *, code: int | None = None, detail: str = "",
                        who: str = "", now: dt.datetime | None = None) -> None:
        """Record what became of a message: sent, drafted, failed or unconfirmed (see xlcredit.jobs.send)."""
        if state not in DELIVERY_STATES or state == "sending":
            raise XlcError("state", f"must be one of sent, drafted, failed, unconfirmed (got {describe(state)})",
                           state)
        at = now or _utcnow()
        with self._write() as conn:
            d = deliveries_table
            row = conn.execute(sa.select(d).where(d.c.id == int(delivery_id))).mappings().first()
            if row is None:
                raise XlcError("delivery", f"no delivery {delivery_id}", delivery_id)
            conn.execute(d.update().where(d.c.id == int(delivery_id)).values(
                state=state, code=code, detail=_text(detail), updated_at=at))
            self._audit(conn, who, state, f"delivery:{row['register_id']}", {"id": row["id"], "state": row["state"]},
                        {"id": row["id"], "state": state, "code": code, "detail": _text(detail),
                         "message_id": row["message_id"]}, at)

    def delivery_rows(self, register_id: int | None = None, *, state: str | None = None) -> list[dict[str, Any]]:
        """Every message recorded (one register entry's, or those in one state), oldest first."""
        query = sa.select(deliveries_table).order_by(deliveries_table.c.id)
        if register_id is not None:
            query = query.where(deliveries_table.c.register_id == int(register_id))
        if state is not None:
            query = query.where(deliveries_table.c.state == state)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # ---------------------------------------------------------------- reviews
    def record_review(self, customer_id: Any, review_date: dt.date | str, grade: str | None, score: int | None,
                      credit_limit: Decimal | int | str | None, notes: str = "", *, who: str = "",
                      now: dt.datetime | None = None) -> int:
        """Record a credit review of a customer (periodic or special) and return its id."""
        cid = _customer_key(customer_id)
        day = _as_date(review_date, "review_date")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
            raise XlcError("score", f"must be a whole number (got {describe(score)})", score)
        limit = None if credit_limit is None else _exact(credit_limit, "credit_limit")
        at = now or _utcnow()
        values = {"customer_id": cid, "review_date": day, "grade": grade, "score": score, "credit_limit": limit,
                  "notes": _text(notes), "created_at": at, "created_by": who or "unknown"}
        with self._write() as conn:
            new_id = int(conn.execute(reviews_table.insert().values(**values)).inserted_primary_key[0])
            self._audit(conn, who, "review", f"customer:{cid}", None, {"id": new_id, **values}, at)
        return new_id

    def record_reviews(self, rows: Iterable[Mapping[str, Any]], *, who: str = "",
                       now: dt.datetime | None = None) -> int:
        """Record many reviews in one transaction (the review job); returns how many were recorded.

        Each row has the arguments of :meth:`record_review`: customer_id, review_date, grade, score,
        credit_limit and (optionally) notes. Every row is checked before anything is written.
        """
        at = now or _utcnow()
        values = []
        for i, row in enumerate(rows):
            cid = _customer_key(row.get("customer_id"), f"reviews[{i}].customer_id")
            score = row.get("score")
            if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
                raise XlcError(f"reviews[{i}].score", f"must be a whole number (got {describe(score)})", score)
            limit = row.get("credit_limit")
            values.append({"customer_id": cid, "review_date": _as_date(row.get("review_date"),
                                                                        f"reviews[{i}].review_date"),
                           "grade": row.get("grade"), "score": score,
                           "credit_limit": None if limit is None else _exact(limit, f"reviews[{i}].credit_limit"),
                           "notes": _text(row.get("notes")), "created_at": at, "created_by": who or "unknown"})
        if not values:
            return 0
        with self._write() as conn:
            for v in values:
                new_id = int(conn.execute(reviews_table.insert().values(**v)).inserted_primary_key[0])
                self._audit(conn, who, "review", f"customer:{v['customer_id']}", None, {"id": new_id, **v}, at)
        return len(values)

    def reviews(self, customer_id: Any = None) -> list[dict[str, Any]]:
        """Recorded reviews, oldest first (one customer's when ``customer_id`` is given)."""
        query = sa.select(reviews_table).order_by(reviews_table.c.review_date, reviews_table.c.id)
        if customer_id is not None:
            query = query.where(reviews_table.c.customer_id == _customer_key(customer_id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # ---------------------------------------------------------------- audit
    def audit_rows(self, entity: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The audit trail, oldest first (``limit``: only the latest so many)."""
        query = sa.select(audit_table)
        if entity is not None:
            query = query.where(audit_table.c.entity == entity)
        if limit is not None:
            query = query.order_by(audit_table.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return sorted(rows, key=lambda r: r["id"])

    # ---------------------------------------------------------------- API keys
    # A key is "xlc_" + 32 random bytes (256 bits, URL-safe base64). It is stored only as its SHA-256.
    # Why not a salted slow hash (scrypt/PBKDF2)? Those protect *low-entropy* secrets (passwords) from
    # dictionary attacks; a 256-bit random token cannot be guessed or brute-forced whatever the hash
    # speed, so a fast unsalted digest is as safe here — and it lets every request find its key with
    # one indexed lookup instead of running a slow hash against every stored key.
    def create_api_key(self, name: str, role: str, *, who: str = "", now: dt.datetime | None = None) -> str:
        """Mint an API key for ``role`` and return it — the only time the plain key is shown."""
        if not _text(name):
            raise XlcError("name", "is empty: name the person or system the key is for", name)
        if role not in ROLES:
            raise XlcError("role", f"must be one of {', '.join(ROLES)} (got {describe(role)})", role)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        at = now or _utcnow()
        values = {"name": _text(name), "key_prefix": key[:12], "key_hash": _hash_key(key), "role": role,
                  "created_at": at, "created_by": who or "unknown"}
        with self._write() as conn:
            new_id = int(conn.execute(api_keys_table.insert().values(**values)).inserted_primary_key[0])
            self._audit(conn, who, "create_key", f"api_key:{new_id}", None,
                        {"id": new_id, "name": values["name"], "role": role, "key_prefix": values["key_prefix"]}, at)
        return key

    def api_key_identity(self, key: str | None) -> dict[str, Any] | None:
        """``{"id", "name", "role"}`` of a valid, unrevoked key; None for anything else."""
        if not key or not isinstance(key, str) or not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(_API_KEY_IDENTITY, {"key_hash": _hash_key(key)}).first()
        return None if row is None else {"id": row.id, "name": row.name, "role": row.role}

    def check_api_key(self, key: str | None) -> str | None:
        """The role of a valid, unrevoked key (read, controller or admin); None otherwise."""
        found = self.api_key_identity(key)
        return None if found is None else found["role"]

    def revoke_api_key(self, key_id: int, who: str, *, now: dt.datetime | None = None) -> bool:
        """Revoke a key by its id (it stops working at once); False when no such active key."""
        at = now or _utcnow()
        with self._write() as conn:
            ak = api_keys_table
            row = conn.execute(sa.select(ak).where(ak.c.id == key_id, ak.c.revoked_at.is_(None))).mappings().first()
            if row is None:
                return False
            conn.execute(api_keys_table.update().where(api_keys_table.c.id == key_id).values(revoked_at=at))
            self._audit(conn, who, "revoke_key", f"api_key:{key_id}", {"name": row["name"], "role": row["role"]},
                        {"revoked_at": at}, at)
        return True

    def api_keys(self) -> list[dict[str, Any]]:
        """Every key ever minted (id, name, key prefix, role, created, revoked) — never the key itself."""
        cols = [c for c in api_keys_table.c if c.name != "key_hash"]
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(*cols).order_by(api_keys_table.c.id)).mappings()]


_MANUAL = "manual override"
_MANUAL_WORDS = "manual limit: "
_ENGINE_WORDS = " · recommended: "


def _manual_reason(reason: str, engine_reason: str | None) -> str:
    """The limit's reason in words under a manual limit: the controller's reason, then the engine's."""
    return f"{_MANUAL_WORDS}{reason}" + (f"{_ENGINE_WORDS}{engine_reason}" if engine_reason else "")


def _strip_manual_reason(text: str | None) -> str | None:
    """The engine's reason back from :func:`_manual_reason` (None when it had none)."""
    if text and text.startswith(_MANUAL_WORDS):
        _, found, engine = text.rpartition(_ENGINE_WORDS)
        return engine if found else None
    return text


def _strip_manual(rule: str | None) -> str | None:
    if rule and rule.startswith(_MANUAL):
        inner = rule[len(_MANUAL):].strip()
        if inner.startswith("(engine:") and inner.endswith(")"):
            inner = inner[len("(engine:"):-1].strip()
            return inner or None
        return None
    return rule


def _apply_override(row: dict[str, Any], override: Any) -> None:
    """Put a standing manual limit over the engine's figure (``available`` = limit − exposure, as the core says)."""
    if override is None:
        return
    limit = override.credit_limit
    row["credit_limit"] = limit
    engine_rule = row.get("binding_rule")
    row["binding_rule"] = f"{_MANUAL} (engine: {engine_rule})" if engine_rule else _MANUAL
    row["limit_reason"] = _manual_reason(override.reason, row.get("limit_reason"))
    exposure = row.get("exposure")
    row["available"] = None if exposure is None else available_credit(limit, exposure)


def _make_engine(url: str, busy_timeout: float, pool_size: int = 5) -> Engine:
    parsed = make_url(url)
    pool = {"pool_size": pool_size, "max_overflow": pool_size * 2}
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_timeout, "check_same_thread": False},
                                  "json_serializer": _json_dumps}
        if memory:
            kwargs["poolclass"] = sa.pool.StaticPool
        else:
            kwargs.update(pool)
        engine = sa.create_engine(parsed, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None   # SQLAlchemy emits BEGIN itself (see _on_begin)
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={_sqlite_synchronous()}")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # writers take the write lock up front (no deadlock upgrading a read lock); readers get a snapshot
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("xlc_write") else "BEGIN")

        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, json_serializer=_json_dumps, **pool)


_OPEN: dict[tuple[str, float], CreditStore] = {}
_OPEN_LOCK = threading.Lock()


def open_store(path_or_url: str | Path | None = None, *, stamp_ttl: float = 1.0) -> CreditStore:
    """The process's shared :class:`CreditStore` for a URL, database file or workbook (opened once, then reused).

    Excel formulas call this on every recalculation: the first call opens (and migrates) the database,
    later calls return the same object with its cached connection and in-memory results.
    """
    url = resolve_store_url(path_or_url)
    with _OPEN_LOCK:
        store = _OPEN.get((url, stamp_ttl))
        if store is None:
            store = CreditStore(url, stamp_ttl=stamp_ttl)
            _OPEN[(url, stamp_ttl)] = store
        return store
