"""The jobs a user starts — one module each, the same function behind the button, the command and the service.

A job is a function over a *book* of tables (:mod:`xlcredit.jobs.book`), an ``as_of`` date and a base
policy (the book's Policy sheet overrides it); it returns an outcome holding its results and the problems
it found (bad rows are reported, the good ones still processed). The Excel macros (:mod:`xlcredit.excel`),
the command line (:mod:`xlcredit.cli`) and the service (:mod:`xlcredit.service`) only choose the book and
show the outcome.

* :mod:`xlcredit.jobs.refresh` — Refresh Ageing: score, limit, age, dun; load the credit database; Ageing
  sheet and Dashboard.
* :mod:`xlcredit.jobs.review` — Review Portfolio: reviews due, early warnings, insurance, IFRS 9, forecast.
* :mod:`xlcredit.jobs.letters` — Generate Letters: letters, action list and the collection register.

A new job goes in a new module here: a function ``job(book, as_of, *, store=None, base_policy=None, …)``
returning a frozen outcome dataclass with ``problems``; then a command in :mod:`xlcredit.cli`, a macro in
:mod:`xlcredit.excel` and, if the team needs it, an endpoint in :mod:`xlcredit.service`.
"""
