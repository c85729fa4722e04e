"""Remittance advice without cash (EDI 820 with BPR01 ``I``) lends its references to the cash."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from canonical.enums import RemittanceStatus
from canonical.models import Decision, Remittance
from canonical.store import Store
from connectors.bankfiles import parse_bank_bytes
from reconciler import reconcile
from reconciler.report import build_report
from sync.ingest import ingest_files
from tests.support.receivables import Book, applied, decision

ISA = "ISA*00*          *00*          *ZZ*INITECHAP      *ZZ*ACMEWIDGETS    *261120*0930*U*"
ADVICE_820 = (
    ISA
    + """00401*000000907*0*P*>~
GS*RA*INITECHAP*ACMEWIDGETS*20261120*0930*907*X*004010~
ST*820*0001~
BPR*{handling}*937.50*C*ACH*CTX*01*091000019*DA*5550001234*9876543210**01*021000021*DA*\
0012345678*20261120~
TRN*1*INI0000457*9876543210~
N1*PR*INITECH LLC~
RMR*IV*INV-1010**500.00*500.00~
RMR*IV*INV-1011**437.50*437.50~
SE*7*0001~
GE*1*907~
IEA*1*000000907~
"""
)


def write_advice(tmp_path: Path, handling: str = "I") -> Path:
    path = tmp_path / f"advice-{handling}.edi"
    path.write_text(ADVICE_820.format(handling=handling))
    return path


def test_bpr01_i_is_advice_only() -> None:
    advice = parse_bank_bytes(ADVICE_820.format(handling="I").encode(), "a.edi").records[0]
    cash = parse_bank_bytes(ADVICE_820.format(handling="C").encode(), "c.edi").records[0]
    assert (advice.advice_only, cash.advice_only) == (True, False)


def test_cash_borrows_the_advice_references_by_trace(store: Store, tmp_path: Path) -> None:
    book = Book(store)
    initech = book.customer("Initech")
    book.invoice(initech, "INV-1010", "500.00")
    book.invoice(initech, "INV-1011", "437.50")
    book.invoice(initech, "INV-1012", "437.50")  # an amount alone could not tell these apart
    ingest_files(store, [write_advice(tmp_path)])
    first = reconcile(store)
    assert first.remittances == 0  # advice is not cash
    cash = book.pay("937.50", payer="ACH CREDIT 9876543210", text="CCD INI0000457")
    reconcile(store)
    d = decision(store, cash)
    assert (d.status, d.rule) == ("auto_applied", "structured_reference")
    assert d.evidence["remittance_advice"]["matched_on"] == "trace number"
    assert applied(store, cash) == {"INV-1010": "500.00", "INV-1011": "437.50"}
    with store.session() as s:
        advice = s.execute(
            select(Remittance).where(col(Remittance.source) == "edi820")
        ).scalar_one()
        assert advice.status == RemittanceStatus.ADVICE_USED
        assert (
            s.execute(select(Decision).where(col(Decision.source_id) == advice.id)).first() is None
        )
    report = build_report(store)
    assert [r["id"] for r in report["remittances"]] == [cash]  # the advice is not cash
    assert report["advice"][0]["status"] == "used"
    assert report["totals"]["cash"]["USD"]["received"]["amount"] == "937.50"


def test_advice_without_its_cash_waits(store: Store, tmp_path: Path) -> None:
    book = Book(store)
    book.invoice(book.customer("Initech"), "INV-1010", "500.00")
    ingest_files(store, [write_advice(tmp_path)])
    book.pay("937.50", payer="Someone Else", text="unrelated")  # same amount, nothing matches
    reconcile(store)
    report = build_report(store)
    assert report["advice"][0]["status"] == "waiting"
    assert report["advice"][0]["references"] == ["INV-1010", "INV-1011"]


def test_payment_with_advice_in_the_same_file_is_cash(store: Store, tmp_path: Path) -> None:
    book = Book(store)
    initech = book.customer("Initech")
    book.invoice(initech, "INV-1010", "500.00")
    book.invoice(initech, "INV-1011", "437.50")
    ingest_files(store, [write_advice(tmp_path, "C")])
    summary = reconcile(store)
    assert summary.auto_applied == 1


def test_advice_arriving_after_its_cash_reopens_the_exception(store: Store, tmp_path: Path) -> None:
    book = Book(store)
    initech = book.customer("Initech")
    book.invoice(initech, "INV-1010", "500.00")
    book.invoice(initech, "INV-1011", "437.50")
    book.invoice(initech, "INV-1012", "437.50")
    cash = book.pay("937.50", payer="ACH CREDIT 9876543210", text="CCD INI0000457")
    reconcile(store)
    before = decision(store, cash)
    assert before.status == "exception"  # the bank line alone names no payer we know
    ingest_files(store, [write_advice(tmp_path)])
    summary = reconcile(store)
    assert summary.reopened == 1 and summary.auto_applied == 1
    after = decision(store, cash)
    assert (after.status, after.rule) == ("auto_applied", "structured_reference")
    assert after.evidence["supersedes_decision"] == before.id
    assert applied(store, cash) == {"INV-1010": "500.00", "INV-1011": "437.50"}
    with store.session() as s:
        old = s.get(Decision, before.id)
        assert old is not None and old.superseded
    again = reconcile(store)
    assert (again.remittances, again.reopened) == (0, 0)


def test_a_persons_decision_is_never_reopened_by_advice(store: Store, tmp_path: Path) -> None:
    book = Book(store)
    initech = book.customer("Initech")
    book.invoice(initech, "INV-1010", "500.00")
    book.invoice(initech, "INV-1011", "437.50")
    cash = book.pay("937.50", payer="ACH CREDIT 9876543210", text="CCD INI0000457")
    reconcile(store)
    with store.session() as s:
        mine = s.execute(select(Decision).where(col(Decision.source_id) == cash)).scalar_one()
        mine.decided_by = "ops@example.com"
        s.add(mine)
    ingest_files(store, [write_advice(tmp_path)])
    assert reconcile(store).reopened == 0
    assert decision(store, cash).decided_by == "ops@example.com"
