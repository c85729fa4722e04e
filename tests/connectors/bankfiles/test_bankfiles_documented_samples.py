"""Bank files shaped like the samples banks and standards bodies publish (own values).

Each fixture follows a documented layout (see tests/fixtures/bankfiles/README.md for the
source of each shape); the tests pin the exact remittances arsync reads from it, and that
``arsync ingest`` stores them with the right money.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_file
from sync.cli import app
from sync.ingest import ingest_files

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def test_bai2_in_the_layout_of_the_bai_specification_sample() -> None:
    """Signed 03 summaries continued on an 88, funds types S (with an empty first
    availability), V, D and 1, and a "/"-ended 16 whose references and text follow on 88s."""
    result = parse_bank_file(FIXTURES / "bai2_spec_layout.bai")
    assert result.format is BankFileFormat.BAI2
    assert result.errors == [] and result.warnings == []  # 49/98/99 add up
    assert [(r.line, r.amount, r.currency) for r in result.records] == [
        (5, Decimal("24000.00"), "USD"),  # no currency on 03 or 02: USD
        (8, Decimal("650.50"), "USD"),
        (9, Decimal("15000.00"), "USD"),
        (11, Decimal("875.00"), "USD"),
        (12, Decimal("120.00"), "USD"),
    ]  # the 475 check paid is a debit
    lockbox, stub, wire, ach, deposit = result.records
    assert (lockbox.bank_reference, lockbox.end_to_end_id) == ("LBX7781", "STUB0042")
    assert lockbox.free_text == "NORTHWIND TRADERS LOCKBOX INV-3101 INV-3102"
    assert lockbox.value_date == date(2026, 11, 19)  # the group's as-of date
    assert stub.bank_reference is None and stub.free_text == "LOCK BOX NO.7781"
    assert wire.value_date == date(2026, 11, 21)  # funds type V: its value date
    assert (wire.bank_reference, wire.end_to_end_id) == ("FW26112000417", "ACME-PO-5512")
    assert wire.payer_name == "CONTOSO LTD" and wire.free_text == "OBI:INV-3120"
    assert (ach.payer_name, ach.payer_account) == ("FABRIKAM INC", "1234509876")
    assert ach.bank_reference == "ACH0011" and ach.free_text == "ENTRY DESCR:PAYMENT"
    assert deposit.free_text is None


def test_bai2_groups_are_processed_as_their_status_says() -> None:
    """BAI2 group status: update (1) and correction (3) are posted, deletion (2) and test
    only (4) are not; each of the last three is a warning naming its 02 line."""
    result = parse_bank_file(FIXTURES / "bai2_group_status.bai")
    assert result.errors == []
    assert [(r.line, r.amount, r.payer_name) for r in result.records] == [
        (13, Decimal("1250.00"), "GLOBEX CORP"),  # the correction's detail
        (18, Decimal("9800.00"), "INITECH GMBH"),  # the update's detail
    ]
    assert [(w.location, w.reason.split(":")[0]) for w in result.warnings] == [
        ("line 2", "group status 4 (test only)"),
        ("line 7", "group status 2 (deletion)"),
        ("line 11", "group status 3 (correction)"),
    ]
    deletion, correction = result.warnings[1].reason, result.warnings[2].reason
    assert "0099887766 on 2026-11-22" in deletion and "not removed" in deletion
    assert "its details are kept" in correction


def test_bai2_tagged_continuation_records() -> None:
    """Continuation records tagged EREF/DBNM/DACT/REMI/CRNM after a detail whose text holds
    commas, an empty funds type; an outgoing ACH credit (447) and a cash concentration (275)
    are not receipts, an ACH return (557) takes back the payment its reference names."""
    result = parse_bank_file(FIXTURES / "bai2_tagged_continuations.bai")
    assert result.errors == []
    # the concentration is money that moved but no customer paying: a warning names it
    assert [(w.location, w.reason) for w in result.warnings] == [
        (
            "line 20",
            "a credit of 3376.86 USD with type code 275 (ZBA Credit): not a customer paying, "
            "left out",
        )
    ]
    wire, rtp, returned = result.records
    assert (wire.line, wire.amount, wire.currency) == (7, Decimal("12500.00"), "USD")
    assert wire.payer_name == "NORTHWIND TRADERS"  # DBNM, not CRNM (that is us)
    assert wire.payer_account == "5550001234"
    assert (wire.bank_reference, wire.end_to_end_id) == ("GI2611240000187", "GS0DEMO0WIRE001")
    assert wire.free_text is not None and "REMI:INV-4401 INV-4402" in wire.free_text
    assert (rtp.amount, rtp.payer_name) == (Decimal("500.50"), "GLOBEX CORP")
    assert rtp.free_text is not None and "INV-4403" in rtp.free_text
    assert returned.amount == Decimal("-2000.00")
    assert returned.reverses == "021000080000030"
    assert returned.structured_refs == ()


def test_nacha_iat_credit_names_its_parties_from_the_iat_addenda() -> None:
    """IAT: the originator (payer) is in the 711 addenda, the receiver's identification in the
    715, payment-related information in 717s; positions 40-74 of the entry are an account."""
    result = parse_bank_file(FIXTURES / "nacha_iat_credit.ach")
    assert result.errors == [] and result.warnings == []  # 8 and 9 add up
    first, second = result.records
    assert (first.line, first.amount, first.currency) == (3, Decimal("4310.00"), "USD")
    assert first.payer_name == "MAPLE LEAF DISTRIBUTION LTD"
    assert first.end_to_end_id == "ACME-CUST-8841"
    assert first.payer_account == "4455667788"  # the originator identification
    assert first.bank_reference == "060000010000001"
    assert first.value_date == date(2026, 11, 26)
    assert [(r.kind, r.ref, r.amount_paid) for r in first.structured_refs] == [
        (RefKind.INVOICE, "INV-5521", Decimal("2500.00")),
        (RefKind.INVOICE, "INV-5522", Decimal("1810.00")),
    ]
    assert first.free_text == "TRADE PMT"
    assert (second.amount, second.payer_name) == (Decimal("125.00"), "NORTHERN LIGHTS CAFE INC")
    assert second.end_to_end_id == "ACME-CUST-9910" and second.structured_refs == ()


def test_camt054_swiss_qr_bill_batch() -> None:
    """A QR-bill credit batch: QRR reference with its AddtlRmtInf (message and billing
    information), an RF reference under SCOR, unstructured text; an outgoing batch whose
    transactions are stated CRDT under the DBIT entry, and a pending credit, are left out."""
    result = parse_bank_file(FIXTURES / "camt054_v08_swiss_qr_batch.xml")
    assert result.format is BankFileFormat.CAMT_054
    assert result.errors == [] and result.warnings == []
    qrr, scor, text = result.records
    assert [(r.amount, r.currency) for r in result.records] == [
        (Decimal("1200.00"), "CHF"),
        (Decimal("845.50"), "CHF"),
        (Decimal("300.00"), "CHF"),
    ]
    assert qrr.payer_name == "Kuhn Metallbau GmbH"
    assert qrr.payer_iban == "CH6604835000000917733"
    assert qrr.end_to_end_id == "KUHN-2026-1127-01"
    assert qrr.bank_reference == "CH2611270001234-1"
    assert qrr.value_date == date(2026, 11, 27)
    assert [(r.kind, r.ref) for r in qrr.structured_refs] == [
        (RefKind.OTHER, "000000000000000000000610153")
    ]
    assert qrr.free_text == "Rechnung INV-6101 //S1/10/INV-6101/11/261101/40/0:30"
    assert scor.end_to_end_id is None  # NOTPROVIDED
    assert [(r.kind, r.ref) for r in scor.structured_refs] == [(RefKind.RF, "RF18539007547034")]
    assert text.free_text == "INV-6103 INV-6104" and text.payer_iban is None


def test_edi820_advice_only_in_version_5010() -> None:
    """BPR01 I (remittance information only, payment method NON), ENT loops, RMR with PI."""
    result = parse_bank_file(FIXTURES / "edi820_advice_only_5010.edi")
    assert result.errors == [] and result.warnings == []
    (advice,) = result.records
    assert advice.advice_only is True
    assert (advice.amount, advice.currency) == (Decimal("2890.00"), "USD")
    assert advice.value_date == date(2026, 12, 1)
    assert advice.payer_name == "NORTHWIND TRADERS INC"
    assert advice.bank_reference == "NW-ACH-88431"
    assert [
        (r.ref, r.amount_paid, r.invoice_amount, r.discount) for r in advice.structured_refs
    ] == [
        ("INV-7101", Decimal("1900.00"), Decimal("1900.00"), None),
        ("INV-7102", Decimal("990.00"), Decimal("1000.00"), Decimal("10.00")),
    ]
    assert advice.structured_refs[1].document_date == date(2026, 11, 2)


SAMPLES = {
    "bai2_spec_layout.bai": [
        ("USD", 2400000),
        ("USD", 65050),
        ("USD", 1500000),
        ("USD", 87500),
        ("USD", 12000),
    ],
    "bai2_group_status.bai": [("USD", 125000), ("USD", 980000)],
    "bai2_tagged_continuations.bai": [("USD", 1250000), ("USD", 50050), ("USD", -200000)],
    "nacha_iat_credit.ach": [("USD", 431000), ("USD", 12500)],
    "camt054_v08_swiss_qr_batch.xml": [("CHF", 120000), ("CHF", 84550), ("CHF", 30000)],
    "edi820_advice_only_5010.edi": [("USD", 289000)],
}


def test_ingest_stores_the_samples_in_minor_units_once(store: Store) -> None:
    paths = [FIXTURES / name for name in SAMPLES]
    report = ingest_files(store, paths)
    assert report.rejected == 0 and report.errors == []
    assert {Path(f.path).name: f.new for f in report.files} == {
        name: len(money) for name, money in SAMPLES.items()
    }
    # the BAI2 test-only, deletion and correction groups, and the cash concentration (275)
    assert len(report.warnings) == 4
    with store.session() as s:
        stored = list(s.exec(select(Remittance)).all())
    by_file: dict[str, list[tuple[str, int]]] = {}
    for r in sorted(stored, key=lambda r: (r.source_file, r.raw)):
        assert r.source_file is not None
        by_file.setdefault(r.source_file, []).append((r.currency, r.amount_minor))
    assert {name: sorted(money) for name, money in by_file.items()} == {
        name: sorted(money) for name, money in SAMPLES.items()
    }
    advice = next(r for r in stored if r.source == "edi820")
    assert advice.status == "advice"
    qrr = next(r for r in stored if r.end_to_end_id == "KUHN-2026-1127-01")
    assert qrr.structured_refs[0]["ref"] == "000000000000000000000610153"
    assert qrr.structured_refs[0]["kind"] == "other"
    again = ingest_files(store, paths)
    assert again.new == 0 and again.duplicate == len(stored)


def test_ingest_command_reports_the_group_status_warnings(tmp_path: Path) -> None:
    config = tmp_path / "arsync.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "cli.db"}"\n')
    result = CliRunner().invoke(
        app, ["ingest", str(FIXTURES / "bai2_group_status.bai"), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "1 file: 2 new, 0 duplicate, 0 rejected, 3 warnings" in result.stdout
    stderr = " ".join(result.stderr.split())
    assert "warning: bai2_group_status.bai: line 2: group status 4 (test only)" in stderr
