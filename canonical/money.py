"""Money: a Decimal amount with an ISO 4217 currency, quantized to the currency's minor unit.

The minor unit is ISO 4217's (HUF and IDR have two decimals, IQD three), not CLDR's display
precision. The store keeps amounts as integer minor units (exact on every backend); everything
above the store works with :class:`Money`. No float ever touches an amount.
"""

from __future__ import annotations

import copy
import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel.core import Locale, get_global
from babel.numbers import NumberPattern, get_currency_precision
from iso4217 import Currency
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


# the store keeps minor units in a signed 64-bit column: nothing larger is money here
MAX_MINOR = 2**63 - 1
# text with thousands separators: commas between groups of three digits, and a decimal point
# ("1,234.56"); "1,234" alone may be a decimal comma, so it is not guessed at
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+\.\d+")


@lru_cache(maxsize=512)
def minor_digits(currency: str) -> int:
    """Number of minor-unit digits of a currency as ISO 4217 lists it (JPY 0, USD 2, HUF 2,
    KWD 3); CLDR's for a code the current ISO list lacks or gives none (historic codes, XAU)."""
    code = normalize_currency(currency)
    try:
        digits = Currency(code).exponent
    except ValueError:
        digits = None
    return int(get_currency_precision(code)) if digits is None else digits


@lru_cache(maxsize=512)
def normalize_currency(currency: str) -> str:
    """Upper-case ISO 4217 code; raises MoneyError for anything that is not one."""
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise MoneyError(f"not an ISO 4217 currency code: {currency!r}")
    if code not in _known_currencies():
        raise MoneyError(f"unknown ISO 4217 currency code: {currency!r}")
    return code


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(get_global("all_currencies"))


@lru_cache(maxsize=64)
def _currency_pattern(locale: str, digits: int) -> NumberPattern:
    """The locale's currency pattern with exactly ``digits`` decimals."""
    pattern = copy.copy(Locale.parse(locale).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


@lru_cache(maxsize=16)
def _quantum(digits: int) -> Decimal:
    return Decimal(1).scaleb(-digits)


@lru_cache(maxsize=512)
def _unit(currency: str) -> tuple[str, Decimal, int]:
    """A currency's ISO code, its minor unit as a Decimal quantum (USD: 0.01) and the
    magnitude (``Decimal.adjusted``) from which an amount may not fit the store's column."""
    code = normalize_currency(currency)
    digits = minor_digits(code)
    return code, _quantum(digits), len(str(MAX_MINOR)) - 1 - digits


def exact_amount(value: Decimal, currency: str | None) -> Decimal:
    """``value`` at its currency's number of decimals (``1000`` JPY, ``12.345`` KWD, ``12.50``
    USD; two when no currency is given), never negative zero: how an amount is written to a
    system. More decimals than the currency has raise :class:`MoneyError`; nothing is rounded
    on its way out."""
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {value}")
    shown = value.quantize(_quantum(minor_digits(currency) if currency else 2))
    if shown != value:
        raise MoneyError(f"{value} has more decimals than {currency or 'the currency'} allows")
    return shown.copy_abs() if shown.is_zero() else shown


def to_decimal(value: Any) -> Decimal:
    """Coerce str/int/Decimal to Decimal. Floats are refused: they cannot carry cents exactly."""
    if isinstance(value, bool):
        raise MoneyError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if "," in text:  # "1.234,56" or "1,2" are not amounts: never guess a separator
            if not _GROUPED.fullmatch(text):
                raise MoneyError(f"not an amount: {value!r}")
            text = text.replace(",", "")
        try:
            result = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"not an amount: {value!r}") from exc
    else:
        raise MoneyError(f"not an amount (use str or Decimal, never float): {value!r}")
    if not result.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return result


class Money:
    """An exact amount in one currency. Immutable; arithmetic only within one currency."""

    __slots__ = ("amount", "currency")

    amount: Decimal
    currency: str

    def __init__(self, amount: Any, currency: str, *, exact: bool = False) -> None:
        code, quantum, large = _unit(currency)
        # a finite Decimal (nearly always) needs none of to_decimal's coercions or checks
        value = amount if type(amount) is Decimal and amount.is_finite() else to_decimal(amount)
        try:
            quantized = value.quantize(quantum, ROUND_HALF_EVEN)
        except InvalidOperation:  # more digits than the decimal context holds
            raise MoneyError(f"{value} {code} is too large an amount") from None
        if exact and quantized != value:
            raise MoneyError(f"{value} has more decimals than {code} allows")
        if quantized.adjusted() >= large and abs(quantized.scaleb(-quantum.adjusted())) > MAX_MINOR:
            raise MoneyError(f"{value} {code} is too large an amount")
        if quantized.is_zero():
            quantized = quantized.copy_abs()  # no negative zero ("-0.00")
        object.__setattr__(self, "amount", quantized)
        object.__setattr__(self, "currency", code)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Money is immutable")

    # construction ---------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return _zero(currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        code = normalize_currency(currency)
        return cls(Decimal(int(minor)).scaleb(-minor_digits(code)), code)

    @property
    def minor(self) -> int:
        """The amount in minor units (cents), exact."""
        return int(self.amount.scaleb(minor_digits(self.currency)))

    # arithmetic -----------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise MoneyError("multiply Money by Decimal or int, never float")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Money)
            and other.currency == self.currency
            and other.amount == self.amount
        )

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    # presentation ---------------------------------------------------------
    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def format(self, locale: str = "en_US") -> str:
        """Human format with the currency symbol, e.g. ``$1,234.50``, showing every minor
        digit (CLDR would show ``HUF1,234`` for 1234.50 HUF)."""
        return _currency_pattern(locale, minor_digits(self.currency)).apply(
            self.amount, Locale.parse(locale), currency=self.currency, currency_digits=False
        )

    def to_json(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> Money:
            if isinstance(value, Money):
                return value
            if isinstance(value, dict) and {"amount", "currency"} <= value.keys():
                return cls(value["amount"], value["currency"])
            raise MoneyError(f"not money: {value!r}")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda m: m.to_json()),
        )


def money_sum(items: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """Sum of amounts in one currency (zero for an empty list)."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


@lru_cache(maxsize=512)
def _zero(currency: str) -> Money:
    """Zero in a currency: one shared (immutable) instance per currency code as given."""
    return Money(0, currency)
