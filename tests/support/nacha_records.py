"""NACHA records for tests: 94 characters, each field at the column the Operating Rules give
it, for the company's bank (the RDFI) receiving entries."""

from __future__ import annotations

OUR_ROUTING = "071000013"  # First Lake Bank, the company's bank (the RDFI)
OUR_ACCOUNT = "88120456"


def record(*fields: tuple[int, str]) -> str:
    """94 characters: each text at its 0-based start column, blanks elsewhere."""
    chars = [" "] * 94
    for start, text in fields:
        chars[start : start + len(text)] = list(text)
    return "".join(chars)


def iat_entry(cents: int, trace: str, addenda_count: int) -> str:
    """An IAT entry: 13-16 number of addenda, 30-39 amount, 40-74 the receiver's account."""
    return record(
        (0, "622" + OUR_ROUTING),
        (12, f"{addenda_count:04d}"),
        (29, f"{cents:010d}" + OUR_ACCOUNT),
        (78, "1" + trace),
    )
