"""camt batch entries: the bank's own charge transaction among customers' credits.

A batch credit entry may list, beside the customers' transactions, one for the bank's
charge (``ACMT/MDOP/CHRG``, or ``CdtDbtInd`` DBIT where the version has it per transaction).
The charge is never a receipt; the batch's sum check and the reading of charges stated
before the entry's amount (``Chrgs/Rcrd`` with ``ChrgInclInd`` true) take each
transaction's direction as the remittances are read: one rule.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import ParseResult

_CHARGE_CODE = "<BkTxCd><Domn><Cd>ACMT</Cd><Fmly><Cd>MDOP</Cd><SubFmlyCd>CHRG</SubFmlyCd>"
_CHARGE_CODE += "</Fmly></Domn></BkTxCd>"
_INCLUDED = (
    '<Chrgs><Rcrd><Amt Ccy="EUR">2.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
    "<ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs>"
)


def _statement(amount: str, details: str, version: str) -> bytes:
    status = "<Sts><Cd>BOOK</Cd></Sts>" if int(version) >= 8 else "<Sts>BOOK</Sts>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">\n'
        "<BkToCstmrStmt><GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-16T18:00:00</CreDtTm>"
        "</GrpHdr>\n<Stmt><Id>STMT-2026-03-16</Id><CreDtTm>2026-03-16T18:00:00</CreDtTm>\n"
        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>{status}'
        "<BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-16</Dt></ValDt>"
        "<AcctSvcrRef>2026031600471</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
        f"</Domn></BkTxCd><NtryDtls>{details}</NtryDtls></Ntry>\n"
        "</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


def _tx(e2e: str, amounts: str, payer: str = "", extra: str = "") -> str:
    parties = f"<RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>" if payer else ""
    return f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{amounts}{extra}{parties}</TxDtls>"


def _v02_amount(amount: str) -> str:
    return f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>'


def _parse(data: bytes) -> ParseResult:
    return parse_bank_bytes(data, "statement.xml")


def test_a_v02_charge_transaction_is_in_no_batch_sum() -> None:
    """camt.053.001.02 states no direction per transaction: the charge coded ACMT/MDOP/CHRG
    is left out as no receipt, and is no credit in the sum the warning gives either."""
    details = (
        _tx("INV-1", _v02_amount("500.00"), "Acme GmbH")
        + _tx("INV-2", _v02_amount("500.00"), "Beta AG")
        + _tx("NOTPROVIDED", _v02_amount("10.00"), extra=_CHARGE_CODE)
    )
    result = _parse(_statement("990.00", details, "02"))
    assert result.errors == []
    assert [r.amount for r in result.records] == [Decimal("500.00"), Decimal("500.00")]
    left_out, batch = result.warnings
    assert "ACMT/MDOP/CHRG" in left_out.reason and "not a customer paying" in left_out.reason
    assert "add up to 1000.00 EUR, not to its booked 990.00 EUR" in batch.reason
    assert "10.00 EUR of them was not booked" in batch.reason
    assert "not the 1 left out as no customer paying" in batch.reason


def test_a_debit_charge_transaction_counts_against_a_batch_stated_before_charges() -> None:
    """Each customer's credit stated before the 2.50 charged on it, and the bank's 10.00 fee
    as a DBIT transaction: 500.00 - 2.50 + 400.00 - 2.50 - 10.00 is the booked 885.00."""
    details = (
        _tx("INV-1", '<Amt Ccy="EUR">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>', "Acme", _INCLUDED)
        + _tx("INV-2", '<Amt Ccy="EUR">400.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>', "Beta", _INCLUDED)
        + _tx("NOTPROVIDED", '<Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>')
    )
    result = _parse(_statement("885.00", details, "08"))
    assert result.errors == [] and result.warnings == []
    assert [r.amount for r in result.records] == [Decimal("497.50"), Decimal("397.50")]


def test_a_batch_whose_transactions_state_their_direction_is_summed_as_before() -> None:
    """A DBIT transaction under the credit entry is taken off; nothing is left out of the sum."""
    details = (
        _tx("INV-1", '<Amt Ccy="EUR">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>', "Acme")
        + _tx("INV-2", '<Amt Ccy="EUR">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>', "Beta")
        + _tx("NOTPROVIDED", '<Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>')
    )
    result = _parse(_statement("980.00", details, "08"))
    [batch] = result.warnings
    assert batch.reason.startswith(
        "the 3 transactions of this entry add up to 990.00 EUR, not to its booked 980.00 EUR"
    )
