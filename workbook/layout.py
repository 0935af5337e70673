"""How CreditControl.xlsm looks: code names, widths, formats, labels and help texts.

Which sheets are inputs and which are outputs, and which Dashboard cells a refresh writes, is declared
once in :mod:`xlcredit.io.workbook` (the refresh runs from the installed package, where this folder is
not); this module only adds the presentation the build needs and re-exports those names.
"""

from __future__ import annotations

from xlcredit.io.workbook import (
    AGEING_BUCKET_ROWS,
    AGEING_TOTAL_ROW,
    BANK_FIRST_ROW,
    BANK_SHEET,
    CONF_SHEET,
    CUSTOMER_FORMULA_ARGS,
    CUSTOMER_FORMULA_COLUMNS,
    DASHBOARD_CELLS,
    DASHBOARD_SHEET,
    INPUT_CELLS,
    INPUT_SHEETS,
    INPUT_TABLES,
    KPI_CELLS,
    OUTPUT_CELLS,
    OUTPUT_SHEETS,
    POLICY_SHEET,
    SHEET_ORDER,
)

__all__ = [
    "AGEING_BUCKET_ROWS",
    "AGEING_TOTAL_ROW",
    "BANK_FIRST_ROW",
    "BANK_SHEET",
    "BUTTONS",
    "BUTTONS_PER_ROW",
    "CODE_NAMES",
    "CONF_ROWS",
    "CONF_SHEET",
    "CUSTOMER_FORMULA_ARGS",
    "CUSTOMER_FORMULA_COLUMNS",
    "CUSTOMER_FORMULA_FORMATS",
    "DASHBOARD_CELLS",
    "DASHBOARD_SHEET",
    "INPUT_CELLS",
    "INPUT_CELL_LABELS",
    "INPUT_SHEETS",
    "INPUT_TABLES",
    "KPI_CELLS",
    "KPI_LABELS",
    "OUTPUT_CELLS",
    "OUTPUT_COLUMNS",
    "OUTPUT_NOTES",
    "OUTPUT_SHEETS",
    "POLICY_SECTIONS",
    "POLICY_SHEET",
    "SHEET_ORDER",
    "TABLE_COLUMNS",
    "TAB_COLORS",
    "policy_help",
]

#: VBA code name of the workbook and of each sheet (the document modules of the VBA project).
WORKBOOK_CODE_NAME = "ThisWorkbook"
CODE_NAMES: dict[str, str] = {
    DASHBOARD_SHEET: "shDashboard",
    "Customers": "shCustomers",
    "Invoices": "shInvoices",
    "Payments": "shPayments",
    "Credit Notes": "shCreditNotes",
    "FX Rates": "shFxRates",
    "Reviews": "shReviews",
    "Promises": "shPromises",
    "Disputes": "shDisputes",
    "Plans": "shPlans",
    "Contacts": "shContacts",
    "Bank": "shBank",
    "Ageing": "shAgeing",
    "Letters": "shLetters",
    "Statements": "shStatements",
    "Review": "shReview",
    "Policy Audit": "shPolicyAudit",
    "Worklist": "shWorklist",
    "Matches": "shMatches",
    POLICY_SHEET: "shPolicy",
    CONF_SHEET: "shConf",
}

TAB_COLORS: dict[str, str] = {
    DASHBOARD_SHEET: "#1F4E78",
    **{t.sheet: "#2E75B6" for t in INPUT_TABLES},
    BANK_SHEET: "#2E75B6",
    **{name: "#548235" for name in OUTPUT_SHEETS},
    POLICY_SHEET: "#7F6000",
    CONF_SHEET: "#7F7F7F",
}

#: Dashboard buttons: caption → VBA macro (in workbook/vba/CreditControl.bas).
BUTTONS: tuple[tuple[str, str], ...] = (
    ("Refresh Ageing", "RefreshAgeing"),
    ("Generate Letters", "GenerateLetters"),
    ("Review Portfolio", "ReviewPortfolio"),
    ("Worklist", "Worklist"),
    ("Statements", "Statements"),
    ("Send", "SendLetters"),
    ("Policy Audit", "PolicyAudit"),
    ("Match Bank", "MatchBank"),
    ("Apply Matches", "ApplyMatches"),
)
#: Buttons per row on the Dashboard (the rest go on a second row below).
BUTTONS_PER_ROW = 5

#: Dashboard key figures: name → (label, number format, what it means).
KPI_LABELS: dict[str, tuple[str, str, str]] = {
    "total_ar": ("Total receivables", "#,##0", "Open invoices less unapplied cash, in the company currency"),
    "overdue_pct": ("Overdue", "0.0%", "Share of the receivables that is past its due date"),
    "dso": ("Days sales outstanding (DSO)", "0.0", "Receivables / credit sales of the last 90 days x 90"),
    "best_dso": ("Best possible DSO (days)", "0.0", "The DSO if every customer paid on the due date"),
    "add": ("Average days delinquent (ADD)", "0.0", "DSO less best possible DSO: days paid late, on average"),
    "cei": ("Collection effectiveness (CEI)", "0.0%", "Share of the collectible amount collected in the last 30 days"),
}

# --------------------------------------------------------------------------- input tables
# Column kinds: "text", "code" (text format @: Excel keeps digits, leading zeros and long numbers as typed), "money"
# (#,##0.00), "amount" (#,##0), "int", "ratio" (0.0), "date", "bool", "rate", "pct" (0.0%)
TABLE_COLUMNS: dict[str, dict[str, tuple[str, float]]] = {
    "customers": {
        "customer_id": ("text", 12), "name": ("text", 38), "country": ("text", 8), "currency": ("text", 9),
        "language": ("text", 9), "rating": ("int", 8), "total_assets": ("amount", 14),
        "total_liabilities": ("amount", 14), "current_assets": ("amount", 14), "inventory": ("amount", 13),
        "current_liabilities": ("amount", 14), "operating_cash_flow": ("amount", 14),
        "retained_earnings": ("amount", 14), "ebit": ("amount", 13), "relationship_start": ("date", 12),
        "annual_volume": ("amount", 14), "first_order": ("amount", 12), "open_orders": ("money", 14),
        "uninvoiced_deliveries": ("money", 14), "bank_guarantee": ("money", 14), "insured_limit": ("amount", 13),
        "insurer": ("text", 30), "reference_check": ("int", 10), "statutory_regime": ("text", 10),
        "email": ("text", 36), "address": ("text", 50), "contact": ("text", 28), "avg_days_late": ("ratio", 10),
        "items_over_90": ("int", 10), "max_days_late": ("int", 10),
    },
    "invoices": {
        "customer_id": ("text", 12), "invoice_no": ("text", 16), "currency": ("text", 9), "amount": ("money", 14),
        "invoice_date": ("date", 12), "due_date": ("date", 12), "terms": ("text", 10), "disputed": ("bool", 9),
    },
    "payments": {
        "payment_id": ("text", 16), "customer_id": ("text", 12), "payment_date": ("date", 13),
        "amount": ("money", 14), "currency": ("text", 9), "invoice_ref": ("text", 16),
        "bank_reference": ("code", 16),   # filled by Apply Matches: a bank transaction is never applied twice
    },
    "credit_notes": {
        "credit_note_no": ("text", 15), "customer_id": ("text", 12), "date": ("date", 12), "amount": ("money", 14),
        "currency": ("text", 9), "invoice_ref": ("text", 16),
    },
    "fx_rates": {"date": ("date", 12), "currency": ("text", 9), "rate": ("rate", 12)},
    "reviews": {"customer_id": ("text", 12), "review_date": ("date", 12), "grade": ("text", 7), "score": ("int", 7),
                "credit_limit": ("amount", 14), "notes": ("text", 44)},
    # the collector's records (columns as xlcredit.io.collector.COLUMNS documents them, ids left to the database)
    "promises": {"customer_id": ("text", 12), "promised_date": ("date", 13), "taken_on": ("date", 12),
                 "invoice_nos": ("text", 24), "amount": ("money", 14), "currency": ("text", 9),
                 "taken_by": ("text", 12), "channel": ("text", 10), "note": ("text", 44)},
    "disputes": {"customer_id": ("text", 12), "invoice_no": ("text", 16), "opened_on": ("date", 12),
                 "reason": ("text", 13), "amount": ("money", 14), "owner": ("text", 12), "note": ("text", 36),
                 "resolved_on": ("date", 12), "resolution": ("text", 12), "outcome": ("text", 36),
                 "credited": ("money", 14)},
    "plans": {"customer_id": ("text", 12), "amount": ("money", 14), "instalments": ("int", 11),
              "first_due": ("date", 12), "agreed_on": ("date", 12), "invoice_nos": ("text", 24),
              "currency": ("text", 9), "months_apart": ("int", 9), "annual_rate": ("pct", 10),
              "owner": ("text", 12), "note": ("text", 44)},
    "contacts": {"customer_id": ("text", 12), "contact_date": ("date", 12), "channel": ("text", 10),
                 "outcome": ("text", 12), "who": ("text", 12), "note": ("text", 50)},
}

#: Customers formula columns: header → (number format, width). They sit right after ``name``.
CUSTOMER_FORMULA_FORMATS: dict[str, tuple[str, float]] = {
    "Score": ("0", 7), "Grade": ("General", 7), "Limit": ("#,##0", 12), "Available": ("#,##0;[Red]-#,##0", 12),
    "Terms": ("General", 15), "Deposit": ("0%", 9), "Stage": ("General", 22), "Next order": ("General", 44),
}

# --------------------------------------------------------------------------- output sheets
#: Columns the build lays out on each output sheet (the refresh may write others; widths follow names).
OUTPUT_COLUMNS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "Ageing": (("customer_id", "text", 12), ("name", "text", 34), ("currency", "text", 9),
               *((label, "money", 13) for label in ("Current", "1-30", "31-60", "61-90", "91-180", "180+")),
               ("open", "money", 13), ("unapplied", "money", 12), ("balance", "money", 14),
               ("disputed", "money", 12), ("interest", "money", 11), ("open_total", "money", 14),
               ("unapplied_cash", "money", 14), ("overdue", "money", 13), ("fx_rate", "rate", 10),
               *((f"{label} EUR", "money", 13) for label in ("Current", "1-30", "31-60", "61-90", "91-180", "180+")),
               ("open_total EUR", "money", 14), ("unapplied_cash EUR", "money", 14), ("balance EUR", "money", 14),
               ("dunning_stage", "text", 22)),
    "Letters": (("id", "int", 7), ("created_at", "datetime", 17), ("customer_id", "text", 12), ("kind", "text", 8),
                ("step_index", "int", 6), ("stage", "text", 24), ("as_of", "date", 11), ("amount", "money", 14),
                ("currency", "text", 9), ("payment_reference", "code", 27), ("invoice_nos", "code", 46),
                ("resend", "int", 10), ("file", "text", 50), ("content_hash", "text", 20), ("created_by", "text", 14)),
    "Review": (("customer_id", "text", 12), ("name", "text", 36), ("grade", "text", 7), ("limit", "money", 14),
               ("exposure", "money", 14), ("utilisation", "pct", 11), ("days_past_due", "int", 11),
               ("warnings", "text", 50), ("next_review", "date", 12)),
    "Statements": (("customer_id", "text", 12), ("name", "text", 34), ("language", "text", 9),
                   ("period_from", "date", 12), ("period_to", "date", 12), ("closing", "text", 30),
                   ("closing_amount", "money", 15), ("currency", "text", 9), ("status", "text", 15),
                   ("pdf_file", "text", 50), ("word_file", "text", 50)),
    "Policy Audit": (("Measure", "text", 44), ("Unit", "text", 14), ("A: current", "text", 16),
                     ("B: compared", "text", 16), ("B − A", "text", 16), ("What the difference means", "text", 70),
                     ("Orders held: A", "text", 12), ("Orders held: B", "text", 12)),
    "Matches": (("accept", "bool", 8), ("bank_reference", "code", 14), ("date", "date", 11), ("amount", "money", 13),
                ("currency", "text", 9), ("payer", "text", 30), ("customer_id", "code", 12), ("invoices", "code", 30),
                ("confidence", "pct", 11), ("status", "text", 11), ("reason", "text", 60), ("source", "text", 24)),
    "Worklist": (("rank", "int", 6), ("customer_id", "text", 12), ("name", "text", 34), ("priority", "int", 9),
                 ("next_action", "text", 36), ("next_action_date", "date", 15), ("overdue", "money", 14),
                 ("currency", "text", 9), ("reason_1", "text", 36), ("reason_2", "text", 36), ("reason_3", "text", 36),
                 ("owner", "text", 12), ("stage", "text", 22), ("days_past_due", "int", 11),
                 ("on_hold", "text", 9), ("promises_kept", "int", 9), ("promises_broken", "int", 9),
                 ("disputes_open", "int", 9), ("plan", "text", 24), ("last_contact", "text", 30)),
}
#: Output sheets whose print shows only their first columns, one page wide (the rest stays on the screen): the
#: Worklist prints who, how urgent, what to do and when, how much and the first reason; the Letters sheet each letter
#: up to its payment reference and invoices (not its file path, hash and who).
PRINT_COLUMNS: dict[str, int] = {"Worklist": 9, "Letters": 11}
#: What an output sheet shows before its first run (replaced by the first refresh).
OUTPUT_NOTES: dict[str, str] = {
    "Ageing": "Press Refresh Ageing on the Dashboard (or run: xlcredit refresh CreditControl.xlsm).",
    "Letters": "No letters yet: press Generate Letters on the Dashboard (or run: xlcredit letters).",
    "Review": "No review yet: press Review Portfolio on the Dashboard (or run: xlcredit review).",
    "Worklist": "No worklist yet: press Worklist on the Dashboard (or run: xlcredit worklist).",
    "Policy Audit": "No audit yet: press Policy Audit on the Dashboard (or run: xlcredit audit --from … --to … "
                    "--against strict).",
    "Matches": "No matches yet: paste a bank export into the Bank sheet (or name a statement file there) and press "
               "Match Bank on the Dashboard.",
    "Statements": "No statements yet: press Statements on the Dashboard (or run: xlcredit statements --from … --to …).",
}

#: The cells a user fills in (:data:`INPUT_CELLS`): (sheet, name) → (label, what a blank means / how to fill it).
INPUT_CELL_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("Statements", "from"): ("Statement from", "First day of the period (blank: the first day of last month)"),
    ("Statements", "to"): ("Statement to", "Last day of the period (blank: the last day of last month)"),
    ("Statements", "customer"): ("Customer", "Only this customer's statement (its ID); blank: every customer with a "
                                 "balance or activity in the period"),
    ("Policy Audit", "against"): ("Compare against", "Policy B: strict (the stricter example shipped with xlcredit) "
                                  "or a policy .toml file; blank: this workbook's policy alone"),
    (BANK_SHEET, "file"): ("Statement file", "A CAMT.053/054 .xml, MT940 or CSV statement to match (a name alone is "
                           "looked for beside this workbook); blank: the export pasted below"),
    ("Policy Audit", "from"): ("Audit from", "First day of the period (blank: the 12 month ends up to today)"),
    ("Policy Audit", "to"): ("Audit to", "Last day of the period (blank: the last month end up to today)"),
}

# --------------------------------------------------------------------------- Policy sheet
#: Section titles of the Policy sheet (a row "# <title>" before each section; the reader skips it).
POLICY_SECTIONS: dict[str, str] = {
    "company": "Company", "grades": "Grades (score cut-offs)", "limits": "Credit limits", "terms": "Payment terms",
    "deposit": "Deposits and prepayment", "discount": "Early-payment discount", "late": "Late payment",
    "ageing": "Ageing", "insurance": "Credit insurance", "review": "Reviews and early warnings",
    "provision": "Bad-debt provision", "score": "Scorecard factors", "dunning": "Dunning ladder",
    "forecast": "Cash forecast", "collections": "Promises, disputes and payment plans",
    "worklist": "Worklist priorities (points per reason)",
    "send": "Sending letters and statements by e-mail",
}
_SCORE_LEAF_HELP = {
    "bins": "threshold:points pairs, best first",
    "higher_is_better": "TRUE if a higher value earns more points",
    "missing": "points when the value is blank",
    "floor": "points when the value is beyond every bin",
    "enabled": "FALSE leaves this factor out of the score",
}
_DUNNING_LEAF_HELP = {
    "days": "days past due at which this step starts",
    "name": "name of the step, shown by DUNNING_STAGE",
    "letter": "letter template sent at this step (blank: no letter)",
    "action": "what the credit controller does (blank: nothing)",
    "stop_orders": "TRUE stops new orders from this step on",
}


def policy_help(key: str, helps: dict[str, str]) -> str:
    """One-line help for a dotted policy key (the Policy sheet's third column)."""
    if key in helps:
        return helps[key]
    parts = key.split(".")
    if parts[0] == "score" and len(parts) == 3:
        return f"{parts[1].replace('_', ' ')}: {_SCORE_LEAF_HELP.get(parts[2], '')}"
    if parts[0] == "dunning" and len(parts) == 3:
        return f"step {parts[1].removeprefix('step')}: {_DUNNING_LEAF_HELP.get(parts[2], '')}"
    return ""


# --------------------------------------------------------------------------- xlwings.conf
#: The xlwings.conf sheet: (key, value, note). xlwings reads A1 down to the first blank row, keys in A,
#: values in B (``xlwings.bas: GetConfigFromSheet``); the notes in C are for people.
CONF_ROWS: tuple[tuple[str, object, str], ...] = (
    ("Interpreter_Win", None, "Python on Windows, e.g. C:\\xlcredit\\.venv\\Scripts\\pythonw.exe "
     "(blank: python on the PATH; delete the row to use the xlwings add-in's setting)"),
    ("Interpreter_Mac", None, "Python on a Mac, e.g. /Users/me/xlcredit/.venv/bin/python "
     "(blank: python on the PATH; delete the row to use the xlwings add-in's setting)"),
    ("PYTHONPATH", None, "Folder holding the xlcredit project when it is not installed "
     "into that Python (the udfs and xlcredit packages)"),
    ("UDF Modules", "udfs.functions", "Python module of the formulas CREDIT_SCORE, CREDIT_LIMIT, ..."),
    ("Debug UDFs", False, "TRUE only while debugging the formulas from a Python editor"),
    ("XLCREDIT_DB", None, "Credit database file or URL (blank: CreditControl.credit.db beside this workbook)"),
    ("XLCREDIT_SERVER_URL", None, "Team credit service URL, e.g. https://credit.example.com: every formula then "
     "computes on the service with the team's policy and results (blank: work on this computer)"),
    ("XLCREDIT_API_KEY", None, "API key for the team credit service (a read key is enough for the formulas)"),
    ("XLCREDIT_SERVER_TIMEOUT", None, "Seconds a formula waits for the team service (blank: 5); then the cell "
     "shows #XLC! server: ..."),
)
