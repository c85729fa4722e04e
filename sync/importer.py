"""``arsync import``: customers, invoices, credit memos and payments from CSV or JSON files.

The columns are documented in docs/import-format.md. Each file is the system ``import``:
its records get refs like any system's, so re-importing a file updates instead of
duplicating, and an imported invoice links to the same invoice synced from an ERP (document
number + customer). A bad row is rejected with its row number and column; the others land.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import ijson
from babel.numbers import get_currency_symbol
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import CustomerStatus, DocumentStatus, PaymentStatus
from canonical.ids import new_id
from canonical.keys import name_key
from canonical.lease import Held, lease
from canonical.models import Customer, ExternalRef
from canonical.money import Money, MoneyError, minor_digits, normalize_currency
from canonical.records import AppliedIn, CreditMemoIn, CustomerIn, InvoiceIn, PaymentIn, RecordIn
from canonical.store import Store
from canonical.terms import discount_fields
from canonical.types import utcnow
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, fit, iso_date
from sync.engine import SYNC_LEASE
from sync.pull import PageCounts, PageWriter
from sync.settings import SystemOfRecord

ImportKind = Literal["customers", "invoices", "credit-memos", "payments"]
SYSTEM = "import"
CHUNK = 1000
STREAMS: dict[str, str] = {
    "customers": "customers",
    "invoices": "invoices",
    "credit-memos": "credit_memos",
    "payments": "payments",
}


@dataclass
class ImportReport:
    """What an import did; ``errors`` name the row and the column."""

    path: str
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.path}: {self.rows} rows -> {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected"
        )


class RowError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        self.column = column
        super().__init__(f"column {column!r}: {reason}")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) from a CSV with a header, or a JSON list of objects, streamed.

    Row numbers are the spreadsheet's: the header is row 1 and a blank line is a row (it is
    skipped, as is a row of empty cells). A CSV's encoding (UTF-8 with or without BOM, UTF-16
    with BOM, else cp1252 as Excel saves "CSV") and delimiter (``,`` ``;`` tab ``|``, the one
    its header uses most) are found from the file. A JSON file is a list of objects, or an
    object holding one such list; its items are read one at a time. Column names are
    compared case-insensitively, blanks and dashes counting as ``_``."""
    encoding = _encoding(path)
    if path.suffix.lower() == ".json":
        yield from _json_rows(path, encoding)
        return
    with path.open(encoding=encoding, newline="") as handle:
        delimiter = _delimiter(handle.readline())
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = [_column(name) for name in next(reader)]
        except StopIteration:
            return
        index = 1
        while True:
            index += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the reader goes on with the next line
                yield index, {"__error__": ("(row)", f"cannot be read: {exc}")}
                continue
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a row Excel kept as ",,,"
            while len(cells) > len(header) and not cells[-1].strip():
                cells.pop()  # padding up to the widest row
            if len(cells) > len(header):
                hint = (
                    "an unquoted comma in an amount?"
                    if delimiter == ","
                    else f"an unquoted {delimiter!r} in a cell?"
                )
                reason = f"the row has {len(cells)} cells, the header {len(header)} ({hint})"
                yield index, {"__error__": (header[-1] if header else "(row)", reason)}
                continue
            split = _split_amount(header, cells) if delimiter == "," else None
            if split is not None:
                yield index, {"__error__": split}
                continue
            yield (
                index,
                {name: _unformula(cell) for name, cell in zip(header, cells, strict=False) if name},
            )


AMOUNT_COLUMNS = frozenset({"total", "balance", "amount"})
_THOUSANDS_HEAD = re.compile(r"[(\-\u2212]?\D{0,3}\d{1,3}")  # 1, $12, -123
_THOUSANDS_TAIL = re.compile(r"\d{3}(?:[.,]\d+)?\)?\s*\D{0,3}")  # 234.50, 000, 500.00)


def _split_amount(header: list[str], cells: list[str]) -> tuple[str, str] | None:
    """(column, reason) when an amount cell and the next cell read as one amount cut at an
    unquoted thousands comma (``1`` then ``234.50``): the row's cells are shifted whatever
    its length (a short row or a last cell left out hides it), so it is refused."""
    for position, name in enumerate(header[: len(cells) - 1]):
        head, tail = cells[position].strip(), cells[position + 1].strip()
        if (
            name in AMOUNT_COLUMNS
            and _THOUSANDS_HEAD.fullmatch(head)
            and _THOUSANDS_TAIL.fullmatch(tail)
        ):
            return name, (
                f"{head!r} then {tail!r} look like one amount cut at an unquoted comma "
                f"({head},{tail}): quote it or write it without the thousands comma"
            )
    return None


def _unformula(cell: str) -> str:
    """``="00123"`` (how ERP exports keep Excel from dropping leading zeros) is ``00123``."""
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        return cell[2:-1]
    return cell


def _column(name: Any) -> str:
    """A header or JSON key as the documented column name: ' Invoice Number ' ->
    'invoice_number', 'Customer-ID' -> 'customer_id'."""
    return _COLUMN_SEPARATORS.sub("_", str(name).strip().lstrip("\ufeff").lower()).strip("_")


_COLUMN_SEPARATORS = re.compile(r"[\s\-]+")


def _encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; else cp1252 (Excel's "CSV" on Western
    Windows), and latin-1 for the few bytes cp1252 leaves undefined. The file is checked in
    chunks, never held whole."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        for encoding in ("utf-8", "cp1252"):
            handle.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding
    return "latin-1"


def _delimiter(header_line: str) -> str:
    """The delimiter the header line uses most (a comma when it uses none)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


DELIMITERS = (",", ";", "\t", "|")
_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


def _json_rows(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(item number, item) of the JSON file's list, its keys as column names."""
    with path.open("rb") as raw:
        # ijson reads UTF-8 bytes; a file saved in another encoding is recoded on the way
        handle: Any = raw if encoding == "utf-8" else _Utf8(raw, encoding)
        try:
            for index, item in enumerate(_json_items(handle, path.name), start=1):
                if isinstance(item, dict):
                    yield index, {_column(k): v for k, v in item.items()}
                else:
                    yield index, {"__invalid__": item}
        except ijson.JSONError as exc:
            raise ValueError(f"{path.name}: not valid JSON: {exc}") from None


class _Utf8:
    """A binary file in another encoding (a BOM, UTF-16, cp1252) read as UTF-8 bytes."""

    def __init__(self, raw: Any, encoding: str) -> None:
        self.text = io.TextIOWrapper(raw, encoding=encoding, newline="")

    def read(self, size: int = -1) -> bytes:
        return self.text.read(size).encode("utf-8")


def _json_items(handle: Any, name: str) -> Iterator[Any]:
    """The items of a JSON list, or of the one list an object holds (an export's envelope,
    ``{"invoices": [...]}``), read one at a time; numbers are exact (Decimal)."""
    expected = f"{name}: expected a JSON list of objects (or an object holding one list)"
    events = ijson.parse(handle, use_float=False)
    _, first, _ = next(events, ("", None, None))
    if first not in _STARTS:
        raise ValueError(expected)
    lists = 0
    inside = first == "start_array"  # reading the list's items
    builder: ijson.ObjectBuilder | None = None
    depth = 0
    for prefix, event, value in events:
        if builder is not None:  # inside an item that is an object or a list
            builder.event(event, value)
            depth += (event in _STARTS) - (event in _ENDS)
            if depth == 0:
                yield builder.value
                builder = None
        elif inside:
            if event == "end_array" and prefix.count(".") == 0:
                inside = False
            elif event in _STARTS:
                builder, depth = ijson.ObjectBuilder(), 1
                builder.event(event, value)
            else:
                yield value  # an item that is a scalar (refused row by row)
        elif event == "start_array" and prefix and "." not in prefix:  # a member holding a list
            lists += 1
            if lists > 1:
                raise ValueError(f"{expected}: it holds more than one")
            inside = True
    if first == "start_map" and not lists:
        raise ValueError(expected)


def _text(row: dict[str, Any], column: str, required: bool = False) -> str | None:
    value = row.get(column)
    text = str(value).strip() if value is not None else ""
    if not text:
        if required:
            raise RowError(column, "is required")
        return None
    return text


_SIGNS = "+-\u2212"
_GROUPING = " \u00a0\u202f'\u2019"  # blanks (French, Nordic) and apostrophes (Swiss)
_SYMBOL_AT_START = re.compile(r"^[^\d\s.,+\-\u2212()]+")
_SYMBOL_AT_END = re.compile(r"[^\d\s.,+\-\u2212()]+$")
_BODY = re.compile(r"[\d.,' \u00a0\u202f\u2019]*")


def _amount(row: dict[str, Any], column: str, currency: str, required: bool = True) -> Money | None:
    """The cell as money in ``currency`` (it may be negative: callers decide).

    Text: ``1234.50``, ``1,234.50``, ``1.234,50``, ``1234,50``, ``1 234,50``, ``1'234.50``, a
    leading ``$``/``€``/ISO code or a trailing one, ``-12.00``, ``12.00-``, ``(12.00)``, and
    ``-`` alone for zero (Excel's accounting format). Never more decimals written than the
    currency has. A JSON number is exact (``parse_float=Decimal``): it may not be worth more
    than the currency's minor unit (``100.0`` JPY is 100)."""
    value = row.get(column)
    if isinstance(value, float):
        raise RowError(column, "must be a string or an exact number, not a float")
    if isinstance(value, bool):
        raise RowError(column, f"not an amount: {value!r}")
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
        if not number.is_finite():
            raise RowError(column, f"not an amount: {value}")
        try:
            return Money(number, currency, exact=True)
        except MoneyError as exc:
            raise RowError(column, str(exc)) from None
    raw = _text(row, column, required)
    if raw is None:
        return None
    number = _decimal(raw, currency, column)
    try:
        return Money(number, currency, exact=True)
    except MoneyError as exc:
        raise RowError(column, str(exc)) from None


def _decimal(raw: str, currency: str, column: str) -> Decimal:
    """An amount's text as a Decimal (see :func:`_amount`); RowError names the column."""

    def bad(reason: str = "") -> RowError:
        return RowError(column, reason or f"not an amount: {raw!r}")

    text = raw.strip()
    negative = signed = False
    if text.startswith("(") and text.endswith(")"):
        negative = signed = True
        text = text[1:-1]
    while True:  # peel signs and currency symbols off both ends, in any order
        text = text.strip()
        if text[:1] in _SIGNS and text:
            if signed:
                raise bad()
            negative, signed, text = text[0] != "+", True, text[1:]
        elif text[-1:] in "-\u2212" and text:
            if signed:
                raise bad()
            negative, signed, text = True, True, text[:-1]
        elif (found := _SYMBOL_AT_START.search(text) or _SYMBOL_AT_END.search(text)) is not None:
            symbol = found.group()
            if not _is_symbol_of(symbol, currency):
                if not any(c.isdigit() for c in raw):
                    raise bad()
                raise bad(f"{raw!r}: {symbol!r} is not the sign or code of {currency}")
            text = text[: found.start()] + text[found.end() :]
        else:
            break
    if not text:
        if signed and negative and "(" not in raw:
            return Decimal(0)  # "-" or "$ -": Excel's accounting format writes zero so
        raise bad()
    if not _BODY.fullmatch(text) or not any(c.isdigit() for c in text):
        raise bad()
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        point = "." if text.rfind(".") > text.rfind(",") else ","
        group = "," if point == "." else "."
    elif dots > 1 or commas > 1:
        point, group = "", "." if dots else ","
    else:
        point, group = ("." if dots else "," if commas else ""), ""
    whole, _, fraction = text.partition(point) if point else (text, "", "")
    if point and (point in fraction or not fraction.isdigit()):
        raise bad()
    groups = re.split(f"[{re.escape(group + _GROUPING)}]", whole)
    if len(groups) > 1:
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])) or not all(
            g.isdigit() for g in groups
        ):
            raise bad()
    elif whole and not whole.isdigit():
        raise bad()
    digits = minor_digits(currency)
    # a currency without minor units has no decimals to write: 1,234 and 1.234 JPY are a
    # thousand two hundred and thirty-four
    grouped_yen = digits == 0 and point != "" and len(groups) == 1 and len(fraction) == 3
    if grouped_yen and whole.isdigit() and 1 <= len(whole) <= 3 and whole != "0":
        groups, fraction, point = [whole, fraction], "", ""
    single_comma = point == "," and len(groups) == 1 and whole != "0"
    if single_comma and len(fraction) == 3 and 1 <= len(whole) <= 3:
        raise bad(
            f"{raw!r} is ambiguous (a thousands separator or a decimal comma?): "
            "write its decimals, as in 1,234.00 or 1.234,00"
        )
    if len(fraction) > digits:
        raise bad(f"{raw} has more decimals than {currency} allows")
    number = Decimal("".join(groups) + "." + fraction if fraction else "".join(groups) or "0")
    return -number if negative else number


def _is_symbol_of(symbol: str, currency: str) -> bool:
    """``$`` for USD (and CAD's ``CA$``), ``€`` for EUR, or the ISO code itself."""
    if symbol.upper() == currency:
        return True
    shown = get_currency_symbol(currency, locale="en")
    return symbol == shown or (len(symbol) == 1 and not symbol.isalpha() and symbol in shown)


_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
# 3/31/2026, 31/3/26, and Excel's "3/31/2026 0:00" or "3/31/2026 12:00 AM" (the time ignored)
_SLASHED = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?"
)
DateOrder = Literal["mdy", "dmy"]
_ORDER_NAMES: dict[str, str] = {"mdy": "month/day/year", "dmy": "day/month/year"}


def _date(row: dict[str, Any], column: str, order: DateOrder | None = None) -> Any:
    """``YYYY-MM-DD`` (a time after it is ignored) or ``DD.MM.YYYY`` (day first: the only
    order dotted dates are written in). A slash date is read in the file's ``order`` (the
    importer's ``--date-order``): ``01/02/2026`` is January in the US and February in Europe,
    so without one it is refused. A two-digit year is 2000-2068 or 1969-1999, as ``strptime``
    reads it."""
    raw = _text(row, column)
    if raw is not None and (slashed := _SLASHED.fullmatch(raw)) is not None:
        if order is None:
            raise RowError(
                column,
                f"{raw!r} is a slash date: say its order with --date-order mdy "
                "(month/day/year) or dmy (day/month/year), or write YYYY-MM-DD",
            )
        first, second, year_text = slashed.groups()
        month, day = (first, second) if order == "mdy" else (second, first)
        year = int(year_text)
        if len(year_text) == 2:
            year += 2000 if year < 69 else 1900
        try:
            return date(year, int(month), int(day))
        except ValueError:
            raise RowError(column, f"not a date in {_ORDER_NAMES[order]} order: {raw!r}") from None
    try:
        if raw is not None and (dotted := _DOTTED.fullmatch(raw)) is not None:
            day, month, year = (int(part) for part in dotted.groups())
            return date(year, month, day)
        return iso_date(raw)
    except ValueError:
        raise RowError(column, f"not a date (YYYY-MM-DD): {raw!r}") from None


_DATE_COLUMNS = ("issue_date", "due_date", "discount_until", "received_on")


def order_contradicted(path: Path, order: DateOrder) -> str | None:
    """Where the file's slash dates show they are not in ``order``: the first date that does
    not exist read that way but does the other way (``31/12/2026`` given ``mdy``). Dates that
    fit both orders cannot tell; one such row says the whole file was written the other way,
    and its other dates would be imported with day and month swapped."""
    other: DateOrder = "dmy" if order == "mdy" else "mdy"
    for number, row in read_rows(path):
        for column in _DATE_COLUMNS:
            value = row.get(column)
            if not isinstance(value, str) or (found := _SLASHED.fullmatch(value.strip())) is None:
                continue
            first, second, _ = (int(part) for part in found.groups())
            month, day = (first, second) if order == "mdy" else (second, first)
            if month > 12 and day <= 12:
                return (
                    f"row {number}: column {column!r}: {value.strip()!r} is "
                    f"{_ORDER_NAMES[other]}, so the file's slash dates are not in "
                    f"{_ORDER_NAMES[order]} order (--date-order {order}): nothing was imported"
                )
    return None


def _currency(row: dict[str, Any]) -> str:
    raw = _text(row, "currency", required=True) or ""
    try:
        return normalize_currency(raw)
    except MoneyError as exc:
        raise RowError("currency", str(exc)) from None


def _status(row: dict[str, Any], enum: Any, default: Any) -> Any:
    raw = _text(row, "status")
    if raw is None:
        return default
    try:
        return enum(raw.lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise RowError("status", f"{raw!r} is not one of {allowed}") from None


class Importer:
    """Turns rows into canonical records and stores them through the page writer."""

    def __init__(
        self, store: Store, kind: ImportKind, tenant: str, date_order: DateOrder | None = None
    ) -> None:
        self.store = store
        self.kind = kind
        self.tenant = tenant
        self.date_order = date_order
        self.customer_keys: dict[str, str] = {}  # "number:C-1" / "name:ACME" -> remote key
        self._imported: dict[str, set[str]] = {}  # canonical type -> imported remote ids
        self._customer_currency: dict[str, str | None] = {}  # import key -> its currency

    def customer_key(self, row: dict[str, Any]) -> str:
        """The import system's key of the row's customer: its id, or a link by number/name."""
        if (value := _text(row, "customer_id")) is not None:
            if value not in self.imported_customers():
                raise RowError(
                    "customer_id",
                    f"no imported customer {value!r} (import customers "
                    "first, or give customer_number or customer_name)",
                )
            return value
        for column in ("customer_number", "customer_name"):
            value = _text(row, column)
            if value is None:
                continue
            label = column.removeprefix("customer_")
            key = f"{label}:{value if label == 'number' else name_key(value)}"
            if key not in self.customer_keys:
                self._link_customer(column, value, key)
            return key
        raise RowError(
            "customer_id", "one of customer_id, customer_number or customer_name is required"
        )

    def currency(self, row: dict[str, Any], customer: str) -> str:
        """The row's currency, or (no currency column or cell) its customer's."""
        if _text(row, "currency") is not None:
            return _currency(row)
        if customer not in self._customer_currency:
            with self.store.session() as session:
                self._customer_currency[customer] = session.execute(
                    select(col(Customer.currency))
                    .join(ExternalRef, col(ExternalRef.canonical_id) == col(Customer.id))
                    .where(
                        col(ExternalRef.tenant) == self.tenant,
                        col(ExternalRef.system) == SYSTEM,
                        col(ExternalRef.canonical_type) == "customer",
                        col(ExternalRef.remote_id) == customer,
                    )
                ).scalar()
        found = self._customer_currency[customer]
        if not found:
            raise RowError("currency", f"is required (customer {customer!r} has no currency)")
        return normalize_currency(found)

    def imported_customers(self) -> set[str]:
        return self._imported_ids("customer")

    def _imported_ids(self, canonical_type: str) -> set[str]:
        """The import keys of the records of a type imported before (read once)."""
        if canonical_type not in self._imported:
            with self.store.session() as session:
                self._imported[canonical_type] = set(
                    session.execute(
                        select(col(ExternalRef.remote_id)).where(
                            col(ExternalRef.tenant) == self.tenant,
                            col(ExternalRef.system) == SYSTEM,
                            col(ExternalRef.canonical_type) == canonical_type,
                            col(ExternalRef.deleted).is_(False),
                        )
                    ).scalars()
                )
        return self._imported[canonical_type]

    def _link_customer(self, column: str, value: str, key: str) -> None:
        with self.store.session() as session:
            query = select(col(Customer.id)).where(col(Customer.tenant) == self.tenant)
            query = (
                query.where(col(Customer.number) == value)
                if column == "customer_number"
                else query.where(col(Customer.name_key) == name_key(value))
            )
            found = list(session.execute(query).scalars())
            if len(found) != 1:
                reason = "no customer" if not found else f"{len(found)} customers"
                raise RowError(
                    column, f"{reason} with {column.removeprefix('customer_')} {value!r}"
                )
            exists = session.execute(
                select(col(ExternalRef.id)).where(
                    col(ExternalRef.tenant) == self.tenant,
                    col(ExternalRef.system) == SYSTEM,
                    col(ExternalRef.canonical_type) == "customer",
                    col(ExternalRef.remote_id) == key,
                )
            ).first()
            if exists is None:
                session.add(
                    ExternalRef(
                        id=new_id(),
                        tenant=self.tenant,
                        canonical_type="customer",
                        canonical_id=found[0],
                        system=SYSTEM,
                        object_type="customer",
                        remote_id=key,
                        hash="",
                        link_rule=f"import:{column}",
                        seen_at=utcnow(),
                    )
                )
        self.customer_keys[key] = found[0]

    def record(self, row: dict[str, Any]) -> tuple[str, RecordIn]:
        """(remote key, canonical record) for one row; RowError names the column."""
        if "__invalid__" in row:
            raise RowError("(row)", "is not an object")
        if "__error__" in row:
            raise RowError(*row["__error__"])
        common: dict[str, Any] = {"system": SYSTEM, "object_type": self.kind}
        if self.kind == "customers":
            key = _text(row, "customer_id", required=True) or ""
            currency = _text(row, "currency")
            return key, CustomerIn(
                **common,
                remote_id=key,
                name=_text(row, "name", required=True) or "",
                number=_text(row, "number"),
                email=_text(row, "email"),
                currency=_currency(row) if currency else None,
                tax_id=_text(row, "tax_id"),
                status=_status(row, CustomerStatus, CustomerStatus.ACTIVE),
            )
        customer = self.customer_key(row)
        currency = self.currency(row, customer)
        if self.kind in ("invoices", "credit-memos"):
            column = "invoice_number" if self.kind == "invoices" else "credit_memo_number"
            number = _text(row, column, required=True) or ""
            total = _amount(row, "total", currency)
            given = _amount(row, "balance", currency, required=False)
            balance = total if given is None else given
            assert total is not None and balance is not None
            if self.kind == "credit-memos" and total.amount < 0:
                # credits exported with a minus ("(1,234.56)", "250.00-"): the credit's size
                total, balance = -total, -balance
            for name, money in (("total", total), ("balance", balance)):
                if money.amount < 0:
                    what = "an invoice" if self.kind == "invoices" else "a credit memo"
                    raise RowError(
                        name, f"{_text(row, name)} is negative ({what}'s amounts cannot be)"
                    )
            if balance.amount > total.amount:
                raise RowError("balance", f"{balance} is more than the total {total}")
            default = DocumentStatus.PAID if balance.is_zero() else DocumentStatus.OPEN
            fields = dict(
                common,
                remote_id=f"{customer}/{number}",
                customer_remote_id=customer,
                number=number,
                total=total,
                balance=balance,
                issue_date=_date(row, "issue_date", self.date_order),
                status=_status(row, DocumentStatus, default),
                memo=_text(row, "memo"),
            )
            if self.kind == "invoices":
                terms = _text(row, "terms")
                discount = discount_fields(
                    terms, fields["issue_date"], _date(row, "discount_until", self.date_order)
                )
                if _text(row, "discount_until") and not discount["discount_basis_points"]:
                    raise RowError(
                        "terms", f"{terms or ''!r} names no early-payment discount (2/10 net 30)"
                    )
                return fields["remote_id"], InvoiceIn(
                    **fields,
                    **discount,
                    due_date=_date(row, "due_date", self.date_order),
                    po_number=_text(row, "po_number"),
                )
            return fields["remote_id"], CreditMemoIn(**fields, reference=_text(row, "reference"))
        key = _text(row, "payment_id", required=True) or ""
        amount = _amount(row, "amount", currency)
        assert amount is not None
        if amount.amount < 0:
            raise RowError(
                "amount", f"{_text(row, 'amount')} is negative (a refund is not a payment)"
            )
        applied = []
        for part in (_text(row, "applied_to") or "").split(";"):
            if not part.strip():
                continue
            number, _, value = part.rpartition(":")
            if not number:
                raise RowError("applied_to", f"{part!r} is not INVOICE:AMOUNT")
            share = _amount({"applied_to": value}, "applied_to", currency)
            assert share is not None
            if share.amount <= 0:
                raise RowError("applied_to", f"{part.strip()!r}: the amount must be positive")
            target = f"{customer}/{number.strip()}"
            if target not in self._imported_ids("invoice"):
                # its cash would be neither applied nor unapplied: the row is refused whole
                raise RowError(
                    "applied_to",
                    f"no imported invoice {number.strip()!r} of this customer (import it first)",
                )
            applied.append(AppliedIn(target="invoice", target_remote_id=target, amount=share))
        spent = sum((a.amount.amount for a in applied), Decimal(0))
        if spent > amount.amount:
            raise RowError(
                "applied_to",
                f"applies {Money(spent, currency)}, more than the payment's {amount}",
            )
        return key, PaymentIn(
            **common,
            remote_id=key,
            customer_remote_id=customer,
            amount=amount,
            received_on=_date(row, "received_on", self.date_order),
            method=_text(row, "method"),
            reference=_text(row, "reference"),
            memo=_text(row, "memo"),
            status=_status(row, PaymentStatus, PaymentStatus.POSTED),
            applied=applied,
        )


def import_file(
    store: Store,
    kind: ImportKind,
    path: Path,
    tenant: str = "default",
    date_order: DateOrder | None = None,
) -> ImportReport:
    """Import one CSV or JSON file of ``kind``; bad rows are reported, good rows stored.
    ``date_order`` says how the file's slash dates read (none: they are refused).

    Records are linked as a sync links them, so an import holds the sync lease: while a sync
    runs it raises :class:`~canonical.lease.LeaseHeld` and stores nothing."""
    if kind not in STREAMS:
        raise ValueError(f"unknown import kind {kind!r}: {', '.join(STREAMS)}")
    with lease(store, tenant, SYNC_LEASE) as held:
        return _import_file(store, kind, path, tenant, held, date_order)


def _import_file(
    store: Store,
    kind: ImportKind,
    path: Path,
    tenant: str,
    held: Held,
    date_order: DateOrder | None,
) -> ImportReport:
    report = ImportReport(path=str(path), kind=kind)
    importer = Importer(store, kind, tenant, date_order)
    mapped: dict[str, RecordIn] = {}
    writer = PageWriter(
        tenant=tenant,
        system=SYSTEM,
        stream=STREAMS[kind],
        mapper=lambda raw, _ctx: mapped[raw.remote_id],
        context=MappingContext(system=SYSTEM),
        system_of_record=SystemOfRecord(),
    )
    page: list[RawRecord] = []
    seen: dict[str, int] = {}  # key -> the row it came in: a duplicate in any chunk is one

    def flush() -> None:
        if not page:
            return
        batch = page[:]
        page.clear()  # a page that fails to write is not written again by the error handler
        try:
            with store.session() as session:
                held.renew(session)
                counts: PageCounts = writer.write(session, batch)
        finally:
            mapped.clear()
        report.created += counts.created
        report.updated += counts.updated
        report.unchanged += counts.unchanged

    try:
        if date_order is not None and (wrong := order_contradicted(path, date_order)):
            report.errors.append(f"{path.name}: {wrong}")
            return report
        rows = read_rows(path)
        for number, row in rows:
            report.rows += 1
            try:
                key, record = importer.record(row)
                record = fit(record)  # as a sync's mappings do: no backend refuses it
            except (RowError, MappingError, MoneyError) as exc:
                report.rejected += 1
                report.errors.append(f"{path.name}: row {number}: {exc}")
                continue
            if key in seen:
                report.rejected += 1
                report.errors.append(
                    f"{path.name}: row {number}: duplicate key {key!r} in the file "
                    f"(first in row {seen[key]})"
                )
                continue
            seen[key] = number
            mapped[key] = record
            payload = json.loads(record.model_dump_json())
            page.append(
                RawRecord(stream=STREAMS[kind], object_type=kind, remote_id=key, payload=payload)
            )
            if len(page) >= CHUNK:
                flush()
        flush()
    except (OSError, ValueError, csv.Error) as exc:
        flush()  # the rows read before the file broke are stored, not dropped with the chunk
        message = str(exc)
        report.errors.append(
            message if message.startswith(path.name) else f"{path.name}: {message}"
        )
    return report
