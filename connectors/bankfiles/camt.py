"""ISO 20022 camt.052 (intraday account report), camt.053 (statement) and camt.054
(debit/credit notification), any version.

Elements are matched by local name, so every version from .02 to .14 reads the same (.01
too: its ``...V01`` message name, ``PrtryAcct`` and ``TxDtls`` directly in ``Ntry``); the
``Document`` may sit in an envelope beside its business application header. Each
credit ``TxDtls`` (or the entry itself when it has none) is one remittance, unless its entry
is pending (PDNG), a forecast (FUTR) or information only (INFO): that is not cash yet; an
entry whose status is proprietary or unknown is an error naming ``Sts`` (it may be pending).
A booked credit batch none of whose transactions states an amount (or 0: listed for their
references only), each a customer paying, is one remittance of the entry's amount carrying
their references and text, a warning naming the entry; where any states one, each stands
alone (one without an amount is an error: see ``_units``). An amount in another currency than
the entry's (the payer's instructed amount) is none: the cash is in the booked currency. A
batch whose transactions, each kept at its own amount, do not add up to the entry's (the
bank's charges taken from the entry) is a warning naming both figures. A
debit that returns a collection (``RtrInf``, or a return bank transaction code: a SEPA
direct debit sent back unpaid), or that the bank marks as the reversal of a credit
(``RvslInd``), is a reversal of the payment its end-to-end id names. A
transaction under a DBIT entry is never a receipt, even when it says CRDT itself (Swiss banks
state each transaction of an outgoing payment so), and one whose debtor account is the
reported account itself is a payment of ours: both are skipped.
A credit whose bank transaction code says it is no customer paying (own-account transfers,
sweeps, zero balancing, interest, charges) is left out with a warning; so is one whose BAI
type code (US banks state it in ``BkTxCd/Prtry/Cd``, issuer "BAI" or the bank) is one BAI2
leaves out (``bai_codes.NOT_RECEIPTS``), whatever ISO code the bank mapped it to. A debit
with a BAI returned-item code is a reversal, one with a BAI adjustment code a warning, as in
BAI2. X12 RMR segments in the text (ACH CCD+ / CTX addenda) become structured references,
and the clearing's name for the item (``ClrSysRef``: an ACH trace, a Fedwire IMAD) is stated.
Free text is the ``RmtInf/Ustrd`` lines, then each ``Strd/AddtlRmtInf`` (the text a payer
adds to a structured reference: a QR-bill's unstructured message), then ``AddtlTxInf``;
an entry's ``AddtlNtryInf`` only where it has no transaction, or one without ``RmtInf``
whose entry text is the Dutch banks' tagged text (``/NAME/`` and ``/IBAN/`` of which name a
payer the transaction does not).
Tagged text is read tag by tag: the German banks' SEPA tags (``EREF+``, ``KREF+``, ``MREF+``,
``CRED+``, ``SVWZ+``, ``ABWA+``, ``ABWE+``, its ``Ustrd`` lines cut at 35 characters put back
together) and the Dutch banks' (``/EREF/``, ``/REMI/USTD//``, ``/REMI/STRD/CUR/``). The free
text is then the payer's words (``SVWZ+``, ``/REMI/``) and its ``EREF`` (where payers' ERPs
put an invoice number as often as not), the ``EREF`` stands in for an absent
or placeholder ``EndToEndId``, a creditor reference is a structured reference (RF when its
check digits hold) and ``ABWA+`` names the payer where the debtor is not named. A named
debtor stays the payer (its IBAN is the debtor's); the ultimate debtor it paid for
(``UltmtDbtr``, ``ABWA+``) is the record's ultimate payer. A Dutch entry text stays whole.
A credit returning a payment of ours (``RtrInf`` or a return code under a CRDT entry: a
credit transfer sent back) is left out with a warning. A creditor reference that is no RF is
kept as the creditor generated it: a number of type SCOR or QRR (a Finnish viitenumero, a
Norwegian KID, a Swedish OCR, a Swiss QR reference) or of digits only without the blanks it
was printed in blocks with, a Belgian structured communication (``+++090/9337/55493+++``) as
its twelve digits; a QR reference that is not 27 digits ending in its modulo-10 check digit,
or a Belgian one failing its modulo-97 check, is kept with a warning.
Keys are made of the text and end-to-end id as written, so that they do not change, and of
the booking date without its time zone (one entry dated with and without it is one).
Blank lines before the XML declaration and padding after the document (an end-of-file
mark, NUL bytes), as transfers leave them, are no part of it. Bytes that are not the UTF-8
the document declares (or has without a declaration) are read as 8-bit Western European
text, with a warning.
Errors name the element path (``/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/...``) and its line.
The remittance (``RmtInf``) is the payer's: a ``Strd`` amount that cannot be read leaves out
the amounts of its block (the documents are kept by their number, and the other blocks
whole), one in another currency than the credit only itself (a ``RmtdAmt`` in the credit's
currency stays beside a ``DuePyblAmt`` in the invoice's), a ``RltdDt`` or an X12 date that
cannot be read only that date, RMR text that cannot be read its documents; each is a
warning naming the element, and the booked credit is kept. The bank's amount, currency and
dates that cannot be read are errors; a date with the time zone an ``xs:date`` may carry
(``2018-04-17+02:00``) is the date written. A placeholder for the bank's reference
(``NONREF``, ``NOTPROVIDED``) is none.

camt.052 (``BkToCstmrAcctRpt/Rpt``) reports the day so far: it lists entries the bank has
not booked yet (``Sts`` PDNG, FUTR) and ones given for information (INFO), and successive
reports of a day often repeat the entries of the earlier ones. So only booked (BOOK) credit
entries are remittances, and an entry's key comes from the account and the bank's own
reference for it (``AcctSvcrRef``, else ``NtryRef``), not from the report it came in: the
same entry in the 10:00 and the 14:00 report is one remittance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise

from lxml import etree

from connectors.bankfiles.amounts import currency_code, decimal_amount, parse_date
from connectors.bankfiles.bai_codes import ADJUSTMENTS, NOT_RECEIPTS, RETURNED_ITEMS, describe
from connectors.bankfiles.edi820 import DetailError, read_remittance_advice
from connectors.bankfiles.records import (
    AMOUNTS_LEFT_OUT,
    DATE_LEFT_OUT,
    DETAIL_LEFT_OUT,
    END_PADDING,
    NOT_A_CUSTOMER_PAYING,
    BankFileError,
    BankFileFormat,
    ControlFigure,
    ParseResult,
    RawRemittance,
    RecordError,
    RefKind,
    StructuredRef,
    clean,
    dedup_key,
    is_name,
    is_rf_reference,
    warn_details_left_out,
    warn_left_out,
    warn_on_control_mismatch,
)
from connectors.bankfiles.x12 import RMR_SEGMENT, infer_delimiters, split_segments

_CONTAINERS = {
    "BkToCstmrStmt": (BankFileFormat.CAMT_053, "Stmt"),
    "BkToCstmrDbtCdtNtfctn": (BankFileFormat.CAMT_054, "Ntfctn"),
    "BkToCstmrAcctRpt": (BankFileFormat.CAMT_052, "Rpt"),
}
# ExternalEntryStatus1Code: booked, pending, information only, future (forecast)
_ENTRY_STATUSES = frozenset({"BOOK", "PDNG", "INFO", "FUTR"})
CAMT_FAMILY = "camt"  # the key prefix of an entry the bank names, in whichever camt report
# DocumentType6Code (DocumentType5Code before .08 has all but PUOR): documents a payer asks
# us to be paid for are invoices (an open item of our receivables, AROI, too), its credit
# notes credit memos; a contract, statement of account, dispatch advice, bill of lading,
# voucher or trade services transaction (CMCN, SOAC, DISP, BOLD, VCHR, TSUT) is none of ours
_DOC_KINDS = {
    "MSIN": RefKind.INVOICE,  # metered service invoice
    "CINV": RefKind.INVOICE,
    "DNFA": RefKind.INVOICE,  # debit note related to financial adjustment
    "DEBN": RefKind.INVOICE,
    "HIRI": RefKind.INVOICE,
    "SBIN": RefKind.INVOICE,  # self-billed invoice: the buyer wrote our invoice
    "AROI": RefKind.INVOICE,  # accounts receivable open item
    "CNFA": RefKind.CREDIT_MEMO,  # credit note related to financial adjustment
    "CREN": RefKind.CREDIT_MEMO,
    "PUOR": RefKind.PO,
}
_DATE_FORMATS = ("%Y-%m-%d",)
# what a remittance amount in another currency than the credit's leaves out
_AMOUNT_LEFT_OUT = "this amount is left out, the rest of the payer's remittance detail is kept"
# credits that are not a customer paying, by their bank transaction code (ISO 20022 "Bank
# Transaction Codes" external code sets), as BAI2's NOT_RECEIPTS: every code of these domains
NOT_RECEIPT_DOMAINS = {
    "ACMT": "account management",  # interest, charges, fees, opening and closing the account
    "CAMT": "cash management",  # own accounts: concentration, zero balancing, sweeps, pooling
    "LDAS": "loans, deposits and syndications",
    "SECU": "securities",
    "DERV": "derivatives",
    "FORX": "foreign exchange",
    "PMET": "precious metals",
    "CMDT": "commodities",
    "TREA": "treasury",  # ISO's camt.053.001.04 business sample (an FX deal); not in the code set
}
# and these sub-families in any domain (PMNT/MCOP/INTR, PMNT/RCDT/CHRG, ...): the generic
# interest, charges, fees, commissions and taxes, and transfers between one's own accounts
NOT_RECEIPT_SUBFAMILIES = {
    "INTR": "interest",
    "CHRG": "charges",
    "FEES": "fees",
    "COMM": "commission",
    "COME": "commission",
    "COMI": "commission",
    "COMT": "commission",
    "TAXE": "taxes",
    "COAT": "own account transfer",
    "ACON": "ACH concentration",
    "SWEP": "sweeping",
    "ZABA": "zero balancing",
    "TOPG": "topping",
}
# of those, the bank's own take: a charge, fee, commission or tax. In a batch a transaction so
# coded that states no direction of its own (camt.053.001.02 has none per transaction) may be
# the bank's debit as well as a credit; so may any of the family of miscellaneous debit
# operations (ACMT/MDOP/...)
_BANKS_TAKE = frozenset({"CHRG", "FEES", "COMM", "COME", "COMI", "COMT", "TAXE"})
_DEBIT_OPERATIONS = "MDOP"


def _xml_parser() -> etree.XMLParser:
    """No entity expansion, no network: bank files come from outside."""
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _kids(el: etree._Element | None, name: str) -> list[etree._Element]:
    """Children named ``name`` in any namespace (or none)."""
    if el is None:
        return []
    return el.findall("{*}" + name)


@lru_cache(maxsize=256)
def _any_namespace(path: tuple[str, ...]) -> str:
    return "/".join("{*}" + name for name in path)


def _find(el: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element at ``path`` below ``el``, matching local names only."""
    if el is None:
        return None
    return el.find(_any_namespace(path))


def _text(el: etree._Element | None, *path: str) -> str | None:
    node = _find(el, *path)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def _true(text: str | None) -> bool:
    """An ``xs:boolean`` (``true``, ``false``, ``1``, ``0``); absent is false."""
    return (text or "").strip().lower() in ("true", "1")


def element_path(el: etree._Element) -> str:
    """``/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]`` with the line the element starts on."""
    parts: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        name = _local(node)
        if parent is None:
            parts.append(name)
        else:
            parts.append(f"{name}[{_kids(parent, name).index(node) + 1}]")
        node = parent
    return "/" + "/".join(reversed(parts)) + f" (line {el.sourceline})"


def _where(el: etree._Element | None, fallback: etree._Element, *names: str) -> str:
    if el is not None:
        return element_path(el)
    return f"{element_path(fallback)}: {'/'.join(names)}"


@dataclass(frozen=True)
class _Report:
    fmt: BankFileFormat
    path: str
    index: int
    report_id: str
    account: str | None
    # how many transactions of the report that the bank does not name looked alike so far
    seen: dict[tuple[object, ...], int] = field(default_factory=dict, compare=False)
    # whether a batch entry's transactions are stated before their charges, by entry (and
    # whether as earlier versions read it)
    gross_batches: dict[tuple[int, bool], bool] = field(default_factory=dict, compare=False)


def _container_name(el: etree._Element) -> str:
    """A message element's name without the version suffix of camt.05x.001.01
    (``BkToCstmrStmtV01`` is ``BkToCstmrStmt``)."""
    return re.sub(r"V\d+$", "", _local(el))


def _message(root: etree._Element) -> tuple[etree._Element, etree._Element] | None:
    """The ``Document`` and its message element: the root itself, or a ``Document`` inside
    an envelope (a business application header beside it: ``<message><AppHdr/><Document>``,
    SWIFT's ``<Envelope>`` or ``DataPDU``)."""
    candidates: Iterable[etree._Element] = (
        [root] if _local(root) == "Document" else root.iterfind(".//{*}Document")
    )
    for document in candidates:
        container = next((c for c in document if isinstance(c.tag, str)), None)
        if container is not None and _container_name(container) in _CONTAINERS:
            return document, container
    return None


def _plain_path(el: etree._Element) -> str:
    """``/message/Document`` for an element and its ancestors (first of each name)."""
    names: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        names.append(_local(node))
        node = node.getparent()
    return "/" + "/".join(reversed(names))


# blank lines before the XML declaration (after a byte order mark, if any)
_BLANKS_BEFORE_DECLARATION = re.compile(rb"^(\xef\xbb\xbf)?([ \t\r\n]+)(<\?xml[^>]*\?>)")


def _as_transferred(data: bytes) -> bytes:
    """The document without what a transfer put around it: blank lines before its XML
    declaration (moved after it, so that every element keeps its line) and the padding
    after its root (an end-of-file mark, NUL bytes; see ``END_PADDING``)."""
    data = data.rstrip(END_PADDING.encode())
    blanks = _BLANKS_BEFORE_DECLARATION.match(data)
    if blanks is None:
        return data
    bom, space, declaration = blanks.groups()
    return (bom or b"") + declaration + space + data[blanks.end() :]


# the encoding an XML declaration names (an ASCII-compatible file's first line)
_DECLARED = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
# bytes that are no UTF-8, as Python's surrogateescape error handler keeps them
_NOT_UTF8 = re.compile("[\udc80-\udcff]+")


def _escaped(run: str) -> bytes:
    """The bytes a run of ``surrogateescape`` characters stands for."""
    return bytes(ord(c) - 0xDC00 for c in run)


# bytes ISO-8859-15 reads as letters (Š š Ž ž Œ œ Ÿ) and Windows-1252 as signs (¦, ¨, acute,
# cedilla, ¼, ½, ¾)
_LETTER_OR_SIGN = frozenset(b"\xa6\xa8\xb4\xb8\xbc\xbd\xbe")


def _letters_of_8859_15(text: str) -> bool:
    """Whether the bytes the two encodings read as a letter or a sign stand more often in
    words (``Šestakova``, ``tšekk``) than apart (``1½``): ISO-8859-15's letters. 0xB4 after a
    letter is Windows-1252's acute accent written for an apostrophe (O'Connor); before a word,
    ISO-8859-15's ``Ž`` (``Žanna``)."""
    # each character as the byte it stands for, read as Latin-1 (letters where both agree)
    chars = "".join(chr(ord(c) - 0xDC00) if "\udc80" <= c <= "\udcff" else c for c in text)
    letters = signs = 0
    for match in _NOT_UTF8.finditer(text):
        for at in range(match.start(), match.end()):
            byte = ord(chars[at])
            if byte not in _LETTER_OR_SIGN:
                continue
            before = chars[at - 1].isalpha() if at else False
            after = chars[at + 1].isalpha() if at + 1 < len(chars) else False
            if byte == 0xB4:
                # an apostrophe before a one-letter word ('t Hoekje, Toys 'R Us) is no Ž; the
                # word's letters may be such bytes themselves (Žižek)
                word = re.match(r"(?:[^\W\d_]|[\xa6\xa8\xb4\xb8\xbc-\xbe])+", chars[at + 1 :])
                in_word = not before and word is not None and len(word[0]) > 1
                apart = not in_word
            else:
                digit = chars[at - 1].isdigit() if at else False  # 3½, 1¼
                in_word = not digit and (before or after)
                apart = not in_word
            letters += in_word
            signs += apart
    return letters > signs


def _as_utf8_declared(data: bytes, result: ParseResult) -> bytes:
    """A document whose bytes are not the UTF-8 it declares (or that XML without a
    declaration must be) read as the 8-bit Western European text they are: Windows-1252, by
    far the most common, unless a byte 0xA4 is there and none of 0x80-0x9F: that is
    ISO-8859-15's euro sign (ABN AMRO, ING Austria write so), in Windows-1252 a ``¤`` nobody
    writes. A warning names the first byte that is no UTF-8, the encoding read and why; any
    other document is returned as it is."""
    declared = _DECLARED.match(data)
    named = declared.group(1).decode("ascii", "replace").strip() if declared else "UTF-8"
    if named.upper().replace("_", "-") not in ("UTF-8", "UTF8"):
        return data  # an encoding the parser reads as declared
    body = data.removeprefix(b"\xef\xbb\xbf")
    try:
        body.decode("utf-8")
        return data
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if body.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in body[:64]:
        return data  # UTF-16 or -32: the parser says what is wrong with it
    # the bytes that are no UTF-8 are read as 8-bit text, run by run (what is UTF-8 stays so)
    text = body.decode("utf-8", "surrogateescape")
    wrong = b"".join(_escaped(run) for run in _NOT_UTF8.findall(text))
    if any(0x80 <= b <= 0x9F for b in wrong):
        encoding, why = "windows-1252", "whose bytes 0x80-0x9F it has"
    elif 0xA4 in wrong:
        encoding, why = "iso-8859-15", "its byte 0xA4 taken for the euro sign"
    elif _letters_of_8859_15(text):
        encoding, why = "iso-8859-15", "its bytes in words read as its letters (Š, ž, œ)"
    else:  # the two differ here in 0xA4, 0xA6, 0xA8, 0xB4, 0xB8 and 0xBC-0xBE only
        encoding, why = "windows-1252", "the most common (no byte 0xA4 says ISO-8859-15)"
    try:
        wrong.decode(encoding)
    except UnicodeDecodeError:  # bytes Windows-1252 leaves undefined
        encoding, why = "iso-8859-1", "Windows-1252 leaving some of its bytes undefined"
    text = _NOT_UTF8.sub(lambda run: _escaped(run[0]).decode(encoding), text)
    line = body[:first_bad].count(b"\n") + 1
    result.warnings.append(
        RecordError(
            result.source_file,
            f"line {line}",
            f"byte 0x{body[first_bad]:02X} is no UTF-8, the encoding the document "
            f"{'declares' if declared else 'has without an XML declaration'}: it is read as "
            f"{encoding.upper()}, {why} (check names and text beyond ASCII)",
        )
    )
    return text.encode("utf-8")


def parse_camt(data: bytes, source_file: str) -> ParseResult:
    """Credit transactions of a camt.052, camt.053 or camt.054 document."""
    result = ParseResult(source_file=source_file, format=None)
    try:
        root = etree.fromstring(_as_utf8_declared(_as_transferred(data), result), _xml_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        result.errors.append(
            RecordError(source_file, f"line {line}", f"not well-formed XML: {exc.msg}")
        )
        return result
    message = _message(root)
    if message is None:
        result.errors.append(
            RecordError(
                source_file,
                element_path(root),
                "not a camt.052, camt.053 or camt.054 document (expected Document/"
                "BkToCstmrAcctRpt, Document/BkToCstmrStmt or Document/BkToCstmrDbtCdtNtfctn)",
            )
        )
        return result
    document, container = message
    fmt, report_name = _CONTAINERS[_container_name(container)]
    result.format = fmt
    for index, report_el in enumerate(_kids(container, report_name), start=1):
        account = _find(report_el, "Acct", "Id")
        report = _Report(
            fmt=fmt,
            path=f"{_plain_path(document)}/{_local(container)}[1]/{report_name}[{index}]",
            index=index,
            report_id=_text(report_el, "Id") or "",
            # PrtryAcct: camt.05x.001.01's proprietary account
            account=_text(account, "IBAN")
            or _text(account, "Othr", "Id")
            or _text(account, "PrtryAcct", "Id"),
        )
        for entry_index, entry in enumerate(_kids(report_el, "Ntry"), start=1):
            entry_path = f"{report.path}/Ntry[{entry_index}]"
            unpriced = _unpriced_reversal(entry, entry_path, report)
            if unpriced is not None:
                result.errors.append(
                    RecordError(
                        source_file,
                        unpriced.location,
                        unpriced.reason,
                        etree.tostring(entry, encoding="unicode", with_tail=False),
                    )
                )
                continue
            units = _units(entry, entry_path, report)
            kept_before = len(result.records)
            for unit in units:
                tx, tx_index, tx_path = unit.tx, unit.index, unit.path
                left_out: list[tuple[BankFileError, str]] = []
                try:
                    remittance = _remittance(
                        source_file,
                        report,
                        entry,
                        entry_index,
                        tx,
                        tx_index,
                        entry_path + tx_path,
                        left_out,
                    )
                    if unit.merged:
                        remittance = _batch_remittance(
                            source_file,
                            report,
                            (entry, entry_index, entry_path),
                            unit,
                            remittance,
                            left_out,
                        )
                except BankFileError as exc:
                    result.errors.append(
                        RecordError(
                            source_file,
                            exc.location,
                            exc.reason,
                            etree.tostring(tx if tx is not None else entry, encoding="unicode"),
                        )
                    )
                    continue
                if remittance is None:
                    _warn_on_adjustment(result, report, entry, tx, entry_path + tx_path)
                    _warn_on_return_of_ours(result, report, entry, tx, entry_path + tx_path)
                    continue
                not_receipt = _not_a_receipt(entry, tx) if remittance.reverses is None else None
                if not_receipt:
                    warn_left_out(
                        result,
                        remittance.location,
                        f"a credit of {remittance.amount} {remittance.currency} with {not_receipt}",
                        NOT_A_CUSTOMER_PAYING,
                        remittance.raw,
                    )
                    continue
                result.records.append(remittance)
                if unit.note:
                    result.warnings.append(
                        RecordError(source_file, unit.note[0], unit.note[1], remittance.raw)
                    )
                if remittance.reverses is None:
                    warn_details_left_out(result, left_out, remittance)
                for location, finding in (
                    found
                    for _, each, _ in [(tx_index, tx, tx_path), *unit.merged]
                    for found in _reference_findings(each)
                ):
                    result.warnings.append(
                        RecordError(
                            source_file,
                            location,
                            f"{finding} (the remittance is kept with it; check the reference)",
                            remittance.raw,
                        )
                    )
            if len(result.records) > kept_before and not any(u.merged for u in units):
                _warn_on_batch_sum(result, report, entry, entry_path)
        _check_summary(result, report_el, report.path)
    return result


_SCALE = Decimal(10) ** 6  # sums compared exactly, as integers


def _check_summary(result: ParseResult, report_el: etree._Element, path: str) -> None:
    """The report's ``TxsSummry`` (numbers and sums of all, credit and debit entries)
    against its entries: a mismatch is a warning, the records are kept."""
    summary = _find(report_el, "TxsSummry")
    if summary is None:
        return
    found: dict[str, list[Decimal | None]] = {
        "TtlNtries": [],
        "TtlCdtNtries": [],
        "TtlDbtNtries": [],
    }
    for entry in _kids(report_el, "Ntry"):
        text = _text(entry, "Amt") or ""
        amount = Decimal(text) if re.fullmatch(r"\d+(\.\d+)?", text.strip()) else None
        side = "TtlCdtNtries" if _text(entry, "CdtDbtInd") == "CRDT" else "TtlDbtNtries"
        found["TtlNtries"].append(amount)
        found[side].append(amount)
    figures = []
    for group, amounts in found.items():
        stated_count = _text(summary, group, "NbOfNtries")
        stated_sum = _text(summary, group, "Sum")
        if stated_count and stated_count.isdigit():
            figures.append(
                ControlFigure(
                    int(stated_count),
                    len(amounts),
                    f"{group}/NbOfNtries {stated_count}",
                    f"the {len(amounts)} entries",
                )
            )
        total = None if None in amounts else sum((a for a in amounts if a is not None), Decimal(0))
        if stated_sum and re.fullmatch(r"\d+(\.\d+)?", stated_sum.strip()) and total is not None:
            figures.append(
                ControlFigure(
                    int(Decimal(stated_sum) * _SCALE),
                    int(total * _SCALE),
                    f"{group}/Sum {stated_sum}",
                    f"their sum {total}",
                )
            )
    warn_on_control_mismatch(result, f"{path}/TxsSummry", "report", figures)


def _warn_on_batch_sum(
    result: ParseResult, report: _Report, entry: etree._Element, entry_path: str
) -> None:
    """A warning for a batch entry whose transactions, as read (less the charges deducted
    from each, a transaction against the entry's direction taken off, a charge of the bank's
    whose direction is not told left out: see :func:`_sign_in_batch`), do not add up to the
    entry's booked amount: each is kept at its own amount (what the payer paid), and the
    difference is in none of them (charges the bank took from the entry, or a transaction
    the report leaves out; a camt.054's shortfall is ingest's to name, see ``sync.ingest``).
    Nothing is said where a transaction's amount cannot be read (its error says it) or is in
    another currency."""
    if _tx_count(entry) <= 1:
        return
    total = _entry_total(entry, negative=False)
    if total is None:
        return
    booked, currency = total
    found = Decimal(0)
    counted = 0
    for _, tx, _ in _transactions(entry):
        try:
            amount, tx_currency = _amount(_transaction_amount(entry, tx), "amount")
            amount -= _charges_deducted(report, entry, tx)
        except BankFileError:
            return
        if tx_currency != currency:
            return
        sign = _sign_in_batch(entry, tx)
        found += sign * amount
        counted += sign != 0
    difference = booked - found
    if difference == 0 or (difference > 0 and report.fmt is BankFileFormat.CAMT_054):
        # a notification detailing part of a batch its statement books: ingest compares the
        # transactions with the statement's entry and names it
        return
    charges = _included_charges(entry, currency)
    why = (
        f"the entry's charges of {charges} {currency} are taken from none of them"
        if charges and found - charges == booked
        else f"the other {difference} {currency} booked is in none of them (a transaction the "
        "report leaves out?)"
        if difference > 0
        else f"{-difference} {currency} of them was not booked (charges taken from the entry?)"
    )
    result.warnings.append(
        RecordError(
            result.source_file,
            f"{entry_path} (line {entry.sourceline})",
            f"the {counted} transactions of this entry{_uncounted(_tx_count(entry) - counted)} "
            f"add up to {found} {currency}, "
            f"not to its booked {booked} {currency}: each is kept at its own amount, {why}; "
            "check the entry in the bank's report",
            etree.tostring(entry, encoding="unicode", with_tail=False),
        )
    )


_Tx = tuple[int, etree._Element | None, str]


@dataclass(frozen=True)
class _Unit:
    """What one remittance of an entry is read from: a transaction (or the entry itself,
    ``tx`` None), the transactions whose references and text it carries besides (``merged``:
    a batch listing them without amounts) and the warning (location, finding) to give with
    it."""

    index: int
    tx: etree._Element | None
    path: str
    merged: tuple[_Tx, ...] = ()
    note: tuple[str, str] | None = None


def _units(entry: etree._Element, entry_path: str, report: _Report) -> list[_Unit]:
    """The remittances of an entry: one for each transaction (or the entry without any),
    except in a booked credit batch none of whose transactions states an amount (or states
    0: some banks list a batch's payments only for their references). That entry is one
    remittance of its booked amount carrying every transaction's references and text, as
    long as each transaction is a customer paying: a credit, no return, not paid from the
    reported account, no bank transaction code of its own saying it is none. Any other
    entry's transactions stand alone (one stating no amount is an error)."""
    txs = list(_transactions(entry))
    alone = [_Unit(index, tx, path) for index, tx, path in txs]
    total = _entry_total(entry, negative=False)
    if (
        _tx_count(entry) <= 1
        or total is None
        or total[0] <= 0
        or (_text(entry, "CdtDbtInd") or "").upper() != "CRDT"
        or _true(_text(entry, "RvslInd"))
        or not _booked_as_read(entry, report.fmt)
    ):
        return alone
    own = _compact(report.account)
    for _, tx, _ in txs:
        if (_text(tx, "CdtDbtInd") or "CRDT").upper() != "CRDT" or _is_return(entry, tx):
            return alone
        if _not_a_receipt(entry, tx) or (own and _compact(_debtor_account(tx)) == own):
            return alone
        # an amount in the payer's currency only says nothing of what was credited for it
        foreign = _foreign_amounts(tx, total[1])
        for amount_el in (a for a in _own_amounts(tx) if a not in foreign):
            try:
                if _decimal_at(amount_el) != 0:
                    return alone
            except BankFileError:
                return alone
    booked, currency = total
    elsewhere = any(_foreign_amounts(tx, currency) for _, tx, _ in txs)
    note = (
        f"the {len(txs)} transactions of this batch state no amount"
        f"{f' in {currency}' if elsewhere else ''}: the entry's booked "
        f"{booked} {currency} is one remittance, carrying their references and text"
    )
    where = f"{entry_path} (line {entry.sourceline})"
    return [_Unit(0, None, "", merged=tuple(txs), note=(where, note))]


def _unpriced_reversal(
    entry: etree._Element, entry_path: str, report: _Report
) -> BankFileError | None:
    """The error for a booked debit batch that takes back credits (``RvslInd``, or each
    transaction a return) none of whose transactions states an amount (or states 0): what
    each takes back is unknown, so the entry is one error naming it and the field, not one
    for each transaction (nor, for amounts of 0, nothing at all); ``None`` for any other."""
    txs = [tx for _, tx, _ in _transactions(entry)]
    total = _entry_total(entry, negative=False)
    if (
        _tx_count(entry) <= 1
        or total is None
        or total[0] <= 0  # nothing booked: nothing taken back
        or (_text(entry, "CdtDbtInd") or "").upper() != "DBIT"
        or not _booked_as_read(entry, report.fmt)
    ):
        return None
    reversal = _true(_text(entry, "RvslInd"))
    for tx in txs:
        if (_text(tx, "CdtDbtInd") or "DBIT").upper() != "DBIT":
            return None
        if not (reversal or _is_return(entry, tx)):
            return None
        for amount_el in _own_amounts(tx):
            try:
                if _decimal_at(amount_el) != 0:
                    return None
            except BankFileError:
                return None  # the transaction's own error names it
    names = ((name, _text(entry, name)) for name in ("AcctSvcrRef", "NtryRef"))
    named = next((f" {name} {value}" for name, value in names if is_name(value)), "")
    booked, currency = total
    return BankFileError(
        f"{entry_path} (line {entry.sourceline})",
        f"the entry{named} takes back {booked} {currency} "
        f"{'as a reversal (RvslInd)' if reversal else 'as returns'} of {len(txs)} "
        "transactions, none of which states its amount (TxDtls/Amt or AmtDtls): what each "
        "takes back is unknown, no reversal is read; check the entry in the bank's report",
    )


def _booked_as_read(entry: etree._Element, fmt: BankFileFormat) -> bool:
    """Whether :func:`_remittance` reads an entry as booked: its status BOOK, or none stated
    outside a camt.052."""
    if _find(entry, "Sts") is None:
        return fmt is not BankFileFormat.CAMT_052
    return _status(entry) == "BOOK"


def _debtor_account(tx: etree._Element | None) -> str | None:
    """The account a transaction states it was paid from (``RltdPties/DbtrAcct``)."""
    account = _find(tx, "RltdPties", "DbtrAcct", "Id")
    return (
        _text(account, "IBAN") or _text(account, "Othr", "Id") or _text(account, "PrtryAcct", "Id")
    )


def _carrying(remittance: RawRemittance, details: list[RawRemittance]) -> RawRemittance:
    """``remittance`` (read from a batch entry) with the references and text of the
    transactions it stands for (``details``, each read as if it were all of it): a payer,
    payer's account or end-to-end id only where every transaction states the same."""
    refs = [*remittance.structured_refs, *(r for d in details for r in d.structured_refs)]
    texts = [remittance.free_text or "", *(d.free_text or "" for d in details)]
    ends = {d.end_to_end_id for d in details}
    if len(ends) > 1:  # no end-to-end id is the batch's: each stays in its text
        texts.extend(
            end for end in sorted(e for e in ends if e) if not any(end in t for t in texts)
        )
    payers = {(d.payer_name, d.payer_iban, d.payer_account, d.ultimate_payer_name) for d in details}
    payer = payers.pop() if len(payers) == 1 else (None, None, None, None)
    return replace(
        remittance,
        structured_refs=tuple(refs),
        free_text=clean(" ".join(texts)),
        end_to_end_id=ends.pop() if len(ends) == 1 else None,
        payer_name=payer[0],
        payer_iban=payer[1],
        payer_account=payer[2],
        ultimate_payer_name=payer[3],
    )


def _batch_remittance(
    source_file: str,
    report: _Report,
    at: tuple[etree._Element, int, str],
    unit: _Unit,
    remittance: RawRemittance | None,
    left_out: list[tuple[BankFileError, str]],
) -> RawRemittance:
    """The remittance of a batch entry whose transactions state no amount (see
    :func:`_units`), carrying their references and text. Raises :class:`BankFileError` naming
    the entry where it or one of its transactions gives none: its cash is never dropped
    unsaid. ``at`` is the entry, its position and path; ``left_out`` as for
    :func:`_remittance`."""
    entry, entry_index, entry_path = at
    details = []
    if remittance is not None:
        for each_index, each, each_path in unit.merged:
            # each read as if it were the whole entry: its references, payer and text
            details.append(
                _remittance(
                    source_file,
                    replace(report, seen={}),
                    entry,
                    entry_index,
                    each,
                    each_index,
                    entry_path + each_path,
                    left_out,
                    (remittance.amount, remittance.currency),
                )
            )
    if remittance is None or None in details:
        raise BankFileError(
            f"{entry_path} (line {entry.sourceline})",
            f"a batch whose {len(unit.merged)} transactions state no amount gives no "
            "remittance for its booked amount: check the entry in the bank's report",
        )
    return _carrying(remittance, [d for d in details if d is not None])


def _transactions(entry: etree._Element) -> Iterator[tuple[int, etree._Element | None, str]]:
    """(position in the entry, TxDtls or None for an entry without any, its relative path).

    ``TxDtls`` sit in ``NtryDtls`` from version .02 on, directly in ``Ntry`` in .001.01.
    """
    position = 0
    for d, details in enumerate(_kids(entry, "NtryDtls"), start=1):
        for t, tx in enumerate(_kids(details, "TxDtls"), start=1):
            position += 1
            yield position, tx, f"/NtryDtls[{d}]/TxDtls[{t}]"
    for t, tx in enumerate(_kids(entry, "TxDtls"), start=1):
        position += 1
        yield position, tx, f"/TxDtls[{t}]"
    if position == 0:
        yield 0, None, ""


# an ISODate is an xs:date, which may carry a time zone: some banks state every date so
# (Bank Frick, Equa bank: ``2018-04-17+02:00``); the date is the bank's date as written
_DATE_ZONE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})\s*$")


def _without_zone(text: str | None) -> str | None:
    """A date's text without the time zone an xs:date may carry (``2018-04-17+02:00``)."""
    zoned = _DATE_ZONE.match(text or "")
    return zoned.group(1) if zoned else text


def _date_at(
    text: str | None, el: etree._Element | None, fallback: etree._Element, name: str
) -> date | None:
    try:
        return parse_date(_without_zone(text), _DATE_FORMATS, "")
    except BankFileError as exc:
        raise BankFileError(_where(el, fallback, name), f"not a date: {text!r}") from exc


def _decimal_at(el: etree._Element, text: str | None = None, suffix: str = "") -> Decimal:
    """An amount from an element; the (costly) element path is only built for an error."""
    try:
        return decimal_amount(el.text if text is None else text, "")
    except BankFileError as exc:
        raise BankFileError(element_path(el) + suffix, exc.reason) from exc


def _amount(el: etree._Element, what: str) -> tuple[Decimal, str]:
    amount = _decimal_at(el, suffix=f", {what}")
    try:
        return amount, currency_code(el.get("Ccy"), "")
    except BankFileError as exc:
        raise BankFileError(f"{element_path(el)}, Ccy", exc.reason) from exc


def _status(entry: etree._Element) -> str:
    """``Sts`` as a code (up to version .07) or ``Sts/Cd`` (.08 on), upper-case; "" if none."""
    return (_text(entry, "Sts", "Cd") or _text(entry, "Sts") or "").upper()


def _booked(entry: etree._Element) -> bool:
    """Whether an entry is booked; an unknown or missing status is an error naming ``Sts``."""
    status = _status(entry)
    if status == "BOOK":
        return True
    if status in _ENTRY_STATUSES:
        return False
    proprietary = _text(entry, "Sts", "Prtry")
    sts = _find(entry, "Sts")
    if proprietary:
        reason = f"proprietary entry status {proprietary!r}: cannot tell whether it is booked"
    elif sts is None:
        reason = "the entry has no status (Sts): cannot tell whether it is booked"
    else:
        reason = f"unknown entry status {status!r} (expected BOOK, PDNG, INFO or FUTR)"
    raise BankFileError(_where(sts, entry, "Sts"), reason)


def _key(
    report: _Report,
    entry: etree._Element,
    entry_index: int,
    tx: etree._Element | None,
    tx_index: int,
    stated: tuple[str | None, str | None, Decimal, str],
    looks: tuple[str, ...],
    before: Decimal,
) -> tuple[str, tuple[str, ...], str | None]:
    """The remittance's de-duplication key, the keys it may already be stored under, and
    for a transaction that details an entry booked elsewhere as one amount, that entry's key.

    ``stated`` is the transaction's bank reference, end-to-end id, amount and currency;
    ``looks`` what else it shows (value date, payer, account, text); ``before`` the amount
    as earlier versions read it (see :func:`_charges_deducted`).

    The booking date is keyed without the time zone an ``xs:date`` may carry, so that an
    entry one report dates ``2024-01-01`` and another ``2024-01-01+01:00`` is one. Keys
    earlier versions gave are among the earlier ones: made of the date as written, and of
    ``before`` (they took only charges written ``true`` from a gross batch).
    """
    written = _date(_find(entry, "BookgDt")) or _date(_find(entry, "ValDt")) or ""
    booked = _without_zone(written) or ""
    key, earlier, details_of = _key_on(
        report, (entry, entry_index, tx, tx_index), stated, looks, booked, "now"
    )
    amount = stated[2]
    for date_text, value, version in ((written, amount, "zoned"), (written, before, "before")):
        # a camt.052 placeholder's key counts the entries alike before it: counted in each
        # version, whether or not it keys differently
        if (date_text, value) == (booked, amount) and report.fmt is not BankFileFormat.CAMT_052:
            continue
        as_then = (stated[0], stated[1], value, stated[3])
        then = _key_on(
            report, (entry, entry_index, tx, tx_index), as_then, looks, date_text, version
        )
        earlier += tuple(k for k in dict.fromkeys((then[0], *then[1])) if k not in (key, *earlier))
    return key, earlier, details_of


def _key_on(
    report: _Report,
    at: tuple[etree._Element, int, etree._Element | None, int],
    stated: tuple[str | None, str | None, Decimal, str],
    looks: tuple[str, ...],
    booked: str,
    version: str,
) -> tuple[str, tuple[str, ...], str | None]:
    """:func:`_key` for a booking date (``booked``) as one version of it writes it.

    An entry the bank names (``AcctSvcrRef`` or ``NtryRef``) is keyed by the account and that
    name, whatever report it came in: the same entry in a camt.052 intraday report, the
    day's camt.054 notification and its camt.053 statement, or in a resent file, is one
    remittance. An entry without a name (none, or a placeholder such as ``NONREF``) is keyed
    by its report (its ``Id``, account and place in the message: never the file's name) and
    its position in it. In a camt.052, whose later reports of the day repeat the earlier
    ones' entries, one named with a placeholder is keyed by the account, its booking date,
    what it shows and how many entries alike came before it in the report: the same in each
    report of the day, while two such payments in one report, or on two days, stay two.

    An entry the bank names by its ``AcctSvcrRef`` (or a batch entry, several transactions,
    named either way) is one remittance of the entry's amount where a report books it
    without its transactions (a camt.053 whose entries are detailed in a camt.054, Swiss
    Payment Standards), and one a transaction where a report lists them: each transaction is
    keyed by the entry's key and its position, so that the entry, known by its first
    transaction's key, is not counted again beside them, and the transactions replace the
    entry when they come after it (see ``details_of``). A single transaction is tied to its
    entry by the ``AcctSvcrRef`` only: some banks fill ``NtryRef`` with a counter or their
    participant number, and two payments of one amount on one day must not become one.
    """
    entry, entry_index, tx, tx_index = at
    bank_reference, end_to_end, amount, currency = stated
    positional = dedup_key(
        report.fmt,
        report.report_id,
        report.account or "",
        report.index,
        entry_index,
        _text(entry, "NtryRef") or "",
        tx_index,
        bank_reference or "",
        end_to_end or "",
        amount,
        currency,
    )
    entry_name = [_text(entry, "AcctSvcrRef") or "", _text(entry, "NtryRef") or ""]
    named = [
        report.account or "",
        *entry_name,
        tx_index,
        _text(tx, "Refs", "AcctSvcrRef") or "",
        end_to_end or "",
        amount,
        currency,
    ]
    if not any(entry_name):
        return positional, (), None
    if not any(is_name(name) for name in entry_name):  # a placeholder ("NONREF") names nothing
        if report.fmt is not BankFileFormat.CAMT_052:
            return positional, (), None
        return _placeholder_intraday_key(report, named, booked, looks, version)
    earlier = dedup_key(report.fmt, *named) if report.fmt is BankFileFormat.CAMT_052 else positional
    key = dedup_key(CAMT_FAMILY, *named, booked)
    total = _entry_total(entry, negative=amount < 0)
    tied = _batch_size(entry) > 1 or is_name(entry_name[0])
    if not tied or total is None:
        return key, (earlier,), None
    # the key the entry has when booked without its transactions
    entry_key = dedup_key(CAMT_FAMILY, report.account or "", *entry_name, 0, "", "", *total, booked)
    if tx is None:
        return key, (earlier, _batch_item_key(entry_key, 1)), None
    return _batch_item_key(entry_key, tx_index), (key, earlier), entry_key


def _placeholder_intraday_key(
    report: _Report, named: list[object], booked: str, looks: tuple[str, ...], version: str
) -> tuple[str, tuple[str, ...], str | None]:
    """The key of a camt.052 transaction whose entry the bank names with a placeholder only:
    the n-th of its account and booking date that looks so (see :func:`_key`), and for the
    first alike the key earlier versions gave it (its looks alone, which told neither two
    such payments of a report nor those of two days apart). Entries alike are counted
    apart for each ``version`` of the key."""
    alike = (*named, booked, *looks)
    report.seen[version, alike] = nth = report.seen.get((version, alike), 0) + 1
    earlier = (dedup_key(report.fmt, *named),) if nth == 1 else ()
    return dedup_key(f"{CAMT_FAMILY}-day", *alike, nth), earlier, None


def _batch_item_key(entry_key: str, position: int) -> str:
    return dedup_key(CAMT_FAMILY, entry_key, position)


def _entry_total(entry: etree._Element, negative: bool) -> tuple[Decimal, str] | None:
    """The entry's amount (negated for a return) and currency; ``None`` when unreadable."""
    amount_el = _find(entry, "Amt")
    try:
        amount = decimal_amount(amount_el.text if amount_el is not None else None, "")
        currency = currency_code(amount_el.get("Ccy") if amount_el is not None else None, "")
    except BankFileError:
        return None
    return (-amount if negative else amount), currency


def _tx_count(entry: etree._Element) -> int:
    """The entry's ``TxDtls`` (in ``NtryDtls``, or directly in ``Ntry`` in .001.01)."""
    in_details = sum(len(_kids(d, "TxDtls")) for d in _kids(entry, "NtryDtls"))
    return in_details + len(_kids(entry, "TxDtls"))


def _batch_size(entry: etree._Element) -> int:
    """How many transactions an entry books: its ``TxDtls``, or as many as its batches say
    (``Btch/NbOfTxs``) when the report leaves them out."""
    batches = [b for d in _kids(entry, "NtryDtls") for b in _kids(d, "Btch")]
    stated = (_text(b, "NbOfTxs") or "" for b in [*batches, *_kids(entry, "Btch")])
    return max(_tx_count(entry), sum(int(n) for n in stated if n.isdigit()))


def _date(el: etree._Element | None) -> str | None:
    return _text(el, "Dt") or ((_text(el, "DtTm") or "")[:10] or None)


def _remittance(
    source_file: str,
    report: _Report,
    entry: etree._Element,
    entry_index: int,
    tx: etree._Element | None,
    tx_index: int,
    path: str,
    left_out: list[tuple[BankFileError, str]],
    booked: tuple[Decimal, str] | None = None,
) -> RawRemittance | None:
    """A transaction's remittance (``None`` when it is no cash received), for ``booked``
    where given (a transaction of a batch: see :func:`_batch_remittance`), else for its own
    amount. Raises :class:`BankFileError` for a bank field that cannot be read (the amount,
    its currency, a date, the status); the payer's remittance detail (``Strd``, X12 segments
    in the text) that cannot be read is left out instead, its document numbers and text kept
    as free text, and each finding with what was left out is added to ``left_out``."""
    entry_indicator = (_text(entry, "CdtDbtInd") or "").upper()
    indicator = (_text(tx, "CdtDbtInd") or entry_indicator).upper()
    if indicator not in ("CRDT", "DBIT"):
        raise BankFileError(
            _where(_find(entry, "CdtDbtInd"), entry, "CdtDbtInd"),
            f"must be CRDT or DBIT, got {indicator or 'nothing'!r}",
        )
    if indicator == "CRDT" and entry_indicator == "DBIT":
        # the entry says what reached the account: Swiss banks (UBS, PostFinance) state the
        # transactions of an outgoing payment as CRDT under its DBIT entry, and a payment
        # taken from the account is never a receipt, whoever's account it names
        return None
    reversal = _true(_text(entry, "RvslInd"))
    # a debit returning a collection of ours (a direct debit the payer's bank sent back, or a
    # credit we returned) takes back cash counted before, and so does a debit the bank marks
    # as the reversal (RvslInd) of a credit, with or without return details: the credit is
    # gone and a person must see it; any other debit is not our cash, and a reversed debit
    # (CRDT with RvslInd: a payment of ours undone) is not a receipt
    detailed = _is_return(entry, tx)  # return details (RtrInf) or a return transaction code
    returned = indicator == "DBIT" and (reversal or detailed)
    if (indicator != "CRDT" or reversal) and not returned:
        return None
    # intraday: pending, future or information-only is not cash yet. Nor is a pending
    # notification or statement entry: the booked entry (a later notification or the
    # statement) is, and taking both would count the payment twice; a status that does not
    # say booked (proprietary, unknown) is an error, never cash
    stated = report.fmt is BankFileFormat.CAMT_052 or _find(entry, "Sts") is not None
    if stated and not _booked(entry):
        return None
    if not returned and detailed:
        return None  # an outgoing payment of ours coming back is not a receipt
    if booked is None:
        amount_el = _transaction_amount(entry, tx)
        amount, currency = _amount(amount_el, "amount")
        if amount < 0:
            raise BankFileError(element_path(amount_el), f"amount must not be negative: {amount}")
        before = amount - _charges_deducted(report, entry, tx, as_before=True)
        amount -= _charges_deducted(report, entry, tx)
    else:
        amount, currency = booked
        before = amount
    if amount == 0:
        return None
    value_date_text = _date(_find(entry, "ValDt")) or _date(_find(entry, "BookgDt"))
    value_date = _date_at(value_date_text, _find(entry, "ValDt"), entry, "ValDt")
    parties = _find(tx, "RltdPties")
    own = _compact(report.account)
    payer = "Dbtr"
    if returned and _find(parties, "Dbtr") is None and _find(parties, "DbtrAcct") is None:
        # some banks state a returned collection as the return transfer itself, the
        # customer getting the money back as its creditor (ABN AMRO, OCA's camt.053 sample)
        creditor_account = _find(parties, "CdtrAcct", "Id")
        creditor = _text(creditor_account, "IBAN") or _text(creditor_account, "Othr", "Id")
        if creditor is not None and _compact(creditor) != own:
            payer = "Cdtr"
    # a placeholder ("NOTPROVIDED") names no one: the ultimate debtor may still
    payer_name = next(
        (
            name
            for name in (
                _text(parties, payer, "Nm"),
                _text(parties, payer, "Pty", "Nm"),
                _text(parties, f"Ultmt{payer}", "Nm"),
                _text(parties, f"Ultmt{payer}", "Pty", "Nm"),
            )
            if is_name(name)
        ),
        None,
    )
    ultimate = next(
        (
            name
            for name in (
                _text(parties, f"Ultmt{payer}", "Nm"),
                _text(parties, f"Ultmt{payer}", "Pty", "Nm"),
            )
            if is_name(name)
        ),
        None,
    )
    payer_account_el = _find(parties, f"{payer}Acct", "Id")
    iban = _text(payer_account_el, "IBAN")
    other_account = _text(payer_account_el, "Othr", "Id") or _text(
        payer_account_el, "PrtryAcct", "Id"
    )
    entry_text = _text(entry, "AddtlNtryInf")
    tagged = _tagged_entry_text(entry_text) if _tx_count(entry) <= 1 else {}
    if tagged:
        # Dutch banks (ABN AMRO) state an entry's counterparty only in its tagged text
        payer_name = payer_name or tagged.get("NAME")
        if iban is None and other_account is None:
            iban = tagged.get("IBAN")
    if not returned and own is not None and _compact(iban or other_account) == own:
        # paid from the very account reported: a payment of ours (a transaction of our own
        # batch debit stated as CRDT), not a customer paying
        return None
    remittance_info = _find(tx, "RmtInf")
    # a placeholder line ("NOTPROVIDED", some Belgian and Dutch banks) says nothing
    lines = [t.text or "" for t in _kids(remittance_info, "Ustrd") if is_name(t.text)]
    # the text as read before tags were (what keys of earlier versions were made of)
    as_written = list(lines)
    said = [_read_text(lines)]
    free_parts = [said[0].text or ""]
    refs = _structured_refs(remittance_info, currency, free_parts, left_out)
    for strd in _kids(remittance_info, "Strd"):
        # free text beside a structured reference (a QR-bill's message, billing information)
        beside = [t.text or "" for t in _kids(strd, "AddtlRmtInf")]
        free_parts.extend(beside)
        as_written.extend(beside)
    tx_text = _text(tx, "AddtlTxInf") or ""
    said.append(_read_text([tx_text]))
    free_parts.append(said[-1].text or "")
    as_written.append(tx_text)
    if tx is None or (remittance_info is None and "REMI" in tagged):
        # the entry's text: all there is, or a single transaction's remittance (/REMI/);
        # the Dutch tagged text whole, its creditor reference and EREF read out of it
        as_written.append(entry_text or "")
        if tagged:
            free_parts.append(entry_text or "")
            said.append(_dutch_said(tagged))
        else:
            said.append(_read_text([entry_text or ""]))
            free_parts.append(said[-1].text or "")
    elif tagged:  # a single transaction's entry text: its end-to-end reference still counts
        said.append(_Said(None, end_to_end=_named([tagged.get("EREF", "")])))
    for each in said:
        refs.extend(each.refs)
    # X12 remittance segments an ACH credit's addenda carry (CCD+ RMR, CTX 820), passed on
    ustrd = [t for t in _kids(remittance_info, "Ustrd") if is_name(t.text)]
    texts = [("".join(lines), ustrd), (tx_text, _kids(tx, "AddtlTxInf"))]
    refs.extend(_embedded_remittance(texts, left_out))
    end_to_end = _text(tx, "Refs", "EndToEndId")
    if end_to_end and end_to_end.upper() == "NOTPROVIDED":
        end_to_end = None
    stated_end_to_end = end_to_end  # what keys are made of, as before tags were read
    if not is_name(end_to_end):  # absent or a placeholder: the EREF the text states
        end_to_end = next((e.end_to_end for e in said if e.end_to_end), end_to_end)
    looks_payer = clean(payer_name) or ""
    # a payer the text names, the ultimate debtor it names (ABWA+) only where no one else is
    ultimate = ultimate or next((e.ultimate_payer for e in said if e.ultimate_payer), None)
    payer_name = payer_name or next((e.payer for e in said if e.payer), None) or ultimate
    # what keys are made of, as written; the bank's reference is the first that names one
    # (DK banks write NONREF in every entry's AcctSvcrRef)
    stated_references = (_text(tx, "Refs", "AcctSvcrRef"), _text(entry, "AcctSvcrRef"))
    bank_reference = next((r for r in stated_references if is_name(r)), None)
    trace = _trace(tx)
    if trace and trace != bank_reference and trace not in " ".join(free_parts):
        # the clearing's name for the item (an ACH trace number, a Fedwire IMAD) beside the
        # bank's, where an 820 advice's trace is looked for (as BAI2's TRACE# and IMAD text)
        free_parts.append(f"TRACE {trace}")
    reverses = None
    if returned:
        # the return carries the original's end-to-end id; its reason says why. Said in the
        # text as written (for the key), then in the text as read: that one is ``reverses``
        reason = _text(tx, "RtrInf", "Rsn", "Cd") or _text(tx, "RtrInf", "Rsn", "Prtry")
        for parts, e2e in ((as_written, stated_end_to_end), (free_parts, end_to_end)):
            names = (e2e, _text(tx, "Refs", "TxId"), bank_reference if detailed else None)
            reverses = next((name for name in names if is_name(name)), None) or "unknown"
            parts.insert(
                0, f"RETURN {reason or ''} OF {reverses}" if detailed else f"REVERSAL OF {reverses}"
            )
        amount, before = -amount, -before
    looks = (
        value_date_text or "",
        looks_payer,
        iban or other_account or "",
        " ".join(" ".join(as_written).split()),
    )
    key, earlier_keys, details_of = _key(
        report,
        entry,
        entry_index,
        tx,
        tx_index,
        (stated_references[0] or stated_references[1], stated_end_to_end, amount, currency),
        looks,
        before,
    )
    location_el = tx if tx is not None else entry
    return RawRemittance(
        format=report.fmt,
        source_file=source_file,
        location=f"{path} (line {location_el.sourceline})",
        line=location_el.sourceline if isinstance(location_el.sourceline, int) else None,
        amount=amount,
        currency=currency,
        dedup_key=key,
        raw=etree.tostring(location_el, encoding="unicode", with_tail=False),
        value_date=value_date,
        payer_name=clean(payer_name),
        ultimate_payer_name=(
            clean(ultimate) if clean(ultimate) and clean(ultimate) != clean(payer_name) else None
        ),
        payer_account=other_account if not iban else None,
        payer_iban=iban.replace(" ", "").upper() if iban else None,
        bank_reference=bank_reference or trace,
        end_to_end_id=end_to_end,
        free_text=clean(" ".join(free_parts)),
        structured_refs=tuple(refs) if not returned else (),
        reverses=reverses,
        also_known_as=earlier_keys,
        details_of=details_of,
    )


# proprietary references that name the item in its clearing (Fedwire, ACH), by their type
_TRACE_TYPES = re.compile(r"IMAD|OMAD|TRACE|TRN")


def _trace(tx: etree._Element | None) -> str | None:
    """The clearing system's name for a transaction: ``Refs/ClrSysRef`` (a US bank's ACH
    trace number or Fedwire IMAD), else a ``Refs/Prtry`` reference typed IMAD, OMAD or
    TRACE; ``None`` when there is none (or a placeholder)."""
    refs = _find(tx, "Refs")
    stated = [_text(refs, "ClrSysRef")]
    stated += [
        _text(p, "Ref")
        for p in _kids(refs, "Prtry")
        if _TRACE_TYPES.search((_text(p, "Tp") or "").upper())
    ]
    return next((clean(s) for s in stated if is_name(s)), None)


def _embedded_remittance(
    texts: list[tuple[str, list[etree._Element]]],
    left_out: list[tuple[BankFileError, str]],
) -> list[StructuredRef]:
    """The documents of the X12 RMR segments in remittance texts (a CCD+ addenda's
    ``RMR*IV*...\\``, a CTX's 820 segments), each text with the elements it is read from.
    None where the segments cannot be read: the text stays in the free text either way, the
    cash is kept, and the finding (naming the element the segments start in, the segment and
    its field) is added to ``left_out``; a date that cannot be read is left out alone."""
    refs: list[StructuredRef] = []
    for text, elements in texts:
        start = RMR_SEGMENT.search(text)
        if start is None:
            continue
        segment_text = text[start.start() :]
        dates: list[DetailError] = []
        try:
            advice = read_remittance_advice(
                split_segments(segment_text, infer_delimiters(segment_text)), dates
            )
        except BankFileError as exc:
            left_out.append((_in_text(elements, exc), DETAIL_LEFT_OUT))
            continue
        left_out.extend((_in_text(elements, error), DATE_LEFT_OUT) for error in dates)
        refs.extend(advice.refs)
    return refs


def _in_text(elements: list[etree._Element], error: BankFileError) -> BankFileError:
    """``error`` (at ``line 1, segment 1 (RMR), RMR04`` of a text) located in the element of
    ``elements`` whose text the segments start in (the first, when they start in none)."""
    holder = next((e for e in elements if RMR_SEGMENT.search(e.text or "")), None)
    holder = holder if holder is not None else (elements[0] if elements else None)
    where = element_path(holder) if holder is not None else "remittance text"
    return BankFileError(f"{where}, {error.location.replace('line 1, ', '', 1)}", error.reason)


def _structured_refs(
    remittance_info: etree._Element | None,
    currency: str,
    free_parts: list[str],
    left_out: list[tuple[BankFileError, str]],
) -> list[StructuredRef]:
    """The references of a transaction's ``Strd`` blocks. Amounts that cannot be read (or an
    adjustment without one) are left out with the amounts stated beside them, the document
    kept by its number; an amount in another currency than the credit's ``currency`` is left
    out alone. A credit note whose amount is so left out goes to ``free_parts`` instead (a
    credit note named without an amount reads as taken whole, which the payer did not say). A
    related date that cannot be read is left out alone. Each finding goes to ``left_out``."""
    dates: list[BankFileError] = []
    amounts: list[BankFileError] = []
    foreign: list[BankFileError] = []
    unpriced_notes: list[str] = []
    refs = [
        ref
        for strd in _kids(remittance_info, "Strd")
        for ref in _structured(strd, currency, dates, (amounts, foreign), unpriced_notes)
    ]
    free_parts.extend(unpriced_notes)
    left_out.extend((error, AMOUNTS_LEFT_OUT) for error in amounts)
    left_out.extend((error, _AMOUNT_LEFT_OUT) for error in foreign)
    left_out.extend((error, DATE_LEFT_OUT) for error in dates)
    return refs


# the tags of the Dutch banks' structured entry text (as in their MT940 :86:), e.g.
# ``/TRTP/SEPA OVERBOEKING/IBAN/NL..../BIC/..../NAME/..../REMI/..../EREF/....``
_DUTCH_TAG = re.compile(
    r"/(TRTP|IBAN|BIC|NAME|REMI|EREF|MARF|CSID|SVCL|ORDP|BENM|ULTC|ULTD|ULTB|CNTP|ADDR|ISDT|"
    r"PREF|RTRN|NRTX|USTD|STRD|CDTRREFTP|CDTRREF|PURP|ID)/"
)
# groups whose NAME is not the one who paid (the beneficiary, the ultimate creditor)
_NOT_PAYER_GROUPS = frozenset({"BENM", "ULTC", "ULTB"})


def _tagged_entry_text(text: str | None) -> dict[str, str]:
    """The fields of an entry text in the Dutch banks' tagged layout (it starts with
    ``/TRTP/``); ``{}`` for any other text. See :func:`_dutch_fields`."""
    if not text or not text.lstrip().startswith("/TRTP/"):
        return {}
    return _dutch_fields(text)


def _dutch_fields(text: str) -> dict[str, str]:
    """The payer's ``NAME`` and ``IBAN``, the ``REMI`` (remittance), ``EREF`` (end-to-end
    reference) and ``CDTRREF`` (creditor reference) of a text in the Dutch banks' tagged
    layout.

    A ``NAME`` inside ``/BENM//`` (or an ultimate creditor's group) names the beneficiary:
    not taken; one inside ``/ORDP//`` or standing alone is the payer's, else the ultimate
    debtor's (``/ULTD//``)."""
    parts = _DUTCH_TAG.split(text.strip())
    found: dict[str, str] = {}
    group = ""
    ultimate: str | None = None
    for tag, value in zip(parts[1::2], parts[2::2], strict=True):
        value = " ".join(value.split())
        if tag in ("ORDP", "BENM", "ULTC", "ULTD", "ULTB", "CNTP") and not value:
            group = tag
            continue
        if tag == "NAME" and is_name(value) and group not in _NOT_PAYER_GROUPS:
            if group == "ULTD":
                ultimate = ultimate or value
            else:
                found.setdefault("NAME", value)
        elif tag == "IBAN" and value and not group:
            found.setdefault("IBAN", value)
        elif tag == "REMI":
            found["REMI"] = value
        elif tag in ("EREF", "CDTRREF") and value:
            found.setdefault(tag, value.strip("/ "))
        if tag not in ("NAME", "ADDR", "ID", "BIC"):
            group = ""
    if "NAME" not in found and ultimate:
        found["NAME"] = ultimate
    return found


# the German banks' SEPA tags in remittance text (DFUe-Abkommen, Anlage 3): end-to-end,
# customer and mandate references, creditor id, debtor id, compensation and original
# amounts (returns), the remittance itself, ultimate debtor and ultimate creditor
_SEPA_TAGS = "EREF|KREF|MREF|CRED|DEBT|COAM|OAMT|SVWZ|ABWA|ABWE"
_SEPA_TAG = re.compile(rf"({_SEPA_TAGS})\+")
_SEPA_TAG_FIRST = re.compile(rf"(?:^|(?<=\s))(?:{_SEPA_TAGS})\+")
# the widths banks cut a long remittance into lines at, mid-word as often as not: 35 (a
# Ustrd line, SWIFT narrative), 27 (an MT940 ?2x subfield), 65 (an MT940 :86: line)
_CUT_WIDTHS = frozenset({27, 35, 65})


@dataclass(frozen=True)
class _Said:
    """What one remittance text says once its tags are read: the payer's own words, the
    end-to-end reference, the payer or the ultimate payer it names, creditor references."""

    text: str | None
    end_to_end: str | None = None
    payer: str | None = None
    ultimate_payer: str | None = None
    refs: tuple[StructuredRef, ...] = ()


def _read_text(lines: list[str]) -> _Said:
    """The lines of one remittance text (``Ustrd`` lines, an ``AddtlTxInf``), read for the
    German SEPA tags (``EREF+ ... SVWZ+ ...``) or the Dutch tagged layout (``/EREF/ ...
    /REMI/ ...``); any other text is its lines as they stand."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return _Said(None)
    joined = _joined(lines)
    first = _SEPA_TAG_FIRST.search(joined)
    if first is not None:
        return _sepa_said(joined[: first.start()], joined[first.start() :])
    stripped = joined.lstrip()
    if stripped.startswith("/") and _DUTCH_TAG.match(stripped):
        fields = _dutch_fields(stripped)
        if fields.keys() & {"REMI", "EREF", "CDTRREF"}:
            return _dutch_said(fields)
    return _Said(_untagged_joined(lines))


def _joined(lines: list[str]) -> str:
    """Lines of one tagged text as the one string they were cut from: a line as long as a
    width banks cut at goes on without a space (the cut may fall mid-word), unless the next
    starts a tag."""
    out = [lines[0]]
    for before, line in pairwise(lines):
        cut = len(before) in _CUT_WIDTHS and not _SEPA_TAG.match(line)
        out.append(line if cut else " " + line)
    return "".join(out)


# the end of a line and the start of the next where a bank's cut split one reference
# (``RE-20`` | ``26-0046``)
_CUT_REFERENCE_END = re.compile(r"[0-9/-]$")
_CUT_REFERENCE_GOES_ON = re.compile(r"[0-9]")


def _shape(token: str) -> str:
    """A token's shape: each digit a 9, each letter an A (``RE-2026-0046``: ``AA-9999-9999``)."""
    return re.sub(r"[^\W\d_]", "A", re.sub(r"\d", "9", token))


def _untagged_joined(lines: list[str]) -> str:
    """Lines of untagged text, each after a space, except where a line as long as a width
    banks cut at ends inside a number the next line goes on with, and the two halves joined
    are shaped like another number of the text (``RE-2026-0045 und RE-20`` | ``26-0046``):
    a reference the cut split. Whole numbers a bank's wrap at a blank put on two lines by
    chance (``... 100237`` | ``100238 ...``, a date then a number) stay apart."""
    words = [word for line in lines for word in line.split()]
    out = [lines[0]]
    for before, line in pairwise(lines):
        cut = (
            len(before) in _CUT_WIDTHS
            and _CUT_REFERENCE_END.search(before) is not None
            and _CUT_REFERENCE_GOES_ON.match(line) is not None
        )
        if cut:
            head, tail = before.split()[-1], line.split()[0]
            others = {_shape(word) for word in words if word not in (head, tail)}
            cut = _shape(head + tail) in others
        out.append(line if cut else " " + line)
    return "".join(out)


def _sepa_said(before: str, tagged: str) -> _Said:
    """German SEPA tagged text: ``SVWZ+`` is the payer's words (with any text before the
    first tag), ``EREF+`` the end-to-end reference, ``ABWA+`` the ultimate debtor; the
    customer, mandate and creditor references (KREF+, MREF+, CRED+) are left out."""
    parts = _SEPA_TAG.split(tagged)
    values: dict[str, list[str]] = {}
    for tag, value in zip(parts[1::2], parts[2::2], strict=True):
        values.setdefault(tag, []).append(value)
    text, refs = _remittance_text(clean(" ".join([before, *values.get("SVWZ", [])])))
    end_to_end = _named(values.get("EREF"))
    return _Said(
        _with_reference(text, end_to_end),
        end_to_end=end_to_end,
        ultimate_payer=_named(values.get("ABWA")),
        refs=refs,
    )


def _with_reference(text: str | None, end_to_end: str | None) -> str | None:
    """The payer's words followed by its end-to-end reference: a payer's ERP often puts the
    invoice number there alone, and the reconciler reads invoice numbers in the free text."""
    if not end_to_end or (text and end_to_end in text):
        return text
    return f"{text} {end_to_end}" if text else end_to_end


def _dutch_said(fields: dict[str, str]) -> _Said:
    """Dutch tagged text: ``/REMI/USTD//`` (or a bare ``/REMI/``) is the payer's words,
    ``/REMI/STRD/<issuer>/`` and ``/CDTRREF/`` a creditor reference."""
    remi = fields.get("REMI", "").strip()
    refs: tuple[StructuredRef, ...] = ()
    text: str | None = None
    kind, _, rest = remi.partition("/")
    if kind.upper() == "STRD":
        # STRD/CUR/<reference>/: the issuer (CUR: Currence, ISO), then the reference
        reference = next((p for p in reversed(rest.split("/")) if p.strip()), "")
        refs = _creditor_refs(reference)
    elif kind.upper() == "USTD":
        text, refs = _remittance_text(clean(rest.strip("/")))
    else:
        text, refs = _remittance_text(clean(remi.strip("/")))
    if not refs and "CDTRREF" in fields:
        refs = _creditor_refs(fields["CDTRREF"])
    end_to_end = _named([fields.get("EREF", "")])
    return _Said(
        _with_reference(text, end_to_end),
        end_to_end=end_to_end,
        payer=fields.get("NAME"),
        refs=refs,
    )


def _named(values: list[str] | None) -> str | None:
    """The first of ``values`` that names something (not blank, not ``NOTPROVIDED``)."""
    return next((clean(v) for v in values or [] if is_name(clean(v))), None)


def _remittance_text(text: str | None) -> tuple[str | None, tuple[StructuredRef, ...]]:
    """A payer's words, or a creditor reference when they are one valid RF reference."""
    if text and is_rf_reference(text):
        return None, _creditor_refs(text)
    return text, ()


def _creditor_refs(reference: str) -> tuple[StructuredRef, ...]:
    """A creditor reference: RF (ISO 11649, check digits valid) or another kind."""
    compact = reference.replace(" ", "").upper()
    if not compact or not is_name(compact):
        return ()
    kind = RefKind.RF if is_rf_reference(compact) else RefKind.OTHER
    return (StructuredRef(kind=kind, ref=compact),)


def _compact(account: str | None) -> str | None:
    """An account identifier without spaces, upper-case; ``None`` when absent."""
    return account.replace(" ", "").upper() if account else None


def _transaction_amount(entry: etree._Element, tx: etree._Element | None) -> etree._Element:
    """The element stating what was received for this transaction.

    An entry with a single transaction is what reached the account: its amount is the entry's
    (banks leave ``TxDtls/Amt`` at 0, or state the instructed amount in another currency or
    before charges there). In a batch each transaction needs its own: its ``Amt`` (v3+),
    else the booked ``AmtDtls/TxAmt``, else the counter value of the instructed amount
    (``AmtDtls/CntrValAmt``: converted into the account's currency), else the instructed
    ``AmtDtls/InstdAmt``; the first in the entry's currency.
    """
    entry_amount = _find(entry, "Amt")
    own = _own_amounts(tx)
    if tx is None or _tx_count(entry) <= 1:
        if entry_amount is None:
            raise BankFileError(_where(None, entry, "Amt"), "the entry has no amount")
        return entry_amount
    if not own:
        raise BankFileError(element_path(tx), "no amount on a transaction of an entry with several")
    # what reached the account is in the entry's currency: a transaction of a batch that
    # states the payer's instructed amount in another currency first is credited in this one
    booked_currency = _currency_of(entry_amount)
    in_booked = next((a for a in own if _currency_of(a) == booked_currency), None)
    if in_booked is not None:
        return in_booked
    foreign = _foreign_amounts(tx, booked_currency)
    if foreign and len(foreign) == len(own):
        # an amount in the payer's currency alone does not say what was credited for it
        stated = ", ".join(f"{_below(tx, a)} {_currency_of(a)}" for a in foreign)
        raise BankFileError(
            element_path(tx),
            f"the transaction states its amount only in another currency ({stated}), the "
            f"entry is booked in {booked_currency}: what was credited for it is unknown",
        )
    return own[0]


def _below(ancestor: etree._Element | None, el: etree._Element) -> str:
    """``el``'s path below ``ancestor`` (``AmtDtls/InstdAmt/Amt``)."""
    names: list[str] = []
    node: etree._Element | None = el
    while node is not None and node is not ancestor:
        names.append(_local(node))
        node = node.getparent()
    return "/".join(reversed(names))


def _currency_of(amount: etree._Element | None) -> str | None:
    """An amount's ``Ccy`` upper-case; ``None`` when absent or blank."""
    code = (amount.get("Ccy") or "").strip().upper() if amount is not None else ""
    return code or None


def _foreign_amounts(
    tx: etree._Element | None, booked_currency: str | None
) -> list[etree._Element]:
    """The amounts a transaction states in another currency than the entry's (each with its
    ``Ccy``); ``[]`` where the entry states none."""
    if booked_currency is None:
        return []
    return [a for a in _own_amounts(tx) if _currency_of(a) not in (None, booked_currency)]


def _own_amounts(tx: etree._Element | None) -> list[etree._Element]:
    """The amounts a transaction states for itself, in the order :func:`_transaction_amount`
    takes them: ``Amt``, ``AmtDtls/TxAmt``, ``AmtDtls/CntrValAmt``, ``AmtDtls/InstdAmt``."""
    found = (
        _find(tx, "Amt"),
        _find(tx, "AmtDtls", "TxAmt", "Amt"),
        _find(tx, "AmtDtls", "CntrValAmt", "Amt"),
        _find(tx, "AmtDtls", "InstdAmt", "Amt"),
    )
    return [el for el in found if el is not None]


def _included_charges(tx: etree._Element, currency: str | None, as_before: bool = False) -> Decimal:
    """The charges a transaction states as taken from the amount credited (``Chrgs/Rcrd``
    with ``ChrgInclInd`` true), in the entry's currency; ``as_before``, only those written
    ``true`` (earlier versions did not read ``1``)."""
    total = Decimal(0)
    for record in _kids(_find(tx, "Chrgs"), "Rcrd"):
        charge = _find(record, "Amt")
        written = _text(record, "ChrgInclInd")
        included = (written or "").lower() == "true" if as_before else _true(written)
        if charge is None or not included or charge.get("Ccy") != currency:
            continue
        value = _decimal_at(charge)
        total += -value if (_text(record, "CdtDbtInd") or "").upper() == "CRDT" else value
    return total


def _charges_deducted(
    report: _Report, entry: etree._Element, tx: etree._Element | None, as_before: bool = False
) -> Decimal:
    """What the bank took as charges from this transaction of a batch before crediting it
    (``as_before``: as earlier versions read it, for the keys they gave).

    A single transaction's cash is the entry's amount, net already. In a batch each
    transaction states its own amount, which some banks give before charges and list the
    charges taken (``Chrgs/Rcrd/ChrgInclInd`` true) beside it: those are deducted only when
    the transactions' amounts less these charges add up to the entry's amount, so a bank
    stating the net amount is read as it is."""
    if tx is None or _tx_count(entry) <= 1:
        return Decimal(0)
    entry_total = _entry_total(entry, negative=False)
    if entry_total is None:
        return Decimal(0)
    booked, currency = entry_total
    charged = _included_charges(tx, currency, as_before)
    if charged == 0:
        return charged
    read = (id(entry), as_before)
    if read not in report.gross_batches:  # the entry is read once for all its items
        report.gross_batches[read] = _stated_gross(entry, booked, currency, as_before)
    return charged if report.gross_batches[read] else Decimal(0)


def _stated_gross(
    entry: etree._Element, booked: Decimal, currency: str, as_before: bool = False
) -> bool:
    """Whether a batch entry's transactions, less the charges they list as taken, add up to
    the entry's amount while they alone do not (see :func:`_charges_deducted`)."""
    gross = Decimal(0)
    charges = Decimal(0)
    for _, each, _ in _transactions(entry):
        if each is None:
            return False
        try:
            amount, each_currency = _amount(_transaction_amount(entry, each), "amount")
            charges += _included_charges(each, currency, as_before)
        except BankFileError:
            return False
        if each_currency != currency:
            return False
        # earlier versions added every transaction (the keys they gave are read so)
        gross += amount if as_before else _sign_in_batch(entry, each) * amount
    return charges != 0 and gross != booked and gross - charges == booked


def _uncounted(left: int) -> str:
    """`` (not the 1 left out ...)``: the transactions of a batch in no sum, if any."""
    if not left:
        return ""
    return (
        f" (not the {left} left out as no customer paying, "
        f"{'which states' if left == 1 else 'which state'} no direction)"
    )


def _sign_in_batch(entry: etree._Element, tx: etree._Element | None) -> int:
    """How a transaction's amount goes into its batch entry's, as :func:`_remittance` reads
    its direction (its own ``CdtDbtInd``, else the entry's): 1 with the entry, -1 against it.
    A transaction stating no direction of its own is in the entry's, as the bank counts it,
    whatever it is (an FX deal's proceeds, ``FORX/SPOT``, left out as no customer paying);
    but the bank's own charge left out so (:func:`_bank_charge`: ``ACMT/MDOP/CHRG`` in a
    camt.053.001.02, which has no ``CdtDbtInd`` per transaction) may as well be the bank's
    debit, and is in no sum (0)."""
    own = (_text(tx, "CdtDbtInd") or "").upper()
    if not own:
        return 0 if _bank_charge(entry, tx) and _not_a_receipt(entry, tx) else 1
    return 1 if own == (_text(entry, "CdtDbtInd") or "").upper() else -1


def _bank_charge(entry: etree._Element, tx: etree._Element | None) -> bool:
    """Whether a transaction's bank transaction code (else its entry's) is the bank's charge,
    fee, commission or tax, or a miscellaneous debit operation (``ACMT/MDOP/...``)."""
    domain = _find(tx, "BkTxCd", "Domn")
    if domain is None:
        domain = _find(entry, "BkTxCd", "Domn")
    family = (_text(domain, "Fmly", "Cd") or "").upper()
    sub_family = (_text(domain, "Fmly", "SubFmlyCd") or "").upper()
    return family == _DEBIT_OPERATIONS or sub_family in _BANKS_TAKE


# payment return, ACH return, unpaid (returned) direct debit, direct debit payment return;
# a payment returned on the payer's cancellation request (a recall: RPCR of a credit
# transfer, RCDD of a direct debit), an ACH reversal, and a deposited cheque coming back
# unpaid or reversed (UPCQ, CQRV: a European bank states no BAI code 555 beside them)
_RETURN_SUBFAMILIES = frozenset(
    {"RRTN", "ARET", "UPDD", "PRDD", "RPCR", "RCDD", "AREV", "UPCQ", "CQRV"}
)


def _is_return(entry: etree._Element, tx: etree._Element | None) -> bool:
    """Whether a transaction (or an entry without any) is a returned payment (``RtrInf``, a
    return transaction code, or a BAI code of a returned item: ``bai_codes.RETURNED_ITEMS``)."""
    if _find(tx, "RtrInf") is not None:
        return True
    codes = {
        (_text(el, "Domn", "Fmly", "SubFmlyCd") or "").upper()
        for el in (_find(tx, "BkTxCd"), _find(entry, "BkTxCd"))
    }
    return bool(codes & _RETURN_SUBFAMILIES) or _bai_code(entry, tx) in RETURNED_ITEMS


def _not_a_receipt(entry: etree._Element, tx: etree._Element | None) -> str | None:
    """What says a credit is not a customer paying (``bank transaction code TREA/0002/0000
    (treasury)``, ``BAI type code 275 (ZBA Credit)``), by the transaction's codes, else the
    entry's; ``None`` for any other. Either code saying so is enough: a US bank maps its BAI
    code to an ISO code, often a generic one (a ZBA credit as PMNT/RCDT/BOOK)."""
    found: list[str] = []
    domain = _find(tx, "BkTxCd", "Domn")
    if domain is None:
        domain = _find(entry, "BkTxCd", "Domn")
    if domain is not None:
        codes = [
            (_text(domain, *path) or "").upper()
            for path in (("Cd",), ("Fmly", "Cd"), ("Fmly", "SubFmlyCd"))
        ]
        what = NOT_RECEIPT_DOMAINS.get(codes[0]) or NOT_RECEIPT_SUBFAMILIES.get(codes[2])
        if what:
            found.append(f"bank transaction code {'/'.join(codes)} ({what})")
    bai = _bai_code(entry, tx)
    if bai in NOT_RECEIPTS:
        found.append(f"BAI type code {bai} ({describe(bai)})")
    return " and ".join(found) or None


# a BAI type code as US banks state it in ``Prtry/Cd``: "275", or "BAI 275" / "BAI2:275"
_BAI_CODE = re.compile(r"(?:BAI2?\s*[-:/+]?\s*)?(\d{3})")
# currencies of the accounts BAI codes are reported for (US and Canadian banks)
_BAI_CURRENCIES = frozenset({"USD", "CAD"})


def _bai_code(entry: etree._Element, tx: etree._Element | None) -> str | None:
    """The BAI type code of a transaction's ``BkTxCd/Prtry`` (else its entry's): a code of
    three digits whose issuer names BAI, or whose issuer is a bank (or none) on a USD or CAD
    entry; ``None`` for another proprietary scheme (a German ``NTRF+166+000``, a Belgian or
    Nordic bank's numbers on a EUR account)."""
    for code in (_find(tx, "BkTxCd"), _find(entry, "BkTxCd")):
        proprietary = _find(code, "Prtry")
        if proprietary is None:
            continue
        found = _BAI_CODE.fullmatch((_text(proprietary, "Cd") or "").upper())
        if found is None:
            return None
        if "BAI" in (_text(proprietary, "Issr") or "").upper():
            return found.group(1)
        amount = _find(entry, "Amt")
        currency = (amount.get("Ccy") or "").upper() if amount is not None else ""
        return found.group(1) if currency in _BAI_CURRENCIES else None
    return None


def _warn_on_adjustment(
    result: ParseResult,
    report: _Report,
    entry: etree._Element,
    tx: etree._Element | None,
    path: str,
) -> None:
    """A warning for a booked debit whose BAI code may take back cash counted before, though
    not as one item taken back whole (``bai_codes.ADJUSTMENTS``: an ACH return settlement, a
    deposit correction), as BAI2 gives; any other debit is a payment of ours."""
    indicator = (_text(tx, "CdtDbtInd") or _text(entry, "CdtDbtInd") or "").upper()
    if indicator != "DBIT" or _status(entry) != "BOOK" or _is_return(entry, tx):
        return
    bai = _bai_code(entry, tx)
    if bai not in ADJUSTMENTS:
        return
    try:
        amount, currency = _amount(_transaction_amount(entry, tx), "amount")
    except BankFileError:
        return
    location_el = tx if tx is not None else entry
    warn_left_out(
        result,
        f"{path} (line {location_el.sourceline})",
        f"a debit of {amount} {currency} with BAI type code {bai} ({describe(bai)})",
        "it may take back cash counted before, though not as one item taken back whole "
        "(check it in the bank's report)",
        etree.tostring(location_el, encoding="unicode", with_tail=False),
    )


def _warn_on_return_of_ours(
    result: ParseResult,
    report: _Report,
    entry: etree._Element,
    tx: etree._Element | None,
    path: str,
) -> None:
    """A warning for a booked credit that returns a payment of ours (``RtrInf`` or a return
    transaction code: a credit transfer the beneficiary's bank sent back): our own money
    coming back, no customer paying, but money that moved, as BAI2's returned items of ours."""
    entry_indicator = (_text(entry, "CdtDbtInd") or "").upper()
    indicator = (_text(tx, "CdtDbtInd") or entry_indicator).upper()
    if indicator != "CRDT" or entry_indicator == "DBIT" or _status(entry) != "BOOK":
        return
    if _true(_text(entry, "RvslInd")) or not _is_return(entry, tx):
        return
    try:
        amount, currency = _amount(_transaction_amount(entry, tx), "amount")
    except BankFileError:
        return
    reason = _text(tx, "RtrInf", "Rsn", "Cd") or _text(tx, "RtrInf", "Rsn", "Prtry")
    names = (_text(tx, "Refs", "EndToEndId"), _text(tx, "Refs", "TxId"))
    original = next((n for n in names if is_name(n)), None)
    location_el = tx if tx is not None else entry
    warn_left_out(
        result,
        f"{path} (line {location_el.sourceline})",
        f"a credit of {amount} {currency} returning a payment of ours"
        f"{f' ({original})' if original else ''}{f', return reason {reason}' if reason else ''}",
        "our own money coming back, " + NOT_A_CUSTOMER_PAYING,
        etree.tostring(location_el, encoding="unicode", with_tail=False),
    )


_Stated = tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None, str | None]


def _doc_kind(doc: etree._Element) -> RefKind:
    code = (_text(doc, "Tp", "CdOrPrtry", "Cd") or "").upper()
    if code:
        return _DOC_KINDS.get(code, RefKind.OTHER)
    proprietary = (_text(doc, "Tp", "CdOrPrtry", "Prtry") or "").upper()
    if "CREDIT" in proprietary or proprietary in ("CN", "CM", "CRN"):
        return RefKind.CREDIT_MEMO
    if "INV" in proprietary or not proprietary:
        return RefKind.INVOICE
    return RefKind.OTHER


def _structured(
    strd: etree._Element,
    currency: str,
    dates_left_out: list[BankFileError],
    left_out: tuple[list[BankFileError], list[BankFileError]],
    unpriced_notes: list[str],
) -> list[StructuredRef]:
    """One Strd block: its referred documents and creditor reference, with its amounts in the
    credit's ``currency``. A related date (``RltdDt``) that cannot be read is left out and
    added to ``dates_left_out``; amounts that cannot be read (``RfrdDocAmt``, or a document's
    ``LineDtls``) are left out with the others of their block, the error added to the first
    of ``left_out``, and one in another currency alone, its error added to the second: the
    documents are kept without them, except a credit note whose paid amount is so left out,
    whose number goes to ``unpriced_notes``."""
    shared = _priced(currency, [_find(strd, "RfrdDocAmt")], left_out)
    nothing: _Stated = (None, None, None, None, None)
    paid, due, discount, adjustment, reason = shared[0] or nothing
    docs = _kids(strd, "RfrdDocInf")
    refs: list[StructuredRef] = []
    for doc in docs:
        number = _text(doc, "Nb")
        if not number:
            continue
        related = _find(doc, "RltdDt")
        related_text = _text(related, "Dt") or _text(doc, "RltdDt")
        # a document's own lines (LineDtls/Amt, version .08 on) state its amounts even when
        # several documents share one Strd; else the Strd's amounts are one document's only
        lines = [_find(line, "Amt") for line in _kids(doc, "LineDtls")]
        own = None
        unpriced = shared[1] and len(docs) == 1
        if any(line is not None for line in lines):
            own_stated, unpriced = _priced(currency, lines, left_out)
            own = own_stated or nothing
        kind = _doc_kind(doc)
        if unpriced and kind == RefKind.CREDIT_MEMO:
            unpriced_notes.append(number)
            continue
        stated = own or (shared[0] if len(docs) == 1 else None) or nothing
        refs.append(
            StructuredRef(
                kind=kind,
                ref=number,
                amount_paid=stated[0],
                invoice_amount=stated[1],
                discount=stated[2],
                adjustment=stated[3],
                adjustment_reason=stated[4],
                document_date=_related_date(related_text, related, doc, dates_left_out),
            )
        )
    creditor_ref = _text(strd, "CdtrRefInf", "Ref")
    if creditor_ref:
        compact = creditor_ref.replace(" ", "").upper()
        is_rf = is_rf_reference(compact)
        alone = not refs
        refs.append(
            StructuredRef(
                kind=RefKind.RF if is_rf else RefKind.OTHER,
                ref=compact if is_rf else _national_reference(strd, creditor_ref),
                amount_paid=paid if alone else None,
                invoice_amount=due if alone else None,
                discount=discount if alone else None,
                adjustment=adjustment if alone else None,
                adjustment_reason=reason if alone else None,
            )
        )
    return refs


def _priced(
    currency: str,
    blocks: list[etree._Element | None],
    left_out: tuple[list[BankFileError], list[BankFileError]],
) -> tuple[_Stated | None, bool]:
    """What ``blocks`` state (:func:`_amounts_or_none`) and whether the paid amount they
    state was left out (it cannot be read, or is in another currency)."""
    unreadable, foreign = left_out
    before = len(unreadable) + len(foreign)
    stated = _amounts_or_none(currency, blocks, unreadable, foreign)
    lost = len(unreadable) + len(foreign) > before and (stated is None or stated[0] is None)
    return stated, lost


def _amounts_or_none(
    currency: str,
    blocks: list[etree._Element | None],
    left_out: list[BankFileError],
    foreign: list[BankFileError],
) -> _Stated | None:
    """What ``blocks`` state (:func:`_stated_amounts`); ``None``, the error added to
    ``left_out``, when one of their amounts cannot be read. An amount in another currency is
    left out alone, its error added to ``foreign``."""
    try:
        return _stated_amounts(blocks, currency, foreign)
    except BankFileError as exc:
        left_out.append(exc)
        return None


def _related_date(
    text: str | None,
    related: etree._Element | None,
    doc: etree._Element,
    dates_left_out: list[BankFileError],
) -> date | None:
    """A referred document's date; ``None`` (the error added to ``dates_left_out``) when it
    cannot be read."""
    try:
        return _date_at(text, related, doc, "RltdDt")
    except BankFileError as exc:
        dates_left_out.append(exc)
        return None


def _stated_amounts(
    blocks: list[etree._Element | None], currency: str, foreign: list[BankFileError]
) -> _Stated:
    """What one or more remittance amount blocks (``RfrdDocAmt``, ``LineDtls/Amt``) state,
    summed: paid (``RmtdAmt``, else minus ``CdtNoteAmt``), due, discount, the signed
    adjustment and its reasons. Raises :class:`BankFileError` for an amount that cannot be
    read. An amount not in the credit's ``currency`` (a ``DuePyblAmt`` in the invoice's
    currency beside the ``RmtdAmt`` in the credit's) is left out alone, its error added to
    ``foreign``: what it sums to is then unknown (``None``), the other amounts are kept."""
    totals: dict[str, Decimal | None] = dict.fromkeys(("paid", "due", "discount", "adjustment"))
    lost: set[str] = set()
    reasons: list[str] = []

    def add(name: str, value: Decimal | None, dropped: bool) -> None:
        if dropped:
            lost.add(name)
        totals[name] = _plus(totals[name], value)

    for amounts in blocks:
        if amounts is None:
            continue
        remitted = _find(amounts, "RmtdAmt")
        block_paid, paid_dropped = _in_currency(remitted, currency, foreign)
        credit_note, note_dropped = _in_currency(_find(amounts, "CdtNoteAmt"), currency, foreign)
        if remitted is None:
            # a credit note taken reduces what is paid
            block_paid = -credit_note if credit_note is not None else None
            paid_dropped = note_dropped
        add("paid", block_paid, paid_dropped)
        add("due", *_in_currency(_find(amounts, "DuePyblAmt"), currency, foreign))
        add("discount", *_discount(amounts, currency, foreign))
        block_adjustment, reason, adjustment_dropped = _adjustment(amounts, currency, foreign)
        add("adjustment", block_adjustment, adjustment_dropped)
        if reason:
            reasons.append(reason)
    paid, due, discount, adjustment = (
        None if name in lost else value for name, value in totals.items()
    )
    return paid, due, discount, adjustment, ",".join(reasons) or None


def _plus(total: Decimal | None, value: Decimal | None) -> Decimal | None:
    if value is None:
        return total
    return value if total is None else total + value


def _in_currency(
    el: etree._Element | None, currency: str, foreign: list[BankFileError]
) -> tuple[Decimal | None, bool]:
    """An amount of the payer's remittance and whether it was left out: one in another
    currency than the credit's (the invoice's, or the payer's instructed currency of a
    converted payment) does not say what part of the cash credited is for the document, and
    is left out, its error added to ``foreign``. ``(None, False)`` when ``el`` is absent;
    raises :class:`BankFileError` for an amount that cannot be read."""
    if el is None:
        return None, False
    value = _decimal_at(el)
    stated = (el.get("Ccy") or "").strip().upper()
    if stated and stated != currency:
        foreign.append(
            BankFileError(
                f"{element_path(el)}, Ccy", f"an amount in {stated}, the credit is in {currency}"
            )
        )
        return None, True
    return value, False


def _discount(
    amounts: etree._Element | None, currency: str, foreign: list[BankFileError]
) -> tuple[Decimal | None, bool]:
    """``DscntApldAmt`` is an amount in old versions and ``{Tp, Amt}`` (repeatable) in newer;
    the sum and whether one was left out (see :func:`_in_currency`)."""
    total: Decimal | None = None
    dropped = False
    for el in _kids(amounts, "DscntApldAmt"):
        inner = _find(el, "Amt")
        value, left = _in_currency(inner if inner is not None else el, currency, foreign)
        dropped = dropped or left
        total = _plus(total, value)
    return total, dropped


def _adjustment(
    amounts: etree._Element | None, currency: str, foreign: list[BankFileError]
) -> tuple[Decimal | None, str | None, bool]:
    """Signed sum of ``AdjstmntAmtAndRsn`` (negative reduces the payment), the reasons of
    those kept and whether one was left out (see :func:`_in_currency`).

    An adjustment with ``CdtDbtInd`` CRDT adds to what is paid; DBIT or none is a deduction.
    """
    total: Decimal | None = None
    reasons: list[str] = []
    dropped = False
    for el in _kids(amounts, "AdjstmntAmtAndRsn"):
        amount_el = _find(el, "Amt")
        if amount_el is None:
            raise BankFileError(element_path(el), "adjustment without Amt")
        value, left = _in_currency(amount_el, currency, foreign)
        if value is None:
            dropped = dropped or left
            continue
        signed = value if (_text(el, "CdtDbtInd") or "").upper() == "CRDT" else -value
        total = _plus(total, signed)
        if _text(el, "Rsn"):
            reasons.append(_text(el, "Rsn") or "")
    return total, (",".join(reasons) or None), dropped


# creditor reference types whose reference is a number the creditor generated, written in
# blocks as printed on the bill: SCOR (ISO "structured communication reference": a Finnish
# viitenumero, a Norwegian KID, a Swedish OCR, a Belgian structured communication) and the
# Swiss QR-bill's QRR (27 digits, modulo-10 recursive check digit)
_NUMBERED_TYPES = frozenset({"SCOR", "QRR"})
# the Belgian structured communication as printed: +++090/9337/55493+++ (or *** ... ***)
_BELGIAN_OGM = re.compile(
    r"^(?:\+{3}|\*{3})?\s*(\d{3})\s*/\s*(\d{4})\s*/\s*(\d{5})\s*(?:\+{3}|\*{3})?$"
)


def _reference_type(strd: etree._Element) -> str:
    """A creditor reference's type (``Cd``, else ``Prtry``), upper-case; "" when untyped."""
    tp = _find(strd, "CdtrRefInf", "Tp", "CdOrPrtry")
    return (_text(tp, "Cd") or _text(tp, "Prtry") or "").upper()


def _national_reference(strd: etree._Element, reference: str) -> str:
    """A creditor reference that is no RF, as the creditor generated it: a reference of a
    numbered type (SCOR, QRR) or of digits only loses the blanks it was printed in blocks
    with (``21 00000 00003 ...``, ``12 34561``), a Belgian structured communication is its
    twelve digits; any other reference stays as written."""
    ogm = _BELGIAN_OGM.match(reference.strip())
    if ogm:
        return "".join(ogm.groups())
    compact = "".join(reference.split())
    if _reference_type(strd) in _NUMBERED_TYPES or compact.isdigit():
        return compact
    return reference


_QRR_TABLE = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)


def qrr_check_digit_holds(reference: str) -> bool:
    """Whether a Swiss QR reference (27 digits) ends in its modulo-10 recursive check digit."""
    if len(reference) != 27 or not reference.isdigit():
        return False
    carry = 0
    for digit in reference[:-1]:
        carry = _QRR_TABLE[(carry + int(digit)) % 10]
    return (10 - carry) % 10 == int(reference[-1])


def belgian_check_digits_hold(reference: str) -> bool:
    """Whether a Belgian structured communication (12 digits) ends in its modulo-97 check
    (the first ten digits modulo 97, 97 for 0)."""
    if len(reference) != 12 or not reference.isdigit():
        return False
    return (int(reference[:10]) % 97 or 97) == int(reference[10:])


def _reference_findings(tx: etree._Element | None) -> list[tuple[str, str]]:
    """(location, finding) for each creditor reference of a transaction whose check digits
    fail where its type gives them: a QR reference (QRR) not of 27 digits or failing its
    modulo-10 check, a Belgian structured communication failing its modulo-97 check. The
    reference is kept (it is what the payer sent); it may not be the creditor's."""
    found: list[tuple[str, str]] = []
    for strd in _kids(_find(tx, "RmtInf"), "Strd"):
        ref_el = _find(strd, "CdtrRefInf", "Ref")
        if ref_el is None or not (ref_el.text or "").strip():
            continue
        written = (ref_el.text or "").strip()
        reference = _national_reference(strd, written)
        if _reference_type(strd) == "QRR" and not qrr_check_digit_holds(reference):
            found.append(
                (
                    element_path(ref_el),
                    f"QR reference {written!r} is not 27 digits ending in its modulo-10 "
                    "check digit",
                )
            )
        elif _BELGIAN_OGM.match(written) and not belgian_check_digits_hold(reference):
            found.append(
                (
                    element_path(ref_el),
                    f"Belgian structured communication {written!r} fails its modulo-97 "
                    "check digits",
                )
            )
    return found
