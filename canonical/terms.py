"""Payment terms and the early-payment discount they grant (``2/10 net 30``).

Systems name terms as text (QuickBooks ``2% 10 Net 30``, Invoiced ``2% 10 NET 30``, Intacct
term names, a spreadsheet's ``2/10 N30``); the canonical invoice keeps the text, the discount
in basis points and the last day it may be taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import TypedDict

# A percent is a number (``2``, ``1.5``, ``2,5``), or a fraction written with its sign
# (``1/2%``, ``1 1/2%``, ``1-1/2%``, ``1½%``: QuickBooks users' ``1/2% 10 Net 30``). Nothing is
# read from inside another number or fraction: ``1/2% 10`` is never ``2% 10``.
_PERCENT_DAYS = re.compile(
    r"(?<![\d.])(?<!\d,)(?<![\d%]/)(?:"
    r"(?:(?:(?P<whole>\d{1,2})(?:\s+|-))?(?P<num>\d{1,2})\s*/\s*(?P<den>\d{1,2})"
    r"|(?P<vwhole>\d{1,2})?\s*(?P<vulgar>[½¼¾]))"
    r"\s*(?:%|pct|percent)"
    r"|(?P<pct>\d{1,2}(?:[.,]\d{1,3})?)\s*(?P<sep>%|/|pct|percent))\s*"
    r"(?:(?:if\s+paid\s+)?(?:within|in)\s+)?(?P<days>\d{1,3})\b(?!\s*%)",
    re.IGNORECASE,
)
# ``1/2/10``: half a percent within 10 days, or one percent within 2? No discount is read.
_THIRD_SLASHED = re.compile(r"\s*/\s*\d")
_VULGAR = {"½": Decimal("0.5"), "¼": Decimal("0.25"), "¾": Decimal("0.75")}
_NET = re.compile(r"\b(?:net|n)\s*/?\s*(?P<net>\d{1,3})\b", re.IGNORECASE)
_MAX_PERCENT = Decimal(25)


class DiscountFields(TypedDict):
    """The canonical invoice's terms columns."""

    terms: str | None
    discount_basis_points: int | None
    discount_until: date | None


@dataclass(frozen=True)
class PaymentTerms:
    """What a terms text says: the discount (percent within days) and the net days."""

    text: str
    discount_percent: Decimal | None = None
    discount_days: int | None = None
    net_days: int | None = None

    @property
    def discount_basis_points(self) -> int | None:
        if self.discount_percent is None:
            return None
        return int(self.discount_percent * 100)

    def discount_until(self, issued: date | None) -> date | None:
        """The last day the discount may be taken, counted from the issue date."""
        if issued is None or self.discount_days is None or self.discount_percent is None:
            return None
        return issued + timedelta(days=self.discount_days)


@lru_cache(maxsize=1024)  # a book uses a handful of terms texts, read on every invoice
def parse_terms(text: str | None) -> PaymentTerms | None:
    """Terms from their usual spellings; a text with no discount in it has none."""
    if text is None or not text.strip():
        return None
    cleaned = " ".join(text.split())
    net = _NET.search(cleaned)
    net_days = int(net.group("net")) if net else None
    found = _PERCENT_DAYS.search(_NET.sub(" ", cleaned) if net else cleaned)
    if found is None:
        return PaymentTerms(cleaned, net_days=net_days)
    percent = _percent(found)
    if percent is None or (
        found.group("sep") == "/" and _THIRD_SLASHED.match(found.string, found.end())
    ):
        return PaymentTerms(cleaned, net_days=net_days)
    days = int(found.group("days"))
    if not (0 < percent <= _MAX_PERCENT) or days <= 0 or (net_days and days > net_days):
        return PaymentTerms(cleaned, net_days=net_days)
    return PaymentTerms(cleaned, percent, days, net_days)


def _percent(found: re.Match[str]) -> Decimal | None:
    """The percent a match of :data:`_PERCENT_DAYS` names; None for a fraction that is not
    one (``3/2%``)."""
    if found.group("pct") is not None:
        try:
            return Decimal(found.group("pct").replace(",", "."))
        except InvalidOperation:
            return None
    if found.group("vulgar"):
        return Decimal(found.group("vwhole") or 0) + _VULGAR[found.group("vulgar")]
    numerator, denominator = int(found.group("num")), int(found.group("den"))
    if not 0 < numerator < denominator:
        return None
    return Decimal(found.group("whole") or 0) + Decimal(numerator) / Decimal(denominator)


def discount_fields(
    text: str | None, issued: date | None, until: date | None = None
) -> DiscountFields:
    """The canonical invoice's terms fields from a terms text (and a system's own discount
    date, which wins over the one counted from the issue date)."""
    terms = parse_terms(text)
    if terms is None:
        return {"terms": None, "discount_basis_points": None, "discount_until": None}
    bp = terms.discount_basis_points
    return {
        "terms": terms.text[:64],
        "discount_basis_points": bp,
        "discount_until": (until or terms.discount_until(issued)) if bp else None,
    }


def discount_minor(total_minor: int, basis_points: int) -> int:
    """The discount on an amount in minor units, rounded half up to the minor unit."""
    exact = Decimal(total_minor) * basis_points / 10_000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
