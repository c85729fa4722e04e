"""X12 820s in the versions payers still send: before 004010 an X12 date (element 373: BPR16,
DTM02) has six digits, YYMMDD; from 004010 on it has eight, CCYYMMDD. Each is read by its
length, so 261015 is 15 October 2026, not 5 January 2610."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select, update

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles import parse_bank_bytes
from connectors.bankfiles.records import RefKind
from sync.ingest import ingest_file


def _interchange(version: str, bpr16: str, invoice_date: str, dtms: tuple[str, ...] = ()) -> bytes:
    """A CTX payment's 820 as a payer's AP system sends it beside the ACH credit; ``dtms``
    (payment dates) follow its TRN."""
    isa = "*".join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            "GLOBEXAP".ljust(15),
            "ZZ",
            "ACMEPARTS".ljust(15),
            "261016",
            "0815",
            "U",
            "00302" if version < "004010" else "00401",
            "000000318",
            "0",
            "P",
            ">",
        ]
    )
    body = [
        f"BPR*C*1480.00*C*ACH*CTX*01*091000019*DA*5550001234*1234567890**01*071000013*DA*"
        f"88120456*{bpr16}",
        "TRN*1*GLX0010318*1234567890",
        *dtms,
        "N1*PR*GLOBEX CORPORATION",
        "ENT*1",
        "RMR*IV*INV-2210**1480.00*1500.00*20.00",
        f"DTM*003*{invoice_date}",
    ]
    segments = [
        isa,
        f"GS*RA*GLOBEXAP*ACMEPARTS*261016*0815*318*X*{version}",
        "ST*820*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*318",
        "IEA*1*000000318",
    ]
    return ("~\r\n".join(segments) + "~\r\n").encode()


def test_six_digit_dates_of_a_version_003020_820_are_yymmdd() -> None:
    result = parse_bank_bytes(_interchange("003020", "261016", "261001"), "globex.edi")
    assert result.errors == [] and result.warnings == []
    [payment] = result.records
    assert payment.amount == Decimal("1480.00") and payment.currency == "USD"
    assert payment.value_date == date(2026, 10, 16)
    assert payment.bank_reference == "GLX0010318" and payment.payer_name == "GLOBEX CORPORATION"
    [invoice] = payment.structured_refs
    assert (invoice.kind, invoice.ref) == (RefKind.INVOICE, "INV-2210")
    assert (invoice.amount_paid, invoice.invoice_amount, invoice.discount) == (
        Decimal("1480.00"),
        Decimal("1500.00"),
        Decimal("20.00"),
    )
    assert invoice.document_date == date(2026, 10, 1)


def test_eight_digit_dates_of_a_version_004010_820_are_ccyymmdd() -> None:
    result = parse_bank_bytes(_interchange("004010", "20261016", "20261001"), "globex.edi")
    assert result.errors == [] and result.warnings == []
    [payment] = result.records
    assert payment.value_date == date(2026, 10, 16)
    assert payment.structured_refs[0].document_date == date(2026, 10, 1)


def test_a_seven_digit_payment_date_is_an_error_naming_bpr16() -> None:
    result = parse_bank_bytes(_interchange("004010", "2026116", "20261001"), "globex.edi")
    assert result.records == []
    [error] = result.errors
    assert error.location.endswith("(BPR), BPR16") and "2026116" in error.reason


# --- keys stored before six-digit dates were read as YYMMDD ---------------------------------

# the key the reader before 58e2945 gave Globex's payment paid on 240115, which it read as
# 2401-01-05 (CCYYMMDD first); the same payment's key now (paid 2024-01-15)
KEY_BEFORE = "edi820-trace:16bc2f2541231190676fc6a1ea80b77b5923aad508fe1dc4"
KEY = "edi820-trace:5a13fc268f78e03afdafb62a8f063cbe3f3fcbd5ab5e209e"
SIX_DIGIT_PAYMENT_DATES = pytest.mark.parametrize(
    ("version", "bpr16", "dtms"),
    [("003020", "240115", ()), ("003050", "", ("DTM*097*240115",))],
    ids=["BPR16", "DTM097"],
)


@SIX_DIGIT_PAYMENT_DATES
def test_a_six_digit_payment_date_keeps_the_key_it_was_stored_under_before(
    version: str, bpr16: str, dtms: tuple[str, ...]
) -> None:
    result = parse_bank_bytes(_interchange(version, bpr16, "231215", dtms), "globex.edi")
    assert result.errors == [] and result.warnings == []
    [payment] = result.records
    assert payment.value_date == date(2024, 1, 15)
    assert payment.dedup_key == KEY
    assert payment.also_known_as[1:] == (KEY_BEFORE,)
    assert payment.also_known_as[0].startswith("edi820:")  # its envelope's position


def test_an_eight_digit_payment_date_was_read_alike_before_and_has_no_other_key() -> None:
    result = parse_bank_bytes(_interchange("004010", "20240115", "20231215"), "globex.edi")
    [payment] = result.records
    assert payment.dedup_key == KEY
    assert len(payment.also_known_as) == 1 and payment.also_known_as[0].startswith("edi820:")


@SIX_DIGIT_PAYMENT_DATES
def test_an_820_stored_by_the_reading_before_is_a_duplicate_when_ingested_again(
    store: Store, tmp_path: Path, version: str, bpr16: str, dtms: tuple[str, ...]
) -> None:
    """Stored under the key of its payment date read as 2401-01-05, the payment was stored a
    second time when its file was ingested again."""
    path = tmp_path / "globex.edi"
    path.write_bytes(_interchange(version, bpr16, "231215", dtms))
    assert ingest_file(store, path).new == 1
    with store.session() as session:  # as the reader before stored it
        session.exec(update(Remittance).values(source_key=KEY_BEFORE))
    again = ingest_file(store, path)
    assert (again.new, again.duplicate, again.rejected) == (0, 1, 0)
    with store.session() as session:
        rows = list(session.exec(select(Remittance)).all())
    assert [(r.source_key, r.amount_minor, r.currency) for r in rows] == [
        (KEY_BEFORE, 148000, "USD")
    ]
