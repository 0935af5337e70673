"""Every xlcredit formula and the team-service script, declared with xlwings Lite's decorators on import.

In the add-in's main.py: ``from xlcredit_lite.plugin import *`` — xlwings Lite registers the custom functions and
scripts it finds among main.py's names (it looks for the ``@func``/``@script`` marks on them), so this one line
brings the whole catalogue. The formulas are the desktop ones (:mod:`udfs.lite`): same names, arguments, help and
answers. With a team service set (``XLCREDIT_SERVER_URL``, ``XLCREDIT_API_KEY``) the customer-level formulas and
the policy-dependent ones (:data:`SERVICE_FORMULAS`) answer from it (:mod:`xlcredit_lite.service`); the others
always compute in the browser, offline.
"""

from __future__ import annotations

import xlwings as xw
from xlwings import arg, func, script

from udfs import functions as _desktop
from udfs import lite
from xlcredit_lite import service as _service

#: Customer-level formulas: they read the results of a refresh (the service's, or this workbook session's).
CUSTOMER_FORMULAS: tuple[str, ...] = ("credit_available", "credit_explain", "credit_grade", "credit_limit",
                                      "credit_score", "credit_terms", "deposit_required", "dunning_stage",
                                      "order_check")
#: Pure formulas computed under the policy in force (the service's when one is set).
POLICY_FORMULAS: tuple[str, ...] = tuple(sorted(
    name for name in lite.CATALOGUE if getattr(getattr(_desktop, name.upper(), None), "uses_policy", False)))
#: The formulas that ask the service first when one is set (``async def``: Lite awaits them).
SERVICE_FORMULAS: tuple[str, ...] = CUSTOMER_FORMULAS + POLICY_FORMULAS
#: The scripts this module declares.
SCRIPTS: tuple[str, ...] = ("generate_letters_team_service",)

globals().update(lite.register(func, arg, prepare=_service.prepare, prepared=SERVICE_FORMULAS))


@script
async def generate_letters_team_service(book: xw.Book):
    """Generate Letters (team service): send the Customers, Invoices, Payments (Credit Notes, FX Rates) tables to
    the team service, which writes the dunning letters under the team's policy and collection register; the
    register, with a link to each letter, is written to the Service Letters sheet."""
    await _service.generate_letters(book)


__all__ = [*lite.CATALOGUE, *SCRIPTS]
