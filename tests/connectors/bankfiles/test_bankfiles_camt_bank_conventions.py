"""camt.053 / camt.054 as particular banks and markets write them: Dutch tagged entry text,
Nordic structured remittance, ISO line details, placeholder names, cross-currency and
charged credits, German DK codes, US ACH addenda."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.bankfiles import RefKind, parse_bank_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def test_dutch_entry_text_names_the_payer_and_carries_the_remittance() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v02_abnamro_entry_text.xml")
    assert result.errors == []
    bare, no_remittance, detailed, ultimate, ordering = result.records
    # an entry without TxDtls: /NAME/ and /IBAN/ of its tagged text are the payer's
    assert (bare.payer_name, bare.payer_iban) == ("Van Dijk Techniek B.V.", "NL44RABO0123456789")
    assert bare.amount == Decimal("1815.00") and bare.currency == "EUR"
    assert bare.free_text is not None and "/REMI/Factuur 2026-0412/" in bare.free_text
    # one TxDtls without parties or remittance: the entry's text is all there is
    assert no_remittance.payer_name == "Bakkerij de Molen"
    assert no_remittance.payer_iban == "NL02ABNA0123456789"
    assert no_remittance.end_to_end_id is None  # NOTPROVIDED
    assert no_remittance.free_text is not None
    assert "Factuur 2026-0419 klantnr 5521" in no_remittance.free_text
    # the transaction's own parties and remittance win; the entry text is not repeated
    assert detailed.payer_name == "Hoveniersbedrijf Verbeek"
    assert detailed.free_text == "Factuur 2026-0425"
    # the payer, not its ultimate debtor, when both are named
    assert ultimate.payer_name == "Betaaldienst Noord B.V."
    # /BENM//NAME/ is the beneficiary (us), /ORDP//NAME/ the one who paid
    assert ordering.payer_name == "Jansen Bouw" and ordering.payer_iban is None
    assert len({r.dedup_key for r in result.records}) == 5


def test_nordic_one_structured_block_per_document_keeps_each_amount() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v08_remittance_conventions.xml")
    nordic = result.records[0]
    assert nordic.payer_name == "Nordkraft Oy"
    assert nordic.payer_iban == "FI7944052020036082"
    assert [(r.kind, r.ref, r.amount_paid, r.document_date) for r in nordic.structured_refs] == [
        (RefKind.INVOICE, "INV-88010", Decimal("1500.00"), date(2026, 11, 2)),
        (RefKind.INVOICE, "INV-88011", Decimal("1000.00"), date(2026, 11, 9)),
        (RefKind.CREDIT_MEMO, "CN-4410", Decimal("-200.00"), None),
    ]
    assert sum(r.amount_paid or 0 for r in nordic.structured_refs) == nordic.amount


def test_line_details_give_each_document_of_one_block_its_amounts() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v08_remittance_conventions.xml")
    shared = result.records[1]
    first, second = shared.structured_refs
    assert (first.ref, first.amount_paid, first.invoice_amount, first.discount) == (
        "INV-88020",
        Decimal("600.00"),
        Decimal("620.00"),
        Decimal("20.00"),
    )
    assert (second.ref, second.amount_paid, second.invoice_amount) == (
        "INV-88021",
        Decimal("300.00"),  # two lines
        None,
    )


def test_placeholder_debtor_name_gives_way_to_the_ultimate_debtor() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v08_remittance_conventions.xml")
    placeholder = result.records[1]
    assert placeholder.payer_name == "Lumi Logistics Oy"
    assert placeholder.payer_iban == "FI5542345670000081"
    assert placeholder.end_to_end_id is None


def test_cross_currency_credit_is_what_reached_the_account_after_charges() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v08_remittance_conventions.xml")
    fx = result.records[2]
    # InstdAmt 5000.00 USD, TxAmt 4596.60 EUR, 15.00 EUR charges taken: 4581.60 EUR arrived
    assert (fx.amount, fx.currency) == (Decimal("4581.60"), "EUR")
    assert fx.payer_name == "Great Lakes Components Inc"
    assert fx.payer_account == "000123456789" and fx.payer_iban is None
    assert fx.free_text == "INV-88030"


def test_us_ach_credit_with_addenda_and_a_concentration_left_out() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v08_remittance_conventions.xml")
    assert result.errors == []
    assert len(result.records) == 4
    ach = result.records[3]
    assert ach.payer_name == "PRAIRIE FOODS LLC"
    assert ach.end_to_end_id == "091000019876543"
    assert ach.free_text == "CCD PAYMENT RMR*IV*INV-88040*1250.00\\"
    (left_out,) = result.warnings
    assert "PMNT/RCDT/ACON" in left_out.reason and "30000.00 EUR" in left_out.reason


def test_batch_transactions_are_credited_in_the_account_currency_net_of_charges() -> None:
    result = parse_bank_file(FIXTURES / "camt054_v04_batch_fx_charges.xml")
    assert result.errors == []
    assert [(r.end_to_end_id, r.amount, r.currency) for r in result.records] == [
        ("HLX-INV-7001", Decimal("880.00"), "CHF"),  # TxAmt, not the instructed USD
        ("BRG-INV-7002", Decimal("495.00"), "CHF"),  # 500.00 less 5.00 charges
        # stated net already (395.00 + 395.00 is the entry's 790.00): not charged twice
        ("KLT-INV-7003", Decimal("395.00"), "CHF"),
        ("KLT-INV-7004", Decimal("395.00"), "CHF"),
    ]
    first_entry = result.records[:2]
    assert sum(r.amount for r in first_entry) == Decimal("1375.00")


def test_german_dk_statement_reads_payer_text_and_leaves_out_interest() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v02_dk_gvc.xml")
    assert result.errors == []
    (credit,) = result.records
    assert credit.payer_name == "Schreinerei Holzmann GmbH"  # Dbtr over UltmtDbtr
    assert credit.payer_iban == "DE75512108001245126199"
    assert credit.end_to_end_id is None
    assert credit.free_text == "RE 2026-1187 VOM 03.11.2026 KD-NR 40233 GUTSCHR. UEBERWEISUNG"
    (interest,) = result.warnings
    assert "ACMT/MCOP/INTR" in interest.reason
