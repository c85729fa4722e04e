"""Two payments of one amount in a camt.053 or camt.054 whose entries carry one and the same
``AcctSvcrRef`` (a bank writing the day's, the statement's or a collection batch's reference
on every entry) and no end-to-end id (``NOTPROVIDED``).

The bank's reference keyed both alike: the second payment was counted a duplicate of the
first at ingest and its cash never stored. They are now told apart by what each shows (payer,
payer's account, text), and stay one each when the day's notification and its statement
both report them; a payment stored by the earlier reading keeps its key.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlmodel import col, select

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles import parse_bank_bytes
from mappings.bankfiles import remittance_from_raw
from sync.ingest import ingest_files

_CONTAINERS = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}


def _entry(payer: str, text: str, amount: str = "100.00", ref: str = "20260320-DAY") -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-03-20</Dt></BookgDt>"
        f"<ValDt><Dt>2026-03-20</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
        "</Domn></BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
    )


def _camt(message: str, report_id: str, *entries: str) -> str:
    container, report = _CONTAINERS[message]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{message}.001.08">\n'
        f"<{container}><GrpHdr><MsgId>{report_id}</MsgId>"
        "<CreDtTm>2026-03-20T18:00:00</CreDtTm></GrpHdr>\n"
        f"<{report}><Id>{report_id}</Id><CreDtTm>2026-03-20T18:00:00</CreDtTm>\n"
        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        + "".join(entries)
        + f"</{report}></{container}></Document>\n"
    )


_TWO = (_entry("Vereinsbedarf Alt GmbH", "MITGLIED 1044"), _entry("Kurt Neumann", "MITGLIED 2071"))


def test_two_payments_under_one_bank_reference_keep_distinct_keys() -> None:
    result = parse_bank_bytes(_camt("053", "STMT-0320", *_TWO).encode(), "statement.xml")
    assert result.errors == [] and result.warnings == []
    first, second = result.records
    assert [(r.amount, r.payer_name, r.bank_reference) for r in result.records] == [
        (Decimal("100.00"), "Vereinsbedarf Alt GmbH", "20260320-DAY"),
        (Decimal("100.00"), "Kurt Neumann", "20260320-DAY"),
    ]
    assert first.dedup_key != second.dedup_key
    assert first.details_of is None and second.details_of is None
    # the key the earlier reading stored the first under is the first's alone
    assert first.also_known_as[0] not in (second.dedup_key, *second.also_known_as)


def test_two_identical_looking_payments_under_one_reference_stay_two() -> None:
    same = _entry("Kurt Neumann", "MITGLIED 2071")
    result = parse_bank_bytes(_camt("053", "STMT-0320", same, same).encode(), "statement.xml")
    assert len({r.dedup_key for r in result.records}) == 2


def test_an_entry_whose_reference_is_its_own_keeps_its_key() -> None:
    alone = _entry("Kurt Neumann", "MITGLIED 2071", ref="2026032000017")
    text = _camt("053", "STMT-0320", *_TWO, alone)
    records = parse_bank_bytes(text.encode(), "statement.xml").records
    in_other_report = parse_bank_bytes(_camt("054", "NTF-1", alone).encode(), "n.xml").records
    assert records[2].dedup_key == in_other_report[0].dedup_key
    assert records[2].dedup_key.startswith("camt:")


def _ingest(store: Store, path: Path, text: str) -> tuple[int, int]:
    path.write_text(text)
    [outcome] = ingest_files(store, [path]).files
    return outcome.new, outcome.duplicate


def test_the_notification_and_the_statement_of_the_day_store_each_payment_once(
    sqlite_store: Store, tmp_path: Path
) -> None:
    assert _ingest(sqlite_store, tmp_path / "n.xml", _camt("054", "NTF-0320", *_TWO)) == (2, 0)
    assert _ingest(sqlite_store, tmp_path / "s.xml", _camt("053", "STMT-0320", *_TWO)) == (0, 2)
    with sqlite_store.session() as session:
        rows = session.exec(select(Remittance).order_by(col(Remittance.payer_name))).all()
    assert [(r.payer_name, r.amount_minor) for r in rows] == [
        ("Kurt Neumann", 10000),
        ("Vereinsbedarf Alt GmbH", 10000),
    ]


def test_a_statement_stored_by_the_earlier_reading_gets_only_the_payment_it_lost(
    sqlite_store: Store, tmp_path: Path
) -> None:
    text = _camt("053", "STMT-0320", *_TWO)
    first = parse_bank_bytes(text.encode(), "statement.xml").records[0]
    # as the earlier reading stored it: the first payment under the shared key, alone
    with sqlite_store.session() as session:
        stored = remittance_from_raw(first)
        stored.source_key = first.also_known_as[0]
        session.add(stored)
    assert _ingest(sqlite_store, tmp_path / "s.xml", text) == (1, 1)
    with sqlite_store.session() as session:
        payers = sorted(r.payer_name or "" for r in session.exec(select(Remittance)).all())
    assert payers == ["Kurt Neumann", "Vereinsbedarf Alt GmbH"]


def test_a_report_repeated_in_its_file_states_the_same_payments_again() -> None:
    text = _camt("053", "STMT-0320", *_TWO)
    report = text[text.index("<Stmt>") : text.index("</Stmt>") + len("</Stmt>")]
    twice = text.replace(report, report + "\n" + report)
    records = parse_bank_bytes(twice.encode(), "statement.xml").records
    assert len(records) == 4
    assert len({r.dedup_key for r in records}) == 2
