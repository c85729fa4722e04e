"""camt shapes a probe of real statements left open: a batch entry whose transactions
state no amount (camt.053.001.02's ``TxDtls`` has no ``Amt`` and ``AmtDtls`` is optional:
some banks list a batch's payments only for their references), booleans written ``1``/``0``
(``RvslInd``, ``ChrgInclInd`` are ``xs:boolean``), and the ISO document type codes of
``RfrdDocInf/Tp/CdOrPrtry/Cd`` (DocumentType5Code/DocumentType6Code)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.bankfiles import RefKind, parse_bank_bytes
from connectors.bankfiles.records import ParseResult

_OWN_IBAN = "DE44500105175407324931"
_BATCH = "Ntry[1] (line"


def _document(entries: str, version: str = "02") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        "<BkToCstmrStmt><GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-16T18:00:00</CreDtTm>"
        "</GrpHdr><Stmt><Id>STMT-1</Id><CreDtTm>2026-03-16T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{_OWN_IBAN}</IBAN></Id></Acct>\n{entries}</Stmt></BkToCstmrStmt>"
        "</Document>"
    ).encode()


def _tx(e2e: str, invoice: str, payer: str, amount: str = "", code: str = "CINV") -> str:
    return (
        f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{amount}"
        f"<RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties><RmtInf><Strd><RfrdDocInf>"
        f"<Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Nb>{invoice}</Nb></RfrdDocInf>"
        "</Strd></RmtInf></TxDtls>\n"
    )


def _tx_amount(value: str) -> str:
    return f'<AmtDtls><TxAmt><Amt Ccy="EUR">{value}</Amt></TxAmt></AmtDtls>'


def _entry(
    txs: list[str], amount: str = "1500.00", indicator: str = "CRDT", extra: str = ""
) -> str:
    batch = f"<Btch><NbOfTxs>{len(txs)}</NbOfTxs></Btch>" if txs else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{extra}'
        "<Sts>BOOK</Sts><BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-16</Dt></ValDt>"
        "<AcctSvcrRef>BATCH-77</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>"
        "<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\n"
        f"<NtryDtls>{batch}\n{''.join(txs)}</NtryDtls></Ntry>\n"
    )


def _parse(data: bytes) -> ParseResult:
    return parse_bank_bytes(data, "statement.xml")


def _refs(result: ParseResult) -> list[list[tuple[RefKind, str]]]:
    return [[(s.kind, s.ref) for s in r.structured_refs] for r in result.records]


_THREE = [
    _tx("E2E-1", "INV-1001", "Alpha GmbH"),
    _tx("E2E-2", "INV-1002", "Beta AG"),
    _tx("E2E-3", "INV-1003", "Gamma KG"),
]


# --- a batch whose transactions state no amount ---------------------------------------------


def test_a_batch_whose_transactions_state_no_amount_is_its_booked_amount() -> None:
    """The entry's booked cash is one remittance carrying the three payments' references and
    end-to-end ids, with a warning naming the entry: not three errors and no cash."""
    result = _parse(_document(_entry(_THREE)))
    assert result.errors == []
    (record,) = result.records
    assert (record.amount, record.currency) == (Decimal("1500.00"), "EUR")
    assert _refs(result) == [
        [
            (RefKind.INVOICE, "INV-1001"),
            (RefKind.INVOICE, "INV-1002"),
            (RefKind.INVOICE, "INV-1003"),
        ]
    ]
    assert record.free_text == "E2E-1 E2E-2 E2E-3"
    assert (record.payer_name, record.end_to_end_id) == (None, None)  # three payers
    assert record.bank_reference == "BATCH-77"
    (warning,) = result.warnings
    assert warning.location.endswith("/Stmt[1]/Ntry[1] (line 3)")
    assert "3 transactions of this batch state no amount" in warning.reason
    assert "1500.00 EUR" in warning.reason


def test_the_batch_is_one_remittance_with_the_statement_that_books_it_without_details() -> None:
    """The same entry booked without its transactions (SPS camt.053) has the same key: one
    payment, not two."""
    listed = _parse(_document(_entry(_THREE))).records[0]
    booked = _parse(
        _document(_entry([]).replace("<NtryDtls>", "<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>"))
    ).records[0]
    assert booked.amount == listed.amount == Decimal("1500.00")
    assert booked.dedup_key == listed.dedup_key


def test_transactions_of_one_payer_keep_the_payer() -> None:
    txs = [_tx("E2E-1", "INV-1001", "Alpha GmbH"), _tx("E2E-1", "INV-1002", "Alpha GmbH")]
    (record,) = _parse(_document(_entry(txs, "800.00"))).records
    assert (record.amount, record.payer_name, record.end_to_end_id) == (
        Decimal("800.00"),
        "Alpha GmbH",
        "E2E-1",
    )


def test_transactions_stating_zero_are_no_amount_either() -> None:
    """Amt 0 on each transaction gave nothing at all, not even an error."""
    txs = [_tx(f"E2E-{n}", f"INV-100{n}", "Alpha GmbH", _tx_amount("0.00")) for n in (1, 2)]
    result = _parse(_document(_entry(txs, "700.00")))
    assert result.errors == []
    assert [r.amount for r in result.records] == [Decimal("700.00")]
    assert _refs(result) == [[(RefKind.INVOICE, "INV-1001"), (RefKind.INVOICE, "INV-1002")]]


@pytest.mark.parametrize(
    ("stated", "kept"),
    [
        pytest.param(["400.00"], ["400.00"], id="stated less than the entry"),
        pytest.param(["1000.00", "500.00"], ["1000.00", "500.00"], id="stated the whole entry"),
        pytest.param(["1000.00", "600.00"], ["1000.00", "600.00"], id="stated beyond the entry"),
    ],
)
def test_a_batch_stating_some_amounts_keeps_each_transaction_as_before(
    stated: list[str], kept: list[str]
) -> None:
    """Where any transaction states its amount each stands alone, as before batches stating
    none were read: the ones stating none are errors naming them (no remainder is made up of
    the entry's amount, nor is the entry taken for them), the others keep their records."""
    txs = [
        _tx(f"E2E-{n}", f"INV-100{n}", "Alpha GmbH", _tx_amount(amount))
        for n, amount in enumerate(stated, start=1)
    ]
    txs += _THREE[len(stated) :]
    result = _parse(_document(_entry(txs)))
    assert [r.amount for r in result.records] == [Decimal(a) for a in kept]
    silent = range(len(stated) + 1, 4)
    assert [e.location.split(" (line")[0][-22:] for e in result.errors] == [
        f"/NtryDtls[1]/TxDtls[{n}]" for n in silent
    ]
    assert all("no amount on a transaction" in e.reason for e in result.errors)
    assert result.warnings == []


def test_an_unreadable_stated_amount_stays_an_error() -> None:
    txs = [_tx("E2E-1", "INV-1001", "Alpha GmbH", _tx_amount("4x0")), *_THREE[1:]]
    result = _parse(_document(_entry(txs)))
    assert result.records == []
    assert any("TxAmt" in e.location for e in result.errors)


# --- booleans written 1 / 0 -----------------------------------------------------------------


def _single(indicator: str, reversal: str) -> bytes:
    tx = _tx("E2E-9", "INV-9", "Acme Ltd")
    return _document(_entry([tx], "250.00", indicator, f"<RvslInd>{reversal}</RvslInd>"))


def test_a_debit_with_reversal_indicator_1_takes_the_credit_back() -> None:
    (record,) = _parse(_single("DBIT", "1")).records
    assert (record.amount, record.reverses) == (Decimal("-250.00"), "E2E-9")


def test_a_credit_with_reversal_indicator_1_is_no_receipt() -> None:
    result = _parse(_single("CRDT", "1"))
    assert (result.records, result.errors) == ([], [])


def test_reversal_indicator_0_is_a_plain_credit() -> None:
    (record,) = _parse(_single("CRDT", "0")).records
    assert record.amount == Decimal("250.00") and record.reverses is None


@pytest.mark.parametrize("included", ["1", " true "])
def test_charges_included_written_1_are_taken_from_a_gross_batch(included: str) -> None:
    charges = (
        '<Chrgs><Rcrd><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
        f"<ChrgInclInd>{included}</ChrgInclInd></Rcrd></Chrgs>"
    )
    txs = [
        _tx(f"E2E-{n}", f"INV-{n}", "Acme Ltd", f'<Amt Ccy="EUR">100.00</Amt>{charges}')
        for n in (1, 2)
    ]
    result = _parse(_document(_entry(txs, "190.00"), version="08"))
    assert [r.amount for r in result.records] == [Decimal("95.00"), Decimal("95.00")]


# --- document type codes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("MSIN", RefKind.INVOICE),
        ("CINV", RefKind.INVOICE),
        ("DNFA", RefKind.INVOICE),
        ("DEBN", RefKind.INVOICE),
        ("HIRI", RefKind.INVOICE),
        ("SBIN", RefKind.INVOICE),
        ("AROI", RefKind.INVOICE),
        ("CNFA", RefKind.CREDIT_MEMO),
        ("CREN", RefKind.CREDIT_MEMO),
        ("PUOR", RefKind.PO),
        ("CMCN", RefKind.OTHER),
        ("SOAC", RefKind.OTHER),
        ("DISP", RefKind.OTHER),
        ("BOLD", RefKind.OTHER),
        ("VCHR", RefKind.OTHER),
        ("TSUT", RefKind.OTHER),
    ],
)
def test_document_type_codes(code: str, kind: RefKind) -> None:
    tx = _tx("E2E-9", "DOC-4711", "Acme Ltd", code=code)
    result = _parse(_document(_entry([tx], "250.00")))
    assert _refs(result) == [[(kind, "DOC-4711")]]


def test_a_credit_note_for_a_financial_adjustment_nets_as_a_credit_note() -> None:
    """CNFA with its credit note amount: a credit memo taken off the payment, never read as
    an invoice of that number."""
    strd = (
        "<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-2001</Nb>"
        '</RfrdDocInf><RfrdDocAmt><RmtdAmt Ccy="EUR">1000.00</RmtdAmt></RfrdDocAmt></Strd>'
        "<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CNFA</Cd></CdOrPrtry></Tp><Nb>CN-77</Nb>"
        '</RfrdDocInf><RfrdDocAmt><CdtNoteAmt Ccy="EUR">100.00</CdtNoteAmt></RfrdDocAmt></Strd>'
    )
    tx = _tx("E2E-9", "X", "Acme Ltd").replace(
        "<RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>X</Nb>"
        "</RfrdDocInf></Strd></RmtInf>",
        f"<RmtInf>{strd}</RmtInf>",
    )
    (record,) = _parse(_document(_entry([tx], "900.00"))).records
    assert [(s.kind, s.ref, s.amount_paid) for s in record.structured_refs] == [
        (RefKind.INVOICE, "INV-2001", Decimal("1000.00")),
        (RefKind.CREDIT_MEMO, "CN-77", Decimal("-100.00")),
    ]
