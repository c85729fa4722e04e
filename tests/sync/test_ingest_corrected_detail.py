"""A bank's credit kept with the payer's unreadable remittance detail left out, then the
corrected file (same transaction, same key, readable detail): the stored remittance takes the
detail while it is undecided, on both backends; a copy that adds nothing writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

import sync.ingest as ingest_module
from canonical.models import Decision, Remittance
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from sync.ingest import ingest_files
from tests.support.receivables import Book, applied, decision

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"
NACHA = (FIXTURES / "nacha_ccd_ctx.ach").read_text()
CAMT = (FIXTURES / "camt054_v08_structured.xml").read_text()


def _nacha(old: str, new: str, text: str = NACHA) -> str:
    """The NACHA sample with one field changed, every record still 94 characters."""
    assert old in text
    changed = text.replace(old, new.ljust(len(old)) if len(new) < len(old) else new)
    assert all(len(line) == 94 for line in changed.splitlines())
    return changed


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _bad_nacha(tmp_path: Path) -> Path:
    """The CCD+ entry of 1875.00 whose RMR04 is no amount: kept without INV-1003."""
    return _write(
        tmp_path,
        "day.ach",
        _nacha("RMR*IV*INV-1003**1875.00\\", "RMR*IV*INV-1003**1O0.00\\"),
    )


def _by_key(store: Store) -> dict[str, Remittance]:
    with store.session() as s:
        return {r.source_key: r for r in s.exec(select(Remittance)).all()}


def _globex(store: Store) -> Remittance:
    (row,) = [r for r in _by_key(store).values() if r.bank_reference == "021000020000001"]
    return row


@contextmanager
def _writes(store: Store) -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements sent to the store inside the block."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)


def test_corrected_nacha_file_gives_the_kept_credit_its_invoice(
    store: Store, tmp_path: Path
) -> None:
    first = ingest_files(store, [_bad_nacha(tmp_path)])
    assert (first.new, len(first.warnings)) == (3, 1)
    kept = _globex(store)
    assert (kept.structured_refs, kept.free_text) == ([], "PAYMENT RMR*IV*INV-1003**1O0.00\\")

    corrected = ingest_files(store, [_write(tmp_path, "day_corrected.ach", NACHA)])

    row = _globex(store)
    assert len(_by_key(store)) == 3  # the cash is counted once
    assert (row.id, row.source_key) == (kept.id, kept.source_key)
    assert (str(row.amount), row.value_date) == ("1875.00 USD", date(2026, 11, 20))
    assert (row.payer_name, row.payer_account) == ("GLOBEX CORP", "1234567890")
    assert [(r["kind"], r["ref"], r["amount"]) for r in row.structured_refs] == [
        ("invoice", "INV-1003", "1875.00")
    ]
    assert row.free_text == "PAYMENT"
    assert "RMR*IV*INV-1003**1875.00\\" in row.raw
    assert row.source_file == "day_corrected.ach"
    assert row.status == "new"
    (outcome,) = corrected.files
    assert (outcome.new, outcome.duplicate, outcome.detailed, outcome.rejected) == (0, 2, 1, 0)
    assert outcome.warnings == []
    assert corrected.summary() == "1 file: 0 new, 2 duplicate, 1 detailed, 0 rejected, 0 warnings"
    assert corrected.to_dict()["detailed"] == 1
    assert corrected.to_dict()["files"][0]["detailed"] == 1


def test_the_detailed_credit_is_applied_by_its_reference(store: Store, tmp_path: Path) -> None:
    book = Book(store)
    globex = book.customer("Globex Corp")
    book.invoice(globex, "INV-1003", "1875.00")
    book.invoice(globex, "INV-1009", "1875.00")  # the amount alone cannot place the cash
    ingest_files(store, [_bad_nacha(tmp_path)])
    ingest_files(store, [_write(tmp_path, "day_corrected.ach", NACHA)])

    reconcile(store)

    row = _globex(store)
    assert decision(store, row.id).rule == "structured_reference"
    assert applied(store, row.id) == {"INV-1003": "1875.00"}


def test_replaying_any_copy_afterwards_writes_nothing(store: Store, tmp_path: Path) -> None:
    bad = _bad_nacha(tmp_path)
    good = _write(tmp_path, "day_corrected.ach", NACHA)
    ingest_files(store, [bad, good])
    assert [r["ref"] for r in _globex(store).structured_refs] == ["INV-1003"]
    before = _by_key(store)

    with _writes(store) as sent:
        again = ingest_files(store, [good, bad, good])

    assert sent == []
    assert (again.new, again.duplicate, again.detailed) == (0, 9, 0)
    # only the parser's finding about the bad copy: nothing about the stored remittance
    assert [(w.file, w.location) for w in again.warnings] == [
        ("day.ach", "line 4 (addenda), segment 1 (RMR), RMR04")
    ]
    assert _by_key(store) == before


def test_a_file_read_right_the_first_time_replays_as_a_pure_duplicate(
    store: Store, tmp_path: Path
) -> None:
    good = _write(tmp_path, "day.ach", NACHA)
    ingest_files(store, [good])
    with _writes(store) as sent:
        again = ingest_files(store, [good])
    assert sent == []
    assert (again.new, again.duplicate, again.detailed) == (0, 3, 0)
    assert again.summary() == "1 file: 0 new, 3 duplicate, 0 rejected, 0 warnings"


def test_a_credit_the_reconciler_left_as_an_exception_is_decided_again_with_the_detail(
    store: Store, tmp_path: Path
) -> None:
    ingest_files(store, [_bad_nacha(tmp_path)])
    reconcile(store)  # no customer is known: the credit is left as an exception
    kept = _globex(store)
    made = decision(store, kept.id)
    assert kept.status == made.status == "exception"

    corrected = ingest_files(store, [_write(tmp_path, "day_corrected.ach", NACHA)])

    assert (corrected.new, corrected.duplicate, corrected.detailed) == (0, 2, 1)
    assert corrected.warnings == []
    row = _globex(store)  # taken back at once: the next reconcile decides it with its detail
    assert row.status == "new"
    assert [ref["ref"] for ref in row.structured_refs] == ["INV-1003"]
    with store.session() as session:
        old = session.get(Decision, made.id)
        assert old is not None and old.superseded
    book = Book(store)
    book.invoice(book.customer("Globex Corp"), "INV-1003", "1875.00")
    reconcile(store)
    again = decision(store, kept.id)
    assert again.status == "auto_applied"
    assert again.evidence["supersedes_decision"] == made.id
    assert applied(store, kept.id) == {"INV-1003": "1875.00"}


def test_a_credit_already_applied_keeps_its_decision_and_the_correction_is_named(
    store: Store, tmp_path: Path
) -> None:
    book = Book(store)
    book.invoice(book.customer("Globex Corp"), "INV-1003", "1875.00")
    ingest_files(store, [_bad_nacha(tmp_path)])
    reconcile(store)
    kept = _globex(store)
    made = decision(store, kept.id)
    assert made.status == "auto_applied"

    corrected = ingest_files(store, [_write(tmp_path, "day_corrected.ach", NACHA)])

    (warning,) = corrected.warnings
    assert (warning.file, warning.location) == ("day_corrected.ach", "line 3")
    assert warning.reason == (
        f"nacha remittance {kept.id} (trace 021000020000001, 1875.00 USD, from day.ach), "
        f"stored without this detail, is already decided (decision {made.id}, auto_applied): "
        "this record's detail (INV-1003) is not taken, counted as a duplicate (check the "
        "decision against it)"
    )
    row = _globex(store)
    assert (row.structured_refs, row.free_text) == ([], "PAYMENT RMR*IV*INV-1003**1O0.00\\")
    assert row.source_file == "day.ach"
    assert (corrected.new, corrected.duplicate, corrected.detailed) == (0, 3, 0)


def _bai2(file_id: str, rmr04: str) -> str:
    """A JPMorgan-style prior-day file: a CCD+ credit's addenda passed on in its 88 text."""
    records = [
        f"01,021000021,ACMEWIDGETS,261121,0615,{file_id},80,,2/",
        "02,ACMEWIDGETS,021000021,1,261120,2400,USD,2/",
        "03,0012345678,USD,010,0,,/",
        "16,142,125000,0,ACH0000990010,GLX-55012,ORIG CO NAME:GLOBEX CORP ENTRY DESCR:PAYMENT",
        f"88,RMR*IV*INV-1100**{rmr04}\\RMR*IV*INV-1101**1150.00\\",
        "49,125000,4/",
        "98,125000,1,6/",
        "99,125000,1,8/",
    ]
    return "\n".join(records) + "\n"


def test_a_resent_bai2_file_gives_the_kept_credit_its_invoices(
    store: Store, tmp_path: Path
) -> None:
    first = ingest_files(store, [_write(tmp_path, "jpm.bai", _bai2("20261121B", "1O0.00"))])
    assert (first.new, len(first.warnings)) == (1, 1)

    resent = ingest_files(store, [_write(tmp_path, "jpm2.bai", _bai2("20261121C", "100.00"))])

    (row,) = _by_key(store).values()
    assert (str(row.amount), row.payer_name, row.end_to_end_id) == (
        "1250.00 USD",
        "GLOBEX CORP",
        "GLX-55012",
    )
    assert [(r["ref"], r["amount"]) for r in row.structured_refs] == [
        ("INV-1100", "100.00"),
        ("INV-1101", "1150.00"),
    ]
    assert (resent.new, resent.duplicate, resent.detailed, resent.warnings) == (0, 0, 1, [])


def _camt(tmp_path: Path, name: str, old: str = "", new: str = "") -> Path:
    assert old in CAMT
    return _write(tmp_path, name, CAMT.replace(old, new) if old else CAMT)


def _dupont(store: Store) -> Remittance:
    (row,) = [r for r in _by_key(store).values() if r.end_to_end_id == "DUR-PAYRUN-4410-17"]
    return row


def test_a_corrected_camt_gives_the_kept_entry_its_documents(store: Store, tmp_path: Path) -> None:
    bad = _camt(tmp_path, "c054.xml", '<RmtdAmt Ccy="EUR">4900.00', '<RmtdAmt Ccy="EUR">49OO.00')
    ingest_files(store, [bad])
    # the document whose amount is unreadable is kept without its amounts
    assert [(r["ref"], r["amount"]) for r in _dupont(store).structured_refs] == [
        ("FA-2026-3101", None),
        ("FA-2026-3102", "3948.00"),
        ("AV-2026-0077", "-200.00"),
    ]

    corrected = ingest_files(store, [_camt(tmp_path, "c054_corrected.xml")])

    row = _dupont(store)
    assert [(r["kind"], r["ref"], r["amount"], r["date"]) for r in row.structured_refs] == [
        ("invoice", "FA-2026-3101", "4900.00", "2026-10-02"),
        ("invoice", "FA-2026-3102", "3948.00", "2026-10-09"),
        ("credit_memo", "AV-2026-0077", "-200.00", "2026-10-15"),
    ]
    assert (str(row.amount), row.value_date) == ("8648.00 EUR", date(2026, 11, 20))
    assert row.ultimate_payer_name == "Groupe Dupont"
    assert (corrected.new, corrected.duplicate, corrected.detailed) == (0, 1, 1)


def test_a_corrected_camt_gives_back_the_date_that_was_left_out(
    store: Store, tmp_path: Path
) -> None:
    bad = _camt(tmp_path, "dt.xml", "<RltdDt>2026-10-09", "<RltdDt>2026-13-09")
    ingest_files(store, [bad])
    assert [r["date"] for r in _dupont(store).structured_refs] == ["2026-10-02", None, "2026-10-15"]

    corrected = ingest_files(store, [_camt(tmp_path, "dt_corrected.xml")])

    dates = [r["date"] for r in _dupont(store).structured_refs]
    assert dates == ["2026-10-02", "2026-10-09", "2026-10-15"]
    assert (corrected.new, corrected.duplicate, corrected.detailed) == (0, 1, 1)


def test_a_copy_stating_another_value_date_gives_nothing_and_names_both(
    store: Store, tmp_path: Path
) -> None:
    bad = _camt(tmp_path, "c054.xml", '<RmtdAmt Ccy="EUR">4900.00', '<RmtdAmt Ccy="EUR">49OO.00')
    ingest_files(store, [bad])
    kept = _dupont(store)
    other_day = _camt(
        tmp_path,
        "c054_other_day.xml",
        "<ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>BNPP2026112000000451<",
        "<ValDt><Dt>2026-11-23</Dt></ValDt><AcctSvcrRef>BNPP2026112000000451<",
    )

    report = ingest_files(store, [other_day])

    (warning,) = report.warnings
    assert warning.reason == (
        f"camt.054 remittance {kept.id} (trace BNPP2026112000000451-01, 8648.00 EUR, from "
        "c054.xml), stored without this detail, is 8648.00 EUR of 2026-11-20, this record "
        "8648.00 EUR of 2026-11-23: its detail is not taken, the stored remittance stays as "
        "it is (check it)"
    )
    row = _dupont(store)
    assert (row.structured_refs, row.value_date) == (kept.structured_refs, date(2026, 11, 20))
    assert row.structured_refs[0]["amount"] is None
    assert (report.new, report.duplicate, report.detailed) == (0, 2, 0)


def test_a_person_confirming_while_the_correction_is_ingested_keeps_the_decision(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person confirms the exception between ingest reading it and taking it back: the
    person's decision stands alone, nothing is sent back to be decided again."""
    ingest_files(store, [_bad_nacha(tmp_path)])
    reconcile(store)  # no customer known: an exception
    book = Book(store)
    book.invoice(book.customer("Globex Corp"), "INV-1003", "1875.00")
    kept = _globex(store)
    made = decision(store, kept.id)
    real = ingest_module.reconsiderable

    def racing(session: Any, tenant: str, ids: Any) -> dict[str, str]:
        found = real(session, tenant, ids)
        confirm(store, made.id, by="person:ana", invoice_numbers=["INV-1003"])
        return found

    monkeypatch.setattr(ingest_module, "reconsiderable", racing)
    corrected = ingest_files(store, [_write(tmp_path, "day_corrected.ach", NACHA)])
    monkeypatch.setattr(ingest_module, "reconsiderable", real)
    assert corrected.detailed == 0
    assert any("decided meanwhile" in w.reason for w in corrected.warnings)
    reconcile(store)
    with store.session() as session:
        standing = [
            (d.status, d.decided_by)
            for d in session.exec(select(Decision).where(Decision.source_id == kept.id)).all()
            if not d.superseded
        ]
        remittance = session.get(Remittance, kept.id)
        assert remittance is not None and remittance.status == "auto_applied"
    assert standing == [("auto_applied", "person:ana")]
    assert applied(store, kept.id) == {"INV-1003": "1875.00"}
