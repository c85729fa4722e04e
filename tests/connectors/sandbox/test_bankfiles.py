"""The benchmark's file writers produce files the parsers read back field for field."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import connectors.sandbox.bankfiles as rf
from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes, parse_bank_file

CREATED = datetime(2026, 11, 21, 6, 30)


def _payments() -> list[Any]:
    return [
        rf.Payment(
            payer_name="Globex Corporation",
            amount=Decimal("1234.50"),
            currency="USD",
            value_date=date(2026, 11, 19),
            account="1234567890",
            free_text="Payment for INV-1001, thanks / see remittance advice sent by email",
            refs=[
                rf.InvoiceRef("INV-1001", Decimal("1000.00"), Decimal("1020.00"), Decimal("20.00")),
                rf.InvoiceRef(
                    "INV-1002",
                    Decimal("250.00"),
                    Decimal("260.00"),
                    adjustment=Decimal("-10.00"),
                    adjustment_reason="01",
                ),
                rf.InvoiceRef("CM-7", Decimal("-15.50"), kind="credit_memo"),
            ],
            end_to_end_id="E2E-1",
            reference="REF-1",
        ),
        rf.Payment(
            payer_name="Müller & Söhne GmbH",
            amount=Decimal("99.99"),
            currency="EUR",
            value_date=date(2026, 11, 20),
            iban="DE89370400440532013000",
            free_text="Rechnung 4711",
        ),
        rf.Payment(
            payer_name="Yamada KK",
            amount=Decimal("50000"),
            currency="JPY",
            value_date=date(2026, 11, 20),
            iban="GB29NWBK60161331926819",
            refs=[rf.InvoiceRef("RF18539007547034", Decimal("50000"), kind="rf")],
        ),
        rf.Payment(  # the same payer, amount and day again: still its own remittance
            payer_name="Yamada KK",
            amount=Decimal("50000"),
            currency="JPY",
            value_date=date(2026, 11, 20),
            iban="GB29NWBK60161331926819",
        ),
    ]


def _render(fmt: str) -> bytes:
    payments = _payments()
    if fmt.startswith("camt054"):
        return bytes(
            rf.render_camt054(
                payments,
                account_iban="NL91ABNA0417164300",
                message_id="BENCH-1",
                created=CREATED,
                version=fmt.rsplit("-", 1)[1],
            )
        )
    if fmt == "bai2":
        text = rf.render_bai2(
            payments,
            sender_id="021000021",
            receiver_id="ACMEWIDGETS",
            account_number="0012345678",
            file_id="BENCH1",
            created=CREATED,
        )
    else:
        text = rf.render_edi820(
            payments,
            sender_id="PAYERS",
            receiver_id="ACMEWIDGETS",
            control_number=7,
            created=CREATED,
        )
    return str(text).encode()


@pytest.mark.parametrize("fmt", ["camt054-04", "camt054-08", "bai2", "edi820"])
def test_round_trip(fmt: str) -> None:
    result = parse_bank_bytes(_render(fmt), f"bench.{fmt}")
    assert result.errors == []
    expected_format = {
        "bai2": BankFileFormat.BAI2,
        "edi820": BankFileFormat.EDI_820,
    }.get(fmt, BankFileFormat.CAMT_054)
    assert result.format is expected_format
    payments = _payments()
    assert len(result.records) == len(payments)
    assert len({r.dedup_key for r in result.records}) == len(payments)
    for payment, record in zip(payments, result.records, strict=True):
        assert (record.amount, record.currency) == (payment.amount, payment.currency)
        assert record.value_date == payment.value_date
        assert record.payer_name == payment.payer_name
        assert record.payer_iban == payment.iban
        assert record.payer_account == payment.account
        assert record.free_text == payment.free_text
        got = [
            (
                r.kind.value,
                r.ref,
                r.amount_paid,
                r.invoice_amount,
                r.discount,
                r.adjustment,
                r.adjustment_reason,
            )
            for r in record.structured_refs
        ]
        want = [
            (
                r.kind,
                r.number,
                r.paid,
                r.invoice_amount,
                r.discount,
                r.adjustment,
                r.adjustment_reason,
            )
            for r in payment.refs
        ]
        assert got == want
        if fmt != "edi820":
            assert record.end_to_end_id == payment.end_to_end_id
    assert result.records[2].structured_refs[0].kind is RefKind.RF


def test_write_functions_write_readable_files(tmp_path: Path) -> None:
    payments = _payments()
    paths = [
        rf.write_camt054(
            tmp_path / "n.xml",
            payments,
            account_iban="NL91ABNA0417164300",
            message_id="W-1",
            created=CREATED,
        ),
        rf.write_bai2(
            tmp_path / "b.bai",
            payments,
            sender_id="021000021",
            receiver_id="ACME",
            account_number="1",
            file_id="W1",
            created=CREATED,
        ),
        rf.write_edi820(
            tmp_path / "r.edi",
            payments,
            sender_id="P",
            receiver_id="ACME",
            control_number=1,
            created=CREATED,
        ),
    ]
    for path in paths:
        result = parse_bank_file(path)
        assert result.errors == [] and len(result.records) == len(payments)


def test_bai2_long_text_is_continued_on_88_records() -> None:
    payment = rf.Payment(
        payer_name="Initech LLC",
        amount=Decimal("1.00"),
        currency="USD",
        value_date=date(2026, 11, 19),
        free_text=" ".join(f"INV-{n}" for n in range(1000, 1040)),
    )
    text = rf.render_bai2(
        [payment], sender_id="1", receiver_id="2", account_number="3", file_id="4", created=CREATED
    )
    assert all(len(line) <= 80 for line in text.splitlines())
    assert sum(line.startswith("88,") for line in text.splitlines()) >= 3
    (record,) = parse_bank_bytes(text.encode(), "long.bai").records
    assert record.free_text == payment.free_text
