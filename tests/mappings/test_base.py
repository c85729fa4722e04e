"""The shared coercions every mapping uses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mappings.base import unix_datetime, us_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01/31/2026", date(2026, 1, 31)),
        ("1/5/2026", date(2026, 1, 5)),
        (" 12/01/2025 ", date(2025, 12, 1)),
        ("2026-01-31", date(2026, 1, 31)),
        ("", None),
        (None, None),
    ],
)
def test_us_date_reads_intacct_and_iso_dates(raw: str | None, expected: date | None) -> None:
    assert us_date(raw) == expected


@pytest.mark.parametrize("raw", ["13/01/2026", "02/30/2026", "1/5/26", "01/31/2026/1", "a/b/2026"])
def test_us_date_rejects_what_is_not_a_date(raw: str) -> None:
    with pytest.raises(ValueError, match="MM/DD/YYYY"):
        us_date(raw)


@pytest.mark.parametrize("raw", [Decimal("1E+20"), 10**30, float("inf")])
def test_a_timestamp_no_calendar_holds_is_a_value_error(raw: object) -> None:
    """HEAD let OverflowError escape the mapping: the page failed instead of the record
    being quarantined naming its field."""
    with pytest.raises(ValueError, match="not a timestamp"):
        unix_datetime(raw)
