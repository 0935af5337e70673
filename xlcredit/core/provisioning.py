"""Bad-debt provision under IFRS 9's simplified approach: a provision matrix of loss rates per ageing
bucket, loss rates from the ledger's own history (roll rates), and the expected credit loss (ECL).

**Provision matrix** (IFRS 9 B5.5.35, Illustrative Example 12, IE74–IE77): the trade receivables are
grouped by days past due; each group gets a loss rate; the lifetime ECL allowance of a group is its
gross carrying amount × its rate. :func:`provision_matrix` takes the rates as given (e.g. from the
Policy sheet or an auditor's file); :func:`matrix_from_roll_rates` derives them from history.

**Loss rates from roll rates** (the "roll rate" or "flow" model of the bank supervisors' handbooks,
e.g. the OCC Comptroller's Handbook, *Retail Lending*: balances stratified by days past due; the
share of each bucket that rolls into the next one a period later; the rates chained through to
charge-off). :func:`roll_rate_loss_rates` takes bucket balances at successive dates one period
apart, where a period equals the width of the buckets (e.g. every 30 days with 30-day buckets), so
that an unpaid amount in bucket *k* is found in bucket *k + 1* one period later:

* roll rate of bucket *k* = Σ balance in *k + 1* at the later dates ÷ Σ balance in *k* at the earlier
  dates (pooled over every pair of consecutive dates, so large months weigh more than quiet ones),
  capped at 1;
* the last bucket is the write-off bucket: what reaches it is lost (``terminal_loss``, 100 % unless
  told otherwise — no recoveries are assumed). Its balance must be what **entered** it during the
  period (a charge-off flow, or the first period-wide slice beyond the write-off point), not the stock
  accumulated there: money that sits in it for months would otherwise be counted again every period;
* loss rate of bucket *k* = roll rate *k* × loss rate of bucket *k + 1*: the share of today's amount
  in bucket *k* expected to reach write-off. Loss rates therefore never fall as the age rises.
* A bucket that never held a balance in the history has no observable roll rate; it is assumed to
  roll on in full (rate 1) and the result says so (``notes``).

The report's buckets are often wider than the roll buckets (policy "91-180" is three 30-day roll
buckets): :func:`matrix_from_roll_rates` takes for each report bucket the average loss rate of its
roll buckets weighted by today's balances in them, then applies the **forward-looking factor**
(``provision.forward_factor``, IFRS 9 B5.5.52: adjust historical rates for current conditions and
forecasts; 1 = history as it is), capped at 100 %.

**Rounding.** Rates are fractions (``Decimal``) with ``places`` decimals (6 by default, i.e. to
0.0001 %). Every ECL figure is gross × rate rounded half up to the currency's minor unit **per customer
and bucket**; bucket totals, customer totals and the grand total are sums of those, so the report
adds up to the cent in every direction. The bulk path (:func:`ecl_minor`) does the same in int64
minor units with exact integer arithmetic.

Trade-credit insurance is not deducted: an insurance policy bought separately is not part of the
receivable's contractual terms (IFRS 9 B5.5.55), so its expected indemnity is shown by the insurance
report, not netted here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from xlcredit.core.coerce import to_rate
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import ZERO, round_money, to_decimal

ONE = Decimal(1)
DEFAULT_PLACES = 6

__all__ = [
    "CustomerProvision",
    "EclLine",
    "EclResult",
    "ProvisionMatrix",
    "ProvisionReport",
    "RollRateResult",
    "ecl_minor",
    "expected_credit_loss",
    "matrix_from_roll_rates",
    "provision_matrix",
    "provision_report",
    "roll_rate_loss_rates",
]


# --------------------------------------------------------------------------- input helpers
def _labels(labels: Sequence[Any], field: str = "labels") -> tuple[str, ...]:
    if isinstance(labels, str):
        raise XlcError(field, f"must be a list of bucket names (got {describe(labels)})", labels)
    out = tuple(str(label).strip() for label in labels)
    if not out:
        raise XlcError(field, "is empty: give at least one ageing bucket", labels)
    for i, label in enumerate(out):
        if not label:
            raise XlcError(f"{field}[{i}]", "is empty", labels[i])
        if label in out[:i]:
            raise XlcError(field, f"name {label!r} twice", label)
    return out


def _factor(value: Any) -> Decimal:
    factor = to_decimal(value, "forward_factor", allow_negative=False)
    assert factor is not None
    return factor


def _amount(value: Any, field: str) -> Decimal:
    amount = to_decimal(value, field, allow_negative=False)
    assert amount is not None
    return amount


def _quantize(rate: Decimal, places: int) -> Decimal:
    return rate.quantize(ONE.scaleb(-places), rounding=ROUND_HALF_UP)


def _places(places: Any) -> int:
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= 12:
        raise XlcError("places", f"must be a whole number from 0 to 12 (got {describe(places)})", places)
    return places


# --------------------------------------------------------------------------- the matrix
@dataclass(frozen=True)
class ProvisionMatrix:
    """Loss rate per ageing bucket (fractions: 0.016 = 1.6 %), as applied to the receivables.

    ``historical`` are the rates before the forward-looking factor; ``loss_rates`` = historical ×
    ``forward_factor``, capped at 1. ``source`` says where the historical rates came from.
    """

    labels: tuple[str, ...]
    loss_rates: tuple[Decimal, ...]
    historical: tuple[Decimal, ...]
    forward_factor: Decimal
    source: str = "given"

    def rate(self, label: str) -> Decimal:
        """The applied loss rate of one bucket."""
        try:
            return self.loss_rates[self.labels.index(label)]
        except ValueError:
            raise XlcError("bucket", f"is not a bucket of the provision matrix ({', '.join(self.labels)}); "
                           f"got {describe(label)}", label) from None


def provision_matrix(labels: Sequence[Any], loss_rates: Sequence[Any], forward_factor: Any = ONE, *,
                     source: str = "given", places: int | None = None) -> ProvisionMatrix:
    """A provision matrix from loss rates per bucket (fractions), with the forward-looking factor applied.

    ``places``: round the applied rates half up to so many decimals (None = keep them as computed).
    """
    names = _labels(labels)
    given = list(loss_rates)
    if len(given) != len(names):
        raise XlcError("loss_rates", f"give one rate per bucket: {len(names)} buckets, {len(given)} rates",
                       loss_rates)
    rates = tuple(to_rate(r, f"loss_rates[{name}]", example="1.6 % is 0.016")
                  for name, r in zip(names, given, strict=True))
    factor = _factor(forward_factor)
    applied = tuple(min(r * factor, ONE) for r in rates)
    if places is not None:
        applied = tuple(_quantize(r, _places(places)) for r in applied)
    return ProvisionMatrix(names, applied, rates, factor, source)


# --------------------------------------------------------------------------- expected credit loss
@dataclass(frozen=True)
class EclLine:
    """One bucket of the provision: gross carrying amount, loss rate, lifetime ECL allowance."""

    label: str
    gross: Decimal
    loss_rate: Decimal
    ecl: Decimal


@dataclass(frozen=True)
class EclResult:
    """The provision over one set of bucket balances: a line per bucket and the totals."""

    currency: str
    lines: tuple[EclLine, ...]
    gross: Decimal
    ecl: Decimal

    @property
    def coverage(self) -> Decimal | None:
        """ECL as a share of the gross amount (None when there is nothing)."""
        return None if self.gross == 0 else self.ecl / self.gross


def _balances(matrix: ProvisionMatrix, balances: Mapping[str, Any] | Sequence[Any], field: str) -> list[Decimal]:
    if isinstance(balances, Mapping):
        unknown = [k for k in balances if str(k) not in matrix.labels]
        if unknown:
            raise XlcError(f"{field}[{unknown[0]}]", f"is not a bucket of the provision matrix "
                           f"({', '.join(matrix.labels)})", unknown[0])
        keyed = {str(k): v for k, v in balances.items()}
        return [ZERO if keyed.get(label) is None else _amount(keyed[label], f"{field}[{label}]")
                for label in matrix.labels]
    values = list(balances)
    if len(values) != len(matrix.labels):
        raise XlcError(field, f"give one amount per bucket: {len(matrix.labels)} buckets, {len(values)} amounts",
                       balances)
    return [_amount(v, f"{field}[{label}]") for label, v in zip(matrix.labels, values, strict=True)]


def expected_credit_loss(matrix: ProvisionMatrix, balances: Mapping[str, Any] | Sequence[Any],
                         currency: str = "EUR") -> EclResult:
    """Lifetime ECL allowance per bucket: gross carrying amount × loss rate, rounded half up per bucket.

    ``balances``: the gross carrying amounts per bucket, as ``{label: amount}`` (missing buckets are
    0) or a sequence in the matrix's bucket order.
    """
    gross = _balances(matrix, balances, "balances")
    lines = tuple(EclLine(label, g, rate, round_money(g * rate, currency))
                  for label, g, rate in zip(matrix.labels, gross, matrix.loss_rates, strict=True))
    return EclResult(currency, lines, sum((ln.gross for ln in lines), ZERO), sum((ln.ecl for ln in lines), ZERO))


@dataclass(frozen=True)
class CustomerProvision:
    """One customer's share of the provision: gross and ECL per bucket (matrix order) and totals."""

    customer_id: str
    gross: tuple[Decimal, ...]
    ecl: tuple[Decimal, ...]
    total_gross: Decimal
    total_ecl: Decimal


@dataclass(frozen=True)
class ProvisionReport:
    """The provision report: the matrix, each customer's ECL, and the totals per bucket (sums of customers)."""

    matrix: ProvisionMatrix
    currency: str
    customers: tuple[CustomerProvision, ...]
    by_bucket: EclResult

    @property
    def total_ecl(self) -> Decimal:
        return self.by_bucket.ecl

    @property
    def total_gross(self) -> Decimal:
        return self.by_bucket.gross


def provision_report(matrix: ProvisionMatrix, balances: Mapping[str, Mapping[str, Any] | Sequence[Any]],
                     currency: str = "EUR") -> ProvisionReport:
    """ECL per customer and bucket (rounded per customer and bucket) and the bucket totals (their sums).

    ``balances``: ``{customer_id: {bucket: gross amount}}`` (or a sequence in bucket order), all in
    ``currency`` (the company currency: convert foreign-currency items first).
    """
    k = len(matrix.labels)
    sums_gross = [ZERO] * k
    sums_ecl = [ZERO] * k
    customers = []
    for cid, row in balances.items():
        gross = _balances(matrix, row, f"balances[{cid}]")
        ecl = [round_money(g * r, currency) for g, r in zip(gross, matrix.loss_rates, strict=True)]
        for j in range(k):
            sums_gross[j] += gross[j]
            sums_ecl[j] += ecl[j]
        customers.append(CustomerProvision(str(cid), tuple(gross), tuple(ecl), sum(gross, ZERO), sum(ecl, ZERO)))
    lines = tuple(EclLine(label, g, r, e) for label, g, r, e in
                  zip(matrix.labels, sums_gross, matrix.loss_rates, sums_ecl, strict=True))
    total = EclResult(currency, lines, sum(sums_gross, ZERO), sum(sums_ecl, ZERO))
    return ProvisionReport(matrix, currency, tuple(customers), total)


def ecl_minor(balances_minor: Any, loss_rates: Sequence[Any]) -> np.ndarray:
    """Bulk ECL in int64 minor units: each cell of an (n × buckets) balance array × its bucket's rate.

    Rounded half up per cell with exact integer arithmetic (the rate taken as a fraction), like
    :func:`provision_report` does per customer and bucket. Balances must not be negative.
    """
    from xlcredit.core.fast.ageing import interest_minor

    arr = np.asarray(balances_minor)
    if arr.ndim != 2 or arr.dtype.kind not in "iu":
        raise XlcError("balances_minor", f"must be a 2-D array of integer minor units (got {arr.ndim}-D "
                       f"{arr.dtype})", arr.dtype)
    rates = [to_rate(r, f"loss_rates[{j}]", example="1.6 % is 0.016") for j, r in enumerate(loss_rates)]
    if len(rates) != arr.shape[1]:
        raise XlcError("loss_rates", f"give one rate per bucket: {arr.shape[1]} buckets, {len(rates)} rates",
                       loss_rates)
    out = np.zeros(arr.shape, np.int64)
    ones = np.ones(arr.shape[0], np.int64)
    for j, rate in enumerate(rates):
        out[:, j] = interest_minor(arr[:, j].astype(np.int64), ones, Fraction(rate), 1)
    return out


# --------------------------------------------------------------------------- roll rates
@dataclass(frozen=True)
class RollRateResult:
    """Roll rates and loss rates of a chain of ageing buckets (the last one is the write-off bucket).

    ``roll_rates[k]``: share of bucket k found in bucket k + 1 one period later (None = bucket k
    never held a balance; taken as 1). ``loss_rates[k]``: share of bucket k expected to be written
    off (roll rates chained to the last bucket × ``terminal_loss``). ``periods``: pairs of dates
    used. ``flows``/``bases``: the pooled numerators and denominators, for the audit trail.
    """

    labels: tuple[str, ...]
    roll_rates: tuple[Decimal | None, ...]
    loss_rates: tuple[Decimal, ...]
    periods: int
    flows: tuple[Decimal, ...]
    bases: tuple[Decimal, ...]
    terminal_loss: Decimal
    notes: tuple[str, ...]


def roll_rate_loss_rates(snapshots: Sequence[Sequence[Any]], labels: Sequence[Any], *,
                         terminal_loss: Any = ONE, places: int = DEFAULT_PLACES) -> RollRateResult:
    """Loss rates per bucket from bucket balances at successive dates, oldest first, one period apart.

    Each snapshot gives the balance of every bucket of ``labels`` (youngest first, the write-off
    bucket last — its entries during the period, not its stock). See the module docstring for the
    method. Loss rates are rounded half up to ``places`` decimals; the chaining itself is exact.
    """
    names = _labels(labels)
    k = len(names)
    if k < 2:
        raise XlcError("labels", "need at least two buckets: the roll runs from one bucket into the next", labels)
    places = _places(places)
    terminal = to_rate(terminal_loss, "terminal_loss", example="1.6 % is 0.016")
    rows: list[list[Decimal]] = []
    for t, snap in enumerate(snapshots):
        values = list(snap)
        if len(values) != k:
            raise XlcError(f"snapshots[{t}]", f"give one balance per bucket: {k} buckets, {len(values)} amounts",
                           snap)
        rows.append([_amount(v, f"snapshots[{t}][{name}]") for name, v in zip(names, values, strict=True)])
    if len(rows) < 2:
        raise XlcError("snapshots", f"need balances at two dates or more to see a roll (got {len(rows)})", len(rows))
    flows = [sum((rows[t + 1][j + 1] for t in range(len(rows) - 1)), ZERO) for j in range(k - 1)]
    bases = [sum((rows[t][j] for t in range(len(rows) - 1)), ZERO) for j in range(k - 1)]
    roll: list[Decimal | None] = []
    notes: list[str] = []
    for j in range(k - 1):
        if bases[j] == 0:
            roll.append(None)
            notes.append(f"{names[j]}: no balance in the history; assumed to roll on in full")
            continue
        rate = flows[j] / bases[j]
        if rate > ONE:
            notes.append(f"{names[j]}: more arrived in {names[j + 1]} than was in {names[j]} "
                         f"({flows[j]} vs {bases[j]}); roll rate capped at 100 %")
            rate = ONE
        roll.append(rate)
    exact = [ZERO] * k
    exact[k - 1] = terminal
    for j in range(k - 2, -1, -1):
        r = roll[j]
        exact[j] = (ONE if r is None else r) * exact[j + 1]
    return RollRateResult(
        labels=names,
        roll_rates=tuple(None if r is None else _quantize(r, places) for r in roll),
        loss_rates=tuple(_quantize(x, places) for x in exact),
        periods=len(rows) - 1, flows=tuple(flows), bases=tuple(bases), terminal_loss=terminal, notes=tuple(notes),
    )


def matrix_from_roll_rates(result: RollRateResult, labels: Sequence[Any], groups: Sequence[Sequence[int]],
                           weights: Sequence[Any] | None = None, forward_factor: Any = ONE, *,
                           places: int = DEFAULT_PLACES) -> ProvisionMatrix:
    """A provision matrix for the report buckets ``labels`` from the roll buckets' loss rates.

    ``groups[i]`` lists the roll buckets (indices into ``result.labels``) that make up report bucket
    i; its historical rate is their loss rates averaged with ``weights`` (today's balance in each
    roll bucket; a plain average when the group holds nothing today or no weights are given). The
    forward-looking factor is then applied and the rate capped at 1 and rounded to ``places``.
    """
    names = _labels(labels)
    places = _places(places)
    if len(groups) != len(names):
        raise XlcError("groups", f"give the roll buckets of each report bucket: {len(names)} buckets, "
                       f"{len(groups)} groups", groups)
    n = len(result.labels)
    w = [ONE] * n if weights is None else [_amount(v, f"weights[{i}]") for i, v in enumerate(weights)]
    if len(w) != n:
        raise XlcError("weights", f"give one weight per roll bucket: {n} buckets, {len(w)} weights", weights)
    historical = []
    for name, group in zip(names, groups, strict=True):
        members = list(group)
        if not members or any(not isinstance(j, int) or not 0 <= j < n for j in members):
            raise XlcError(f"groups[{name}]", f"must list roll buckets 0..{n - 1} (got {describe(members)})", group)
        total = sum((w[j] for j in members), ZERO)
        if total > 0:
            rate = sum((w[j] * result.loss_rates[j] for j in members), ZERO) / total
        else:
            rate = sum((result.loss_rates[j] for j in members), ZERO) / len(members)
        historical.append(_quantize(rate, places))
    source = f"roll rates over {result.periods} period{'' if result.periods == 1 else 's'}"
    return provision_matrix(names, historical, forward_factor, source=source, places=places)
