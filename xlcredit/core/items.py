"""What the checks on open items read of an item: one shape shared by the dunning ladder, the insurance check
and the cash forecast.

An :class:`xlcredit.core.openitems.OpenItem` has these fields (amounts in the currency the check works in),
and so does any plain record with them (:class:`xlcredit.core.insurance.OpenAmount`, the bulk path's rows).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Protocol


class OpenItemFields(Protocol):
    """An open item as the checks read it: its invoice number, due date, open amount and dispute flag."""

    @property
    def invoice_no(self) -> str: ...
    @property
    def due_date(self) -> dt.date: ...
    @property
    def open_amount(self) -> Decimal: ...
    @property
    def disputed(self) -> bool: ...


class CustomerOpenItemFields(OpenItemFields, Protocol):
    """An open item that also names its customer (for checks across the whole book, like the cash forecast)."""

    @property
    def customer_id(self) -> str: ...
