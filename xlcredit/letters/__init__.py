"""Dunning letters: content from the open items, templates, .docx/.pdf rendering.

* :mod:`xlcredit.letters.content` — what a letter says (statement of account, late charges) and the
  action-list rows (pure);
* :mod:`xlcredit.letters.render` — templates → words → .docx (python-docx) and .pdf (reportlab), the letter's own
  RF payment reference and EPC QR code, the PDF styles statements share;
* :mod:`xlcredit.letters.statement` — statements of account (with a customer's payment plan) in words and files;
* :mod:`xlcredit.letters.check` — a written .docx/.pdf reopened and read back before it is registered;
* :mod:`xlcredit.letters.filenames` — safe file names from customer data.

The Generate Letters job that writes them (crash-safe, with the collection register) is
:mod:`xlcredit.jobs.letters`.
"""
