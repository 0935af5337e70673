#!/usr/bin/env python3
"""Generate the bundled sample book (``xlcredit/data/sample/*.csv``) — deterministically.

Usage::

    .venv/bin/python scripts/make_sample.py            # rewrite xlcredit/data/sample/
    .venv/bin/python scripts/make_sample.py --out DIR  # write somewhere else (tests do this)

Running it twice gives byte-identical files: every random draw comes from ``random.Random(seed)``
(string seeds per customer and purpose) and only through ``random()``, the one method whose
sequence Python guarantees across versions; amounts are rounded with Decimal, never printed floats.

What the sample contains (all invented: names, people, addresses, ``.example`` e-mail domains):
60 customers in 10 countries (CN/CNY in Chinese, DE/FR/NL/IT/ES/EUR, GB/GBP, US/USD, HK/HKD,
JP/JPY), each drawn to land in a chosen grade A–E under the default scorecard. The mix is a real
book's — mostly A–C (15/19/19/4/3), since every grade-D customer without a guarantee and every grade-E
customer trades on prepayment and is on hold by definition; three of the B customers score like an A
but are held at B (paid late once, too new, a prospect). 3 prospects with no relationship yet, 6
customers new within the last 12 months (on Net 30, first orders of 20–35 % of a year's purchases),
one key account whose limit the cash-flow cap binds, 2 dormant customers with a duplicate payment
(unapplied cash), one new grade-D customer who paid in advance (unapplied cash), two grade-D customers
trading within a bank guarantee. Two years of invoices (2024-11-01 .. 2026-10-31), on at most their
grade's terms (A Net 90 or 60, B Net 60 or 30, C–E Net 30); payments by behaviour (prompt, good,
fair, slow, bad payers with late tails), some by remittance batch without an invoice reference, a
few in two instalments, a few rounded up (over-payments), credit notes with and without an invoice
reference, a handful of disputed invoices, and customers whose oldest overdue item sits at each
dunning step (7, 15, 30, 45, 90 days) and in each ageing bucket on 2026-10-31; a review history.

So that the numbers agree with each other under the shipped policy (limits on the 'terms' basis), as
of 2026-10-31:

* a customer trading a full year states annual purchases within ±4 % of what it was invoiced in the
  last 12 months (at the as-of rate); the credit customers buy about 31 M of the policy's 60 M
  revenue (the rest: cash sales and small accounts outside the sample), so the sum of their limits
  (about 8.2 M) stays under the portfolio cap (15 % of revenue = 9 M) and each customer's own rule
  shows; customers order steadily (the monthly count of invoices varies by one), and the DSO is about
  55 days;
* the ERP's credit block held any order that would have taken a customer beyond 90 % of its limit
  (:func:`_credit_block`), and open orders and uninvoiced deliveries were taken within the limit,
  except for one customer cast to be over it (C054);
* a customer without an overdue role paid each undisputed item before it reached the order-stop
  stage, so those on hold for an order of 0 are the ones cast for it: the two grade-D customers
  without a guarantee, the three grade-E customers, the customers at the formal-demand stage and
  beyond, and C054 over its limit (9 in all);
* ``reviews.csv`` holds the review history of the last year as imported from the previous credit
  system (:func:`review_history`), so about a third of the customers are due for review on
  2026-10-31 (special reviews for stopped orders, limits used up, slower payment and a grade drop;
  the prospects; an overdue periodic review) instead of all 60.

``tests/test_sample_properties.py`` checks all this.

The history columns of customers.csv (avg_days_late, items_over_90, max_days_late) are computed
from this ledger by the allocation rule of xlcredit/core/openitems.py (referenced credits first, then the pool
FIFO by due date, disputed last; settlement date = max(credit date, invoice date)) and, like
``xlcredit.core.history``, from the settled slices: days beyond terms of a slice = its settlement
date − the invoice's due date (0 when paid by the due date); avg_days_late is weighted by slice
amount (1 decimal, half up); max_days_late is the worst slice; items_over_90 counts fully settled
invoices whose last slice came more than 90 days late. Customers with nothing settled have them blank.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from xlcredit.core.limits import recommend_limit  # noqa: E402
from xlcredit.core.monitoring import add_months  # noqa: E402
from xlcredit.core.policy import Policy  # noqa: E402
from xlcredit.core.records import Customer, Financials  # noqa: E402

SEED = "xlcredit-sample-v1"
AS_OF = dt.date(2026, 10, 31)
START = dt.date(2024, 11, 1)
DEFAULT_OUT = ROOT / "xlcredit" / "data" / "sample"
POLICY = Policy()
#: Days past due at which the default dunning ladder stops new orders (Formal demand).
ORDER_STOP_DAYS = POLICY.order_stop_days

CUSTOMER_COLUMNS = (
    "customer_id", "name", "country", "currency", "language", "rating", "total_assets", "total_liabilities",
    "current_assets", "inventory", "current_liabilities", "operating_cash_flow", "retained_earnings", "ebit",
    "relationship_start", "annual_volume", "first_order", "open_orders", "uninvoiced_deliveries",
    "bank_guarantee", "insured_limit", "insurer", "reference_check", "statutory_regime", "email", "address",
    "contact", "avg_days_late", "items_over_90", "max_days_late",
)
INVOICE_COLUMNS = ("customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date", "terms", "disputed")
PAYMENT_COLUMNS = ("payment_id", "customer_id", "payment_date", "amount", "currency", "invoice_ref")
CREDIT_NOTE_COLUMNS = ("credit_note_no", "customer_id", "date", "amount", "currency", "invoice_ref")
FX_COLUMNS = ("date", "currency", "rate")
REVIEW_COLUMNS = ("customer_id", "review_date", "grade", "score", "credit_limit", "notes")

CURRENCY = {"CN": "CNY", "DE": "EUR", "FR": "EUR", "NL": "EUR", "IT": "EUR", "ES": "EUR", "GB": "GBP",
            "US": "USD", "HK": "HKD", "JP": "JPY"}
EU = {"DE", "FR", "NL", "IT", "ES"}
DECIMALS = {"JPY": 0}


# --------------------------------------------------------------------------- the cast
@dataclass(frozen=True)
class Spec:
    """One sample customer: where it trades, the grade it is drawn to land in, and its quirks."""

    cid: str
    country: str
    grade: str
    kind: str                 # old | new | prospect | dormant
    style: str = "ref"        # ref: every payment names its invoice; batch: remittances; mixed
    quirks: frozenset[str] = frozenset()


def _s(cid: str, country: str, grade: str, kind: str, style: str = "ref", *quirks: str) -> Spec:
    return Spec(cid, country, grade, kind, style, frozenset(quirks))


# ov<N>: the oldest overdue item is N days past due on AS_OF (one item left unpaid);
# stop<N>: stopped paying N days ago (every item due since is open, deliveries stopped 30 days later).
SPECS: tuple[Spec, ...] = (
    _s("C001", "DE", "A", "old", "ref", "rebate", "insured"),
    _s("C002", "CN", "B", "old", "batch"),
    _s("C003", "DE", "C", "old", "ref", "ov10"),
    _s("C004", "CN", "D", "old", "ref", "ov38"),
    _s("C005", "GB", "A", "old", "mixed", "insured"),
    _s("C006", "DE", "B", "old", "ref", "dispute1", "insured"),
    _s("C007", "CN", "C", "old", "ref", "ov20"),
    _s("C008", "DE", "C", "old", "ref", "stop70", "insured"),
    _s("C009", "US", "A", "old", "batch"),
    _s("C010", "FR", "B", "old", "mixed", "overpay"),
    _s("C011", "GB", "C", "old", "mixed", "partial"),
    _s("C012", "GB", "C", "old", "ref", "ov38"),
    _s("C013", "NL", "A", "old", "ref", "insured"),
    _s("C014", "GB", "B", "old", "ref", "cn", "ascore"),      # A by score, held at B: paid late once
    _s("C015", "US", "C", "old", "batch", "insured"),
    _s("C016", "US", "D", "old", "mixed", "guarantee"),       # trades on open credit within its guarantee
    _s("C017", "CN", "A", "old", "ref"),
    _s("C018", "US", "B", "old", "mixed"),
    _s("C019", "FR", "C", "old", "ref", "dispute2"),
    _s("C020", "CN", "D", "new", "ref", "advance"),
    _s("C021", "FR", "A", "old", "mixed", "rebate"),
    _s("C022", "NL", "B", "dormant", "ref", "dup"),
    _s("C023", "CN", "C", "new", "ref"),
    _s("C024", "FR", "B", "old", "ref", "dispute1"),
    _s("C025", "DE", "A", "old", "batch", "insured"),
    _s("C026", "CN", "B", "old", "ref", "partial"),
    _s("C027", "NL", "C", "old", "mixed", "cn"),
    _s("C028", "ES", "B", "old", "batch"),
    _s("C029", "JP", "A", "old", "ref"),
    _s("C030", "DE", "B", "new", "ref", "ascore"),            # A by score, held at B: too new
    _s("C031", "DE", "C", "dormant", "ref", "dup"),
    _s("C032", "CN", "D", "old", "ref", "guarantee"),
    _s("C033", "HK", "A", "old", "ref"),
    _s("C034", "ES", "B", "old", "batch"),
    _s("C035", "JP", "C", "old", "ref"),
    _s("C036", "IT", "C", "new", "ref"),
    _s("C037", "DE", "A", "old", "mixed", "cn"),
    _s("C038", "HK", "B", "old", "mixed", "insured"),
    _s("C039", "US", "C", "new", "mixed"),
    _s("C040", "DE", "B", "old", "mixed", "insured"),
    _s("C041", "US", "A", "old", "ref", "insured", "key"),    # key account: the cash-flow cap binds
    _s("C042", "CN", "B", "old", "ref", "dispute1"),
    _s("C043", "CN", "C", "old", "batch", "overpay"),
    _s("C044", "CN", "E", "old", "ref", "stop130"),
    _s("C045", "GB", "A", "old", "ref"),
    _s("C046", "IT", "B", "old", "ref"),
    _s("C047", "FR", "C", "old", "ref", "cn", "ov50"),
    _s("C048", "GB", "E", "old", "ref", "stop260"),
    _s("C049", "DE", "B", "prospect", "ref", "ascore"),       # strong statements, no history yet
    _s("C050", "GB", "C", "prospect"),
    _s("C051", "US", "E", "prospect"),
    _s("C052", "CN", "C", "new", "ref"),
    _s("C053", "GB", "B", "old", "batch"),
    _s("C054", "HK", "C", "old", "ref", "partial", "overlimit"),  # open orders taken beyond its limit
    _s("C055", "US", "A", "old", "ref"),
    _s("C056", "DE", "A", "old", "ref"),
    _s("C057", "HK", "B", "old", "mixed"),
    _s("C058", "CN", "C", "old", "ref", "dispute1"),
    _s("C059", "FR", "A", "old", "ref"),
    _s("C060", "JP", "B", "old", "ref"),
)

# Disputed invoices: (customer, approximate invoice date) — the nearest invoice is put in dispute.
DISPUTES: tuple[tuple[str, dt.date], ...] = (
    ("C006", dt.date(2026, 4, 14)), ("C042", dt.date(2026, 8, 10)), ("C019", dt.date(2025, 9, 16)),
    ("C019", dt.date(2026, 6, 8)), ("C024", dt.date(2026, 2, 9)), ("C058", dt.date(2025, 12, 3)),
)

# Payment behaviour per grade: days beyond the due date.
BEHAVIOUR = {"A": "prompt", "B": "good", "C": "fair", "D": "slow", "E": "bad"}
# Net days of a customer's invoices: at most its grade's terms (A Net 90, B Net 60, C Net 30), often less.
NET_DAYS = {"A": (90, 90, 60, 60), "B": (60, 60, 30), "C": (30,), "D": (30,), "E": (30,)}
# Annual purchases with us (EUR). Under the 'terms' limit basis a grade-A customer's limit is about a third of
# its purchases, so the 60 credit customers buy about half of our 60 M revenue (the rest: cash sales and small
# accounts outside the sample) and the sum of their limits stays under the portfolio cap (15 % of revenue).
VOLUME_EUR = {"A": (350_000, 1_000_000), "B": (180_000, 700_000), "C": (80_000, 450_000),
              "D": (80_000, 250_000), "E": (50_000, 200_000), "key": (4_600_000, 5_000_000)}
# Invoices per month: larger accounts order more often.
PER_MONTH = {"A": (2.5, 7.0), "B": (2.0, 6.0), "C": (1.0, 4.0), "D": (1.0, 3.0), "E": (1.0, 3.0), "key": (12.0, 16.0)}
# Scorecard inputs drawn per grade: rating, debt ratio, quick ratio, OCF ratio ranges; blank-rating share.
PROFILE = {
    "A": dict(rating=(72, 96), debt=(0.12, 0.45), quick=(1.2, 2.6), ocf=(0.3, 0.9), blank=0.0),
    "B": dict(rating=(62, 86), debt=(0.25, 0.6), quick=(0.9, 1.8), ocf=(0.15, 0.5), blank=0.1),
    "C": dict(rating=(50, 76), debt=(0.4, 0.78), quick=(0.55, 1.25), ocf=(-0.02, 0.35), blank=0.15),
    "D": dict(rating=(38, 66), debt=(0.55, 0.95), quick=(0.35, 0.95), ocf=(-0.12, 0.25), blank=0.2),
    "E": dict(rating=(12, 56), debt=(0.78, 1.25), quick=(0.15, 0.7), ocf=(-0.35, 0.1), blank=0.3),
}
BANDS = {"A": (82, 100), "B": (67, 77), "C": (52, 62), "D": (37, 47), "E": (0, 32)}
REFERENCE = {"A": (1, 1, 0), "B": (1, 0, 0), "C": (0, 1, 0, -1), "D": (0, -1, -1), "E": (-1, -1, 0)}
INSURERS = ("Northgate Credit Insurance", "Aurum Trade Cover", "Kestrel Kreditversicherung AG",
            "Meridian Export Guarantee")

FX_BASE = {"CNY": (Decimal("0.1281"), 0.011), "GBP": (Decimal("1.1930"), 0.009), "USD": (Decimal("0.9240"), 0.014),
           "JPY": (Decimal("0.006150"), 0.018)}


# --------------------------------------------------------------------------- names and addresses
NAMES = {
    "DE": (("Falkenried", "Lindhorst", "Wetterau", "Brackwede", "Kornfeld", "Hasselbach", "Ostermoor",
            "Steinbrück", "Mühlental", "Eichwalde", "Rotenbühl", "Sonnenhang"),
           ("Antriebstechnik", "Verpackung", "Metallbau", "Kunststofftechnik", "Elektrotechnik", "Logistik",
            "Maschinenbau", "Feinmechanik", "Handelshaus", "Werkzeugbau"), ("GmbH", "GmbH & Co. KG", "AG")),
    "GB": (("Ashcombe", "Bramley Vale", "Calderwick", "Dunmore", "Elmbridge", "Fenwick Hollow", "Harrowby",
            "Kestwick"), ("Engineering", "Packaging", "Distribution", "Components", "Supplies", "Fabrications"),
           ("Ltd", "Ltd", "plc")),
    "US": (("Blue Mesa", "Cedar Ridge", "Granite Bay", "Ironwood", "Lakeshore", "Prairie Forge", "Redstone",
            "Silver Creek"), ("Industries", "Supply", "Manufacturing", "Components", "Distributors"),
           ("Inc.", "LLC", "Corp.")),
    "FR": (("Val d'Orsène", "Beaumesnil", "Clairvaux-Nord", "Montaubry", "Serrance", "Lavallière"),
           ("Emballages", "Industries", "Composants", "Mécanique", "Distribution"), ("SAS", "SARL", "SA")),
    "NL": (("Dijkstroom", "Brinkmeer", "Hoogewerf", "Lindeboom", "Klaverveld"),
           ("Techniek", "Verpakkingen", "Handel", "Logistiek", "Kunststoffen"), ("B.V.",)),
    "IT": (("Montefiore", "Castelverde", "Rivalta Alta"), ("Meccanica", "Imballaggi", "Componenti"), ("S.r.l.",)),
    "ES": (("Sierra Alta", "Valdeluz", "Montenegral"), ("Industrial", "Embalajes", "Componentes"), ("S.L.",)),
    "HK": (("Jadeport", "Silverbay", "Goldcrest", "Lucky Harbour", "Eastwind"),
           ("Trading", "Enterprises", "Sourcing", "Holdings"), ("Limited",)),
    "JP": (("Aokawa", "Hinomori", "Kitasawa", "Midorigaoka"), ("Seiki", "Shoji", "Kogyo", "Denki"),
           ("Co., Ltd.", "K.K.")),
}
CN_CITIES = (("Suzhou", "苏州"), ("Ningbo", "宁波"), ("Dongguan", "东莞"), ("Xiamen", "厦门"), ("Qingdao", "青岛"),
             ("Foshan", "佛山"), ("Wuxi", "无锡"), ("Hangzhou", "杭州"), ("Changzhou", "常州"), ("Jinhua", "金华"),
             ("Tianjin", "天津"), ("Shaoxing", "绍兴"), ("Taizhou", "台州"))
CN_STEMS = (("Qingfeng", "青峰"), ("Lanshan", "岚山"), ("Hengyuan", "恒远"), ("Jinrui", "锦瑞"), ("Baicheng", "柏成"),
            ("Mingtai", "铭泰"), ("Ruixiang", "瑞祥"), ("Yongsheng", "永晟"), ("Haoyu", "昊宇"), ("Tianhe", "天禾"),
            ("Xinlong", "鑫隆"), ("Chenguang", "晨光"), ("Zhiyuan", "致远"))
CN_TRADES = (("Electronics", "电子"), ("Packaging", "包装"), ("Machinery", "机械"), ("Textile", "纺织"),
             ("Hardware", "五金"), ("Plastics", "塑胶"), ("Auto Parts", "汽车配件"), ("Lighting", "照明"))
CN_PEOPLE = ("王磊", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄涛", "周婷", "吴昊", "徐丽", "孙强", "马骏")
CN_DISTRICTS = ("高新区", "经济开发区", "工业园区", "滨海新区")
CN_ROADS = ("创业路", "兴业大道", "科技路", "滨江路", "长兴路", "振华路")
PEOPLE = {
    "DE": ("Anna Krüger", "Jonas Becker", "Katrin Vogel", "Stefan Hartmann", "Miriam Lorenz", "Tobias Wendt",
           "Sabine Adler", "Markus Seidel", "Julia Brandt", "Frank Reuter", "Lea Schubert"),
    "GB": ("Emma Whitfield", "Oliver Pryce", "Hannah Doyle", "James Okafor", "Sophie Marsh", "Daniel Kerr",
           "Rachel Hume", "Tom Ashworth"),
    "US": ("Megan Torres", "Brian Caldwell", "Ashley Nguyen", "Kevin Ramsey", "Laura Benson", "Derek Holt",
           "Nicole Vance", "Ryan Mercer"),
    "FR": ("Claire Dubois", "Julien Marchand", "Camille Roux", "Antoine Lefèvre", "Élodie Garnier", "Hugo Perrin"),
    "NL": ("Sanne de Vries", "Bram Visser", "Femke Jansen", "Ruben Smit"),
    "IT": ("Giulia Ferri", "Marco Benedetti"),
    "ES": ("Lucía Navarro", "Javier Ortega"),
    "HK": ("Winnie Chan", "Kelvin Lau", "Grace Wong", "Alan Cheung", "Iris Leung"),
    "JP": ("Yuki Tanaka", "Kenji Morita", "Aiko Shimizu"),
}
CITIES = {
    "DE": (("Bielefeld", "33"), ("Stuttgart", "70"), ("Leipzig", "04"), ("Nürnberg", "90"), ("Dortmund", "44"),
           ("Mannheim", "68"), ("Kassel", "34"), ("Regensburg", "93")),
    "GB": (("Leeds", "LS"), ("Sheffield", "S"), ("Bristol", "BS"), ("Coventry", "CV"), ("Preston", "PR")),
    "US": (("Columbus, OH", "432"), ("Charlotte, NC", "282"), ("Tulsa, OK", "741"), ("Spokane, WA", "992"),
           ("Dayton, OH", "454")),
    "FR": (("Lyon", "69"), ("Lille", "59"), ("Nantes", "44"), ("Grenoble", "38"), ("Reims", "51")),
    "NL": (("Eindhoven", "56"), ("Tilburg", "50"), ("Zwolle", "80"), ("Breda", "48")),
    "IT": (("Brescia", "25"), ("Bergamo", "24")),
    "ES": (("Zaragoza", "50"), ("Valencia", "46")),
    "HK": (("Kwun Tong, Kowloon", ""), ("Tsuen Wan, New Territories", ""), ("Chai Wan, Hong Kong Island", "")),
    "JP": (("Nagoya", "45"), ("Osaka", "55"), ("Hamamatsu", "43")),
}
STREETS = {
    "DE": ("Industriestraße", "Gewerbepark", "Am Hafenbecken", "Lindenallee", "Werkstraße"),
    "GB": ("Riverside Way", "Mill Lane", "Enterprise Park", "Station Road", "Canal Wharf"),
    "US": ("Commerce Drive", "Industrial Parkway", "Oak Street", "Enterprise Blvd", "Harbor Road"),
    "FR": ("rue de l'Industrie", "avenue des Forges", "zone d'activités du Moulin", "rue Pasteur"),
    "NL": ("Industrieweg", "Havenstraat", "Bedrijvenpark", "Kanaaldijk"),
    "IT": ("Via dell'Industria", "Via Roma"),
    "ES": ("Polígono Industrial Norte", "Calle Mayor"),
    "HK": ("Hoi Bun Road", "Wang Lung Street", "Sheung On Street"),
    "JP": ("Sakae", "Minato-machi", "Honmachi"),
}


# --------------------------------------------------------------------------- deterministic draws
class Draw:
    """Seeded draws built only on ``random.Random.random()`` (stable across Python versions)."""

    def __init__(self, *key: str) -> None:
        self._r = random.Random(":".join((SEED, *key)))

    def u(self, lo: float = 0.0, hi: float = 1.0) -> float:
        return lo + (hi - lo) * self._r.random()

    def i(self, lo: int, hi: int) -> int:
        return min(hi, lo + int(self._r.random() * (hi - lo + 1)))

    def pick(self, seq):
        return seq[min(len(seq) - 1, int(self._r.random() * len(seq)))]

    def chance(self, p: float) -> bool:
        return self._r.random() < p

    def normal(self, mu: float, sd: float) -> float:
        u1 = max(self._r.random(), 1e-12)
        u2 = self._r.random()
        return mu + sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def poisson(self, lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self._r.random()
            if p <= limit:
                return k
            k += 1


def q(value: float | Decimal, places: int) -> Decimal:
    """Round half up to ``places`` decimals (exact, via Decimal)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt(value: Decimal | None, places: int = 2) -> str:
    return "" if value is None else f"{value:.{places}f}"


def weekday_back(d: dt.date) -> dt.date:
    while d.weekday() >= 5:
        d -= dt.timedelta(days=1)
    return d


def weekday_fwd(d: dt.date) -> dt.date:
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    return d


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    out, d = [], first.replace(day=1)
    while d <= last:
        out.append(d)
        d = (d + dt.timedelta(days=32)).replace(day=1)
    return out


# --------------------------------------------------------------------------- FX
def make_fx() -> dict[str, list[tuple[dt.date, Decimal]]]:
    """Monthly company-currency (EUR) rates per 1 unit of each foreign currency, first of each month."""
    months = month_starts(START, AS_OF)
    rates: dict[str, list[tuple[dt.date, Decimal]]] = {}
    usd: list[tuple[dt.date, Decimal]] = []
    for cur in ("CNY", "GBP", "USD", "JPY"):
        base, vol = FX_BASE[cur]
        d = Draw("fx", cur)
        level = float(base)
        series = []
        for m in months:
            series.append((m, q(level, 8 if cur == "JPY" else 6)))
            level *= math.exp(d.normal(0.0, vol))
        rates[cur] = series
        if cur == "USD":
            usd = series
    d = Draw("fx", "HKD")
    rates["HKD"] = [(m, q(float(r) / d.u(7.78, 7.85), 6)) for m, r in usd]  # the HKD is pegged to the USD
    return dict(sorted(rates.items()))


def rate_on(fx: dict[str, list[tuple[dt.date, Decimal]]], currency: str, day: dt.date) -> Decimal:
    if currency == "EUR":
        return Decimal(1)
    return [r for d, r in fx[currency] if d <= day][-1]


# --------------------------------------------------------------------------- ledger records
@dataclass
class Inv:
    cid: str
    currency: str
    amount: Decimal
    invoice_date: dt.date
    net: int
    disputed: bool = False
    pay_date: dt.date | None = None      # intended payment date (None or after AS_OF: unpaid)
    no: str = ""

    @property
    def due(self) -> dt.date:
        return self.invoice_date + dt.timedelta(days=self.net)


@dataclass
class Credit:
    kind: str                  # "PAY" or "CN"
    cid: str
    currency: str
    amount: Decimal
    date: dt.date
    inv: Inv | None = None     # the invoice it names (invoice_ref), if any
    no: str = ""


@dataclass
class Book:
    invoices: list[Inv] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)


def lateness(d: Draw, behaviour: str) -> int:
    """Days beyond the due date one invoice is paid, by payer behaviour (negative = early)."""
    if behaviour == "prompt":
        return -d.i(0, 7)
    if behaviour == "good":
        return -d.i(0, 5) if d.chance(0.8) else d.i(1, 9)
    if behaviour == "fair":
        days = max(-3, round(d.normal(8, 6)))
        return days + (d.i(25, 50) if d.chance(0.04) else 0)
    if behaviour == "slow":
        days = max(0, round(d.normal(20, 9)))
        return days + (d.i(40, 100) if d.chance(0.08) else 0)
    days = max(5, round(d.normal(45, 18)))
    return days + (d.i(60, 160) if d.chance(0.25) else 0)


def simulate(spec: Spec, fx, annual_volume: Decimal, relationship_start: dt.date | None,
             first_order: Decimal | None = None) -> Book:
    """Invoices, payments and credit notes of one customer over the two sample years."""
    book = Book()
    if spec.kind == "prospect":
        return book
    d = Draw(spec.cid, "ledger")
    currency = CURRENCY[spec.country]
    places = DECIMALS.get(currency, 2)
    behaviour = next((b for b in BEHAVIOUR.values() if b in spec.quirks), BEHAVIOUR[spec.grade])
    if "advance" in spec.quirks:
        behaviour = "prompt"
    net = 30 if spec.kind == "new" else d.pick(NET_DAYS[spec.grade])   # new customers start on Net 30
    start = max(START, relationship_start or START)
    end = AS_OF
    if spec.kind == "dormant":
        end = dt.date(2026, 6, 12)
    if "advance" in spec.quirks:
        end = dt.date(2026, 10, 16)
    per_month = d.u(*PER_MONTH["key" if "key" in spec.quirks else spec.grade])
    avg_eur = float(annual_volume) / 12.0 / per_month

    for m in month_starts(start, end):
        m_end = (m + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        lo, hi = max(m, start), min(m_end, end)
        share = ((hi - lo).days + 1) / ((m_end - m).days + 1)
        for _ in range(int(per_month * share + d.u())):   # steady ordering: the monthly count varies by one
            day = weekday_back(lo + dt.timedelta(days=d.i(0, (hi - lo).days)))
            if day < start:
                day = weekday_fwd(start)
            eur = avg_eur * math.exp(d.normal(0.0, 0.35))
            amount = q(eur / float(rate_on(fx, currency, day)), places)
            book.invoices.append(Inv(spec.cid, currency, amount, day, net))
    book.invoices.sort(key=lambda x: (x.invoice_date, x.amount))

    for inv in book.invoices:
        late = lateness(d, behaviour)
        pay = inv.due + dt.timedelta(days=late)
        pay = weekday_back(pay) if late <= 0 else weekday_fwd(pay)
        if "advance" in spec.quirks:  # pays on prepayment terms
            pay = weekday_fwd(inv.invoice_date + dt.timedelta(days=d.i(0, 3)))
        inv.pay_date = max(pay, inv.invoice_date + dt.timedelta(days=1))

    _force_overdue(spec, book, d, currency)
    for cid, when in DISPUTES:
        if cid == spec.cid:
            target = min(book.invoices, key=lambda x: (abs((x.invoice_date - when).days), x.invoice_date))
            target.disputed = True
            target.pay_date = None
    role = _overdue_role(spec)
    if role is None:
        _settle_before_order_stop(book, d)
    if role is None or not role.startswith("stop"):
        _credit_block(spec, book, fx, annual_volume, relationship_start, first_order)
    _payments(spec, book, d, currency, places, annual_volume, fx)
    return book


def _overdue_role(spec: Spec) -> str | None:
    """The ov<N> / stop<N> quirk of a customer cast to sit at a dunning step on AS_OF, if any."""
    return next((x for x in sorted(spec.quirks) if re.fullmatch(r"(ov|stop)\d+", x)), None)


def _settle_before_order_stop(book: Book, d: Draw) -> None:
    """A customer without an overdue role has paid every undisputed item before it reaches the order-stop stage
    on AS_OF (a late tail is paid in the last days instead): the customers on hold are the ones cast for it."""
    for inv in book.invoices:
        if inv.disputed or (AS_OF - inv.due).days < ORDER_STOP_DAYS - 2:
            continue
        if inv.pay_date is None or inv.pay_date > AS_OF:
            inv.pay_date = max(weekday_back(AS_OF - dt.timedelta(days=d.i(0, 6))),
                               inv.invoice_date + dt.timedelta(days=1))


def _credit_block(spec: Spec, book: Book, fx, annual_volume: Decimal, relationship_start: dt.date | None,
                  first_order: Decimal | None) -> None:
    """The ERP's credit block: an order that would take what a customer owes on AS_OF beyond 90 % of its credit
    limit was held, so its invoice never came. The limit is the engine's own (``recommend_limit``) on the lowest
    annual purchases the customer may state (96 % of the last 12 months, see :func:`generate`). Prepayment
    customers without a guarantee and the customer cast to be over its limit are left alone."""
    if (spec.grade in "DE" and "guarantee" not in spec.quirks) or "overlimit" in spec.quirks:
        return
    rate = rate_on(fx, CURRENCY[spec.country], AS_OF)
    year_ago = AS_OF - dt.timedelta(days=365)
    while True:
        stated = annual_volume
        if relationship_start is not None and relationship_start <= year_ago:
            stated = Decimal("0.96") * rate * sum((x.amount for x in book.invoices if x.invoice_date > year_ago),
                                                  Decimal(0))
        customer = Customer(spec.cid, relationship_start=relationship_start, annual_volume=stated,
                            first_order=first_order, bank_guarantee=Decimal(10) ** 9 if spec.grade == "D" else 0)
        limit = recommend_limit(customer, spec.grade, POLICY, AS_OF).limit
        owed = [x for x in book.invoices if x.pay_date is None or x.pay_date > AS_OF]
        held = [x for x in owed if not x.disputed and x.due > AS_OF]   # orders of the last weeks
        if not held or sum((x.amount for x in owed), Decimal(0)) * rate <= limit * Decimal("0.9"):
            return
        book.invoices.remove(max(held, key=lambda x: (x.invoice_date, x.amount)))


def _force_overdue(spec: Spec, book: Book, d: Draw, currency: str) -> None:
    """ov<N> / stop<N>: make the oldest overdue item exactly N days past due on AS_OF."""
    quirk = _overdue_role(spec)
    if quirk is None:
        return
    stop = quirk.startswith("stop")
    days = int(quirk.removeprefix("stop").removeprefix("ov"))
    due0 = AS_OF - dt.timedelta(days=days)
    earlier = [x for x in book.invoices if x.due <= due0]
    target = max(earlier, key=lambda x: (x.due, x.amount)) if earlier else None
    if target is None or (due0 - target.due).days > 3:
        net = book.invoices[0].net
        template = book.invoices[-1]
        target = Inv(spec.cid, currency, template.amount, due0 - dt.timedelta(days=net), net)
        book.invoices.append(target)
        book.invoices.sort(key=lambda x: (x.invoice_date, x.amount))
    target.pay_date = None
    for inv in book.invoices:
        if inv is target:
            continue
        if inv.due < target.due or (inv.due == target.due and inv.invoice_date < target.invoice_date):
            latest = min(AS_OF - dt.timedelta(days=2), due0 + dt.timedelta(days=20)) if stop else AS_OF
            if inv.pay_date is None or inv.pay_date > latest:
                inv.pay_date = weekday_back(latest - dt.timedelta(days=d.i(0, 6)))
        elif stop:
            inv.pay_date = None
    if stop:  # deliveries stopped once the order stop bit (30 days past due)
        cutoff = target.due + dt.timedelta(days=30)
        book.invoices[:] = [x for x in book.invoices if x.invoice_date <= cutoff]


def _payments(spec: Spec, book: Book, d: Draw, currency: str, places: int, annual_volume: Decimal,
              fx) -> None:
    """Turn intended payment dates into payments (by reference, batch or mixed) and credit notes."""
    quantum = Decimal(1).scaleb(-places)
    cn_rate = 0.06 if "cn" in spec.quirks else (0.006 if spec.grade in "BCD" else 0.0)
    net_due: dict[int, Decimal] = {}
    for inv in book.invoices:
        net_due[id(inv)] = inv.amount
        if not inv.disputed and d.chance(cn_rate):
            cn_amount = q(inv.amount * Decimal(str(round(d.u(0.03, 0.15), 3))), places)
            cn_date = inv.invoice_date + dt.timedelta(days=d.i(5, 25))
            if inv.pay_date is not None and inv.pay_date <= AS_OF:
                cn_date = min(cn_date, inv.pay_date - dt.timedelta(days=1))
            cn_date = max(min(weekday_back(cn_date), AS_OF), inv.invoice_date)
            book.credits.append(Credit("CN", spec.cid, currency, cn_amount, cn_date, inv))
            net_due[id(inv)] = inv.amount - cn_amount

    # (date, amount, invoice or None): one intended transfer per paid invoice, before grouping
    transfers: list[tuple[dt.date, Decimal, Inv | None]] = []
    for inv in book.invoices:
        if inv.pay_date is None or inv.pay_date > AS_OF:
            continue
        amount = net_due[id(inv)]
        if "partial" in spec.quirks and d.chance(0.2):
            first = q(amount * Decimal(str(round(d.u(0.5, 0.8), 2))), places)
            second_date = weekday_fwd(inv.pay_date + dt.timedelta(days=d.i(15, 60)))
            if second_date > AS_OF and not _overdue_role(spec) and (AS_OF - inv.due).days >= ORDER_STOP_DAYS - 2:
                second_date = max(inv.pay_date, weekday_back(AS_OF - dt.timedelta(days=d.i(0, 3))))
            transfers.append((inv.pay_date, first, inv))
            if second_date <= AS_OF:
                transfers.append((second_date, amount - first, inv))
            continue
        transfers.append((inv.pay_date, amount, inv))

    if "rebate" in spec.quirks:  # year-end volume rebate, deducted from the next remittance
        year = sum((x.amount for x in book.invoices if x.invoice_date.year == 2025), Decimal(0))
        rebate = q(year * Decimal("0.015"), places)
        book.credits.append(Credit("CN", spec.cid, currency, rebate, dt.date(2025, 12, 31), None))
        transfers.sort(key=lambda t: t[0])
        for k, (when, amount, inv) in enumerate(transfers):
            if when > dt.date(2025, 12, 31) and amount > rebate:
                transfers[k] = (when, amount - rebate, inv)
                break

    if spec.style == "batch":
        weeks: dict[tuple[int, int], list[tuple[dt.date, Decimal, Inv | None]]] = defaultdict(list)
        for t in transfers:
            weeks[tuple(t[0].isocalendar())[:2]].append(t)
        for group in weeks.values():
            when = min(t[0] for t in group)
            book.credits.append(Credit("PAY", spec.cid, currency, sum((t[1] for t in group), Decimal(0)), when))
    else:
        for when, amount, inv in transfers:
            named = spec.style == "ref" or d.chance(0.5)
            book.credits.append(Credit("PAY", spec.cid, currency, amount, when, inv if named else None))

    pays = [c for c in book.credits if c.kind == "PAY" and c.inv is not None]
    if "overpay" in spec.quirks:  # two remittances rounded up to the next thousand
        for c in sorted(pays, key=lambda c: (c.date, c.amount))[5::17][:2]:
            extra = 1000 if c.amount % 1000 == 0 else 0
            c.amount = (c.amount / 1000).to_integral_value(rounding=ROUND_CEILING) * 1000 + extra
    if "dup" in spec.quirks and pays:  # the last invoice paid twice: unapplied cash
        last = max(pays, key=lambda c: (c.date, c.amount))
        book.credits.append(Credit("PAY", spec.cid, currency, last.amount,
                                   weekday_fwd(last.date + dt.timedelta(days=6)), last.inv))
    if "advance" in spec.quirks:  # prepayment for an order not yet invoiced: unapplied cash
        advance = q(float(annual_volume) / 10.0 / float(rate_on(fx, currency, AS_OF)), -2)
        book.credits.append(Credit("PAY", spec.cid, currency, advance, dt.date(2026, 10, 28)))
    for c in book.credits:
        c.amount = c.amount.quantize(quantum)


# --------------------------------------------------------------------------- allocation and history
def allocate(invoices: list[Inv], credits: list[Credit], as_of: dt.date
             ) -> tuple[dict[int, list[tuple[Decimal, dt.date]]], Decimal]:
    """The allocation rule (core/openitems.py) for one (customer, currency): slices per invoice, unapplied cash."""
    invs = [x for x in invoices if x.invoice_date <= as_of]
    creds = sorted((c for c in credits if c.date <= as_of), key=lambda c: (c.date, c.kind, c.no))
    remaining = {id(x): x.amount for x in invs}
    slices: dict[int, list[tuple[Decimal, dt.date]]] = {id(x): [] for x in invs}
    pool: list[tuple[dt.date, Decimal]] = []
    for c in creds:
        left = c.amount
        if c.inv is not None and id(c.inv) in remaining:
            take = min(left, remaining[id(c.inv)])
            if take > 0:
                remaining[id(c.inv)] -= take
                slices[id(c.inv)].append((take, max(c.date, c.inv.invoice_date)))
                left -= take
        if left > 0:
            pool.append((c.date, left))
    order = sorted(invs, key=lambda x: (x.disputed, x.due, x.invoice_date, x.no))
    k, unapplied = 0, Decimal(0)
    for when, amount in pool:  # cumulative matching: the k-th unit of credit pays the k-th unit of invoice
        while amount > 0 and k < len(order):
            inv = order[k]
            take = min(amount, remaining[id(inv)])
            if take > 0:
                remaining[id(inv)] -= take
                slices[id(inv)].append((take, max(when, inv.invoice_date)))
                amount -= take
            if remaining[id(inv)] == 0:
                k += 1
        unapplied += amount
    return slices, unapplied


@dataclass(frozen=True)
class History:
    avg_days_late: Decimal | None
    items_over_90: int | None
    max_days_late: int | None


def history_of(invoices: list[Inv], slices: dict[int, list[tuple[Decimal, dt.date]]], as_of: dt.date) -> History:
    """Days beyond terms of every slice settled in the 24 months to ``as_of`` (openitems.py, rule 4).

    avg = Σ slice amount × days late / Σ slice amount (days late = settlement − due, 0 when paid by
    the due date); max over the slices; items_over_90 = fully settled invoices whose last slice was
    more than 90 days late — the definition of ``xlcredit.core.history``.
    """
    window_start = as_of.replace(year=as_of.year - 2)
    weighted, total, over_90, worst = Decimal(0), Decimal(0), 0, None
    for inv in invoices:
        own = slices.get(id(inv), [])
        for amount, when in own:
            if not window_start < when <= as_of:
                continue
            days = max(0, (when - inv.due).days)
            weighted += amount * days
            total += amount
            worst = days if worst is None else max(worst, days)
        if own and sum(a for a, _ in own) == inv.amount:
            last = max(w for _, w in own)
            over_90 += window_start < last <= as_of and (last - inv.due).days > 90
    if total == 0:
        return History(None, None, None)
    return History(q(weighted / total, 1), over_90, worst)


def open_items(invoices: list[Inv], slices: dict[int, list[tuple[Decimal, dt.date]]]) -> list[tuple[Inv, Decimal]]:
    out = []
    for inv in invoices:
        left = inv.amount - sum((a for a, _ in slices.get(id(inv), [])), Decimal(0))
        if left > 0:
            out.append((inv, left))
    return out


# --------------------------------------------------------------------------- scorecard preview
def _points(policy: Policy, name: str, value: Decimal | None) -> int:
    f = policy.score[name]
    if not f.enabled:
        return 0
    if value is None:
        return f.missing_points
    for threshold, pts in f.bins:
        if (value >= threshold) if f.higher_is_better else (value <= threshold):
            return pts
    return f.floor_points


def preview_score(policy: Policy, rating, fin: Financials, hist: History, years: Decimal,
                  reference: int | None) -> int:
    """The default scorecard on the drawn inputs (used only to steer the draw into a grade band)."""
    return (_points(policy, "rating", rating) + _points(policy, "debt_ratio", fin.debt_ratio)
            + _points(policy, "quick_ratio", fin.quick_ratio) + _points(policy, "ocf_ratio", fin.ocf_ratio)
            + _points(policy, "avg_days_late", hist.avg_days_late)
            + _points(policy, "items_over_90", None if hist.items_over_90 is None else Decimal(hist.items_over_90))
            + _points(policy, "years", years)
            + _points(policy, "reference", None if reference is None else Decimal(reference)))


# --------------------------------------------------------------------------- customers
def relationship_start_of(spec: Spec, d: Draw) -> dt.date | None:
    if spec.kind == "prospect":
        return None
    if spec.kind == "new":
        return weekday_back(dt.date(2025, 11, 10) + dt.timedelta(days=d.i(0, 290)))
    first_year = {"A": (2013, 2021), "B": (2015, 2023), "C": (2016, 2023), "D": (2018, 2024), "E": (2019, 2024)}
    lo, hi = first_year[spec.grade]
    year = d.i(lo, hi)
    day = dt.date(year, 1, 1) + dt.timedelta(days=d.i(0, 364))
    if spec.grade == "A":  # grade A needs two full years of relationship
        day = min(day, dt.date(2022, 6, 30))
    return weekday_back(min(day, dt.date(2024, 9, 30)))


def make_identity(spec: Spec, used: set[str]) -> dict[str, str]:
    """Invented name, contact, address and e-mail for a customer."""
    d = Draw(spec.cid, "identity")
    c = spec.country
    for attempt in range(400):
        if c == "CN":
            (city, city_cn), (stem, stem_cn), (trade, trade_cn) = d.pick(CN_CITIES), d.pick(CN_STEMS), d.pick(CN_TRADES)
            name = f"{city} {stem} {trade} Co., Ltd."
        else:
            stems, trades, suffixes = NAMES[c]
            stem, trade, suffix = d.pick(stems), d.pick(trades), d.pick(suffixes)
            name = f"{stem} {trade} {suffix}" if c != "FR" else f"{trade} {stem} {suffix}"
        place = city if c == "CN" else ""
        # vary the trades (and Chinese cities) while the lists last, then allow repeats
        fresh = attempt >= 200 or not ({f"{c}:trade:{trade}", f"{c}:city:{place}"} & used)
        if f"{c}:{stem}" not in used and fresh:
            used.update((f"{c}:{stem}", f"{c}:trade:{trade}", f"{c}:city:{place}"))
            break
    else:  # pragma: no cover - the name lists are long enough
        raise RuntimeError(f"no free name for {spec.cid}")
    ascii_stem = unicodedata.normalize("NFKD", stem.lower().replace("ü", "ue")).encode("ascii", "ignore").decode()
    ascii_trade = unicodedata.normalize("NFKD", trade.split(" ")[0].lower()).encode("ascii", "ignore").decode()
    slug = "".join(ch for ch in ascii_stem if ch.isalnum()) + "-" + ascii_trade
    if c == "CN":
        contact = d.pick(CN_PEOPLE)
        address = (f"{city_cn}市{d.pick(CN_DISTRICTS)}{d.pick(CN_ROADS)}{d.i(8, 388)}号 "
                   f"({city}, China)")
        name_cn = f"{city_cn}{stem_cn}{trade_cn}有限公司"
        contact = f"{contact} ({name_cn})"
    else:
        contact = d.pick(PEOPLE[c])
        city, prefix = d.pick(CITIES[c])
        street = d.pick(STREETS[c])
        n = d.i(2, 140)
        if c == "GB":
            letters = "ABDEFGHJLNPQRSTUWXYZ"
            postcode = f"{prefix}{d.i(1, 28)} {d.i(1, 9)}{d.pick(letters)}{d.pick(letters)}"
            address = f"Unit {n}, {street}, {city} {postcode}, United Kingdom"
        elif c == "US":
            address = f"{n * 10 + d.i(0, 9)} {street}, {city} {prefix}{d.i(10, 99)}, USA"
        elif c == "HK":
            address = f"Flat {d.i(1, 20)}{d.pick('ABCDEF')}, {d.i(3, 28)}/F, {n} {street}, {city}, Hong Kong"
        elif c == "JP":
            block = f"{d.i(1, 5)}-{d.i(1, 20)}-{d.i(1, 30)}"
            address = f"{block} {street}, {city} {prefix}{d.i(0, 9)}-{d.i(1000, 9999)}, Japan"
        elif c == "FR":
            address = f"{n} {street}, {prefix}{d.i(100, 999)} {city}, France"
        else:
            country_name = {"DE": "Germany", "NL": "Netherlands", "IT": "Italy", "ES": "Spain"}[c]
            zip_code = f"{prefix}{d.i(100, 999)}" + (f" {d.pick('ABCDEFGHJKLMNPRSTVWXZ')}{d.pick('ABDEGHJKLNPRSTVXZ')}"
                                                     if c == "NL" else "")
            address = f"{street} {n}, {zip_code} {city}, {country_name}"
    return {"name": name, "email": f"accounts@{slug}.example", "address": address, "contact": contact}


def draw_profile(spec: Spec, policy: Policy, hist: History, years: Decimal, annual_volume: Decimal,
                 fx) -> tuple[Decimal | None, dict[str, Decimal | None], int | None]:
    """Rating, statements and reference check that put the customer in its grade band."""
    d = Draw(spec.cid, "profile")
    prof = PROFILE[spec.grade]
    currency = CURRENCY[spec.country]
    places = DECIMALS.get(currency, 2)
    lo, hi = BANDS[spec.grade]
    if "ascore" in spec.quirks:  # an A score (80+) that grade A's other conditions hold back at B
        lo, hi, prof = 80, 100, PROFILE["A"]
    rate = rate_on(fx, currency, AS_OF)
    for _ in range(5000):
        rating = None if d.chance(prof["blank"]) else Decimal(d.i(*prof["rating"]))
        debt, quick, ocf = d.u(*prof["debt"]), d.u(*prof["quick"]), d.u(*prof["ocf"])
        size = float(annual_volume) * d.u(1.5, 6.0) / float(rate)
        ta = q(size, -3)
        tl = q(size * debt, -3)
        cl_share = d.u(0.4, 0.8)
        inv_share = d.u(0.1, 0.4)
        cl = q(min(float(tl) * cl_share, 0.85 * float(ta) * (1 - inv_share) / max(quick, 0.3)), -3)
        if cl <= 0:
            continue
        ca = q(quick * float(cl) / (1 - inv_share), -3)
        inventory = q(float(ca) * inv_share, -3)
        ocf_v = q(ocf * float(cl), -3)
        equity = float(ta - tl)
        re_share = {"A": (0.3, 0.8), "B": (0.2, 0.7), "C": (0.1, 0.6), "D": (-0.3, 0.4), "E": (-1.0, 0.2)}[spec.grade]
        retained = q(max(abs(equity), 0.1 * size) * d.u(*re_share) * (1 if equity > 0 else -1 if spec.grade in "DE"
                                                                         else 1), -3)
        ebit_share = {"A": (0.06, 0.15), "B": (0.04, 0.1), "C": (0.01, 0.07), "D": (-0.02, 0.04),
                      "E": (-0.08, 0.02)}[spec.grade]
        ebit = q(size * d.u(*ebit_share), -3)
        figures: dict[str, Decimal | None] = {
            "total_assets": ta, "total_liabilities": tl, "current_assets": ca, "inventory": inventory,
            "current_liabilities": cl, "operating_cash_flow": ocf_v, "retained_earnings": retained, "ebit": ebit}
        if spec.grade == "E" and d.chance(0.35):
            figures["operating_cash_flow"] = None
        if spec.cid == "C051":  # weak prospect: a short balance sheet only
            figures.update(operating_cash_flow=None, retained_earnings=None, ebit=None)
        if spec.grade in "BC" and d.chance(0.1):
            figures["inventory"] = None
        figures = {k: (None if v is None else v.quantize(Decimal(1).scaleb(-places))) for k, v in figures.items()}
        reference = d.pick(REFERENCE[spec.grade]) if d.chance(0.45) else None
        if spec.cid == "C049":
            reference = 1
        fin = Financials(**figures)
        score = preview_score(policy, rating, fin, hist, years, reference)
        if lo <= score <= hi:
            return rating, figures, reference
    raise RuntimeError(f"{spec.cid}: could not draw a profile in the {spec.grade} band")


# --------------------------------------------------------------------------- review history
#: Customers whose grade fell since their last review (the review list shows the drop): grade recorded then.
GRADE_BEFORE = {"C008": "B"}
#: Customers whose earlier reviews (not the last) showed a better grade.
EARLIER_GRADE = {"C044": "D", "C048": "D"}


def review_history(spec: Spec, start: dt.date | None, score: int, limit: Decimal) -> list[dict[str, str]]:
    """The reviews the previous credit system recorded over the last year: quarterly (monthly for grades D
    and E, the policy's review intervals), the first at the start of the relationship for a new customer, the
    last one 5–88 days before AS_OF for A–C (3–40 for D/E), but for about one in ten A–C customers 95–130 days
    before — a few periodic reviews are overdue, as in a real book. A prospect has none yet. Each carries the
    grade, score and limit of its day."""
    if start is None:
        return []
    d = Draw(spec.cid, "reviews")
    months = 1 if spec.grade in "DE" else 3
    if months == 1:
        back = d.i(3, 40)
    else:                                           # about one in ten quarterly reviews is overdue
        back = d.i(95, 130) if d.chance(0.1) else d.i(5, 88)
    last = weekday_back(AS_OF - dt.timedelta(days=back))
    first_day = max(start, AS_OF - dt.timedelta(days=365))
    dates = []
    day = last
    while day >= first_day:
        dates.append(day)
        day = weekday_back(add_months(day, -months))
    if spec.kind == "new":                        # the onboarding review, then the cycle
        dates = [x for x in dates if (x - start).days >= 15 * months] + [weekday_fwd(start)]
    rows = []
    for k, day in enumerate(sorted(dates)):
        latest = k == len(dates) - 1
        grade = GRADE_BEFORE.get(spec.cid, spec.grade) if latest else EARLIER_GRADE.get(spec.cid, GRADE_BEFORE.get(
            spec.cid, spec.grade))
        lo, hi = {"A": (80, 100), "B": (65, 79), "C": (50, 64), "D": (35, 49), "E": (0, 34)}[grade]
        held_b = grade == "B" and score >= 80                   # an A score held at B, then as now
        then = max(lo, min(100 if held_b else hi, score + d.i(-3, 3)))
        factor = Decimal(1) if latest else Decimal(str(round(d.u(0.9, 1.03), 2)))
        amount = (limit * factor / 1000).to_integral_value(rounding=ROUND_HALF_UP) * 1000
        note = ("onboarding review" if k == 0 and spec.kind == "new" else
                "imported from the previous credit system" if k == 0 else
                ("monthly review (prepayment grade)" if months == 1 else "quarterly review"))
        rows.append({"customer_id": spec.cid, "review_date": day.isoformat(), "grade": grade, "score": str(then),
                     "credit_limit": fmt(amount), "notes": note})
    return rows


# --------------------------------------------------------------------------- main
def generate(out_dir: Path) -> dict[str, object]:
    """Write the five sample tables into ``out_dir``; return a summary (counts, stages, buckets)."""
    policy = Policy()
    fx = make_fx()
    out_dir.mkdir(parents=True, exist_ok=True)
    used_names: set[str] = set()
    people: list[dict[str, object]] = []
    books: dict[str, Book] = {}
    for spec in SPECS:
        d = Draw(spec.cid, "terms")
        start = relationship_start_of(spec, d)
        lo, hi = VOLUME_EUR["key" if "key" in spec.quirks else spec.grade]
        annual_volume = q(d.u(lo, hi), -3).quantize(Decimal("0.01"))
        first_order = (q(float(annual_volume) * d.u(0.2, 0.35), -2).quantize(Decimal("0.01"))
                       if spec.kind in ("new", "prospect") else None)
        books[spec.cid] = simulate(spec, fx, annual_volume, start, first_order)
        people.append({"spec": spec, "start": start, "annual_volume": annual_volume, "d": d,
                       "first_order": first_order,
                       **make_identity(spec, used_names)})

    # numbering: invoices by date across the book, payments and credit notes likewise
    all_invoices = sorted((x for b in books.values() for x in b.invoices),
                          key=lambda x: (x.invoice_date, x.cid, x.amount))
    per_year: dict[int, int] = defaultdict(int)
    for inv in all_invoices:
        per_year[inv.invoice_date.year] += 1
        inv.no = f"INV-{inv.invoice_date.year}-{per_year[inv.invoice_date.year]:05d}"
    all_credits = sorted((c for b in books.values() for c in b.credits),
                         key=lambda c: (c.date, c.cid, c.kind, c.amount))
    counters: dict[tuple[str, int], int] = defaultdict(int)
    for c in all_credits:
        counters[(c.kind, c.date.year)] += 1
        n = counters[(c.kind, c.date.year)]
        c.no = f"PAY-{c.date.year}-{n:05d}" if c.kind == "PAY" else f"CN-{c.date.year}-{n:04d}"

    rows: list[dict[str, str]] = []
    reviews: list[dict[str, str]] = []
    summary: dict[str, object] = {"grades": defaultdict(int), "stages": defaultdict(list),
                                  "buckets": defaultdict(int), "unapplied": {}}
    for person in people:
        spec: Spec = person["spec"]  # type: ignore[assignment]
        book = books[spec.cid]
        slices, unapplied = allocate(book.invoices, book.credits, AS_OF)
        hist = history_of(book.invoices, slices, AS_OF)
        if unapplied:
            summary["unapplied"][spec.cid] = unapplied  # type: ignore[index]
        oldest = 0
        for inv, _left in open_items(book.invoices, slices):
            days = (AS_OF - inv.due).days
            bucket = next((lbl for lbl, hi in zip(policy.bucket_labels, (*policy.ageing.bounds, 10**9), strict=True)
                           if days <= hi), "")
            summary["buckets"][bucket] += 1  # type: ignore[index]
            if not inv.disputed:
                oldest = max(oldest, days)
        stage = next((s.name for s in reversed(policy.dunning) if oldest >= s.days), "")
        summary["stages"][stage].append(spec.cid)  # type: ignore[index]
        summary["grades"][spec.grade] += 1  # type: ignore[index]

        start: dt.date | None = person["start"]  # type: ignore[assignment]
        years = Decimal(0) if start is None else (Decimal((AS_OF - start).days) / Decimal("365.25")).quantize(
            Decimal("0.01"))
        d: Draw = person["d"]  # type: ignore[assignment]
        currency = CURRENCY[spec.country]
        places = DECIMALS.get(currency, 2)
        rate = rate_on(fx, currency, AS_OF)
        annual_volume: Decimal = person["annual_volume"]  # type: ignore[assignment]
        if start is not None and start <= AS_OF - dt.timedelta(days=365):
            # a customer trading a full year states about what it bought in the last 12 months
            bought = sum((x.amount for x in book.invoices if AS_OF - dt.timedelta(days=365) < x.invoice_date <= AS_OF),
                         Decimal(0)) * rate
            annual_volume = q(float(bought) * d.u(0.96, 1.04), -3).quantize(Decimal("0.01"))
        rating, figures, reference = draw_profile(spec, policy, hist, years, annual_volume, fx)
        first_order: Decimal | None = person["first_order"]  # type: ignore[assignment]
        guarantee = q(float(annual_volume) * d.u(0.2, 0.3), -3).quantize(Decimal("0.01")) \
            if "guarantee" in spec.quirks else Decimal(0)
        insured = (q(float(annual_volume) * d.u(0.1, 0.25), -4).quantize(Decimal("0.01"))
                   if "insured" in spec.quirks else None)
        # exposure beyond the ledger: orders accepted and deliveries not yet invoiced, within the credit limit
        # (the ERP's credit block), except for the customer cast to be over it
        limit = recommend_limit(Customer(spec.cid, relationship_start=start, annual_volume=annual_volume,
                                         first_order=first_order, bank_guarantee=guarantee),
                                spec.grade, policy, AS_OF).limit
        receivables = max(Decimal(0), sum((left for _inv, left in open_items(book.invoices, slices)), Decimal(0))
                          - unapplied) * rate
        role = _overdue_role(spec)
        held = role is not None and int(role.lstrip("opstv")) >= ORDER_STOP_DAYS   # orders stopped by the ladder
        stopped = held or spec.kind in ("dormant", "prospect") or limit == 0
        open_orders = Decimal(0) if stopped or d.chance(0.2) else q(float(annual_volume) * d.u(0.01, 0.08), 2)
        uninvoiced = q(float(annual_volume) * d.u(0.0, 0.03), 2) if not stopped and d.chance(0.3) else Decimal(0)
        room = limit * Decimal(str(round(d.u(0.75, 0.95), 2))) - receivables
        if "overlimit" in spec.quirks:
            open_orders = q(max(limit - receivables, Decimal(0)) + limit * Decimal(str(round(d.u(0.1, 0.25), 2))), 2)
        elif open_orders + uninvoiced > max(room, Decimal(0)):
            fit = max(room, Decimal(0)) / (open_orders + uninvoiced)
            open_orders, uninvoiced = q(open_orders * fit, 2), q(uninvoiced * fit, 2)
        rows.append({
            "customer_id": spec.cid, "name": person["name"], "country": spec.country, "currency": currency,
            "language": "zh" if spec.country == "CN" else "en",
            "rating": "" if rating is None else str(rating),
            **{k: fmt(v, places) for k, v in figures.items()},
            "relationship_start": "" if start is None else start.isoformat(),
            "annual_volume": fmt(annual_volume), "first_order": fmt(first_order), "open_orders": fmt(open_orders),
            "uninvoiced_deliveries": fmt(uninvoiced), "bank_guarantee": fmt(guarantee),
            "insured_limit": fmt(insured), "insurer": d.pick(INSURERS) if insured is not None else "",
            "reference_check": "" if reference is None else str(reference),
            "statutory_regime": "UK" if spec.country == "GB" else ("EU" if spec.country in EU else ""),
            "email": person["email"], "address": person["address"], "contact": person["contact"],
            "avg_days_late": fmt(hist.avg_days_late, 1),
            "items_over_90": "" if hist.items_over_90 is None else str(hist.items_over_90),
            "max_days_late": "" if hist.max_days_late is None else str(hist.max_days_late),
        })
        score = preview_score(policy, rating, Financials(**figures), hist, years, reference)
        reviews.extend(review_history(spec, start, score, limit))

    _write(out_dir / "customers.csv", CUSTOMER_COLUMNS, rows)
    _write(out_dir / "invoices.csv", INVOICE_COLUMNS, [
        {"customer_id": x.cid, "invoice_no": x.no, "currency": x.currency,
         "amount": fmt(x.amount, DECIMALS.get(x.currency, 2)), "invoice_date": x.invoice_date.isoformat(),
         "due_date": x.due.isoformat(), "terms": f"Net {x.net}", "disputed": "true" if x.disputed else "false"}
        for x in sorted(all_invoices, key=lambda x: x.no)])
    pays = sorted((c for c in all_credits if c.kind == "PAY"), key=lambda c: c.no)
    _write(out_dir / "payments.csv", PAYMENT_COLUMNS, [
        {"payment_id": c.no, "customer_id": c.cid, "payment_date": c.date.isoformat(),
         "amount": fmt(c.amount, DECIMALS.get(c.currency, 2)), "currency": c.currency,
         "invoice_ref": c.inv.no if c.inv is not None else ""} for c in pays])
    cns = sorted((c for c in all_credits if c.kind == "CN"), key=lambda c: c.no)
    _write(out_dir / "credit_notes.csv", CREDIT_NOTE_COLUMNS, [
        {"credit_note_no": c.no, "customer_id": c.cid, "date": c.date.isoformat(),
         "amount": fmt(c.amount, DECIMALS.get(c.currency, 2)), "currency": c.currency,
         "invoice_ref": c.inv.no if c.inv is not None else ""} for c in cns])
    _write(out_dir / "reviews.csv", REVIEW_COLUMNS, sorted(reviews, key=lambda r: (r["review_date"],
                                                                                   r["customer_id"])))
    _write(out_dir / "fx_rates.csv", FX_COLUMNS, [
        {"date": day.isoformat(), "currency": cur, "rate": f"{rate}"}
        for day in month_starts(START, AS_OF) for cur, series in fx.items() for dd, rate in series if dd == day])
    summary.update(customers=len(rows), invoices=len(all_invoices), payments=len(pays), credit_notes=len(cns),
                   reviews=len(reviews))
    return summary


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory to write (default: the bundled one)")
    args = parser.parse_args(argv)
    summary = generate(args.out)
    print(f"{summary['customers']} customers, {summary['invoices']} invoices, {summary['payments']} payments, "
          f"{summary['credit_notes']} credit notes, {summary['reviews']} reviews -> {args.out}")
    print("grades:", dict(sorted(summary["grades"].items())))  # type: ignore[union-attr]
    print("open items per bucket:", dict(summary["buckets"]))  # type: ignore[arg-type]
    print("dunning stage (customers):", {k or "-": len(v) for k, v in summary["stages"].items()})  # type: ignore[union-attr]
    print("unapplied cash:", {k: str(v) for k, v in summary["unapplied"].items()})  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
