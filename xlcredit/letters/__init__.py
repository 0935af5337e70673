"""Dunning letters: content from the open items, templates, .docx/.pdf rendering, the letters job.

* :mod:`xlcredit.letters.content` — what a letter says (statement of account, late charges) and the
  action-list rows (pure);
* :mod:`xlcredit.letters.render` — templates → words → .docx (python-docx) and .pdf (reportlab);
* :mod:`xlcredit.letters.filenames` — safe file names from customer data;
* :mod:`xlcredit.letters.job` — the Generate Letters job: crash-safe writing and the collection register.
"""
