"""NACHA entries as banks deliver them: prenotifications (23, 28, 33, 38, 43, 48, 53) in CCD and
CTX batches, credit memo lines (RMR*CM) whose payer wrote the credit taken unsigned, and an
addenda record sent twice in one entry.

Records are built field by field by the helpers of the real-world NACHA tests, whose batch and
file controls add up: the only warnings are the ones under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.bankfiles.nacha import parse_nacha
from connectors.bankfiles.records import ParseResult, RefKind
from tests.connectors.bankfiles.test_bankfiles_nacha_realworld import (
    _addenda,
    _ctx,
    _entry,
    _file,
    _header,
    _trace,
    _walmart_820,
)

D = Decimal


def _ccd(text: str, cents: int, code: str = "22", n: int = 41) -> ParseResult:
    """One CCD entry of ``cents`` with ``text`` as its 705 addenda."""
    header = _header("CCD", "GLOBEX CORP", "1234567890", "PAYMENT", 1)
    records = [_entry(code, cents, "CUST-881", "ACME PARTS", n, 1), _addenda(text, 1, n)]
    return parse_nacha(_file([(header, records)]), "ccd.ach")


def _ctx_batch(records: list[str]) -> ParseResult:
    header = _header("CTX", "WAL-MART STORES", "1710415188", "EDI PYMNTS", 1)
    return parse_nacha(_file([(header, records)]), "ctx.ach")


def _with_code(records: list[str], code: str) -> list[str]:
    """A CTX entry and its addenda, the entry under another transaction code."""
    entry, *addenda = records
    return [entry[:1] + code + entry[3:], *addenda]


def _memo_820(bpr02: str, memo: str) -> str:
    """The retailer's 820 paying INV-20771 (1176.00) less credit memo CM-20790 as ``memo``."""
    invoice_line = "RMR*IV*INV-20790*PO*1100.00*1100.00"
    x12 = _walmart_820(bpr02, ("1176.00", "1100.00"))
    assert invoice_line in x12
    return x12.replace(invoice_line, memo)


# prenotifications: never a remittance -------------------------------------------------------


@pytest.mark.parametrize("code", ["23", "28", "33", "38", "43", "48", "53"])
def test_a_prenote_in_a_ctx_batch_carrying_an_820_is_no_remittance(code: str) -> None:
    x12 = _walmart_820("2276.00", ("1176.00", "1100.00"))
    result = _ctx_batch(_with_code(_ctx(x12, 0, 21), code))
    assert result.records == [] and result.errors == []
    # a credit prenote carrying text is named once as one, a debit prenote is not our cash
    assert all("prenotification" in w.reason for w in result.warnings)
    assert all("zero-dollar" not in w.reason for w in result.warnings)
    assert len(result.warnings) == (code[1] == "3")


@pytest.mark.parametrize("code", ["23", "28", "33", "38", "43", "48", "53"])
def test_a_prenote_without_addenda_is_silent(code: str) -> None:
    header = _header("CCD", "GLOBEX CORP", "1234567890", "PRENOTE", 1)
    result = parse_nacha(_file([(header, [_entry(code, 0, "NEWVENDOR", "ACME", 33)])]), "p.ach")
    assert (result.records, result.errors, result.warnings) == ([], [], [])


# a credit memo line whose credit taken the payer wrote unsigned ----------------------------


def test_an_unsigned_credit_memo_the_entry_amount_confirms_reduces_what_is_paid() -> None:
    # 1000.00 on the invoice less the 100.00 credit memo is the 900.00 credited
    result = _ccd("RMR*IV*INV-1**1000.00\\RMR*CM*CM-1**100.00\\", 90000)
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    assert record.amount == D("900.00")
    assert [(r.kind, r.ref, r.amount_paid) for r in record.structured_refs] == [
        (RefKind.INVOICE, "INV-1", D("1000.00")),
        (RefKind.CREDIT_MEMO, "CM-1", D("-100.00")),
    ]


def test_a_credit_memo_written_negative_is_read_as_written() -> None:
    result = _ccd("RMR*IV*INV-1**1000.00\\RMR*CM*CM-1**-100.00\\", 90000)
    assert result.errors == [] and result.warnings == []
    assert result.records[0].structured_refs[1].amount_paid == D("-100.00")


def test_an_unsigned_credit_memo_in_a_ctx_820_agreeing_with_its_entry_is_silent() -> None:
    # BPR02 and the entry are 1076.00: 1176.00 paid on the invoice less the 100.00 credit memo
    x12 = _memo_820("1076.00", "RMR*CM*CM-20790**100.00*100.00")
    result = _ctx_batch(_ctx(x12, 107600, 21))
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    invoice, memo = record.structured_refs
    assert (invoice.ref, invoice.amount_paid) == ("INV-20771", D("1176.00"))
    assert (memo.kind, memo.ref, memo.amount_paid, memo.invoice_amount) == (
        RefKind.CREDIT_MEMO,
        "CM-20790",
        D("-100.00"),
        D("-100.00"),
    )


def test_an_unsigned_credit_memo_of_a_zero_dollar_ctx_is_confirmed_by_its_bpr02() -> None:
    x12 = _memo_820("1076.00", "RMR*CM*CM-20790**100.00")
    result = _ctx_batch(_with_code(_ctx(x12, 0, 21), "24"))
    assert result.errors == [] and result.warnings == []
    (advice,) = result.records
    assert advice.advice_only and advice.amount == D("1076.00")
    assert advice.structured_refs[1].amount_paid == D("-100.00")


def test_an_unsigned_credit_memo_the_entry_amount_does_not_confirm_is_kept_with_a_warning() -> None:
    # 1100.00 credited: as the payer wrote it the credit memo adds to what is paid
    result = _ccd("RMR*IV*INV-1**1000.00\\RMR*CM*CM-1**100.00\\", 110000)
    assert result.errors == []
    (record,) = result.records
    assert record.amount == D("1100.00")
    assert record.structured_refs[1].amount_paid == D("100.00")
    (warning,) = result.warnings
    assert warning.location == "line 4 (addenda), segment 2 (RMR), RMR04"
    assert _trace(41) in warning.reason and "CM-1" in warning.reason
    assert "900.00 USD" in warning.reason and "1100.00 USD credited" in warning.reason


def test_an_unsigned_credit_memo_of_an_advice_without_bpr02_is_kept_with_a_warning() -> None:
    # a zero-dollar CCD+: nothing but the amounts paid to tell what the cash is
    result = _ccd("RMR*IV*INV-1**1000.00\\RMR*CM*CM-1**100.00\\", 0, "24")
    assert result.errors == []
    (advice,) = result.records
    assert advice.advice_only and advice.amount == D("1100.00")
    (warning,) = result.warnings
    assert warning.location == "line 4 (addenda), segment 2 (RMR), RMR04"
    assert _trace(41) in warning.reason and "BPR02" in warning.reason


# an addenda record sent twice -----------------------------------------------------------------


def test_a_ccd_addenda_repeated_record_for_record_is_read_once() -> None:
    header = _header("CCD", "GLOBEX CORP", "1234567890", "PAYMENT", 1)
    addenda = _addenda("RMR*IV*INV-1**1000.00\\", 1, 41)
    records = [_entry("22", 100000, "CUST-881", "ACME PARTS", 41, 1), addenda, addenda]
    result = parse_nacha(_file([(header, records)]), "ccd.ach")
    assert result.errors == []
    (record,) = result.records
    assert [(r.ref, r.amount_paid) for r in record.structured_refs] == [("INV-1", D("1000.00"))]
    (warning,) = result.warnings
    assert warning.location == "line 5 (addenda), addenda sequence number (positions 84-87)"
    assert _trace(41) in warning.reason and "0001" in warning.reason and "line 4" in warning.reason


def test_a_ctx_addenda_repeated_inside_its_820_is_read_once() -> None:
    records = _ctx(_walmart_820("2276.00", ("1176.00", "1100.00")), 227600, 21)
    records.insert(4, records[3])  # the third 80-character piece of the 820, twice
    result = _ctx_batch(records)
    assert result.errors == []
    (record,) = result.records
    assert record.free_text == "EDI PYMNTS TRN 0004410778"
    assert record.payer_name == "WAL-MART STORES INC"
    assert [(r.ref, r.amount_paid) for r in record.structured_refs] == [
        ("INV-20771", D("1176.00")),
        ("INV-20790", D("1100.00")),
    ]
    (warning,) = result.warnings
    assert warning.location == "line 7 (addenda), addenda sequence number (positions 84-87)"
    assert _trace(21) in warning.reason


def test_addenda_of_the_same_sequence_number_with_other_text_are_both_read() -> None:
    header = _header("CCD", "GLOBEX CORP", "1234567890", "PAYMENT", 1)
    records = [
        _entry("22", 150000, "CUST-881", "ACME PARTS", 41, 1),
        _addenda("RMR*IV*INV-1**1000.00\\", 1, 41),
        _addenda("RMR*IV*INV-2**500.00\\", 1, 41),
    ]
    result = parse_nacha(_file([(header, records)]), "ccd.ach")
    assert result.errors == [] and result.warnings == []
    assert [r.ref for r in result.records[0].structured_refs] == ["INV-1", "INV-2"]


def test_a_zero_dollar_advice_sent_twice_keeps_the_key_it_was_imported_under() -> None:
    """A zero-dollar CCD+ advice is keyed by the amount its RMRs add up to. Read before
    repeated addenda were read once, a record sent twice doubled it (2500.00): that key stays
    known, so re-importing the file after the upgrade is a duplicate, not a second advice."""
    header = _header("CCD", "GLOBEX CORP", "1234567890", "PAYMENT", 1)
    entry = _entry("24", 0, "CUST-881", "ACME PARTS", 41, 1)
    once = _addenda("RMR*IV*INV-1**1000.00\\RMR*IV*INV-2**250.00\\", 1, 41)
    (read_once,) = parse_nacha(_file([(header, [entry, once, once])]), "advice.ach").records
    assert read_once.amount == D("1250.00") and read_once.advice_only
    twice = _addenda("RMR*IV*INV-1**1000.00\\RMR*IV*INV-2**250.00\\RMR*IV*INV-1**1000.00\\", 1, 41)
    doubled = _addenda("RMR*IV*INV-2**250.00\\", 2, 41)
    (as_before,) = parse_nacha(_file([(header, [entry, twice, doubled])]), "advice.ach").records
    assert as_before.amount == D("2500.00")
    assert as_before.dedup_key != read_once.dedup_key
    assert as_before.dedup_key in read_once.also_known_as


def test_an_advice_with_a_repeated_record_keeps_every_earlier_key() -> None:
    """A purchase order's RMR sent twice beside an invoice's: before purchase orders counted
    the advice was keyed by the invoice alone (1000.00), later by everything doubled
    (1600.00); both keys stay known beside today's 1300.00 (review: the first was lost)."""
    header = _header("CCD", "GLOBEX CORP", "1234567890", "PAYMENT", 1)
    entry = _entry("24", 0, "CUST-881", "ACME PARTS", 41, 1)
    po = _addenda("RMR*PO*PO-9**300.00\\", 1, 41)
    iv = _addenda("RMR*IV*INV-1**1000.00\\", 2, 41)
    (record,) = parse_nacha(_file([(header, [entry, po, po, iv])]), "advice.ach").records
    assert record.amount == D("1300.00")
    for amount in ("1000.00", "1600.00"):
        alone = _addenda(f"RMR*IV*INV-1**{amount}\\", 1, 41)
        (keyed,) = parse_nacha(_file([(header, [entry, alone])]), "advice.ach").records
        assert keyed.dedup_key in record.also_known_as
