"""Amount and date helpers shared by the bank-file parsers (of the canonical model, only a
currency's ISO 4217 minor digits)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel.core import get_global

from canonical.money import minor_digits
from connectors.bankfiles.records import BankFileError

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def currency_code(value: str | None, location: str) -> str:
    """An upper-case ISO 4217 code, or a BankFileError naming the location."""
    code = (value or "").strip().upper()
    if len(code) != 3 or code not in get_global("all_currencies"):
        raise BankFileError(location, f"not an ISO 4217 currency code: {value!r}")
    return code


def decimal_amount(value: str | None, location: str) -> Decimal:
    """A plain decimal amount (``1234.50``); refuses anything else."""
    text = (value or "").strip()
    if not _DECIMAL.match(text):
        raise BankFileError(location, f"not an amount: {value!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise BankFileError(location, f"not an amount: {value!r}") from exc


def minor_units_amount(value: str | int | None, currency: str, location: str) -> Decimal:
    """An implied-decimal amount in the currency's ISO 4217 minor units (``12345`` USD ->
    ``123.45``, ``12345`` HUF -> ``123.45``)."""
    text = str(value if value is not None else "").strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise BankFileError(location, f"not an amount in minor units: {value!r}")
    return Decimal(int(text)).scaleb(-minor_digits(currency))


def parse_date(value: str | None, formats: tuple[str, ...], location: str) -> date | None:
    """A date in one of ``formats``; ``None`` when empty."""
    text = (value or "").strip()
    if not text:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise BankFileError(location, f"not a date: {value!r}")
