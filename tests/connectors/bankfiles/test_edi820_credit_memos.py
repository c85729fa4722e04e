"""Standalone 820s whose payer wrote a credit memo line's credit taken as a positive amount
paid (RMR*CM, RMR04 above 0), as some payers' guides ask ("the amount being deducted on the
credit memo"): the payment amount (BPR02) confirming it, the amounts paid less the credits
adding up to it, turns the line negative, silently; otherwise it is kept as written with a
warning naming the transaction set and the RMR04. NACHA addenda read them the same way.

Each scenario is a whole interchange built by the helpers of the payer tests (ISA/GS/ST..SE
with trailers that add up): the only warnings are the ones under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.bankfiles.records import RawRemittance, RefKind
from tests.connectors.bankfiles.test_bankfiles_edi820_payers import _interchange, _one, _parse

D = Decimal


def _bigbox(bpr02: str, memo: str, handling: str = "C") -> list[str]:
    """A retailer's 820 paying INV-20771 (1176.00) and taking credit memo CM-20790 as
    ``memo``; segment 9, line 9 of its interchange when first."""
    return [
        f"BPR*{handling}*{bpr02}*C*ACH*CCP*01*091000019*DA*1234567*1234567890**01*021000021"
        "*DA*987654321*20261120",
        "TRN*1*EFT-20261120-0042*1234567890",
        "N1*PR*BIGBOX STORES INC*91*BIGBOX01",
        "N1*PE*ACME WIDGETS LLC*92*ACME",
        "ENT*1",
        "RMR*IV*INV-20771**1176.00*1176.00",
        memo,
        "DTM*003*20261101",
    ]


def _refs(record: RawRemittance) -> list[tuple[object, ...]]:
    return [(r.kind, r.ref, r.amount_paid, r.invoice_amount) for r in record.structured_refs]


# BPR02 confirms the credit taken: the line turned negative, no warning ---------------------


@pytest.mark.parametrize("handling", ["C", "I"])  # the payment itself, or advice of it
def test_a_credit_memo_written_positive_that_bpr02_confirms_reduces_what_is_paid(
    handling: str,
) -> None:
    # 1176.00 on the invoice less the 100.00 credit memo is the 1076.00 paid
    body = _bigbox("1076.00", "RMR*CM*CM-20790**100.00*100.00", handling)
    record = _one(_interchange([[body]]))
    assert record.amount == D("1076.00") and record.advice_only is (handling == "I")
    assert _refs(record) == [
        (RefKind.INVOICE, "INV-20771", D("1176.00"), D("1176.00")),
        (RefKind.CREDIT_MEMO, "CM-20790", D("-100.00"), D("-100.00")),
    ]


def test_confirmed_with_discounts_adjustments_and_a_payment_adjustment_in_005010() -> None:
    # 980.00 (1000.00 less a 20.00 discount) + 450.00 (500.00 less a 50.00 ADX) - 150.00 on
    # the credit memo, with 30.00 deducted from the payment itself (ADX before any RMR): 1250.00
    body = [
        "BPR|C|1250.00|C|ACH|CTX|01|091000019|DA|1234567|1234567890||01|021000021|DA|987654321"
        "|20261120",
        "TRN|1|0000917734|1234567890",
        "N1|PR|CORNER MARKETS|91|CM-0042",
        "ENT|1",
        "ADX|-30.00|CS",
        "REF|CR|DED-7781",
        "RMR|IV|INV-3101||980.00|1000.00|20.00",
        "RMR|IV|INV-3102||450.00|500.00",
        "ADX|-50.00|01",
        "RMR|CM|CM-3090||150.00",
    ]
    text = _interchange([[body]], version="005010", element="|", segment="~")
    record = _one(text)
    assert record.amount == D("1250.00")
    memo = record.structured_refs[-1]
    assert (memo.kind, memo.ref, memo.amount_paid, memo.invoice_amount) == (
        RefKind.CREDIT_MEMO,
        "CM-3090",
        D("-150.00"),
        None,
    )
    payment_adjustment = record.structured_refs[0]
    assert (payment_adjustment.ref, payment_adjustment.adjustment) == ("DED-7781", D("-30.00"))


def test_a_credit_memo_written_negative_beside_one_written_positive() -> None:
    # 1176.00 - 100.00 (as X12 has it) - 50.00 (written unsigned) = 1026.00
    body = _bigbox("1026.00", "RMR*CM*CM-20790**-100.00*-100.00")
    body.append("RMR*CM*CM-20795**50.00*50.00")
    record = _one(_interchange([[body]]))
    assert [(r.ref, r.amount_paid, r.invoice_amount) for r in record.structured_refs[1:]] == [
        ("CM-20790", D("-100.00"), D("-100.00")),
        ("CM-20795", D("-50.00"), D("-50.00")),
    ]


def test_the_keys_of_an_820_read_before_stay_those_of_the_payment() -> None:
    """The key is the payment's (trace, payer, BPR02, date), not its lines': a file imported
    before credit memos were turned is a duplicate when imported again."""
    turned = _one(_interchange([[_bigbox("1076.00", "RMR*CM*CM-20790**100.00*100.00")]]))
    as_x12 = _one(_interchange([[_bigbox("1076.00", "RMR*CM*CM-20790**-100.00*-100.00")]]))
    assert (turned.dedup_key, turned.also_known_as) == (as_x12.dedup_key, as_x12.also_known_as)
    resent = _interchange([[_bigbox("1076.00", "RMR*CM*CM-20790**100.00*100.00")]], control=6)
    assert _one(resent).dedup_key == turned.dedup_key  # resent under a new ISA13


# not confirmed: kept as written, a warning naming the set and the RMR04 -------------------


def test_a_credit_memo_written_positive_that_bpr02_does_not_confirm_is_kept_with_a_warning() -> (
    None
):
    # as written, 1176.00 + 100.00 is the 1276.00 paid: the payer may mean it, or not
    first = _bigbox("1076.00", "RMR*CM*CM-20790**100.00*100.00")
    second = _bigbox("1276.00", "RMR*CM*CM-20791**100.00*100.00")
    second[1] = "TRN*1*EFT-20261120-0043*1234567890"
    result = _parse(_interchange([[first, second]]))
    assert result.errors == []
    confirmed, kept = result.records
    assert confirmed.structured_refs[1].amount_paid == D("-100.00")
    assert kept.amount == D("1276.00")
    assert _refs(kept)[1] == (RefKind.CREDIT_MEMO, "CM-20791", D("100.00"), D("100.00"))
    (warning,) = result.warnings
    # the second set: its ST on line 13, its credit memo line 7 segments further on
    assert warning.location == "line 20, segment 20 (RMR), RMR04"
    assert warning.reason.startswith("transaction set 0002: credit memo CM-20791 (RMR01 CM)")
    assert "100.00 USD (RMR04)" in warning.reason
    assert "1076.00 USD, not to the payment of 1276.00 USD (BPR02)" in warning.reason
    assert "kept as stated" in warning.reason


def test_unconfirmed_either_way_warns_of_the_credit_memo_and_of_the_payment() -> None:
    result = _parse(_interchange([[_bigbox("1200.00", "RMR*CM*CM-20790**100.00*100.00")]]))
    (record,) = result.records
    assert record.structured_refs[1].amount_paid == D("100.00")
    assert [w.location for w in result.warnings] == [
        "line 10, segment 10 (RMR), RMR04",
        "line 4, segment 4 (BPR), BPR02",
    ]
    assert "add up to 1276.00 USD, not to the payment of 1200.00 USD" in result.warnings[1].reason


def test_a_credit_memo_line_alone_written_positive_is_kept_with_a_warning() -> None:
    # nothing paid for the credit to reduce: as NACHA reads it, the payer is asked
    body = [
        "BPR*C*125.00*C*ACH*CCP************20261120",
        "TRN*1*Q-6001",
        "N1*PR*CORNER MARKETS",
        "RMR*CM*DOC-6001**125.00",
    ]
    result = _parse(_interchange([[body]]))
    (record,) = result.records
    assert record.structured_refs[0].amount_paid == D("125.00")
    (warning,) = result.warnings
    assert warning.location == "line 7, segment 7 (RMR), RMR04"
    assert "-125.00 USD, not to the payment of 125.00 USD (BPR02)" in warning.reason


def test_an_amount_paid_left_out_leaves_the_credit_memo_unconfirmed() -> None:
    body = _bigbox("1076.00", "RMR*CM*CM-20790**100.00*100.00")
    body.append("RMR*IV*INV-20772")  # no RMR04: what is paid cannot be added up
    result = _parse(_interchange([[body]]))
    assert result.records[0].structured_refs[1].amount_paid == D("100.00")
    (warning,) = result.warnings
    assert warning.location == "line 10, segment 10 (RMR), RMR04"
    assert "an amount paid left out elsewhere" in warning.reason
