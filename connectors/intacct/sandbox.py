"""A local Intacct company speaking the XML gateway's wire format.

Endpoint: ``POST /ia/xml/xmlgw.phtml`` (``Content-Type: application/xml``) and the API
endpoint ``getAPISession`` hands out, ``/ia/xml/api/xmlgw.phtml`` (same server, different
path, as Intacct's regional endpoints are). Both take::

    <request>
      <control><senderid/><password/><controlid/><uniqueid/><dtdversion>3.0</dtdversion>
      </control>
      <operation><authentication>(<login><userid/><companyid/><password/></login>
                                  | <sessionid/>)</authentication>
        <content><function controlid="..">...</function>...</content></operation>
    </request>

Functions: ``getAPISession`` -> ``<data><api><sessionid/><endpoint/></api></data>`` (a new
session after a login; the current one when called with a session id);
``readByQuery{object, fields, query, pagesize 1..1000}`` and ``readMore{resultId}`` ->
``<data listtype count totalcount numremaining resultId>`` with one ``<OBJECT>`` element
per record, in RECORDNO order. Objects: CUSTOMER, ARINVOICE, ARADJUSTMENT, ARPYMT,
ARPYMTDETAIL and AUDITHISTORY (``OBJECTTYPE``, ``OBJECTKEY``, ``ACCESSMODE`` 'D' for a
delete, ``ACCESSTIME``). Queries: conditions joined by AND, each ``FIELD op 'value'``
(``= != > >= < <=``) or ``FIELD IN (v, ...)``; WHENMODIFIED and ACCESSTIME are company-local
``MM/DD/YYYY HH:MM:SS``. Dates are ``MM/DD/YYYY``.

Errors (HTTP 200 unless a fault is injected) are ``<errormessage><error><errorno/>
<description/><description2/><correction/></error></errormessage>`` with
``<status>failure</status>`` at its level: control (``XL03000006`` wrong sender),
authentication (``XL03000010`` wrong login, ``XL03000009`` invalid or expired session) or
result (``XL03000003`` bad query, ``XL03000007`` unknown resultId). A sender missing from
``authorized_senders`` (the company's Web Services authorizations) gets the authentication
failure Intacct's FAQ shows: ``XL03000006`` "Invalid Web Services Authorization". Injected
429/5xx use a control-level envelope with that HTTP status (429 with Retry-After).

``uniqueid`` (default true) makes each *function's* ``controlid`` single-use once it has run
to completion: a repeat fails only that function, ``XL03000009`` "A successful transaction
has already been recorded with the control id ..."; the request's ``<controlid>`` is not
checked. Writes: ``create`` of ARPYMT, legacy ``create_aradjustment`` (answers ``<key>``,
elements in DTD order), ``apply_arpayment`` and ``reverse_arpayment`` (the payment stays,
STATE Reversed, its applications undone); there is no generic create of ARADJUSTMENT.

Amounts: ``TRX_*`` in the document currency, plain ``TOTAL*`` in the base currency (USD)
at a fixed rate per currency. AR adjustments are credit memos (negative totals) or debit
memos (positive totals: late fees, freight, price corrections owed on top of an invoice); a
``Reversal`` entry carries the opposite sign of the document it reverses. A few debit memos
are seeded from the world (one paid by a payment detail naming it in ``POSADJKEY``, as
ARPYMTDETAIL documents it, one reversed with its Reversal entry); they belong to the
``invoices`` stream (``remote_ids``, ``touch``, ``remove``, ``void``, ``corrupt``), the other
adjustments to ``credit_memos``. All AR records (ARINVOICE, ARADJUSTMENT, ARPYMT) take their
RECORDNO from one sequence, as Intacct's AR record table does.
"""

from __future__ import annotations

import random
import re
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from pydantic import SecretStr
from werkzeug.wrappers import Request, Response

from connectors.intacct import sandbox_writes
from connectors.intacct.config import IntacctConfig
from connectors.intacct.errors import LOGIN_ERRNO, SENDER_ERRNO, SESSION_ERRNO
from connectors.intacct.xmlwire import (
    Element,
    Payload,
    from_dict,
    parse,
    parse_timestamp,
    render_date,
    render_timestamp,
    sub,
)
from connectors.sandbox.server import Faults, SandboxServer
from connectors.sandbox.world import (
    WCreditMemo,
    WCustomer,
    WInvoice,
    World,
    WPayment,
    name_variant,
)

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
API_PATH = "/ia/xml/api/xmlgw.phtml"
COMPANY_TZ = "America/Los_Angeles"
BASE_CURRENCY = "USD"
RATES = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CAD": Decimal("0.74"),
}
STREAM_OBJECT = {
    "customers": "CUSTOMER",
    "invoices": "ARINVOICE",
    "credit_memos": "ARADJUSTMENT",
    "payments": "ARPYMT",
}
AUDIT_TYPE = {
    "CUSTOMER": "customer",
    "ARINVOICE": "arinvoice",
    "ARADJUSTMENT": "aradjustment",
    "ARPYMT": "arpayment",
}
DETAIL = "ARPYMTDETAIL"
AUDIT = "AUDITHISTORY"
ADJUSTMENT = "ARADJUSTMENT"
REVERSAL = "Reversal"
DEBIT_MEMO_REASONS = (
    ("Late payment fee on", Decimal("0.015")),
    ("Freight not charged on", Decimal("0.04")),
    ("Price correction on", Decimal("0.08")),
)
TIMESTAMP_FIELDS = ("WHENMODIFIED", "ACCESSTIME")
METHODS = {
    "check": "Printed Check",
    "ach": "Online ACH Debit",
    "wire": "EFT",
    "card": "Credit Card",
}
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MALFORMED_AMOUNT = "1O0.00"  # a letter O: not a number
BAD_QUERY = "XL03000003"
DUPLICATE_ERRNO = "XL03000009"  # "A successful transaction has already been recorded ..."
UNKNOWN_RESULT = "XL03000007"
WRITE_FUNCTIONS = ("create", "apply_arpayment", "create_aradjustment", "reverse_arpayment")
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])"
    r"|(?P<op>>=|<=|!=|=|>|<)|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w.]*))"
)
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
KEYWORDS = ("AND", "OR", "NOT", "IN")


@dataclass(frozen=True)
class Condition:
    """``FIELD op 'value'`` or ``FIELD [NOT] IN (v, ...)``."""

    field: str
    op: str  # = != > >= < <= IN NOT IN
    values: tuple[str, ...]


@dataclass(frozen=True)
class Junction:
    """Parts joined by AND or OR; ``NOT`` is a junction of one part."""

    op: str  # AND | OR | NOT
    parts: tuple[Condition | Junction, ...]


Query = Condition | Junction
MATCH_ALL = Junction("AND", ())


class QueryError(ValueError):
    """A readByQuery query the sandbox (like Intacct) cannot run."""


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def is_debit_memo(row: Payload) -> bool:
    """An ARADJUSTMENT that raises what the customer owes: the sign is the type, and a
    Reversal entry has the opposite sign of the document it reverses."""
    try:
        sign = Decimal(str(row.get("TOTALENTERED") or "0"))
    except ArithmeticError:
        return False
    return (-sign if row.get("STATE") == REVERSAL else sign) > 0


def parse_query(query: str) -> Query:
    """A readByQuery query as Intacct documents it: conditions ``FIELD op 'value'`` (``= !=
    > >= < <=``) or ``FIELD [NOT] IN (v, ...)``, combined with AND and OR (AND binds
    tighter), grouped with parentheses and negated with a NOT prefix. Empty matches all."""
    if not query.strip():
        return MATCH_ALL
    parser = _Parser(query)
    tree = parser.disjunction()
    if parser.peek() is not None:
        raise QueryError(f"cannot parse condition at {parser.rest()!r}")
    return tree


class _Parser:
    """Recursive descent over the tokens of one query."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, offset)
        position = 0
        while text[position:].strip():
            match = _TOKEN.match(text, position)
            if match is None or not match.lastgroup:
                raise QueryError(f"cannot parse condition at {text[position:].strip()!r}")
            kind = match.lastgroup
            self.tokens.append((kind, match.group(kind), match.start(kind)))
            position = match.end()
        self.index = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def rest(self) -> str:
        token = self.peek()
        return self.text[token[2] :].strip() if token else ""

    def keyword(self, *words: str) -> bool:
        ahead = self.tokens[self.index : self.index + len(words)]
        if len(ahead) == len(words) and all(
            kind == "word" and text.upper() == word
            for (kind, text, _), word in zip(ahead, words, strict=True)
        ):
            self.index += len(words)
            return True
        return False

    def punct(self, char: str) -> bool:
        token = self.peek()
        if token and token[0] == "punct" and token[1] == char:
            self.index += 1
            return True
        return False

    def disjunction(self) -> Query:
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Junction("OR", tuple(parts))

    def conjunction(self) -> Query:
        parts = [self.factor()]
        while self.keyword("AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else Junction("AND", tuple(parts))

    def factor(self) -> Query:
        if self.keyword("NOT"):
            return Junction("NOT", (self.factor(),))
        if self.punct("("):
            inner = self.disjunction()
            if not self.punct(")"):
                raise QueryError(f"cannot parse condition: ')' expected at {self.rest()!r}")
            return inner
        return self.condition()

    def condition(self) -> Condition:
        at = self.rest()
        token = self.peek()
        if token is None or token[0] != "word" or token[1].upper() in KEYWORDS:
            raise QueryError(f"cannot parse condition {at!r}")
        self.index += 1
        name = token[1].upper()
        negated = self.keyword("NOT", "IN")
        if negated or self.keyword("IN"):
            if not self.punct("("):
                raise QueryError(f"IN needs a parenthesised list: {at!r}")
            values = [self.literal(at)]
            while self.punct(","):
                values.append(self.literal(at))
            if not self.punct(")"):
                raise QueryError(f"IN needs a parenthesised list: {at!r}")
            return Condition(name, "NOT IN" if negated else "IN", tuple(values))
        token = self.peek()
        if token is None or token[0] != "op":
            raise QueryError(f"cannot parse condition {at!r}")
        self.index += 1
        return Condition(name, token[1], (self.literal(at),))

    def literal(self, at: str) -> str:
        token = self.peek()
        if token is None or token[0] not in ("str", "num"):
            raise QueryError(f"not a literal in {at!r}")
        self.index += 1
        if token[0] == "str":
            return re.sub(r"\\(.)", r"\1", token[1][1:-1])
        return token[1]


class IntacctSandbox(SandboxServer):
    """One Intacct company rendering the shared world; see the module docstring."""

    system = "intacct"

    def __init__(
        self,
        world: World | None = None,
        faults: Faults | None = None,
        *,
        company_id: str = "ARSYNC-SANDBOX",
        timezone: str = COMPANY_TZ,
    ) -> None:
        self.company_id = company_id
        self.zone = ZoneInfo(timezone)
        self.sender_id = "arsync_sandbox"
        self.sender_password = secrets.token_urlsafe(18)
        self.user_id = "xml_gateway"
        # the company's Web Services authorizations list; remove the sender to see Intacct's
        # "Invalid Web Services Authorization" (authentication block, XL03000006)
        self.authorized_senders: set[str] = {self.sender_id}
        self.user_password = secrets.token_urlsafe(18)
        self.records: dict[str, dict[str, Payload]] = {obj: {} for obj in AUDIT_TYPE}
        self.stamps: dict[str, dict[str, datetime]] = {obj: {} for obj in AUDIT_TYPE}
        self.details: dict[str, Payload] = {}  # ARPYMTDETAIL RECORDNO -> row
        self.audit: list[tuple[datetime, Payload]] = []
        self.result_sets: dict[str, tuple[str, list[Payload], int, int]] = {}
        self.processed_controls: set[str] = set()  # function controlids run (uniqueid true)
        self.session_paths: list[str] = []  # request path of every session-authenticated call
        self._next_record = 1
        self._next_customer = 1
        self._next_detail = 1
        self._next_audit = 1
        super().__init__(world, faults)
        self._seed()

    # configuration for a connector ---------------------------------------------------------
    def config(self) -> IntacctConfig:
        """A connector config pointing at this sandbox's gateway, with valid credentials."""
        return IntacctConfig(
            sender_id=self.sender_id,
            sender_password=SecretStr(self.sender_password),
            company_id=self.company_id,
            user_id=self.user_id,
            user_password=SecretStr(self.user_password),
            endpoint_url=self.base_url + GATEWAY_PATH,
            company_timezone=str(self.zone),
            deposit_account="BOA-CHECKING",
            write_off_account="4900",
        )

    def initial_tokens(self) -> dict[str, str]:
        """Nothing: the connector opens its API session by logging in."""
        return {}

    # seeding -------------------------------------------------------------------------------
    def take_record_no(self) -> str:
        value = self._next_record
        self._next_record += 1
        return str(value)

    def put(self, obj: str, key: str, row: Payload, stamp: datetime) -> None:
        self.records[obj][key] = row
        self.stamps[obj][key] = stamp.astimezone(UTC).replace(microsecond=0)

    def _seed(self) -> None:
        world = self.world
        self.customer_ids: dict[int, str] = {}
        self.invoice_ids: dict[int, str] = {}
        self.memo_ids: dict[int, str] = {}
        for customer in world.customers:
            row = self._customer(customer)
            self.put("CUSTOMER", row["CUSTOMERID"], row, customer.modified_at)
        for invoice in world.invoices:
            row = self._invoice(invoice)
            self.put("ARINVOICE", row["RECORDNO"], row, invoice.modified_at)
        for memo in world.credit_memos:
            row = self._credit_memo(memo)
            self.put("ARADJUSTMENT", row["RECORDNO"], row, memo.modified_at)
        for payment in world.payments:
            row = self._payment(payment)
            self.put("ARPYMT", row["RECORDNO"], row, payment.modified_at)
        self._next_number = world.next_invoice_number()
        self._next_memo_number = world.next_memo_number()
        self._seed_debit_memos()

    def _seed_debit_memos(self) -> None:
        """A few debit memos drawn from the world's invoices (about one per 50), always the
        same for a world, each settled: paid by a payment detail naming it in ``POSADJKEY``
        (the second in two payments) or, the third, reversed with its Reversal entry. None is
        left open: the other sandboxes do not hold them, so cash arsync applied to one could
        not be written back to those systems."""
        world = self.world
        if not world.invoices:
            return
        rng = random.Random(world.seed * 7919 + 17)
        today = self.now().astimezone(self.zone).date()
        count = max(3, len(world.invoices) // 50)
        for index, invoice in enumerate(
            rng.sample(world.invoices, k=min(count, len(world.invoices)))
        ):
            reason, rate = DEBIT_MEMO_REASONS[index % len(DEBIT_MEMO_REASONS)]
            total = max((invoice.total * rate).quantize(CENT), Decimal("5.00"))
            issued = min(invoice.due_date + timedelta(days=rng.randrange(1, 20)), today)
            stamp = invoice.modified_at
            key = self.take_record_no()
            row: Payload = {
                "RECORDNO": key,
                # its own number series: not to be taken for an invoice number elsewhere
                "RECORDID": f"DM-{self._next_memo_number}",
                "CUSTOMERID": self.customer_ids[invoice.customer_key],
                "DOCNUMBER": f"INV{invoice.number}",
                "DESCRIPTION": f"{reason} INV{invoice.number}",
                "WHENCREATED": render_date(issued),
                "WHENDUE": render_date(issued + timedelta(days=15)),
                "STATE": "Posted",
                "CURRENCY": invoice.currency,
                "BASECURR": BASE_CURRENCY,
            }
            self._next_memo_number += 1
            paid = ZERO if index == 2 else total
            row.update(
                self._amounts("TOTAL", invoice.currency, ENTERED=total, PAID=paid, DUE=total - paid)
            )
            row["STATE"] = self._state(total, total - paid)
            self.put(ADJUSTMENT, key, row, stamp)
            if index == 1:  # paid in two parts
                first = (total / 2).quantize(CENT)
                self._debit_memo_payment(row, first, stamp)
                self._debit_memo_payment(row, total - first, stamp)
            elif paid:
                self._debit_memo_payment(row, paid, stamp)
            if index == 2:
                self._reverse_debit_memo(row, stamp)

    def _debit_memo_payment(self, memo: Payload, amount: Decimal, stamp: datetime) -> None:
        record_no = self.take_record_no()
        when = memo["WHENCREATED"]  # paid on receipt
        row: Payload = {
            "RECORDNO": record_no,
            "CUSTOMERID": memo["CUSTOMERID"],
            "PAYMENTMETHOD": METHODS["ach"],
            "DOCNUMBER": f"ACH{record_no}",
            "DESCRIPTION": "",
            "PAYMENTDATE": when,
            "RECEIPTDATE": when,
            "STATE": "Posted",
            "CURRENCY": memo["CURRENCY"],
            "BASECURR": BASE_CURRENCY,
        }
        row.update(self._amounts("TOTAL", memo["CURRENCY"], ENTERED=amount, PAID=amount))
        self._detail(
            record_no,
            "",
            memo["CURRENCY"],
            cash=amount,
            adjustment_key=None,
            adjustment=ZERO,
            when=when,
            debit_memo_key=memo["RECORDNO"],
        )
        self.put("ARPYMT", record_no, row, stamp)

    def _reverse_debit_memo(self, memo: Payload, stamp: datetime) -> None:
        """Reverse a debit memo as Intacct does: it stays, Reversed, and a Reversal entry of
        the opposite sign cancels it."""
        total = Decimal(memo["TRX_TOTALENTERED"])
        memo["STATE"] = "Reversed"
        memo.update(self._amounts("TOTAL", memo["CURRENCY"], ENTERED=total, PAID=ZERO, DUE=ZERO))
        key = self.take_record_no()
        entry: Payload = {
            **{k: v for k, v in memo.items() if not k.startswith(("TRX_TOTAL", "TOTAL"))},
            "RECORDNO": key,
            "DESCRIPTION": f"Reversal of {memo['RECORDID']}",
            "STATE": REVERSAL,
        }
        entry.update(self._amounts("TOTAL", memo["CURRENCY"], ENTERED=-total, PAID=ZERO, DUE=ZERO))
        self.put(ADJUSTMENT, key, entry, stamp)

    def _amounts(self, prefix: str, currency: str, **values: Decimal) -> Payload:
        """TRX_<X> in the document currency and <X> in the base currency, for each value."""
        rate = RATES.get(currency, Decimal(1))
        out: Payload = {}
        for name, value in values.items():
            out[f"TRX_{prefix}{name}"] = money(value)
            out[f"{prefix}{name}"] = money(value * rate)
        return out

    def _customer(self, customer: WCustomer) -> Payload:
        self._next_customer += 1
        self.customer_ids[customer.key] = customer.number
        name = name_variant(customer.name, 3)
        return {
            "RECORDNO": str(customer.key),
            "CUSTOMERID": customer.number,
            "NAME": name,
            "STATUS": "active",
            "ONHOLD": "false",
            "CURRENCY": customer.currency,
            "TERMNAME": f"Net {customer.terms_days}",
            "DISPLAYCONTACT": {
                "CONTACTNAME": f"{name} ({customer.number})",
                "COMPANYNAME": name,
                "PRINTAS": name,
                "EMAIL1": customer.email,
            },
            "WHENCREATED": render_date((customer.modified_at - timedelta(days=30)).date()),
        }

    def _state(self, total: Decimal, due: Decimal) -> str:
        if due == 0:
            return "Paid"
        return "Posted" if due == total else "Partially Paid"

    def _invoice(self, invoice: WInvoice) -> Payload:
        record_no = self.take_record_no()
        self.invoice_ids[invoice.key] = record_no
        void = invoice.status == "void"
        due = ZERO if void else invoice.balance
        rate = RATES.get(invoice.currency, Decimal(1))
        row: Payload = {
            "RECORDNO": record_no,
            "RECORDID": f"INV{invoice.number}",
            "CUSTOMERID": self.customer_ids[invoice.customer_key],
            "CUSTOMERNAME": name_variant(self.world.customer(invoice.customer_key).name, 3),
            "DOCNUMBER": invoice.po_number or "",
            "DESCRIPTION": "",
            "WHENCREATED": render_date(invoice.issue_date),
            "WHENPOSTED": render_date(invoice.issue_date),
            "WHENDUE": render_date(invoice.due_date),
            "STATE": "Reversed" if void else self._state(invoice.total, due),
            "CURRENCY": invoice.currency,
            "BASECURR": BASE_CURRENCY,
            "EXCHANGE_RATE": str(rate),
        }
        row.update(
            self._amounts(
                "TOTAL", invoice.currency, ENTERED=invoice.total, PAID=invoice.total - due, DUE=due
            )
        )
        return row

    def _credit_memo(self, memo: WCreditMemo) -> Payload:
        record_no = self.take_record_no()
        self.memo_ids[memo.key] = record_no
        row: Payload = {
            "RECORDNO": record_no,
            "RECORDID": f"ADJ{memo.number}",
            "CUSTOMERID": self.customer_ids[memo.customer_key],
            "DOCNUMBER": memo.reference or "",
            "DESCRIPTION": "Credit for services",
            "WHENCREATED": render_date(memo.issue_date),
            "STATE": self._state(memo.total, memo.balance),
            "CURRENCY": memo.currency,
            "BASECURR": BASE_CURRENCY,
        }
        row.update(
            self._amounts(
                "TOTAL",
                memo.currency,
                ENTERED=-memo.total,
                PAID=-(memo.total - memo.balance),
                DUE=-memo.balance,
            )
        )
        return row

    def _payment(self, payment: WPayment) -> Payload:
        record_no = self.take_record_no()
        row: Payload = {
            "RECORDNO": record_no,
            "CUSTOMERID": self.customer_ids[payment.customer_key],
            "PAYMENTMETHOD": METHODS.get(payment.method, ""),
            "DOCNUMBER": payment.reference,
            "DESCRIPTION": "",
            "PAYMENTDATE": render_date(payment.received_on),
            "RECEIPTDATE": render_date(payment.received_on),
            "STATE": "Posted",
            "CURRENCY": payment.currency,
            "BASECURR": BASE_CURRENCY,
        }
        row.update(
            self._amounts(
                "TOTAL",
                payment.currency,
                ENTERED=payment.amount,
                PAID=payment.amount - payment.unapplied,
            )
        )
        for application in payment.applications:
            credit = application.credit_memo_key
            self._detail(
                record_no,
                self.invoice_ids[application.invoice_key],
                payment.currency,
                cash=ZERO if credit is not None else application.amount,
                adjustment_key=self.memo_ids[credit] if credit is not None else None,
                adjustment=application.amount if credit is not None else ZERO,
                when=row["PAYMENTDATE"],
            )
        return row

    def _detail(
        self,
        payment_key: str,
        invoice_key: str,
        currency: str,
        *,
        cash: Decimal,
        adjustment_key: str | None,
        adjustment: Decimal,
        when: str,
        debit_memo_key: str | None = None,
    ) -> None:
        """One ARPYMTDETAIL: it pays the invoice ``RECORDKEY`` or the debit memo
        ``POSADJKEY``, never both, with cash and/or the credit ``ADJUSTMENTKEY``."""
        detail_no = str(self._next_detail)
        self._next_detail += 1
        row: Payload = {
            "RECORDNO": detail_no,
            "PAYMENTKEY": payment_key,
            "RECORDKEY": "" if debit_memo_key else invoice_key,
            "POSADJKEY": debit_memo_key or "",
            "ADJUSTMENTKEY": adjustment_key or "",
            "PAYMENTDATE": when,
            "CURRENCY": currency,
        }
        row.update(self._amounts("", currency, PAYMENTAMOUNT=cash, ADJUSTMENTAMOUNT=adjustment))
        self.details[detail_no] = row

    # changes -------------------------------------------------------------------------------
    def stamp_now(self) -> datetime:
        return self.now().astimezone(UTC).replace(microsecond=0)

    def _object(self, stream: str) -> str:
        try:
            return STREAM_OBJECT[stream]
        except KeyError:
            raise KeyError(f"intacct sandbox has no stream {stream!r}") from None

    def stream_of(self, obj: str, row: Payload) -> str:
        """The stream a record belongs to: an adjustment's sign says credit or debit memo."""
        if obj == ADJUSTMENT and is_debit_memo(row):
            return "invoices"
        return next(s for s, o in STREAM_OBJECT.items() if o == obj)

    def _locate(self, stream: str, remote_id: str) -> str:
        """The object holding a record of the stream (a debit memo: ARADJUSTMENT)."""
        obj = self._object(stream)
        candidates = (obj, ADJUSTMENT) if stream == "invoices" else (obj,)
        for candidate in candidates:
            row = self.records[candidate].get(remote_id)
            if row is not None and self.stream_of(candidate, row) == stream:
                return candidate
        raise KeyError(f"intacct sandbox: no {stream} record {remote_id}")

    def _live(self, obj: str, key: str) -> Payload:
        try:
            return self.records[obj][key]
        except KeyError:
            raise KeyError(f"intacct sandbox: no {obj} {key}") from None

    def bump(self, obj: str, key: str) -> None:
        self.stamps[obj][key] = self.stamp_now()

    def touch(self, stream: str, remote_id: str) -> None:
        with self.lock:
            obj = self._locate(stream, remote_id)
            row = self._live(obj, remote_id)
            note = f"Updated {render_timestamp(self.now(), self.zone)}"
            row["COMMENTS" if obj == "CUSTOMER" else "DESCRIPTION"] = note
            self.bump(obj, remote_id)

    def create(self, stream: str) -> str:
        obj = self._object(stream)
        with self.lock:
            now = self.now()
            today = render_date(now.astimezone(self.zone).date())
            customer = self.records["CUSTOMER"][min(self.records["CUSTOMER"])]
            currency = customer["CURRENCY"]
            if obj == "CUSTOMER":
                key = len(self.world.customers) + self._next_customer
                row = self._customer(WCustomer.newcomer(key, now))
                self.put(obj, row["CUSTOMERID"], row, now)
                return str(row["CUSTOMERID"])
            record_no = self.take_record_no()
            row = {
                "RECORDNO": record_no,
                "CUSTOMERID": customer["CUSTOMERID"],
                "DOCNUMBER": "",
                "DESCRIPTION": "",
                "WHENCREATED": today,
                "CURRENCY": currency,
                "BASECURR": BASE_CURRENCY,
            }
            if obj == "ARINVOICE":
                total = Decimal("250.00")
                row.update(RECORDID=f"INV{self._next_number}", WHENDUE=today, STATE="Posted")
                row.update(self._amounts("TOTAL", currency, ENTERED=total, PAID=ZERO, DUE=total))
                self._next_number += 1
            elif obj == "ARADJUSTMENT":
                total = Decimal("-40.00")
                row.update(RECORDID=f"ADJ{self._next_memo_number}", STATE="Posted")
                row.update(self._amounts("TOTAL", currency, ENTERED=total, PAID=ZERO, DUE=total))
                self._next_memo_number += 1
            else:
                total = Decimal("75.00")
                row.update(PAYMENTMETHOD="EFT", PAYMENTDATE=today, RECEIPTDATE=today)
                row.update(STATE="Posted", DOCNUMBER="PREPAY")
                row.update(self._amounts("TOTAL", currency, ENTERED=total, PAID=ZERO))
            self.put(obj, record_no, row, now)
            return record_no

    def remove(self, stream: str, remote_id: str) -> None:
        """Delete the record, as Intacct's delete does, and write the audit trail's 'D' row.

        Deleting a payment takes its applications back off the invoices it paid.
        """
        with self.lock:
            obj = self._locate(stream, remote_id)
            if obj == "ARPYMT":
                self._unapply(remote_id)
            del self.records[obj][remote_id]
            del self.stamps[obj][remote_id]
            self.audit.append(
                (
                    self.stamp_now(),
                    {
                        "RECORDNO": str(self._next_audit),
                        "OBJECTTYPE": AUDIT_TYPE[obj],
                        "OBJECTKEY": remote_id,
                        "ACCESSMODE": "D",
                        "USERID": "Admin",
                        "SOURCE": "ui",
                    },
                )
            )
            self._next_audit += 1

    def _unapply(self, payment_key: str) -> None:
        for detail_no, detail in list(self.details.items()):
            if detail["PAYMENTKEY"] != payment_key:
                continue
            debit_memo = detail.get("POSADJKEY") or ""
            obj, key = (
                (ADJUSTMENT, debit_memo) if debit_memo else ("ARINVOICE", detail["RECORDKEY"])
            )
            invoice = self.records[obj].get(key)
            if invoice is not None:
                back = Decimal(detail["TRX_PAYMENTAMOUNT"]) + Decimal(
                    detail["TRX_ADJUSTMENTAMOUNT"]
                )
                total = Decimal(invoice["TRX_TOTALENTERED"])
                due = Decimal(invoice["TRX_TOTALDUE"]) + back
                invoice.update(
                    self._amounts(
                        "TOTAL", invoice["CURRENCY"], ENTERED=total, PAID=total - due, DUE=due
                    )
                )
                invoice["STATE"] = self._state(total, due)
                self.bump(obj, key)
            del self.details[detail_no]

    def void(self, stream: str, remote_id: str) -> None:
        """Reverse a document: it stays, with STATE 'Reversed' and nothing due."""
        with self.lock:
            obj = self._locate(stream, remote_id)
            row = self._live(obj, remote_id)
            row["STATE"] = "Reversed"
            if "TRX_TOTALDUE" in row:
                row["TRX_TOTALDUE"] = row["TOTALDUE"] = money(ZERO)
            self.bump(obj, remote_id)

    def remote_ids(self, stream: str) -> list[str]:
        """Live records of the stream; the invoices stream's include the debit memos."""
        obj = self._object(stream)
        objects = (obj, ADJUSTMENT) if stream == "invoices" else (obj,)
        with self.lock:
            ids = [
                key
                for candidate in objects
                for key, row in self.records[candidate].items()
                if self.stream_of(candidate, row) == stream
            ]
        return sorted(ids, key=lambda k: (len(k), k))

    def source_counts(self, stream: str) -> list[int]:
        """How many records each query of the stream's (one per source object and condition,
        see ``connectors.intacct.streams``) returns in a full read: what its pages are cut
        from."""
        from connectors.intacct.streams import STREAM_TYPES

        return [
            sum(
                1
                for row in self.rows(source.object_type)
                if not source.condition or self.matches(row, parse_query(source.condition))
            )
            for source in STREAM_TYPES[stream].sources
        ]

    # rendering -------------------------------------------------------------------------------
    def rows(self, obj: str) -> list[Payload]:
        """Every record of an object as served, in RECORDNO order."""
        if obj == DETAIL:
            return [dict(row) for _, row in sorted(self.details.items(), key=lambda i: int(i[0]))]
        if obj == AUDIT:
            return [
                {**row, "ACCESSTIME": render_timestamp(stamp, self.zone)}
                for stamp, row in self.audit
            ]
        if obj not in self.records:
            raise QueryError(f"unknown object {obj!r}")
        served: list[Payload] = []
        for key, row in self.records[obj].items():
            out = {**row, "WHENMODIFIED": render_timestamp(self.stamps[obj][key], self.zone)}
            if self.is_malformed(self.stream_of(obj, row), key):
                if obj == "CUSTOMER":
                    out["NAME"] = ""
                else:
                    out["TRX_TOTALENTERED"] = MALFORMED_AMOUNT
            served.append(out)
        served.sort(key=lambda r: int(r["RECORDNO"]))
        return served

    def matches(self, row: Payload, query: Query) -> bool:
        if isinstance(query, Junction):
            if query.op == "NOT":
                return not self.matches(row, query.parts[0])
            results = (self.matches(row, part) for part in query.parts)
            return any(results) if query.op == "OR" else all(results)
        value = row.get(query.field)
        if not isinstance(value, str):
            return False
        if query.op in ("IN", "NOT IN"):
            return (value in query.values) == (query.op == "IN")
        left: Any = value
        right: Any = query.values[0]
        if query.field in TIMESTAMP_FIELDS:
            left, right = parse_timestamp(value, self.zone), parse_timestamp(right, self.zone)
            if left is None or right is None:
                raise QueryError(
                    f"{query.field} needs MM/DD/YYYY HH:MM:SS, got {query.values[0]!r}"
                )
        elif _NUMBER.fullmatch(value) and _NUMBER.fullmatch(right):
            left, right = Decimal(value), Decimal(right)
        return bool(
            {
                "=": left == right,
                "!=": left != right,
                ">": left > right,
                ">=": left >= right,
                "<": left < right,
                "<=": left <= right,
            }[query.op]
        )

    # serving -------------------------------------------------------------------------------
    def routes(self) -> None:
        self.route(GATEWAY_PATH, self.handle, ("POST",))
        self.route(API_PATH, self.handle, ("POST",))

    def xml(self, root: Element, status: int = 200) -> Response:
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return Response(body, status=status, mimetype="application/xml")

    @staticmethod
    def errormessage(parent: Element, errorno: str, description: str, correction: str = "") -> None:
        error = sub(sub(parent, "errormessage"), "error")
        sub(error, "errorno", errorno)
        sub(error, "description", "")
        sub(error, "description2", description)
        sub(error, "correction", correction)

    @staticmethod
    def unauthorized_sender(parent: Element, errorno: str, description2: str) -> None:
        """The error developer.intacct.com's FAQ shows for a sender the company has not
        added to its Web Services authorizations."""
        error = sub(sub(parent, "errormessage"), "error")
        sub(error, "errorno", errorno)
        sub(error, "description", "Invalid Web Services Authorization")
        sub(error, "description2", description2)
        sub(
            error,
            "correction",
            "Contact the company administrator to grant Web Services "
            "authorization to this sender ID.",
        )

    def _control(self, root: Element, control: Element | None, status: str) -> Element:
        block = sub(root, "control")
        sub(block, "status", status)
        for tag in ("senderid", "controlid", "uniqueid", "dtdversion"):
            sub(block, tag, (control.findtext(tag) or "") if control is not None else "")
        return block

    def error(self, status: int, code: str, message: str) -> Response:
        """A control-level failure envelope with the given HTTP status."""
        root = etree.Element("response")
        self._control(root, None, "failure")
        self.errormessage(root, code, message)
        return self.xml(root, status)

    def handle(self, request: Request) -> Response:
        try:
            doc = parse(request.get_data())
        except etree.XMLSyntaxError:
            return self.error(400, "XL03000001", "The request is not well-formed XML")
        control = doc.find("control")
        root = etree.Element("response")
        if (
            control is None
            or control.findtext("senderid") != self.sender_id
            or control.findtext("password") != self.sender_password
        ):
            self._control(root, control, "failure")
            self.errormessage(
                root,
                SENDER_ERRNO,
                "Incorrect Intacct XML Partner ID or password.",
                "Check the Web Services sender id and password.",
            )
            return self.xml(root)
        # uniqueid (default true): each function's controlid is checked, not the request's
        unique = (control.findtext("uniqueid") or "true").strip().lower() != "false"
        self._control(root, control, "success")
        operation = sub(root, "operation")
        auth = sub(operation, "authentication")
        login = doc.find("operation/authentication/login")
        session_id = doc.findtext("operation/authentication/sessionid")
        if login is not None:
            ok = (
                login.findtext("userid") == self.user_id
                and login.findtext("companyid") == self.company_id
                and login.findtext("password") == self.user_password
            )
            failure = (LOGIN_ERRNO, "Sign-in information is incorrect")
        else:
            ok = self.token_ok(session_id)
            failure = (SESSION_ERRNO, "Invalid session")
            request.environ["intacct.session"] = session_id
            with self.lock:
                self.session_paths.append(request.path)
        if ok and self.sender_id not in self.authorized_senders:
            ok = False
            failure = (
                SENDER_ERRNO,
                f"The sender ID '{self.sender_id}' is not authorized to make Web Services "
                f"requests to company ID '{self.company_id}'.",
            )
            unauthorized = True
        else:
            unauthorized = False
        if not ok:
            sub(auth, "status", "failure")
            if unauthorized:
                self.unauthorized_sender(operation, *failure)
            else:
                self.errormessage(operation, *failure)
            return self.xml(root)
        sub(auth, "status", "success")
        sub(auth, "userid", self.user_id)
        sub(auth, "companyid", self.company_id)
        sub(auth, "sessiontimestamp", render_timestamp(self.now(), self.zone))
        for function in doc.findall("operation/content/function"):
            operation.append(self.run(function, request, unique=unique))
        writes = doc.xpath(
            "operation/content/function/*"
            "[self::create or self::apply_arpayment or self::create_aradjustment"
            " or self::reverse_arpayment]"
        )
        if writes and self.take_dropped_reply():
            connection = request.environ.get("werkzeug.socket")
            if connection is not None:
                connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("reply dropped after the write (injected)")
        return self.xml(root)

    def run(self, function: Element, request: Request, *, unique: bool = False) -> Element:
        """One function. With ``uniqueid`` true a function whose controlid already ran to
        completion is refused (only that function fails); a failed one may be sent again."""
        with self.lock:
            result = self._run(function, request, unique)
            if unique and (result.findtext("status") or "") == "success":
                self.processed_controls.add(function.get("controlid", ""))
        return result

    def _run(self, function: Element, request: Request, unique: bool) -> Element:
        result = etree.Element("result")
        body = next((child for child in function if isinstance(child.tag, str)), None)
        name = body.tag if body is not None else ""
        status = sub(result, "status", "success")
        sub(result, "function", name)
        control_id = function.get("controlid", "")
        sub(result, "controlid", control_id)
        if not control_id:
            status.text = "failure"
            self.errormessage(result, BAD_QUERY, "The function has no controlid attribute.")
            return result
        if unique and control_id in self.processed_controls:
            status.text = "failure"
            self.errormessage(
                result,
                DUPLICATE_ERRNO,
                f"A successful transaction has already been recorded with the control id "
                f"{control_id}.",
                "Use a new control id, or set uniqueid to false.",
            )
            return result
        try:
            if body is None:
                raise QueryError("empty function")
            if name == "getAPISession":
                data = sub(result, "data")
                api = sub(data, "api")
                # with session authentication Intacct describes the current session
                current = request.environ.get("intacct.session")
                sub(api, "sessionid", current or self.issue_token())
                sub(api, "endpoint", request.host_url.rstrip("/") + API_PATH)
                sub(api, "locationid", "")
            elif name == "readByQuery":
                result.append(self.read_by_query(body))
            elif name == "readMore":
                result.append(self.read_more(body.findtext("resultId") or ""))
            elif name in WRITE_FUNCTIONS:
                with self.lock:  # a legacy create answers <key>, a generic one <data>
                    result.append(self.write(body))
            else:
                raise QueryError(f"unsupported function {name}")
        except QueryError as exc:
            status.text = "failure"
            code = UNKNOWN_RESULT if name == "readMore" else BAD_QUERY
            self.errormessage(result, code, str(exc))
        except sandbox_writes.Refused as exc:
            status.text = "failure"
            self.errormessage(result, sandbox_writes.REFUSED, str(exc))
        return result

    def write(self, body: Element) -> Element:
        """One write function, applied whole or refused with nothing changed."""
        if body.tag == "apply_arpayment":
            data = sandbox_writes.apply_credit(self, body)
        elif body.tag == "reverse_arpayment":
            data = sandbox_writes.reverse_payment(self, body)
        elif body.tag == "create_aradjustment":
            data = sandbox_writes.create_adjustment(self, body)
        else:
            record = next((child for child in body if isinstance(child.tag, str)), None)
            if record is not None and record.tag == "ARPYMT":
                data = sandbox_writes.create_payment(self, record)
            else:  # ARADJUSTMENT has no generic create: create_aradjustment is documented
                tag = record.tag if record is not None else "nothing"
                raise sandbox_writes.Refused(f"create of {tag} is not supported")
        self.writes += 1
        return data

    def read_by_query(self, body: Element) -> Element:
        obj = (body.findtext("object") or "").strip().upper()
        fields = (body.findtext("fields") or "*").strip()
        try:
            size = int(body.findtext("pagesize") or "100")
        except ValueError:
            raise QueryError("pagesize is not a number") from None
        if not 1 <= size <= 1000:
            raise QueryError("pagesize must be between 1 and 1000")
        query = parse_query(body.findtext("query") or "")
        with self.lock:
            rows = [row for row in self.rows(obj) if self.matches(row, query)]
        if fields not in ("", "*"):
            wanted = [f.strip().upper() for f in fields.split(",") if f.strip()]
            rows = [{f: row[f] for f in wanted if f in row} for row in rows]
        result_id = secrets.token_hex(8)
        with self.lock:
            self.result_sets[result_id] = (obj, rows, size, len(rows))
        return self.read_more(result_id)

    def read_more(self, result_id: str) -> Element:
        with self.lock:
            found = self.result_sets.get(result_id)
            if found is None:
                raise QueryError(f"resultId {result_id!r} is unknown or used up")
            obj, rows, size, total = found
            page, rest = rows[:size], rows[size:]
            if rest:
                self.result_sets[result_id] = (obj, rest, size, total)
            else:
                del self.result_sets[result_id]
        data = etree.Element(
            "data",
            listtype=obj.lower(),
            count=str(len(page)),
            totalcount=str(total),
            numremaining=str(len(rest)),
            resultId=result_id if rest else "",
        )
        for row in page:
            data.append(from_dict(obj, row))
        return data
