"""``xlcredit score`` and ``xlcredit limits``: the customer-level answers from a customers table."""

from __future__ import annotations

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    AsOf,
    Column,
    CustomersFile,
    Out,
    Sheet,
    finish,
    print_problems,
    row_problem,
    score_customers,
    show_table,
    start_run,
    user_errors,
    write_out,
)
from xlcredit.core.errors import XlcError


@app.command()
def score(ctx: typer.Context, customers_file: CustomersFile = None, as_of: AsOf = None, out: Out = None,
          sheet: Sheet = None) -> None:
    """Score every customer (0–100) and grade it A–E."""
    with user_errors():
        run = start_run(ctx, customers_file, as_of=as_of, out=out, sheet=sheet)
        policy, book, day = run.policy, run.book, run.as_of
        scored, problems = score_customers(book, policy, day)
        rows = [{"customer_id": c.customer_id, "name": c.name, "country": c.country, "score": r.score,
                 "grade": r.grade, "note": r.grade_note} for c, r in scored]
        show_table(f"Credit scores as of {day} — {book.source}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True),
            Column("country", "Country"), Column("score", "Score", "right"), Column("grade", "Grade", "center"),
            Column("note", "Note", flexible=True)])
        all_problems = [*book.table.problems, *problems]
        print_problems(all_problems)
        write_out(rows, out, sheet="Scores")
        finish(len(rows), "customer", "scored", all_problems)


@app.command()
def limits(ctx: typer.Context, customers_file: CustomersFile = None, as_of: AsOf = None, out: Out = None,
           sheet: Sheet = None) -> None:
    """Recommend a credit limit, payment terms and deposit for every customer."""
    from xlcredit.core.limits import recommend_limits
    from xlcredit.core.terms import terms_for

    with user_errors():
        run = start_run(ctx, customers_file, as_of=as_of, out=out, sheet=sheet)
        policy, book, day = run.policy, run.book, run.as_of
        scored, problems = score_customers(book, policy, day)
        customers = [c for c, _ in scored]
        grades = {c.customer_id: r.grade for c, r in scored}
        by_id = {res.customer_id: res for res in recommend_limits(customers, grades, policy, day)}
        rows = []
        for customer, result in scored:
            try:
                terms = terms_for(customer, result.grade, policy, day)
            except XlcError as exc:
                problems.append(row_problem(book, customer, exc))
                continue
            limit = by_id[customer.customer_id]
            rows.append({"customer_id": customer.customer_id, "name": customer.name, "score": result.score,
                         "grade": result.grade, "limit": limit.limit, "limit_reason": limit.reason,
                         "terms": terms.label, "deposit": terms.deposit_share, "note": terms.note})
        currency = policy.company.currency
        show_table(f"Credit limits ({currency}) as of {day} — {book.source}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True),
            Column("grade", "Grade", "center"), Column("limit", f"Limit ({currency})", "right", money=currency),
            Column("limit_reason", "Why this limit", flexible=True),
            Column("terms", "Terms"), Column("deposit", "Deposit", "right", percent=True)])
        all_problems = [*book.table.problems, *problems]
        print_problems(all_problems)
        write_out(rows, out, sheet="Limits", formats={"deposit": "0%"})
        finish(len(rows), "customer", "given a limit", all_problems)
