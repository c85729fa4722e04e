"""JSON as QuickBooks speaks it, with exact numbers: Decimal in, Decimal out, never float."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

_MARK = "\x00"
_MARKED_NUMBER = re.compile(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def loads(raw: bytes | str) -> Any:
    """Decode JSON with every non-integer number as ``Decimal``."""
    return json.loads(raw, parse_float=Decimal)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return f"{_MARK}{value:f}{_MARK}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """Encode JSON, writing ``Decimal`` amounts as plain JSON numbers (``12.50``).

    Decimals are first written as marked strings by the C encoder, then unquoted. Amounts
    must be Decimal: nothing here turns a float into one.
    """
    text = json.dumps(value, default=_encode, separators=(",", ":"))
    return _MARKED_NUMBER.sub(r"\1", text)
