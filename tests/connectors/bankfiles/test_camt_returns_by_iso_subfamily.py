"""Debits that take back cash counted before, as a European bank codes them in a camt.053:
by the ISO 20022 bank transaction code alone, without return details (``RtrInf``), without
``RvslInd`` and without the BAI type code a US bank states beside them.

- ``PMNT/RCHQ/UPCQ`` (unpaid cheque) and ``PMNT/RCHQ/CQRV`` (cheque reversal): a cheque we
  deposited, counted as cash, came back unpaid.
- ``PMNT/RCDT/RPCR`` (reversal due to a payment cancellation request): a credit transfer we
  received and counted, returned on the payer's recall; ``PMNT/IDDT/RCDD`` the same for a
  direct debit we collected; ``PMNT/RCDT/AREV`` an ACH reversal.

Each was silently left out as "some debit", the payment it takes back left standing as cash.
Each is now a negative remittance naming what it takes back, as a ``RRTN``/``UPDD`` return is.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.bankfiles import parse_bank_bytes


def _entry(amount: str, indicator: str, family: str, sub: str, ref: str, tx: str) -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-03-20</Dt></BookgDt>"
        f"<ValDt><Dt>2026-03-20</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd>"
        f"</Fmly></Domn></BkTxCd><NtryDtls><TxDtls>{tx}</TxDtls></NtryDtls></Ntry>\n"
    )


def _statement(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n'
        "<BkToCstmrStmt><GrpHdr><MsgId>STMT-0320</MsgId><CreDtTm>2026-03-20T18:00:00</CreDtTm>"
        "</GrpHdr>\n<Stmt><Id>STMT-0320-1</Id><CreDtTm>2026-03-20T18:00:00</CreDtTm>\n"
        "<Acct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


_CHEQUE = "<Refs><ChqNb>0001234</ChqNb></Refs>"
_PAYER = "<RltdPties><Dbtr><Pty><Nm>Dupont SARL</Nm></Pty></Dbtr></RltdPties>"


@pytest.mark.parametrize("sub", ["UPCQ", "CQRV"])
def test_a_deposited_cheque_coming_back_unpaid_takes_its_cash_back(sub: str) -> None:
    result = parse_bank_bytes(
        _statement(
            _entry("800.00", "CRDT", "RCHQ", "CCHQ", "CHQDEP1", _CHEQUE + _PAYER),
            _entry("800.00", "DBIT", "RCHQ", sub, "CHQRET1", _CHEQUE + _PAYER),
        ),
        "statement.xml",
    )
    assert result.errors == []
    deposit, returned = result.records
    assert (deposit.amount, deposit.reverses) == (Decimal("800.00"), None)
    assert (returned.amount, returned.currency) == (Decimal("-800.00"), "EUR")
    assert returned.reverses == "CHQRET1" and returned.payer_name == "Dupont SARL"
    assert returned.structured_refs == () and str(returned.value_date) == "2026-03-20"
    assert returned.dedup_key != deposit.dedup_key


@pytest.mark.parametrize(("family", "sub"), [("RCDT", "RPCR"), ("IDDT", "RCDD"), ("RCDT", "AREV")])
def test_a_payment_recalled_or_reversed_takes_back_the_payment_it_names(
    family: str, sub: str
) -> None:
    tx = "<Refs><EndToEndId>E2E-77</EndToEndId></Refs>" + _PAYER
    result = parse_bank_bytes(
        _statement(_entry("250.00", "DBIT", family, sub, "RECALL1", tx)), "statement.xml"
    )
    assert result.errors == []
    [returned] = result.records
    assert returned.amount == Decimal("-250.00") and returned.reverses == "E2E-77"
    assert returned.free_text == "RETURN OF E2E-77"


def test_an_outgoing_payment_and_a_cheque_under_reserve_are_as_before() -> None:
    result = parse_bank_bytes(
        _statement(
            _entry(
                "120.00", "DBIT", "ICDT", "ESCT", "OUT1", "<Refs><EndToEndId>P1</EndToEndId></Refs>"
            ),
            _entry("300.00", "CRDT", "RCHQ", "URCQ", "CHQDEP2", _CHEQUE + _PAYER),
        ),
        "statement.xml",
    )
    assert result.errors == [] and result.warnings == []
    assert [(r.amount, r.reverses) for r in result.records] == [(Decimal("300.00"), None)]
