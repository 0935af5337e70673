"""Dunning letters: content from the open items, templates, .docx/.pdf rendering.

* :mod:`xlcredit.letters.content` — what a letter says (statement of account, late charges) and the
  action-list rows (pure);
* :mod:`xlcredit.letters.render` — templates → words → .docx (python-docx) and .pdf (reportlab);
* :mod:`xlcredit.letters.filenames` — safe file names from customer data.

The Generate Letters job that writes them (crash-safe, with the collection register) is
:mod:`xlcredit.jobs.letters`.
"""
