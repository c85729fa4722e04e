"""A BAI2 lockbox deposit and its items count the cash once, whichever report comes first.

An interim report of the day (as-of-date modifier 3) may list the deposit (115) and its
items (116), and the final report (modifier 2) the deposit alone, or the other way round;
a bank may also resend a report without the items. The items are the cash; the deposit
read after them is a duplicate of them.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from canonical.models import Remittance
from canonical.store import Store
from sync.ingest import ingest_file

_DEPOSIT = "16,115,172500,0,LBX0042,,LOCKBOX 0042 DEPOSIT 3 ITEMS/\n"
_ITEMS = (
    "16,116,50000,0,LBX0042,CHK 1001,ITEM IN LOCKBOX/\n"
    "16,116,50000,0,LBX0042,CHK 1002,ITEM IN LOCKBOX/\n"
    "16,116,72500,0,LBX0042,CHK 1003,ITEM IN LOCKBOX/\n"
)
_WITH_ITEMS = "49,345000,6/\n98,345000,1,8/\n99,345000,1,10/\n"
_ALONE = "49,172500,3/\n98,172500,1,5/\n99,172500,1,7/\n"


def _report(path: Path, details: str, trailers: str, modifier: str, file_id: str) -> Path:
    path.write_text(
        f"01,121000358,NORTHWINDCO,261207,0600,{file_id},80,,2/\n"
        f"02,NORTHWINDCO,121000358,1,261206,2400,USD,{modifier}/\n"
        "03,88120456,USD,010,0,,/\n"
        f"{details}{trailers}"
    )
    return path


def _stored(store: Store) -> list[int]:
    with store.session() as session:
        return sorted(r.amount_minor for r in session.exec(select(Remittance)).all())


def test_a_deposit_in_the_final_report_after_its_items_in_an_interim_one_counts_once(
    store: Store, tmp_path: Path
) -> None:
    interim = _report(tmp_path / "interim.bai", _DEPOSIT + _ITEMS, _WITH_ITEMS, "3", "11")
    final = _report(tmp_path / "final.bai", _DEPOSIT, _ALONE, "2", "12")
    assert ingest_file(store, interim).new == 3
    outcome = ingest_file(store, final)
    assert (outcome.new, outcome.duplicate, outcome.rejected) == (0, 1, 0)
    assert outcome.warnings == []
    assert _stored(store) == [50000, 50000, 72500]  # 1725.00, not 3450.00


def test_a_resent_report_without_the_items_adds_nothing(store: Store, tmp_path: Path) -> None:
    first = _report(tmp_path / "a.bai", _DEPOSIT + _ITEMS, _WITH_ITEMS, "2", "12")
    resent = _report(tmp_path / "b.bai", _DEPOSIT, _ALONE, "2", "12")
    ingest_file(store, first)
    assert (ingest_file(store, resent).new, ingest_file(store, first).new) == (0, 0)
    assert _stored(store) == [50000, 50000, 72500]


def test_items_stored_before_they_were_tied_to_their_deposit_make_it_a_duplicate(
    store: Store, tmp_path: Path
) -> None:
    """Items stored without their deposit's report (their own keys), then both reports."""
    trailers = "49,172500,5/\n98,172500,1,7/\n99,172500,1,9/\n"
    items_only = _report(tmp_path / "items.bai", _ITEMS, trailers, "2", "10")
    with_items = _report(tmp_path / "with.bai", _DEPOSIT + _ITEMS, _WITH_ITEMS, "2", "12")
    assert ingest_file(store, items_only).new == 3
    outcome = ingest_file(store, with_items)
    assert (outcome.new, outcome.duplicate) == (0, 3)
    assert _stored(store) == [50000, 50000, 72500]
