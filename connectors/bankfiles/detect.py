"""Which bank-file format a file is, from its content (the extension is only a tie-breaker)."""

from __future__ import annotations

import re

from connectors.bankfiles.records import BankFileFormat

# the message's root element first (decisive; .001.01 suffixes it with V01), then its
# namespace, any version (urn:iso:std:iso:20022:tech:xsd:camt.05x.001.NN)
_CAMT_ROOTS = (
    (re.compile(rb"<(?:\w+:)?BkToCstmrStmt(?:V\d+)?[\s>]"), BankFileFormat.CAMT_053),
    (re.compile(rb"<(?:\w+:)?BkToCstmrDbtCdtNtfctn(?:V\d+)?[\s>]"), BankFileFormat.CAMT_054),
    (re.compile(rb"<(?:\w+:)?BkToCstmrAcctRpt(?:V\d+)?[\s>]"), BankFileFormat.CAMT_052),
)
_CAMT_NAMESPACE = re.compile(rb"camt\.05([234])\.001\.\d")
_CAMT_BY_NUMBER = {
    b"2": BankFileFormat.CAMT_052,
    b"3": BankFileFormat.CAMT_053,
    b"4": BankFileFormat.CAMT_054,
}
_ST_820 = re.compile(rb"ST.820.")
# a file header by its fixed fields (record size 094, blocking factor 10), whatever its
# routing numbers hold: processors mask them ("YYYYYYYYY") or shift them in real files
_NACHA_HEADER = re.compile(rb"1\d\d.{20}\d{6}[ \d]{4}.09410")
# a batch header (service class 200, 220, 225 or 280 ... SEC code at 51-53)
_NACHA_BATCH_HEADER = re.compile(rb"5(?:200|220|225|280).{46}[A-Z]{3}")


def detect_format(data: bytes) -> BankFileFormat | None:
    """The format of a bank file, or ``None`` when it is none arsync reads."""
    head = data.lstrip(b"\xef\xbb\xbf\r\n\t ")
    if head.startswith(b"<"):
        window = head[:65536]
        for root, fmt in _CAMT_ROOTS:
            if root.search(window):
                return fmt
        namespace = _CAMT_NAMESPACE.search(window)
        return _CAMT_BY_NUMBER[namespace.group(1)] if namespace else None
    if head.startswith(b"ISA") and len(head) > 106:
        return BankFileFormat.EDI_820 if _ST_820.search(head[:65536]) else None
    if re.match(rb"ST[^A-Za-z0-9\s]820[^A-Za-z0-9]", head):
        return BankFileFormat.EDI_820
    if re.match(rb"01,[^,\r\n]*,[^,\r\n]*,\d{6},", head):
        return BankFileFormat.BAI2
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    if re.match(rb"1\d\d[ \d]\d{9}[ \d]\d{9}\d{6}", first_line) and (
        # trailing spaces are often stripped in transit; records are padded back when read
        len(first_line.rstrip()) <= 94 or len(first_line) % 94 == 0
    ):
        return BankFileFormat.NACHA
    if re.match(rb"101", first_line) and len(first_line) % 94 == 0:
        return BankFileFormat.NACHA
    if _NACHA_HEADER.match(first_line):
        return BankFileFormat.NACHA
    if _NACHA_BATCH_HEADER.match(first_line) and len(first_line.rstrip()) <= 94:
        # a batch without its file header: the NACHA parser says what is missing
        return BankFileFormat.NACHA
    return None
