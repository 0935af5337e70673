"""The fast path: the same rules as the exact ``Decimal`` modules of :mod:`xlcredit.core`, vectorised.

The ``Decimal`` modules (``openitems``, ``ageing``, ``interest``, ``history``, ``forecast``, ``kpis``, …) are
the **specification**: one record at a time, exact, easy to read against the policy. The modules here apply
the same rules to whole numpy columns (money as int64 minor units, dates as int32 day numbers) for ledgers
of millions of rows. Each module's docstring names the reference functions it mirrors and its rounding
rule; ``tests/test_fast_matches_reference.py`` holds the two paths equal to the cent on random ledgers.
A change of rule is made in the reference first, then here.

* :mod:`xlcredit.core.fast.ageing` — allocation, open items, ageing buckets, late interest.
* :mod:`xlcredit.core.fast.compiled` — the ageing kernel compiled with numba (the same answers as ``ageing``'s
  numpy kernel; imported only when chosen, so the core imports without numba).
* :mod:`xlcredit.core.fast.monitoring` — settlement slices, payment histories, trends, roll-rate balances,
  cash forecast.
"""
