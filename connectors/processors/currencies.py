"""Each processor's own minor units, which are not always ISO 4217's (the store's).

Amounts arrive as integers in the processor's minor unit of the currency. That unit is the
processor's, documented per vendor, and it differs from ISO 4217 (which the canonical store
quantizes to, see :func:`canonical.money.minor_digits`) for a handful of currencies:

* Stripe: zero-decimal currencies are BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF
  XPF; three-decimal ones BHD JOD KWD OMR TND; every other currency is two-decimal in the
  API, including ISK and UGX (both became zero-decimal, but for backwards compatibility Stripe
  keeps them two-decimal with the decimal part always 00: 500 is 5 UGX), HUF, TWD, COP and
  IDR. Stripe's other special cases (HUF and TWD) concern payouts, not read here.
* Adyen: ISO 4217 minor units, except CLP and ISK (2 decimals) and CVE and IDR (0 decimals).
* GoCardless: ISO 4217 minor units (all its currencies are two-decimal).

An amount the canonical currency cannot hold exactly (a fractional krona, say) is an error,
never rounded away.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from canonical.money import Money, MoneyError, minor_digits, normalize_currency

STRIPE_ZERO = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
STRIPE_THREE = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])

ADYEN_EXCEPTIONS = {"CLP": 2, "CVE": 0, "IDR": 0, "ISK": 2}


def iso_exponent(currency: str) -> int:
    """ISO 4217 minor-unit digits."""
    return minor_digits(currency)


def stripe_exponent(currency: str) -> int:
    code = normalize_currency(currency)
    if code in STRIPE_ZERO:
        return 0
    if code in STRIPE_THREE:
        return 3
    return 2


def adyen_exponent(currency: str) -> int:
    code = normalize_currency(currency)
    return ADYEN_EXCEPTIONS.get(code, iso_exponent(code))


def minor_units(value: Any) -> int:
    """An integer amount in minor units; a fraction, a float or anything else is refused."""
    if isinstance(value, bool):
        raise MoneyError(f"not an amount in minor units: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.isascii():
        return int(value.strip())
    raise MoneyError(f"not an integer amount in minor units: {value!r}")


def from_processor_minor(value: Any, currency: str, exponent: int) -> Money:
    """Money from a processor's integer minor units, exact or an error."""
    minor = minor_units(value)
    code = normalize_currency(currency)
    return Money(Decimal(minor).scaleb(-exponent), code, exact=True)
