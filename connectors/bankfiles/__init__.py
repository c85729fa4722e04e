"""Bank remittance files (BAI2, camt.052/053/054, NACHA CCD+/CTX, X12 820) -> raw remittances."""

from connectors.bankfiles.detect import detect_format
from connectors.bankfiles.reader import parse_bank_bytes, parse_bank_file
from connectors.bankfiles.records import (
    BankFileFormat,
    ParseResult,
    RawRemittance,
    RecordError,
    RefKind,
    StructuredRef,
)

__all__ = [
    "BankFileFormat",
    "ParseResult",
    "RawRemittance",
    "RecordError",
    "RefKind",
    "StructuredRef",
    "detect_format",
    "parse_bank_bytes",
    "parse_bank_file",
]
