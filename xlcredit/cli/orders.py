"""``xlcredit order-check``: ORDER_CHECK at the command line — would an order of this amount be released?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    LedgerAsOf,
    base_policy,
    console,
    open_book,
    parse_as_of,
    print_notes,
    print_problems,
    user_errors,
)
from xlcredit.core.errors import XlcError

WorkbookOrFolder = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook, or a folder of ledger files (customers, invoices, payments, "
         "credit_notes, fx_rates as .csv/.parquet/.xlsx); default: the bundled sample.", show_default=False)]


@app.command("order-check")
def order_check(ctx: typer.Context,
                customer: Annotated[str, typer.Argument(help="Customer id as on the Customers sheet, e.g. C001.",
                                                        show_default=False)],
                amount: Annotated[str, typer.Argument(
                    help="Amount of the new order in company currency; 0 asks whether the next order would be held.",
                    show_default=False)],
                source: WorkbookOrFolder = None, as_of: LedgerAsOf = None) -> None:
    """Release or hold a new order, and why — the ORDER_CHECK formula without Excel.

    Assesses the workbook (or folder) as the Refresh does, without writing anything (as of the newest document
    unless --as-of is given, said in one line), and checks the order
    against the customer's limit, exposure, overdue items, grade and deposit. Prints "Release" or
    "Hold: <reasons>" on the first line, as the cell shows it. Bad input (an amount that is blank, negative or
    not a number, an unknown customer) is one red line and exit code 2, in the words the cell shows.
    """
    from xlcredit.core.limits import order_amount
    from xlcredit.core.portfolio import assess_portfolio, check_result_order, customer_key, result_rows
    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs.book import as_of_for, read_book

    with user_errors():
        value = order_amount(amount)                    # the amount first, then the customer (as the cell)
        key = customer_key(customer)
        given = parse_as_of(as_of) or (SAMPLE_AS_OF if source is None else None)
        book = open_book(source)
        data = read_book(book.read_tables(), book.read_policy_rows(), base_policy(ctx))
        day, note = as_of_for(data.ledger, given, book.label)    # a file is as of its newest document unless told
        print_notes([] if note is None else [note])
        portfolio = assess_portfolio(data.customers, data.ledger, data.policy, day, data.fx)
        left_out = next((p for p in portfolio.problems if p.customer_id == key), None)
        if left_out is not None:
            raise XlcError("customer", f"{key!r} could not be assessed ({left_out.field}: {left_out.problem})", key)
        results = {str(r["customer_id"]): r for r in result_rows(portfolio)}
        decision = check_result_order(results, key, value, data.policy)
        credit = portfolio.customer(key)
        assert credit is not None
        cur = data.policy.company.currency
        out = console()
        out.print(decision.status, soft_wrap=True, markup=False)
        out.print(f"{key} {credit.customer.name} · order {value:,.2f} {cur} · as of {day} — {book.label}",
                  soft_wrap=True, markup=False)
        out.print(f"grade {credit.score.grade} · limit {credit.limit.limit:,.2f} {cur} ({credit.limit.reason}) · "
                  f"exposure {credit.exposure.total:,.2f} {cur} · available {credit.available:,.2f} {cur} · "
                  f"terms {credit.terms.label}" + (f" · oldest item {credit.dunning.days_past_due} days past due"
                                                   if credit.dunning.days_past_due else ""),
                  soft_wrap=True, markup=False)
        for note in decision.notes:
            out.print(note, soft_wrap=True, markup=False)
        print_problems(data.problems)
