Attribute VB_Name = "CreditControl"
'xlcredit - the Dashboard buttons of CreditControl.xlsm.
'Each button runs one job of the Python engine through xlwings (RunPython, in the xlwings module).
'The same jobs run without Excel from the command line: xlcredit refresh | letters | review | worklist | statements | send | audit | match.
'Source: workbook/vba/CreditControl.bas, built into the workbook by workbook/build.py.
Option Explicit

Public Sub RefreshAgeing()
    'Load Customers, Invoices, Payments and the Policy into the credit database, age the open items,
    'fill the Ageing sheet and the Dashboard figures, then recalculate the formulas.
    RunPython "import xlcredit.excel as x; x.refresh_ageing()"
End Sub

Public Sub GenerateLetters()
    'Write the dunning letters due at today's stage of the ladder and list them on the Letters sheet.
    RunPython "import xlcredit.excel as x; x.generate_letters()"
End Sub

Public Sub ReviewPortfolio()
    'Review every customer's grade, limit and payment behaviour; list the findings on the Review sheet.
    RunPython "import xlcredit.excel as x; x.review_portfolio()"
End Sub

Public Sub Worklist()
    'Rank the customers to call today (promises, disputes, plans and contacts count) on the Worklist sheet.
    RunPython "import xlcredit.excel as x; x.worklist()"
End Sub

Public Sub Statements()
    'Write the statements of account for the period on the Statements sheet (blank: last month) into the
    'Letters folder beside the workbook, and list them on the Statements sheet.
    RunPython "import xlcredit.excel as x; x.generate_statements()"
End Sub

Public Sub SendLetters()
    'E-mail the letters and statements of the Letters folder not sent yet (mail server: the Policy sheet's
    'sending settings; password: the XLCREDIT_SMTP_PASSWORD environment variable). No mail server: .eml drafts.
    RunPython "import xlcredit.excel as x; x.send_letters()"
End Sub

Public Sub PolicyAudit()
    'Replay the ledger month end by month end under this workbook's policy and the one named in Compare against
    '(strict or a .toml file); write both columns, what each difference means and the months on Policy Audit.
    RunPython "import xlcredit.excel as x; x.policy_audit()"
End Sub

Public Sub MatchBank()
    'Match the bank statement of the Bank sheet (pasted, or the file it names) to the open invoices; list the
    'proposals on the Matches sheet, the confident ones ticked in its Accept column.
    RunPython "import xlcredit.excel as x; x.match_bank()"
End Sub

Public Sub ApplyMatches()
    'Append the matches ticked on the Matches sheet to the Payments table (never twice: by bank reference).
    RunPython "import xlcredit.excel as x; x.apply_bank_matches()"
End Sub
