"""xlcredit for xlwings Lite: paste this file into the add-in's main.py tab and ``lite/requirements.txt`` into its
requirements.txt tab (Excel on the web, on the Mac and on Windows).

Every formula of the desktop workbook (=CREDIT_LIMIT(A2), =LATE_INTEREST(...), ...) is declared here with xlwings
Lite's ``@func`` from the one catalogue in :mod:`udfs.lite` — the desktop formulas themselves, so names, argument
order, help texts, answers and ``#XLC!`` messages are the same. Customer-level formulas read the results of the last
"Refresh Ageing" script run in this workbook session; run it first after opening the workbook.
"""

import xlwings as xw
from xlwings import arg, func, script

from udfs import lite

# the whole formula catalogue, declared with Lite's decorators (see udfs.lite.register)
globals().update(lite.register(func, arg))


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
