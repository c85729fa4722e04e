"""X12 820s as payers send them: a debit (BPR03 D) among payments is named, not dropped, in an
interchange with '|' elements and '^' components whose segments run on without line breaks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.bankfiles.edi820 import parse_edi820


def _interchange(sets: list[list[str]], element: str = "|", component: str = "^") -> str:
    """One ISA/GS envelope (a home-improvement retailer's AP system to a vendor), every set
    with its ST/SE; ``sets`` are written with '*' and take ``element``. '~' ends segments."""
    isa = element.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "01",
            "0079013690     ",
            "ZZ",
            "ACMEPARTS      ",
            "260316",
            "0930",
            "U",
            "00401",
            "000007712",
            "0",
            "P",
            component,
        ]
    )
    segments = [isa, "GS*RA*0079013690*ACMEPARTS*20260316*0930*7712*X*004010"]
    for number, body in enumerate(sets, start=1):
        segments += [f"ST*820*{number:04d}", *body, f"SE*{len(body) + 2}*{number:04d}"]
    segments += [f"GE*{len(sets)}*7712", "IEA*1*000007712"]
    return "~".join(s if s is isa else s.replace("*", element) for s in segments) + "~"


_PAYMENT = [
    "BPR*C*1150.00*C*ACH*CTX*01*061000104*DA*99887766*1234567890**01*071000013*DA*88120456"
    "*20260317",
    "TRN*1*0012345678*1234567890",
    "DTM*097*20260316",
    "N1*PR*HOME DEPOT USA INC",
    "ENT*1",
    "RMR*IV*INV-9001**1000.00*1020.00*20.00",
    "DTM*003*20260201",
    "RMR*IV*INV-9002**150.00*200.00",
    "ADX*-50.00*01",
]
_DEBIT = [  # a chargeback the payer draws from the vendor's account
    "BPR*C*300.00*D*ACH*CCD*01*061000104*DA*99887766*1234567890**01*071000013*DA*88120456*20260317",
    "TRN*1*CB-55120*1234567890",
    "N1*PR*HOME DEPOT USA INC",
    "RMR*IV*INV-8800**300.00",
]


def test_an_820_that_is_a_debit_is_named_and_the_rest_of_the_interchange_kept() -> None:
    result = parse_edi820(_interchange([_PAYMENT, _DEBIT]), "homedepot.820")
    assert result.errors == []
    (payment,) = result.records
    assert (payment.amount, payment.value_date) == (Decimal("1150.00"), date(2026, 3, 17))
    assert (payment.payer_name, payment.bank_reference) == ("HOME DEPOT USA INC", "0012345678")
    assert [(r.ref, r.amount_paid, r.adjustment) for r in payment.structured_refs] == [
        ("INV-9001", Decimal("1000.00"), None),
        ("INV-9002", Decimal("150.00"), Decimal("-50.00")),
    ]
    (warning,) = result.warnings
    assert warning.location == "line 1, segment 15 (BPR), BPR03"
    assert "transaction set 0002" in warning.reason and "CB-55120" in warning.reason
    assert "debit (BPR03 D) of 300.00 USD" in warning.reason
    assert warning.raw.startswith("ST|820|0002~")


def test_an_820_of_only_a_debit_is_not_silent() -> None:
    result = parse_edi820(_interchange([_DEBIT], element="*", component=">"), "debit.820")
    assert result.records == [] and result.errors == []
    assert [w.location for w in result.warnings] == ["line 1, segment 4 (BPR), BPR03"]
