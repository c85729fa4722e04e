"""An EDI 820 that brings its cash (BPR01 ``C``) and the bank's own record of that cash (BAI2,
NACHA) are one payment, in either order: the bank record is the cash, the 820 its advice."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from canonical.enums import RemittanceStatus
from canonical.models import Decision, Remittance
from canonical.store import Store
from reconciler import reconcile
from sync.ingest import ingest_files
from tests.support.receivables import Book, applied, decision

TRACE = "021000028611043"  # the ACH trace: the 820's TRN02 and the bank's TRACE#

EDI_820 = (
    "ISA*00*          *00*          *ZZ*INITECHAP      *ZZ*ACMEWIDGETS    *261120*0930*U*"
    """00401*000000907*0*P*>~
GS*RA*INITECHAP*ACMEWIDGETS*20261120*0930*907*X*004010~
ST*820*0001~
BPR*C*937.50*C*ACH*CCD*01*091000019*DA*5550001234*9876543210**01*021000021*DA*\
0012345678*20261120~
TRN*1*{trace}*9876543210~
N1*PR*INITECH LLC~
RMR*IV*{first}**500.00*500.00~
RMR*IV*{second}**437.50*437.50~
SE*7*0001~
GE*1*907~
IEA*1*000000907~
"""
)

BAI2 = """01,021000021,ACMEWIDGETS,261121,0600,{file_id},,,2/
02,ACMEWIDGETS,021000021,1,261120,,USD,2/
03,0012345678,USD,010,0,,/
16,142,93750,0,{bank_ref},,ORIG CO NAME:INITECH LLC ORIG ID:9876543210 CO ENTRY DESCR:AP PAYMENT \
SEC:CCD TRACE#:{trace} EED:261120
49,93750,3/
98,93750,1,5/
99,93750,1,7/
"""

NACHA = "\n".join(
    [
        "101 021000021 1234567892611200612A094101JPMORGAN CHASE         ACME WIDGETS INC       "
        "        ",
        "5220INITECH LLC                         9876543210CCDAP PAYMENT      261120   "
        "1021000020000001",
        "6220210000210012345678       0000093750INI0000457     ACME WIDGETS INC        1"
        + "{trace}",
        "705AP PAYMENT INITECH" + " " * 62 + "00010000001",
        "822000000200021000020000000000000000000937509876543210                         "
        "021000020000001",
        "9000001000001000000020002100002000000000000000000093750                          "
        "             ",
    ]
)


def edi(tmp_path: Path, trace: str = TRACE, name: str = "remit.edi", **refs: str) -> Path:
    path = tmp_path / name
    invoices = {"first": "INV-1010", "second": "INV-1011", **refs}
    path.write_text(EDI_820.format(trace=trace, **invoices))
    return path


def bai2(tmp_path: Path, trace: str = TRACE, bank_ref: str = "ACH0000222333") -> Path:
    path = tmp_path / f"prior-day-{bank_ref}.bai"
    path.write_text(BAI2.format(trace=trace, bank_ref=bank_ref, file_id=bank_ref[-4:]))
    return path


def nacha(tmp_path: Path, trace: str) -> Path:
    path = tmp_path / "ach.ach"
    path.write_text(NACHA.format(trace=trace) + "\n")
    return path


def initech(store: Store) -> Book:
    book = Book(store)
    customer = book.customer("Initech")
    book.invoice(customer, "INV-1010", "500.00")
    book.invoice(customer, "INV-1011", "437.50")
    book.invoice(customer, "INV-1012", "437.50")  # an amount alone could not place the cash
    return book


def stored(store: Store) -> list[Remittance]:
    with store.session() as s:
        return list(s.exec(select(Remittance).order_by(Remittance.source)).all())


def cash(store: Store) -> list[Remittance]:
    advice = (RemittanceStatus.ADVICE, RemittanceStatus.ADVICE_USED)
    return [r for r in stored(store) if r.status not in advice]


def assert_counted_once(store: Store, source: str) -> None:
    [paid] = cash(store)
    assert paid.source == source
    d = decision(store, paid.id)
    assert (d.status, d.rule) == ("auto_applied", "structured_reference")
    assert d.evidence["remittance_advice"]["matched_on"] == "trace number"
    assert applied(store, paid.id) == {"INV-1010": "500.00", "INV-1011": "437.50"}
    [advice] = [r for r in stored(store) if r.source == "edi820"]
    assert advice.status == RemittanceStatus.ADVICE_USED
    assert reconcile(store).remittances == 0


def test_820_then_bai2_is_one_payment(store: Store, tmp_path: Path) -> None:
    initech(store)
    first = ingest_files(store, [edi(tmp_path)])
    then = ingest_files(store, [bai2(tmp_path)])
    assert (first.new, then.new, then.duplicate) == (1, 1, 0)
    assert then.warnings == []
    summary = reconcile(store)
    assert (summary.remittances, summary.auto_applied) == (1, 1)
    assert_counted_once(store, "bai2")
    again = ingest_files(store, [edi(tmp_path), bai2(tmp_path)])
    assert (again.new, again.duplicate) == (0, 2)
    assert len(stored(store)) == 2


def test_bai2_then_820_is_one_payment(store: Store, tmp_path: Path) -> None:
    initech(store)
    ingest_files(store, [bai2(tmp_path)])
    report = ingest_files(store, [edi(tmp_path)])
    assert (report.new, report.warnings) == (1, [])
    summary = reconcile(store)
    assert (summary.remittances, summary.auto_applied) == (1, 1)
    assert_counted_once(store, "bai2")


def test_820_after_its_bank_credit_was_left_undecided_decides_it_again(
    store: Store, tmp_path: Path
) -> None:
    initech(store)
    ingest_files(store, [bai2(tmp_path)])
    reconcile(store)
    [bank] = cash(store)
    before = decision(store, bank.id)
    assert before.status in ("exception", "suggested") and applied(store, bank.id) == {}
    ingest_files(store, [edi(tmp_path)])
    summary = reconcile(store)
    assert (summary.reopened, summary.remittances, summary.auto_applied) == (1, 1, 1)
    assert decision(store, bank.id).evidence["supersedes_decision"] == before.id
    assert_counted_once(store, "bai2")


def test_820_then_nacha_ccd_with_the_same_trace_is_one_payment(
    store: Store, tmp_path: Path
) -> None:
    ach_trace = "091000010000457"
    initech(store)
    ingest_files(store, [edi(tmp_path, trace=ach_trace)])
    report = ingest_files(store, [nacha(tmp_path, ach_trace)])
    assert report.new == 1 and report.rejected == 0
    summary = reconcile(store)
    assert (summary.remittances, summary.auto_applied) == (1, 1)
    assert_counted_once(store, "nacha")


def test_two_payments_of_one_amount_and_payer_with_other_traces_stay_two(
    store: Store, tmp_path: Path
) -> None:
    book = initech(store)
    book.invoice(book.customer("Initech"), "INV-1020", "500.00")
    book.invoice(book.customer("Initech"), "INV-1021", "437.50")
    ingest_files(store, [edi(tmp_path)])
    report = ingest_files(store, [bai2(tmp_path, trace="021000028699999")])
    assert (report.new, report.duplicate, report.warnings) == (1, 0, [])
    assert sorted(r.source for r in cash(store)) == ["bai2", "edi820"]
    assert all(r.status == RemittanceStatus.NEW for r in stored(store))


def test_bank_credit_after_its_820_was_applied_is_not_counted_again(
    store: Store, tmp_path: Path
) -> None:
    initech(store)
    ingest_files(store, [edi(tmp_path)])
    assert reconcile(store).auto_applied == 1
    [remit] = cash(store)
    report = ingest_files(store, [bai2(tmp_path)])
    assert (report.new, report.duplicate) == (0, 1)
    [warning] = report.warnings
    assert remit.id in warning.reason and "already decided (auto_applied)" in warning.reason
    assert "counted once" in warning.reason
    assert reconcile(store).remittances == 0
    assert [r.id for r in cash(store)] == [remit.id]
    assert applied(store, remit.id) == {"INV-1010": "500.00", "INV-1011": "437.50"}
    again = ingest_files(store, [bai2(tmp_path)])  # re-ingesting says the same, stores nothing
    assert (again.new, again.duplicate, len(again.warnings)) == (0, 1, 1)


def test_820_after_its_bank_credit_was_applied_is_never_cash_again(
    store: Store, tmp_path: Path
) -> None:
    """The bank credit went on INV-1010 by its amount; its 820, come later, names INV-1010
    and INV-1011: not cash again, but an advice contradicting the applied cash, for a person
    (reconciler's ``advice_contradicts_applied``), naming the bank credit's decision."""
    book = Book(store)
    book.invoice(book.customer("Initech LLC"), "INV-1010", "937.50")  # its open balance
    ingest_files(store, [bai2(tmp_path)])
    assert reconcile(store).auto_applied == 1
    [bank] = cash(store)
    report = ingest_files(store, [edi(tmp_path, second="INV-1011")])
    assert report.new == 1
    [warning] = report.warnings
    assert bank.id in warning.reason and "not as cash again" in warning.reason
    summary = reconcile(store)
    assert summary.auto_applied == 0 and summary.exceptions == {"advice_contradicts_applied": 1}
    [advice] = [r for r in stored(store) if r.source == "edi820"]
    found = decision(store, advice.id)
    assert found.evidence["applied_decision"]["remittance"] == bank.id
    assert applied(store, bank.id) == {"INV-1010": "937.50"}  # nothing moved


def test_a_return_naming_the_trace_finds_the_bank_credit_not_its_820_advice(
    store: Store,
) -> None:
    with store.session() as s:
        s.add(
            Remittance(
                source="edi820",
                source_key="adv",
                currency="USD",
                amount_minor=93750,
                bank_reference=TRACE,
                status=RemittanceStatus.ADVICE_USED,
            )
        )
        credit = Remittance(
            source="nacha",
            source_key="cash",
            currency="USD",
            amount_minor=93750,
            bank_reference=TRACE,
        )
        back = Remittance(
            source="nacha",
            source_key="ret",
            currency="USD",
            amount_minor=-93750,
            reverses=TRACE,
        )
        s.add(credit)
        s.add(back)
    reconcile(store)
    with store.session() as s:
        decision = s.exec(select(Decision).where(Decision.source_id == back.id)).one()
    assert decision.evidence["original"]["remittance"] == credit.id
