"""Invoiced's JSON: amounts are JSON numbers with decimals, read and written exactly."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\x00exact:"
_MARKED = re.compile(r'"\\u0000exact:(-?[0-9.Ee+-]+)"')


def loads(raw: bytes | str) -> Any:
    """Parse JSON with every number that has a fraction as ``Decimal`` (never float)."""
    return json.loads(raw, parse_float=Decimal)


def _marked(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return f"{_MARK}{value}"
    if isinstance(value, dict):
        return {k: _marked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_marked(v) for v in value]
    if isinstance(value, float):
        raise TypeError("floats are not sent to Invoiced: use Decimal")
    return value


def dumps(value: Any) -> str:
    """JSON with ``Decimal`` values written as exact JSON numbers (``51.15``, not a string)."""
    return _MARKED.sub(r"\1", json.dumps(_marked(value), separators=(",", ":")))
