"""A record the store refuses is quarantined and the stream goes on; a store that fails
itself stops the run as FAILED with its reason, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import col

from canonical.enums import RunStatus
from canonical.models import ExternalRef, Quarantine, SyncBookmark
from canonical.store import Store
from connectors.base import RawRecord
from connectors.sandbox.server import SandboxServer
from sync import pull
from sync.engine import SyncEngine
from tests.support.pull import qbo_connector


def refusing(monkeypatch: pytest.MonkeyPatch, remote_id: str, error: Exception) -> None:
    """The store raises ``error`` for any batch holding ``remote_id`` of an invoice."""
    write = pull.PageWriter.write

    def write_or_refuse(self: Any, session: Any, records: list[RawRecord]) -> Any:
        counts = write(self, session, records)
        if self.stream == "invoices" and any(r.remote_id == remote_id for r in records):
            session.flush()
            raise error
        return counts

    monkeypatch.setattr(pull.PageWriter, "write", write_or_refuse)


def invoice_refs(store: Store) -> set[str]:
    with store.session() as session:
        return set(
            session.execute(
                select(col(ExternalRef.remote_id)).where(
                    col(ExternalRef.system) == "quickbooks",
                    col(ExternalRef.canonical_type) == "invoice",
                )
            ).scalars()
        )


def test_a_record_the_store_refuses_is_quarantined_and_the_rest_stored(
    store: Store, qbo_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoices = qbo_sandbox.remote_ids("invoices")
    poisoned = invoices[len(invoices) // 2]
    refusal = IntegrityError("INSERT INTO invoice ...", None, Exception("CHECK constraint failed"))
    refusing(monkeypatch, poisoned, refusal)
    result = SyncEngine(store).sync(qbo_connector(qbo_sandbox))
    assert result.status == RunStatus.PARTIAL and result.error is None
    assert invoice_refs(store) == set(invoices) - {poisoned}
    with store.session() as session:
        [quarantined] = session.execute(select(Quarantine)).scalars().all()
        bookmark = session.get(SyncBookmark, ("default", "quickbooks", "invoices"))
    assert quarantined.remote_id == poisoned and quarantined.object_type == "invoices"
    assert quarantined.reason.endswith("the store refused it: CHECK constraint failed")
    assert result.counts["invoices"].quarantined == 1
    assert result.counts["invoices"].fetched == len(invoices)
    assert bookmark is not None and bookmark.cursor  # the stream went on to its end


def test_a_store_that_fails_itself_stops_the_run_as_failed_with_its_reason(
    store: Store, qbo_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = qbo_sandbox.remote_ids("invoices")[0]
    outage = OperationalError("COMMIT", None, Exception("disk I/O error\nsecond line"))
    refusing(monkeypatch, first, outage)
    result = SyncEngine(store).sync(qbo_connector(qbo_sandbox))
    assert result.status == RunStatus.FAILED
    assert result.error == "store error: disk I/O error"
    with store.session() as session:
        quarantined = session.execute(select(func.count()).select_from(Quarantine)).scalar_one()
    assert quarantined == 0  # the store's own failure is no record's fault
    assert first not in invoice_refs(store)  # its batch rolled back whole
