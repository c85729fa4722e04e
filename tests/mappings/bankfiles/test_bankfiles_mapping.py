"""Raw bank-file remittances -> canonical Remittance."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.bankfiles import (
    BankFileFormat,
    RawRemittance,
    RefKind,
    StructuredRef,
    parse_bank_file,
)
from mappings.bankfiles import remittance_from_raw
from mappings.base import MappingError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def _raw(**changes: object) -> RawRemittance:
    base = RawRemittance(
        format=BankFileFormat.EDI_820,
        source_file="r.edi",
        location="line 3, segment 3 (ST)",
        line=3,
        amount=Decimal("4123.00"),
        currency="usd",
        dedup_key="edi820:abc",
        raw="ST*820*0002~\nSE*2*0002~",
        value_date=date(2026, 11, 20),
        payer_name="GLOBEX CORPORATION",
        payer_account="7770001111",
        bank_reference="GLX88120",
        free_text="DEDUCTIONS PER CLAIM 7781",
        structured_refs=(
            StructuredRef(
                kind=RefKind.INVOICE,
                ref="INV-1021",
                amount_paid=Decimal("1500"),
                invoice_amount=Decimal("1550.00"),
                adjustment=Decimal("-50.00"),
                adjustment_reason="CS,04",
                document_date=date(2026, 10, 1),
            ),
            StructuredRef(kind=RefKind.CREDIT_MEMO, ref="CM-0042", amount_paid=Decimal("-377")),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_fields_and_minor_units() -> None:
    remittance = remittance_from_raw(_raw(), tenant="acme")
    assert remittance.tenant == "acme"
    assert remittance.source == "edi820"
    assert remittance.source_file == "r.edi"
    assert remittance.source_key == "edi820:abc"
    assert (remittance.amount_minor, remittance.currency) == (412300, "USD")
    assert remittance.value_date == date(2026, 11, 20)
    assert remittance.payer_name == "GLOBEX CORPORATION"
    assert remittance.payer_account == "7770001111"
    assert remittance.bank_reference == "GLX88120"
    assert remittance.raw == "ST*820*0002~\nSE*2*0002~"
    assert remittance.status == "new"
    assert remittance.structured_refs == [
        {
            "kind": "invoice",
            "ref": "INV-1021",
            "amount": "1500.00",
            "invoice_amount": "1550.00",
            "discount": None,
            "adjustment": "-50.00",
            "reason": "CS,04",
            "date": "2026-10-01",
        },
        {
            "kind": "credit_memo",
            "ref": "CM-0042",
            "amount": "-377.00",
            "invoice_amount": None,
            "discount": None,
            "adjustment": None,
            "reason": None,
            "date": None,
        },
    ]


def test_zero_decimal_currency() -> None:
    remittance = remittance_from_raw(_raw(amount=Decimal("50000"), currency="JPY"))
    assert remittance.amount_minor == 50000


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": Decimal("10.005")}, "amount"),
        ({"currency": "XYZ"}, "amount"),
        (
            {"structured_refs": (StructuredRef(RefKind.INVOICE, "X", Decimal("1.001")),)},
            "structured_refs[0].amount",
        ),
        ({"bank_reference": "R" * 129}, "bank_reference"),
    ],
)
def test_bad_values_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(MappingError) as caught:
        remittance_from_raw(_raw(**changes))
    assert caught.value.field == field


def test_every_fixture_record_maps() -> None:
    for path in sorted(FIXTURES.iterdir()):
        for raw in parse_bank_file(path).records:
            remittance = remittance_from_raw(raw)
            # a returned payment (a reversal) is negative, every receipt positive
            assert (remittance.amount_minor < 0) is (raw.reverses is not None)
            assert remittance.amount_minor != 0
            assert remittance.source_key == raw.dedup_key
            assert len(remittance.source_key) <= 128
            assert remittance.raw
