"""X12 820 remittances as real payers send them to a supplier's AR (004010 and 005010).

Each scenario is a whole interchange: a fixed-width ISA with its own delimiters, GS, ST..SE
and the trailers. What a payer states is kept as stated (RMR04 amount paid, RMR05 invoice
amount, RMR06 discount taken, ADX01 signed adjustment with its ADX02 reason); where the detail
does not add up to the payment (BPR02) a warning says so.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes
from connectors.bankfiles.records import ParseResult, RawRemittance

D = Decimal


def _isa(
    control: int,
    sender: str,
    version: str,
    element: str,
    component: str,
    segment: str,
    repetition: str,
) -> str:
    """A 106-character ISA ending in its segment terminator."""
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        f"{sender:<15}",
        "ZZ",
        f"{'ACMEWIDGETS':<15}",
        "261120",
        "0930",
        repetition,
        version,
        f"{control:09d}",
        "0",
        "P",
        component,
    ]
    isa = element.join(fields) + segment
    assert len(isa) == 106
    return isa


def _interchange(
    groups: list[list[list[str]]],
    *,
    control: int = 905,
    sender: str = "BIGBOXAP",
    version: str = "004010",
    element: str = "*",
    component: str = ">",
    segment: str = "~",
    after: str = "\n",
    repetition: str | None = None,
) -> str:
    """An interchange holding ``groups`` of transaction sets, each set its segments from BPR on
    written with ``*`` (put in the interchange's own element separator), each segment ended
    by ``segment`` and ``after``."""
    rep = repetition or ("^" if version.startswith("005") else "U")
    out = [_isa(control, sender, version[:5], element, component, segment, rep)]
    lines: list[str] = []
    st = 0
    for g, sets in enumerate(groups, start=1):
        group = control * 10 + g
        lines.append(f"GS*RA*{sender}*ACMEWIDGETS*20261120*0930*{group}*X*{version}")
        for body in sets:
            st += 1
            header = f"ST*820*{st:04}" + (f"*{version}X218" if version.startswith("005") else "")
            lines += [header, *body, f"SE*{len(body) + 2}*{st:04}"]
        lines.append(f"GE*{len(sets)}*{group}")
    lines.append(f"IEA*{len(groups)}*{control:09d}")
    out += [line.replace("*", element) + segment for line in lines]
    return after.join(out) + after


def _parse(text: str, name: str = "payer.edi") -> ParseResult:
    result = parse_bank_bytes(text.encode(), name)
    assert result.format is BankFileFormat.EDI_820
    return result


def _one(text: str) -> RawRemittance:
    """The one record of a clean file (no errors, no warnings)."""
    result = _parse(text)
    assert result.errors == [] and result.warnings == [], (result.errors, result.warnings)
    (record,) = result.records
    return record


def _refs(record: RawRemittance) -> list[tuple[object, ...]]:
    return [
        (r.kind, r.ref, r.amount_paid, r.invoice_amount, r.discount, r.adjustment)
        for r in record.structured_refs
    ]


BIGBOX = [
    "BPR*C*12125.25*C*ACH*CTX*01*091000019*DA*1234567*1234567890**01*021000021*DA*987654321"
    "*20261120",
    "TRN*1*0012345678*1234567890",
    "CUR*PR*USD",
    "DTM*097*20261119",
    "N1*PR*BIGBOX STORES INC*91*VND-00731",
    "N1*PE*ACME WIDGETS INC*92*00731",
    "ENT*1",
    "RMR*IV*INV-50011*PI*4900.00*5000.00*100.00",
    "DTM*003*20261020",
    "RMR*IV*INV-50012*PI*3136.00*3200.00*64.00",
    "RMR*IV*INV-50013*PI*2425.25*2550.25",
    "ADX*-125.00*CS",
    "RMR*IV*INV-50014*PI*1664.00*1700.00*36.00",
]


# big-box retailer: amounts paid, invoice totals, discounts and adjustments ------------------


def test_retailer_remittance_keeps_each_invoice_paid_total_discount_and_adjustment() -> None:
    record = _one(_interchange([[BIGBOX]]))
    assert (record.amount, record.currency, record.advice_only) == (D("12125.25"), "USD", False)
    assert (record.payer_name, record.payer_account) == ("BIGBOX STORES INC", "1234567")
    assert record.bank_reference == "0012345678"
    assert record.value_date == date(2026, 11, 20)
    assert _refs(record) == [
        (RefKind.INVOICE, "INV-50011", D("4900.00"), D("5000.00"), D("100.00"), None),
        (RefKind.INVOICE, "INV-50012", D("3136.00"), D("3200.00"), D("64.00"), None),
        (RefKind.INVOICE, "INV-50013", D("2425.25"), D("2550.25"), None, D("-125.00")),
        (RefKind.INVOICE, "INV-50014", D("1664.00"), D("1700.00"), D("36.00"), None),
    ]
    assert record.structured_refs[0].document_date == date(2026, 10, 20)
    assert record.structured_refs[2].adjustment_reason == "CS"


def test_a_short_pay_explained_by_the_discount_taken_is_no_warning() -> None:
    body = [
        "BPR*C*980.00*C*ACH*CCP************20261120",
        "TRN*1*SP-1001",
        "N1*PR*CORNER MARKETS",
        "ENT*1",
        "RMR*IV*INV-7100**980.00*1000.00*20.00",
    ]
    record = _one(_interchange([[body]]))
    (ref,) = record.structured_refs
    assert (ref.amount_paid, ref.invoice_amount, ref.discount) == (
        D("980.00"),
        D("1000.00"),
        D("20.00"),
    )


def test_credit_memos_and_chargebacks_stay_negative_lines_of_their_kind() -> None:
    body = [
        "BPR*C*1775.00*C*ACH*CTX************20261120",
        "TRN*1*CB-2001",
        "N1*PR*BIGBOX STORES INC",
        "ENT*1",
        "RMR*IV*INV-2001**2000.00*2000.00",
        "RMR*CM*CM-77**-150.00*-150.00",
        "RMR*IV*CB-880412**-75.00",
    ]
    record = _one(_interchange([[body]]))
    assert _refs(record) == [
        (RefKind.INVOICE, "INV-2001", D("2000.00"), D("2000.00"), None, None),
        (RefKind.CREDIT_MEMO, "CM-77", D("-150.00"), D("-150.00"), None, None),
        (RefKind.INVOICE, "CB-880412", D("-75.00"), None, None, None),
    ]


def test_deduction_lines_under_their_own_reference_qualifier() -> None:
    body = [
        "BPR*C*2594.50*C*ACH*CTX************20261120",
        "TRN*1*DD-3001",
        "N1*PR*BIGBOX STORES INC",
        "ENT*1",
        "RMR*IV*INV-3001**3000.00*3000.00",
        "RMR*AJ*DED-55012**-310.00",
        "RMR*ZZ*PROMO-2026Q4**-95.50",
    ]
    record = _one(_interchange([[body]]))
    assert [(r.kind, r.ref, r.amount_paid) for r in record.structured_refs] == [
        (RefKind.INVOICE, "INV-3001", D("3000.00")),
        (RefKind.OTHER, "DED-55012", D("-310.00")),
        (RefKind.OTHER, "PROMO-2026Q4", D("-95.50")),
    ]


def test_an_adjustment_of_an_invoice_names_its_own_reference_in_the_text() -> None:
    body = [
        "BPR*C*950.00*C*ACH*CTX************20261120",
        "TRN*1*AD-4001",
        "N1*PR*BIGBOX STORES INC",
        "ENT*1",
        "RMR*IV*INV-4001**950.00*1000.00",
        "ADX*-30.00*04*CR*DED-778",
        "ADX*-20.00*CS",
        "REF*CR*DED-779",
    ]
    record = _one(_interchange([[body]]))
    (ref,) = record.structured_refs
    assert (ref.adjustment, ref.adjustment_reason) == (D("-50.00"), "04,CS")
    assert record.free_text == "CR DED-778 CR DED-779"


def test_an_adjustment_of_an_entity_is_not_taken_for_the_last_invoice_of_the_one_before() -> None:
    body = [
        "BPR*C*760.00*C*ACH*CTX************20261120",
        "TRN*1*EN-5001",
        "N1*PR*BIGBOX STORES INC",
        "ENT*1",
        "NM1*PE*2*ACME WIDGETS EAST*****92*0001",
        "RMR*IV*INV-5001**500.00*500.00",
        "ENT*2",
        "NM1*PE*2*ACME WIDGETS WEST*****92*0002",
        "ADX*-40.00*AW*CR*DED-9001",
        "RMR*IV*INV-5002**300.00*300.00",
    ]
    record = _one(_interchange([[body]]))
    first, deduction, second = record.structured_refs
    assert (first.ref, first.adjustment) == ("INV-5001", None)
    assert (deduction.kind, deduction.ref, deduction.adjustment, deduction.adjustment_reason) == (
        RefKind.OTHER,
        "DED-9001",
        D("-40.00"),
        "AW",
    )
    assert (second.ref, second.adjustment) == ("INV-5002", None)


def test_a_ref_after_an_entity_adjustment_names_the_deduction() -> None:
    body = [
        "BPR*C*1000.00*C*ACH*CTX************20261120",
        "TRN*1*EN-5002",
        "N1*PR*BIGBOX STORES INC",
        "ENT*1",
        "ADX*-60.00*CS",
        "REF*CR*CHGBK-4410",
        "RMR*IV*INV-5003**1060.00*1060.00",
    ]
    record = _one(_interchange([[body]]))
    deduction, invoice = record.structured_refs
    assert (deduction.kind, deduction.ref, deduction.adjustment) == (
        RefKind.OTHER,
        "CHGBK-4410",
        D("-60.00"),
    )
    assert invoice.ref == "INV-5003"
    assert record.free_text is None


@pytest.mark.parametrize(
    ("qualifier", "kind"),
    [
        ("IV", RefKind.INVOICE),  # seller's invoice number
        ("IK", RefKind.INVOICE),  # invoice number
        ("R7", RefKind.INVOICE),  # accounts receivable open item
        ("OI", RefKind.INVOICE),  # original invoice number
        ("CM", RefKind.CREDIT_MEMO),
        ("PO", RefKind.PO),
        ("ZZ", RefKind.OTHER),
        ("BM", RefKind.OTHER),
    ],
)
def test_rmr_reference_qualifiers(qualifier: str, kind: RefKind) -> None:
    body = [
        "BPR*C*125.00*C*ACH*CCP************20261120",
        "TRN*1*Q-6001",
        "N1*PR*CORNER MARKETS",
        f"RMR*{qualifier}*DOC-6001**125.00",
    ]
    result = _parse(_interchange([[body]]))
    assert result.errors == []
    # a credit memo paying the whole payment cannot be a credit taken: kept, with a warning
    assert [w.location for w in result.warnings] == ["line 7, segment 7 (RMR), RMR04"] * (
        qualifier == "CM"
    )
    (ref,) = result.records[0].structured_refs
    assert (ref.kind, ref.ref, ref.amount_paid) == (kind, "DOC-6001", D("125.00"))


def test_a_po_line_after_an_invoice_and_invoice_lines_with_item_detail() -> None:
    body = [
        "BPR*C*470.00*C*ACH*CTX************20261120",
        "TRN*1*IT-6101",
        "N1*PR*BIGBOX STORES INC",
        "ENT*1",
        "RMR*IV*INV-6101**470.00*500.00",
        "REF*PO*PO-88120",
        "IT1*1*10*EA*50.00**UP*012345678905",
        "SAC*A*C310***2500",
        "ADX*-30.00*01",
    ]
    record = _one(_interchange([[body]]))
    invoice, po = record.structured_refs
    assert (invoice.ref, invoice.adjustment, invoice.adjustment_reason) == (
        "INV-6101",
        D("-30.00"),
        "01",
    )
    assert (po.kind, po.ref) == (RefKind.PO, "PO-88120")


# grouping: ENT per store, several sets, groups and interchanges -----------------------------


def test_payments_grouped_by_store_are_one_remittance_with_every_store_line() -> None:
    body = [
        "BPR*C*1350.00*C*ACH*CTX************20261120",
        "TRN*1*ST-7001",
        "N1*PR*BIGBOX STORES INC*91*VND-00731",
    ]
    for store, (invoice, paid) in enumerate(
        [("INV-7001", "400.00"), ("INV-7002", "450.00"), ("INV-7003", "500.00")], start=1
    ):
        body += [f"ENT*{store}*SN*92*STORE{store:04}", f"RMR*IV*{invoice}**{paid}"]
    record = _one(_interchange([[body]]))
    assert [(r.ref, r.amount_paid) for r in record.structured_refs] == [
        ("INV-7001", D("400.00")),
        ("INV-7002", D("450.00")),
        ("INV-7003", D("500.00")),
    ]
    assert record.payer_account == "VND-00731"  # no BPR09: the payer's N104


def _set(trace: str, payer: str, amount: str, invoice: str) -> list[str]:
    return [
        f"BPR*C*{amount}*C*ACH*CCP************20261120",
        f"TRN*1*{trace}",
        f"N1*PR*{payer}",
        "ENT*1",
        f"RMR*IV*{invoice}**{amount}",
    ]


def test_several_transaction_sets_in_one_group_each_a_remittance_of_its_payer() -> None:
    text = _interchange(
        [
            [
                _set("T-1", "STORE CHAIN A", "100.00", "INV-1"),
                _set("T-2", "STORE CHAIN B", "200.00", "INV-2"),
                _set("T-3", "STORE CHAIN C", "300.00", "INV-3"),
            ]
        ]
    )
    result = _parse(text)
    assert result.errors == [] and result.warnings == []
    assert [(r.payer_name, r.amount, r.bank_reference) for r in result.records] == [
        ("STORE CHAIN A", D("100.00"), "T-1"),
        ("STORE CHAIN B", D("200.00"), "T-2"),
        ("STORE CHAIN C", D("300.00"), "T-3"),
    ]


def test_several_groups_in_one_interchange() -> None:
    text = _interchange(
        [[_set("T-1", "STORE CHAIN A", "100.00", "INV-1")], [_set("T-2", "B", "200.00", "INV-2")]]
    )
    result = _parse(text)
    assert result.errors == [] and result.warnings == []
    assert [r.amount for r in result.records] == [D("100.00"), D("200.00")]


def test_interchanges_concatenated_with_the_same_delimiters() -> None:
    text = _interchange([[_set("T-1", "A", "100.00", "INV-1")]], control=1) + _interchange(
        [[_set("T-2", "B", "200.00", "INV-2")]], control=2
    )
    result = _parse(text)
    assert result.errors == [] and result.warnings == []
    assert [r.amount for r in result.records] == [D("100.00"), D("200.00")]


def test_interchanges_concatenated_each_with_its_own_delimiters() -> None:
    first = _interchange([[_set("T-1", "STORE CHAIN A", "100.00", "INV-1")]], control=1)
    second = _interchange(
        [[_set("T-2", "STORE CHAIN B", "200.00", "INV-2")]],
        control=2,
        sender="OTHERPAYER",
        version="005010",
        element="|",
        component=":",
        segment="\n",
        after="",
    )
    third = _interchange(
        [[_set("T-3", "STORE CHAIN C", "300.00", "INV-3")]],
        control=3,
        element="^",
        component="\\",
        segment="'",
        after="\r\n",
    )
    result = _parse(first + second + third)
    assert result.errors == [] and result.warnings == []
    assert [(r.payer_name, r.amount, r.line) for r in result.records] == [
        ("STORE CHAIN A", D("100.00"), 3),
        ("STORE CHAIN B", D("200.00"), 14),
        ("STORE CHAIN C", D("300.00"), 25),
    ]
    assert [(r.ref, r.amount_paid) for r in result.records[1].structured_refs] == [
        ("INV-2", D("200.00"))
    ]


# BPR variations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handling", "method", "advice_only"),
    [
        ("C", "ACH", False),  # payment accompanies remittance advice
        ("C", "CHK", False),
        ("C", "FWT", False),  # federal reserve wire
        ("C", "BOP", False),  # financial institution option
        ("D", "ACH", False),  # make payment only
        ("I", "NON", True),  # remittance information only
        ("I", "ACH", True),
        ("X", "ACH", True),  # 004010: the handling party's option to split them
        ("C", "NON", True),  # non-payment data: no funds move with this 820
    ],
)
def test_handling_code_and_payment_method(handling: str, method: str, advice_only: bool) -> None:
    body = [
        f"BPR*{handling}*640.00*C*{method}************20261120",
        "TRN*1*BP-8001",
        "N1*PR*BIGBOX STORES INC",
        "RMR*IV*INV-8001**640.00",
    ]
    record = _one(_interchange([[body]]))
    assert (record.amount, record.advice_only) == (D("640.00"), advice_only)


def test_a_prenotification_and_a_debit_are_no_remittance() -> None:
    prenote = ["BPR*P*0*C*ACH*CCP************20261120", "TRN*1*PN-1", "N1*PR*NEW PAYER"]
    debit = ["BPR*C*75.00*D*ACH*CCP************20261120", "TRN*1*DB-1", "N1*PR*A PAYER"]
    result = _parse(_interchange([[prenote, debit]]))
    assert result.records == [] and result.errors == []
    # the debit is named: money going out is no payment, but it must not vanish unsaid
    (warning,) = result.warnings
    assert warning.location.endswith("(BPR), BPR03") and "transaction set 0002" in warning.reason


def test_amounts_without_a_decimal_point_are_whole_units() -> None:
    body = [
        "BPR*C*1500*C*ACH*CCP************20261120",
        "TRN*1*AM-1",
        "N1*PR*CORNER MARKETS",
        "RMR*IV*INV-9001**1249.5*1250*.5",
        "RMR*IV*INV-9002**250.50",
    ]
    record = _one(_interchange([[body]]))
    assert record.amount == D("1500")
    assert [(r.amount_paid, r.invoice_amount, r.discount) for r in record.structured_refs] == [
        (D("1249.5"), D("1250"), D("0.5")),
        (D("250.50"), None, None),
    ]


def test_a_negative_zero_payment_carries_no_amount() -> None:
    body = ["BPR*C*-0.00*C*ACH*CCP************20261120", "TRN*1*Z-1", "N1*PR*CORNER MARKETS"]
    result = _parse(_interchange([[body]]))
    assert result.records == [] and result.errors == []
    (warning,) = result.warnings
    assert "carries no payment amount (BPR02 -0.00)" in warning.reason


def test_a_negative_payment_amount_is_an_error_naming_bpr02() -> None:
    body = ["BPR*C*-150.00*C*ACH*CCP************20261120", "TRN*1*N-1", "N1*PR*CORNER MARKETS"]
    good = _set("G-1", "GOOD PAYER", "10.00", "INV-1")
    result = _parse(_interchange([[body, good]]))
    assert [r.bank_reference for r in result.records] == ["G-1"]
    (error,) = result.errors
    assert error.location == "line 4, segment 4 (BPR), BPR02"
    assert error.reason == (
        "the payment amount -150.00 is negative: BPR02 is unsigned, BPR03 (C or D) says "
        "which way the money goes"
    )


@pytest.mark.parametrize("currency", ["CAD", "EUR"])
def test_currency_from_the_cur_segment(currency: str) -> None:
    body = [
        "BPR*C*2200.00*C*FWT************20261120",
        "TRN*1*FX-1",
        f"CUR*PR*{currency}",
        "N1*PR*NORTHERN STORES LTD",
        "RMR*IV*INV-9101**2200.00*2200.00",
    ]
    record = _one(_interchange([[body]]))
    assert (record.amount, record.currency) == (D("2200.00"), currency)


def test_005010_payer_id_and_implementation_reference() -> None:
    body = [
        "BPR*C*315.00*C*ACH*CCP*01*091000019*DA*1234567*1234567890**01*021000021*DA*987654321"
        "*20261120",
        "TRN*1*V5-1*1234567890",
        "N1*PR*BIGBOX STORES INC*FI*410987654",
        "N1*PE*ACME WIDGETS INC",
        "ENT*1",
        "RMR*IV*INV-9201**315.00*315.00",
    ]
    record = _one(_interchange([[body]], version="005010"))
    assert (record.payer_name, record.payer_account, record.amount) == (
        "BIGBOX STORES INC",
        "1234567",
        D("315.00"),
    )


# delimiters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "component", "segment", "after", "version", "repetition"),
    [
        ("*", ">", "~", "\n", "004010", None),
        ("*", ">", "~", "\r\n", "004010", None),
        ("*", ">", "~", "", "004010", None),
        ("*", ">", "\n", "", "004010", None),
        ("*", ">", "\r", "\n", "004010", None),
        ("|", ">", "~", "\n", "004010", None),
        ("^", ":", "~", "\r\n", "004010", None),
        ("*", ":", "~", "\n", "005010", "^"),
        ("*", "^", "~", "", "005010", "{"),
        ("|", "^", "~", "\n", "005010", "}"),
    ],
)
def test_delimiters_from_the_isa(
    element: str,
    component: str,
    segment: str,
    after: str,
    version: str,
    repetition: str | None,
) -> None:
    text = _interchange(
        [[BIGBOX]],
        element=element,
        component=component,
        segment=segment,
        after=after,
        version=version,
        repetition=repetition,
    )
    record = _one(text)
    assert record.amount == D("12125.25")
    assert [r.ref for r in record.structured_refs] == [
        "INV-50011",
        "INV-50012",
        "INV-50013",
        "INV-50014",
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_segments_wrapped_at_80_characters(newline: str) -> None:
    flat = _interchange([[BIGBOX]], after="")
    wrapped = newline.join(flat[i : i + 80] for i in range(0, len(flat), 80)) + newline
    record = _one(wrapped)
    assert record.amount == D("12125.25")
    assert record.payer_name == "BIGBOX STORES INC"
    assert _refs(record) == _refs(_one(flat))
    assert record.raw.splitlines()[1].startswith("BPR*C*12125.25*C*ACH*CTX*01*091000019")


# sums ----------------------------------------------------------------------------------------


def test_amounts_paid_that_do_not_add_up_to_the_payment_are_a_warning() -> None:
    body = [
        "BPR*C*1100.00*C*ACH*CTX************20261120",
        "TRN*1*SUM-1",
        "N1*PR*BIGBOX STORES INC",
        "ENT*1",
        "RMR*IV*INV-1201**600.00*600.00",
        "RMR*IV*INV-1202**400.00*400.00",
    ]
    result = _parse(_interchange([[body]]))
    assert result.errors == []
    (record,) = result.records  # kept, with both figures as stated
    assert record.amount == D("1100.00")
    assert [r.amount_paid for r in record.structured_refs] == [D("600.00"), D("400.00")]
    (warning,) = result.warnings
    assert warning.location == "line 4, segment 4 (BPR), BPR02"
    assert warning.reason == (
        "transaction set 0001: the amounts paid (RMR04) add up to 1000.00 USD, not to the "
        "payment of 1100.00 USD (BPR02); record kept with the amounts as stated, check the "
        "remittance detail"
    )


def test_entity_adjustments_count_toward_the_payment_in_the_sum_check() -> None:
    body = [
        "BPR*C*950.00*C*ACH*CTX************20261120",
        "TRN*1*SUM-2",
        "N1*PR*BIGBOX STORES INC",
        "ENT*1",
        "ADX*-50.00*CS*CR*DED-1",
        "RMR*IV*INV-1301**1000.00*1000.00",
    ]
    assert _one(_interchange([[body]])).amount == D("950.00")
    body[0] = body[0].replace("950.00", "900.00")
    result = _parse(_interchange([[body]]))
    (warning,) = result.warnings
    assert warning.reason == (
        "transaction set 0001: the amounts paid (RMR04) add up to 1000.00 USD and the "
        "adjustments outside any document (ADX01) to -50.00 USD, not to the payment of "
        "900.00 USD (BPR02); record kept with the amounts as stated, check the remittance "
        "detail"
    )


def test_lines_without_an_amount_paid_are_not_summed() -> None:
    body = [
        "BPR*C*777.00*C*ACH*CTX************20261120",
        "TRN*1*SUM-3",
        "N1*PR*BIGBOX STORES INC",
        "RMR*IV*INV-1401***800.00",
        "RMR*IV*INV-1402**10.00",
    ]
    record = _one(_interchange([[body]]))
    assert [r.amount_paid for r in record.structured_refs] == [None, D("10.00")]


def test_advice_only_detail_is_summed_too() -> None:
    body = [
        "BPR*I*500.00*C*NON************20261120",
        "TRN*1*SUM-4",
        "N1*PR*BIGBOX STORES INC",
        "RMR*IV*INV-1501**450.00",
    ]
    result = _parse(_interchange([[body]]))
    (record,) = result.records
    assert record.advice_only
    (warning,) = result.warnings
    assert "add up to 450.00 USD, not to the payment of 500.00 USD" in warning.reason
