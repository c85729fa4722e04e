"""A zero-dollar CCD+ advice stored before 81cbd17 (which advised the invoices' amounts paid
only) and read again afterwards (which adds what is paid on a purchase order) is the same
advice: the second ingest stores nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

import connectors.bankfiles.nacha as nacha
from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles.edi820 import RemittanceAdvice
from connectors.bankfiles.records import RefKind
from sync.ingest import ingest_file
from tests.connectors.bankfiles.test_bankfiles_nacha_realworld import (
    _addenda,
    _entry,
    _file,
    _header,
)


def _advised_before_81cbd17(advice: RemittanceAdvice) -> Decimal | None:
    """How the parent of 81cbd17 read the amount a zero-dollar advice describes."""
    if advice.amount is not None:
        return advice.amount if advice.credit and advice.amount > 0 else None
    documents = [r for r in advice.refs if r.kind is not RefKind.PO]
    if not documents or any(r.amount_paid is None for r in documents):
        return None
    total = sum((r.amount_paid or Decimal(0) for r in documents), Decimal(0))
    return total if total > 0 else None


def _advice_file(tmp_path: Path) -> Path:
    header = _header("CCD", "GLOBEX CORP", "1234567890", "REMITTANCE", 1)
    text = "RMR*IV*INV-1**250.00\\RMR*PO*PO-4471**500.00\\"
    records = [_entry("24", 0, "CUST-881", "ACME PARTS", 41, 1), _addenda(text, 1, 41)]
    path = tmp_path / "advice.ach"
    path.write_text(_file([(header, records)]))
    return path


def _rows(store: Store) -> list[Remittance]:
    with store.session() as s:
        return list(s.exec(select(Remittance)).all())


def test_an_advice_stored_before_81cbd17_is_a_duplicate_when_read_again(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _advice_file(tmp_path)
    with monkeypatch.context() as before:
        before.setattr(nacha, "_advised_amount", _advised_before_81cbd17)
        first = ingest_file(store, path)
    assert (first.new, first.duplicate, first.rejected) == (1, 0, 0)
    [stored] = _rows(store)
    assert stored.amount_minor == 25000

    again = ingest_file(store, path)
    assert (again.new, again.duplicate, again.rejected) == (0, 1, 0)
    assert [r.source_key for r in _rows(store)] == [stored.source_key]
