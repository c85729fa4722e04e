"""BAI2 as banks send it: a lockbox deposit (type 115) reported with its items (116).

BAI defines 115 "Lockbox Deposit" and 116 "Item in Lockbox Deposit" (both detail credits):
an item is one check of a deposit. A file stating a deposit and, after it, items that add up
to it states the same cash twice; the items are kept (each check, the payer's reference)
and name the deposit they detail, as a camt batch entry's transactions do.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlmodel import select

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import ParseResult, RawRemittance
from sync.ingest import ingest_file


def _text(details: str, trailer: str) -> str:
    return (
        "01,121000358,NORTHWINDCO,261207,0600,12,80,,2/\n"
        "02,NORTHWINDCO,121000358,1,261206,2400,USD,2/\n"
        "03,88120456,USD,010,0,,/\n"
        f"{details}{trailer}"
    )


def _parse(details: str, trailer: str) -> ParseResult:
    return parse_bank_bytes(_text(details, trailer).encode(), "lockbox.bai")


_DEPOSIT = "16,115,172500,0,LBX0042,,LOCKBOX 0042 DEPOSIT 3 ITEMS/\n"
_ITEMS = (
    "16,116,50000,0,LBX0042,CHK 1001,ITEM IN LOCKBOX/\n"
    "16,116,50000,0,LBX0042,CHK 1002,ITEM IN LOCKBOX/\n"
    "16,116,72500,0,LBX0042,CHK 1003,ITEM IN LOCKBOX/\n"
)


def _deposit_alone() -> RawRemittance:
    (deposit,) = _parse(_DEPOSIT, "49,172500,3/\n98,172500,1,5/\n99,172500,1,7/\n").records
    return deposit


def test_a_lockbox_deposit_and_the_items_adding_up_to_it_count_the_cash_once() -> None:
    result = _parse(_DEPOSIT + _ITEMS, "49,345000,6/\n98,345000,1,8/\n99,345000,1,10/\n")
    assert result.errors == [] and result.warnings == []
    assert sum(r.amount for r in result.records) == Decimal("1725.00")
    assert [(r.amount, r.end_to_end_id) for r in result.records] == [
        (Decimal("500.00"), "CHK 1001"),
        (Decimal("500.00"), "CHK 1002"),
        (Decimal("725.00"), "CHK 1003"),
    ]
    # each item names the deposit as a report without the items stores it
    assert {r.details_of for r in result.records} == {_deposit_alone().dedup_key}


def test_items_that_do_not_add_up_to_the_deposit_are_kept_with_a_warning() -> None:
    items = _ITEMS.replace("72500", "70000")
    result = _parse(_DEPOSIT + items, "49,342500,6/\n98,342500,1,8/\n99,342500,1,10/\n")
    assert [r.amount for r in result.records] == [
        Decimal("1725.00"),
        Decimal("500.00"),
        Decimal("500.00"),
        Decimal("700.00"),
    ]
    assert all(r.details_of is None for r in result.records)
    (warning,) = result.warnings
    assert warning.location == "line 4"
    assert "1725.00 USD" in warning.reason and "1700.00 USD" in warning.reason


def test_items_after_another_credit_are_no_part_of_the_deposit_before_it() -> None:
    wire = "16,195,10000,0,FW1,,B/O:CONTOSO LTD/\n"
    result = _parse(_DEPOSIT + wire + _ITEMS, "49,355000,7/\n98,355000,1,9/\n99,355000,1,11/\n")
    assert len(result.records) == 5
    assert all(r.details_of is None for r in result.records)
    # not paired, the items may repeat the deposit's cash: each is named
    unpaired = [w for w in result.warnings if "does not follow a lockbox deposit" in w.reason]
    assert len(unpaired) == 3
    assert "500.00 USD" in unpaired[0].reason and unpaired[0].location.startswith("line")


def test_items_of_an_account_without_a_deposit_stand_alone_without_warning() -> None:
    result = _parse(_ITEMS, "49,172500,5/\n98,172500,1,7/\n99,172500,1,9/\n")
    assert len(result.records) == 3
    assert not [w for w in result.warnings if "lockbox" in w.reason]


def test_items_in_a_later_report_replace_the_deposit_stored_without_them(
    store: Store, tmp_path: Path
) -> None:
    """A report of the day states the deposit alone, a later one the deposit and its items:
    the items replace the stored deposit, the cash stays counted once."""
    interim, final = tmp_path / "first.bai", tmp_path / "later.bai"
    interim.write_text(_text(_DEPOSIT, "49,172500,3/\n98,172500,1,5/\n99,172500,1,7/\n"))
    final.write_text(_text(_DEPOSIT + _ITEMS, "49,345000,6/\n98,345000,1,8/\n99,345000,1,10/\n"))
    assert ingest_file(store, interim).new == 1
    assert ingest_file(store, final).new == 3
    with store.session() as session:
        stored = sorted(r.amount_minor for r in session.exec(select(Remittance)).all())
    assert stored == [50000, 50000, 72500]
