"""xlcredit for xlwings Lite: paste this file into the add-in's main.py tab and ``lite/requirements.txt`` into its
requirements.txt tab (Excel on the web, on the Mac and on Windows; see docs/lite.md).

Every formula of the desktop workbook (=CREDIT_LIMIT(A2), =LATE_INTEREST(...), ...) and the "Generate Letters (team
service)" script come from the xlcredit-lite plugin (:mod:`xlcredit_lite.plugin`, in the wheel that
requirements.txt names) — the desktop formulas themselves, so names, argument order, help texts, answers and
``#XLC!`` messages are the same. With a team service set (``XLCREDIT_SERVER_URL``, ``XLCREDIT_API_KEY`` under the
add-in's Environment Variables) the customer-level formulas read its results; without one they read the results of
the last "Refresh Ageing" script run in this workbook session.

The three scripts below run the desktop buttons' jobs (in the wheel) over the open workbook and write the same
sheets; they need pandas, numpy and sqlalchemy in requirements.txt (Pyodide ships them).
"""

import xlwings as xw
from xlcredit_lite.plugin import *  # noqa: F403 - every formula and the team-service letters script
from xlwings import script

from udfs import lite


@script
def refresh_ageing(book: xw.Book):
    """Refresh Ageing: read the Customers, Invoices, Payments (and Credit Notes, FX Rates, Policy) tables, write the
    Ageing sheet and the Dashboard figures, and keep the results for the customer-level formulas."""
    lite.refresh_ageing(book)


@script
def review_portfolio(book: xw.Book):
    """Review Portfolio: write the Review sheet and the Dashboard's forecast figures (reviews, insurer deadlines,
    IFRS 9 provision, cash forecast)."""
    lite.review_portfolio(book)


@script
def worklist(book: xw.Book):
    """Worklist: rank every customer with open items (promises, disputes, plans and contacts on their sheets count)
    and write the Worklist sheet — who to call today, why, and the next action with its date."""
    lite.worklist(book)
