"""The dunning ladder (xlcredit.core.dunning) on the credit policy's default steps (DESIGN.md, policy defaults):

7 days past due reminder letter · 15 phone call · 30 formal demand + stop new orders · 45 legal action ·
90 agency or insurance claim — reached by the oldest overdue, undisputed open item.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from xlcredit.core.dunning import DunningStatus, dunning_stage, stage_for_days
from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy

D = Decimal
POLICY = Policy()
AS_OF = dt.date(2026, 10, 31)


@dataclass(frozen=True)
class Item:
    invoice_no: str
    due_date: dt.date | None
    open_amount: Decimal
    disputed: bool = False


@dataclass(frozen=True)
class Invoice:
    invoice_no: str
    due_date: dt.date
    disputed: bool = False


@dataclass(frozen=True)
class OpenItemLike:
    """Shaped like the ledger's OpenItem(invoice, open_amount, settlements)."""

    invoice: Invoice
    open_amount: Decimal
    settlements: tuple = ()


def due(days_past_due: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days_past_due)


@pytest.mark.parametrize(("days", "index", "stage", "next_action", "next_days", "stop"), [
    (1, 0, "", "Reminder letter", 7, False),
    (6, 0, "", "Reminder letter", 7, False),
    (7, 1, "Reminder letter", "Phone call", 15, False),
    (14, 1, "Reminder letter", "Phone call", 15, False),
    (15, 2, "Phone call", "Formal demand", 30, False),
    (29, 2, "Phone call", "Formal demand", 30, False),
    (30, 3, "Formal demand", "Legal action", 45, True),
    (44, 3, "Formal demand", "Legal action", 45, True),
    (45, 4, "Legal action", "Agency or insurance claim", 90, True),
    (89, 4, "Legal action", "Agency or insurance claim", 90, True),
    (90, 5, "Agency or insurance claim", "", None, True),
    (400, 5, "Agency or insurance claim", "", None, True),
])
def test_every_rung_boundary(days, index, stage, next_action, next_days, stop):
    status = dunning_stage([Item("INV-1", due(days), D("1200.00"))], AS_OF, POLICY)
    next_date = due(days) + dt.timedelta(days=next_days) if next_days is not None else None
    assert status == DunningStatus(step_index=index, stage=stage, days_past_due=days, oldest_item="INV-1",
                                   overdue_amount=D("1200.00"), next_action=next_action,
                                   next_action_date=next_date, stop_orders=stop)
    assert stage_for_days(days, POLICY) == (index, stage)


def test_oldest_overdue_item_sets_the_stage_and_all_overdue_items_are_summed():
    items = [
        Item("INV-3", due(10), D("300")),
        Item("INV-1", due(35), D("100")),
        Item("INV-2", due(-5), D("999")),      # not yet due: not overdue, not in the amount
    ]
    status = dunning_stage(items, AS_OF, POLICY)
    assert (status.stage, status.days_past_due, status.oldest_item) == ("Formal demand", 35, "INV-1")
    assert status.overdue_amount == D("400")
    assert status.next_action_date == due(35) + dt.timedelta(days=45)
    assert status.stop_orders


def test_disputed_and_settled_items_are_ignored():
    items = [
        Item("DISPUTED", due(120), D("5000"), disputed=True),
        Item("PAID", due(100), D("0")),
        Item("CREDIT", due(95), D("-50")),
        Item("OPEN", due(16), D("250")),
    ]
    status = dunning_stage(items, AS_OF, POLICY)
    assert (status.stage, status.oldest_item, status.overdue_amount) == ("Phone call", "OPEN", D("250"))
    assert not status.stop_orders


def test_disputed_flag_from_text():
    items = [Item("A", due(50), D("10"), disputed="TRUE"), Item("B", due(8), D("10"), disputed="false")]
    assert dunning_stage(items, AS_OF, POLICY).oldest_item == "B"
    with pytest.raises(XlcError, match=r"^disputed: must be true or false \(got 'maybe' on invoice A\)$"):
        dunning_stage([Item("A", due(50), D("10"), disputed="maybe")], AS_OF, POLICY)


def test_nothing_overdue_means_no_stage():
    assert dunning_stage([], AS_OF, POLICY) == DunningStatus(0, "", 0, "", D(0), "", None, False)
    only_disputed = [Item("D", due(60), D("10"), disputed=True)]
    assert dunning_stage(only_disputed, AS_OF, POLICY) == DunningStatus(0, "", 0, "", D(0), "", None, False)
    due_today = [Item("T", due(0), D("10")), Item("L", due(-20), D("10"))]
    status = dunning_stage(due_today, AS_OF, POLICY)
    assert (status.step_index, status.stage, status.days_past_due, status.oldest_item) == (0, "", 0, "")
    assert (status.next_action, status.next_action_date) == ("Reminder letter", AS_OF + dt.timedelta(days=7))


def test_open_items_shaped_like_the_ledger_work_too():
    items = [OpenItemLike(Invoice("INV-9", due(46)), D("75.50")),
             OpenItemLike(Invoice("INV-8", due(200), disputed=True), D("10"))]
    status = dunning_stage(items, dt.date(2026, 10, 31), POLICY)
    assert (status.stage, status.oldest_item, status.overdue_amount) == ("Legal action", "INV-9", D("75.50"))


def test_a_custom_ladder_from_the_policy():
    policy = Policy.from_mapping({"dunning.step1.days": 1, "dunning.step3.stop_orders": False,
                                  "dunning.step4.stop_orders": False, "dunning.step5.stop_orders": False})
    status = dunning_stage([Item("X", due(1), D("1"))], AS_OF, policy)
    assert (status.step_index, status.stage) == (1, "Reminder letter")
    assert not dunning_stage([Item("X", due(95), D("1"))], AS_OF, policy).stop_orders


@pytest.mark.parametrize(("item", "as_of", "words"), [
    (Item("INV-7", None, D("10")), AS_OF, r"^due_date: is empty \(invoice INV-7\)$"),
    (Item("INV-7", due(3), "ten"), AS_OF, r"^open_amount: is not a number \(got 'ten'\) \(invoice INV-7\)$"),
    (Item("INV-7", due(3), D("1")), "", r"^as_of: is empty$"),
])
def test_bad_items_are_named(item, as_of, words):
    with pytest.raises(XlcError, match=words):
        dunning_stage([item], as_of, POLICY)


def test_an_object_without_the_fields_is_refused():
    with pytest.raises(XlcError, match=r"^invoice_no: is missing: an open item needs due_date, open_amount, "
                                       r"disputed and invoice_no \(got dict\)$"):
        dunning_stage([{"invoice_no": "A"}], AS_OF, POLICY)
