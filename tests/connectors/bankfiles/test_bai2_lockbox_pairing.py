"""BAI2 lockbox items (116) pair with their deposit (115) whatever lies between them.

A bank report lists a lockbox deposit and, after it, its items; other details of the account
may come between (an incoming wire, a ZBA credit that is left out, an item of 0.00), and a
report may list several deposits before their items, each item stating the deposit's bank
reference. An item that pairs with no deposit while the account has one is a warning: its
cash may be counted twice.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import ParseResult, RawRemittance

_DEPOSIT = "16,115,172500,0,LBX0042,,LOCKBOX 0042 DEPOSIT 3 ITEMS/\n"
_ITEMS = (
    "16,116,50000,0,LBX0042,CHK 1001,ITEM IN LOCKBOX/\n"
    "16,116,50000,0,LBX0042,CHK 1002,ITEM IN LOCKBOX/\n"
    "16,116,72500,0,LBX0042,CHK 1003,ITEM IN LOCKBOX/\n"
)
_ITEM_AMOUNTS = [Decimal("500.00"), Decimal("500.00"), Decimal("725.00")]


def _parse(*details: str) -> ParseResult:
    """A one-account file of ``details``, its trailers adding up."""
    records = "".join(details)
    total = sum(int(line.split(",")[2]) for line in records.splitlines())
    count = len(records.splitlines())
    text = (
        "01,121000358,NORTHWINDCO,261207,0600,12,80,,2/\n"
        "02,NORTHWINDCO,121000358,1,261206,2400,USD,2/\n"
        "03,88120456,USD,010,0,,/\n"
        f"{records}"
        f"49,{total},{count + 2}/\n98,{total},1,{count + 4}/\n99,{total},1,{count + 6}/\n"
    )
    return parse_bank_bytes(text.encode(), "lockbox.bai")


def _key_of_deposit_alone(deposit: str = _DEPOSIT) -> str:
    (alone,) = _parse(deposit).records
    return alone.dedup_key


def _detailing(records: list[RawRemittance], deposit_key: str) -> list[Decimal]:
    return [r.amount for r in records if r.details_of == deposit_key]


def test_an_item_of_0_00_between_the_deposit_and_its_items_parts_nothing() -> None:
    zero = "16,116,0,0,LBX0042,CHK 1000,ITEM IN LOCKBOX/\n"
    result = _parse(_DEPOSIT, zero, _ITEMS)
    assert result.errors == [] and result.warnings == []
    assert [r.amount for r in result.records] == _ITEM_AMOUNTS
    assert _detailing(result.records, _key_of_deposit_alone()) == _ITEM_AMOUNTS


def test_a_left_out_credit_between_the_deposit_and_its_items_parts_nothing() -> None:
    zba = "16,275,900000,0,ZBA1,,ZBA CREDIT FROM 88120400/\n"
    result = _parse(_DEPOSIT, zba, _ITEMS)
    [left_out] = result.warnings
    assert "275" in left_out.reason and "not a customer paying" in left_out.reason
    assert [r.amount for r in result.records] == _ITEM_AMOUNTS
    assert _detailing(result.records, _key_of_deposit_alone()) == _ITEM_AMOUNTS


def test_items_after_two_deposits_pair_with_the_one_stating_their_reference() -> None:
    second = "16,115,100000,0,LBX0043,,LOCKBOX 0043 DEPOSIT/\n"
    its_item = "16,116,100000,0,LBX0043,CHK 2001,ITEM IN LOCKBOX/\n"
    result = _parse(_DEPOSIT, second, _ITEMS, its_item)
    assert result.errors == [] and result.warnings == []
    assert sum(r.amount for r in result.records) == Decimal("2725.00")
    assert _detailing(result.records, _key_of_deposit_alone()) == _ITEM_AMOUNTS
    assert _detailing(result.records, _key_of_deposit_alone(second)) == [Decimal("1000.00")]


def test_items_stating_no_deposits_reference_pair_with_the_nearest_deposit_before_them() -> None:
    items = _ITEMS.replace("LBX0042", "9001")  # each check's own number as its reference
    result = _parse(_DEPOSIT, items)
    assert result.warnings == []
    assert _detailing(result.records, _key_of_deposit_alone()) == _ITEM_AMOUNTS


def test_an_item_before_any_deposit_of_its_account_is_a_warning_naming_it() -> None:
    early = "16,116,30000,0,LBX0041,CHK 0999,ITEM IN LOCKBOX/\n"
    result = _parse(early, _DEPOSIT, _ITEMS)
    assert [r.amount for r in result.records] == [Decimal("300.00"), *_ITEM_AMOUNTS]
    assert result.records[0].details_of is None
    [warning] = result.warnings
    assert warning.location == "line 4"
    assert "116" in warning.reason and "CHK 0999" in warning.reason
    assert "300.00 USD" in warning.reason and "counted twice" in warning.reason


def test_items_in_an_account_without_a_deposit_stand_alone_without_a_warning() -> None:
    result = _parse(_ITEMS)
    assert result.warnings == [] and result.errors == []
    assert [(r.amount, r.details_of) for r in result.records] == [
        (amount, None) for amount in _ITEM_AMOUNTS
    ]


def test_an_item_that_details_a_deposit_keeps_the_key_it_has_alone_as_an_earlier_one() -> None:
    """Items stored before they were tied to their deposit are recognised."""
    alone = [r.dedup_key for r in _parse(_ITEMS).records]
    paired = _parse(_DEPOSIT, _ITEMS).records
    assert [r.also_known_as[0] for r in paired] == alone
    assert not {r.dedup_key for r in paired} & set(alone)
