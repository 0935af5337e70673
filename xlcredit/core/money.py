"""Exact money: ``Decimal`` amounts, one rounding rule per currency.

Rounding rule (the only one in xlcredit): amounts are rounded **half up** (away from zero on
exact halves, as commercial invoices and statutory interest calculators do) to the currency's
minor unit — 2 decimals for most currencies, 0 for JPY/KRW and the like, 3 for BHD/KWD/OMR/TND/JOD.
Intermediate results (interest per slice, shares of a limit) are kept exact and rounded once at
the end of each reported figure. Bulk paths carry integer minor units (``int64``) instead.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from xlcredit.core.errors import XlcError, describe

ZERO = Decimal(0)
#: Every number entering xlcredit is below this in size (a typing slip or an attack above it, never an amount).
MAX_AMOUNT = Decimal(10) ** 15
#: ... and has at most this many significant digits.
MAX_DIGITS = 40

# ISO 4217 minor units for currencies that do not use 2 decimals.
_MINOR_UNITS: dict[str, int] = {
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "UGX": 0, "XOF": 0, "XAF": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JOD": 3, "IQD": 3, "LYD": 3,
}


#: ISO 4217 currency codes accepted (the active list of 2025, plus HRK for ledgers from before the euro in
#: Croatia; the funds, precious-metal and test codes XTS/XXX are left out).
_ISO_4217_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED
VES VND VUV WST XAF XCD XCG XDR XOF XPF YER ZAR ZMW ZWG ZWL
"""
ISO_4217: frozenset[str] = frozenset(_ISO_4217_CODES.split())


def currency_code(value: Any, field: str = "currency") -> str:
    """A currency as its ISO 4217 code (upper case); anything else (``XYZ``, ``EURO``) is refused naming ``field``."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if text not in ISO_4217:
        raise XlcError(field, f"is not an ISO 4217 currency code like EUR (got {describe(value)})", value)
    return text


def minor_units(currency: str) -> int:
    """Number of decimals of the currency's minor unit (ISO 4217; 2 unless listed)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    """The smallest amount of the currency, e.g. ``Decimal('0.01')``."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str = "EUR") -> Decimal:
    """Round half up to the currency's minor unit (the documented rounding rule)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def round_down(amount: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of ``step`` (used for credit limits)."""
    if step <= 0:
        return amount
    return (amount / step).to_integral_value(rounding=ROUND_FLOOR) * step


def to_minor(amount: Decimal, currency: str = "EUR") -> int:
    """Exact amount → integer minor units (rounded by the rule first)."""
    return int(round_money(amount, currency).scaleb(minor_units(currency)))


def from_minor(units: int, currency: str = "EUR") -> Decimal:
    """Integer minor units → Decimal amount."""
    return Decimal(int(units)).scaleb(-minor_units(currency))


def to_decimal(value: Any, field: str, *, allow_negative: bool = True,
               allow_none: bool = False) -> Decimal | None:
    """Parse a money/number input into ``Decimal`` or raise :class:`XlcError` naming ``field``.

    Accepts ints, Decimals, floats (through their shortest repr, so ``0.1`` is ``0.1``) and
    numeric text with optional thousands separators (``"1,234.50"``). Empty → error unless
    ``allow_none``. Infinite values, NaN, sizes of :data:`MAX_AMOUNT` (10^15) or more and more than
    :data:`MAX_DIGITS` significant digits are refused.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise XlcError(field, "is empty", value)
    if isinstance(value, bool):
        raise XlcError(field, f"is not a number (got {describe(value)})", value)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if math.isnan(value):
            if allow_none:
                return None
            raise XlcError(field, "is empty", value)
        if math.isinf(value):
            raise XlcError(field, f"is not a finite number (got {value})", value)
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "").replace(" ", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise XlcError(field, f"is not a number (got {describe(value)})", value) from None
    else:
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise XlcError(field, f"is not a number (got {describe(value)})", value) from None
    if not result.is_finite():
        raise XlcError(field, f"is not a finite number (got {describe(value)})", value)
    if result and result.adjusted() >= 15:
        raise XlcError(field, f"is out of range: numbers must be below 10^15 in size (got {describe(value)})", value)
    if len(result.as_tuple().digits) > MAX_DIGITS:
        raise XlcError(field, f"has too many digits: at most {MAX_DIGITS} (got {describe(value)})", value)
    if not allow_negative and result < 0:
        raise XlcError(field, f"must not be negative (got {result})", value)
    return result


def money(value: Any, field: str, currency: str = "EUR", *, allow_negative: bool = True) -> Decimal:
    """Parse and round an amount of money (half up to the currency's minor unit)."""
    parsed = to_decimal(value, field, allow_negative=allow_negative)
    assert parsed is not None
    return round_money(parsed, currency)


def convert_parts(parts: list[Decimal] | tuple[Decimal, ...], rate: Decimal, currency: str) -> list[Decimal]:
    """Amounts that make up one total, converted at ``rate`` into ``currency`` so that they still add up.

    The total is converted once and rounded half up (the documented rule); the parts are that total
    shared out by the largest-remainder method: each part's exact value rounded down to the minor unit,
    and the cents left over go to the parts with the largest remainders (the earlier part on a tie). So a
    converted ageing's buckets add up to the converted open total whichever way it was bucketed.
    """
    q = quantum(currency)
    exact = [p * rate for p in parts]
    total = round_money(sum(parts, ZERO) * rate, currency)
    floors = [(e / q).to_integral_value(rounding=ROUND_FLOOR) * q for e in exact]
    left = int((total - sum(floors, ZERO)) / q)
    for i in sorted(range(len(parts)), key=lambda j: (-(exact[j] - floors[j]), j))[:left]:
        floors[i] += q
    return [f.quantize(q) for f in floors]
