"""A local QuickBooks Online company speaking the v3 Accounting API's JSON wire format.

Endpoints (under ``/v3/company/<realmId>/``, all requiring ``minorversion`` and a Bearer
token): ``query`` (POST ``application/text`` body or GET ``?query=``), ``cdc``,
``<entity>/<id>`` reads, ``companyinfo/<realmId>``, ``preferences`` (the home currency),
``exchangerate?sourcecurrencycode=&asofdate=`` (the company's rate of a currency), and
``batch`` plus ``payment`` writes honouring ``requestid``; a write without ``ExchangeRate``
is booked at 1, as QBO does. The OAuth token endpoint rotates
refresh tokens the way Intuit does. Errors are Fault envelopes; throttling is Fault 3001 (HTTP
429, or another status when configured). Times are rendered to the second in the company's
time zone, as QBO does.
"""

from __future__ import annotations

import copy
import secrets
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import SecretStr
from werkzeug.wrappers import Request, Response

from connectors.quickbooks import querylang
from connectors.quickbooks.config import QuickBooksConfig
from connectors.quickbooks.jsonwire import dumps, loads
from connectors.quickbooks.sandbox_ledger import Ledger
from connectors.sandbox.server import Faults, SandboxServer
from connectors.sandbox.world import (
    WCreditMemo,
    WCustomer,
    WInvoice,
    World,
    WPayment,
    name_variant,
)

Payload = dict[str, Any]

COMPANY_TZ = timezone(timedelta(hours=-7))
ENTITIES = ("Customer", "Invoice", "CreditMemo", "Payment")
STREAM_ENTITY = {
    "customers": "Customer",
    "invoices": "Invoice",
    "credit_memos": "CreditMemo",
    "payments": "Payment",
}
ENTITY_STREAM = {entity: stream for stream, entity in STREAM_ENTITY.items()}
URL_ENTITY = {entity.lower(): entity for entity in ENTITIES}
CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "CAD": "Canadian Dollar",
}
PAYMENT_METHODS = {
    "check": ("2", "Check"),
    "ach": ("5", "ACH"),
    "wire": ("6", "Wire"),
    "card": ("3", "Credit Card"),
}
# what one unit of each currency is worth in USD: the sandbox's (flat) exchange-rate table
USD_VALUE = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.0822"),
    "GBP": Decimal("1.2650"),
    "CAD": Decimal("0.7315"),
    "JPY": Decimal("0.0064"),
}
ZERO = Decimal("0.00")
MALFORMED_AMOUNT = "1O0.00"  # a letter O: not a number


REQUEST_ID_MAX = 50  # Intuit: a requestid has at most 50 characters ...
REQUEST_ID_MAX_BATCH = 36  # ... and at most 36 on a batch request
WRITE_OFF_ITEM_ID = "21"  # the sandbox company's "Deductions / write-offs" service item


def render_time(moment: datetime) -> str:
    return moment.astimezone(COMPANY_TZ).isoformat(timespec="seconds")


def _ref(value: str, name: str | None = None) -> Payload:
    return {"value": value, "name": name} if name else {"value": value}


def _currency(code: str) -> Payload:
    return _ref(code, CURRENCY_NAMES.get(code))


def _sales_lines(amount: Decimal, description: str) -> list[Payload]:
    return [
        {
            "Id": "1",
            "LineNum": 1,
            "Description": description,
            "Amount": amount,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {
                "ItemRef": _ref("1", "Services"),
                "UnitPrice": amount,
                "Qty": 1,
                "TaxCodeRef": _ref("NON"),
            },
        },
        {"Amount": amount, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
    ]


def _meta(created: datetime, updated: datetime) -> Payload:
    return {"CreateTime": render_time(created), "LastUpdatedTime": render_time(updated)}


class QuickBooksSandbox(SandboxServer):
    """One QBO company (realm) rendering the shared world; see the module docstring."""

    system = "quickbooks"
    token_path = "/oauth2/v1/tokens/bearer"

    def __init__(
        self,
        world: World | None = None,
        faults: Faults | None = None,
        *,
        realm_id: str = "9341452981650001",
        cdc_max_objects: int = 1000,
        cdc_window_days: int = 30,
        throttle_status: int = 429,
        home_currency: str = "USD",
    ) -> None:
        self.realm_id = realm_id
        self.home_currency = home_currency
        self.client_id = "ABsandbox" + secrets.token_hex(8)
        self.client_secret = secrets.token_urlsafe(24)
        self.cdc_max_objects = cdc_max_objects
        self.cdc_window_days = cdc_window_days
        self.throttle_status = throttle_status
        self.records: dict[str, dict[str, Payload]] = {e: {} for e in ENTITIES}
        self.stamps: dict[str, dict[str, datetime]] = {e: {} for e in ENTITIES}
        self.tombstones: dict[str, dict[str, datetime]] = {e: {} for e in ENTITIES}
        self.refresh_tokens: set[str] = set()
        self.replies: dict[str, tuple[int, str]] = {}  # requestid -> the reply first sent
        self._next_customer = 1
        self._next_txn = 1
        self._next_number = 1
        self._next_memo_number = 1
        super().__init__(world, faults)
        self.ledger = Ledger(self)
        self._seed()

    # configuration for a connector ---------------------------------------------------------
    def config(self) -> QuickBooksConfig:
        """A connector config pointing at this sandbox, with its valid client credentials."""
        return QuickBooksConfig(
            realm_id=self.realm_id,
            client_id=self.client_id,
            client_secret=SecretStr(self.client_secret),
            api_base_url=self.base_url,
            token_url=self.base_url + self.token_path,
            per_second=0,
            cdc_window_days=self.cdc_window_days,
            cdc_max_objects=self.cdc_max_objects,
            write_off_item_id=WRITE_OFF_ITEM_ID,
        )

    def initial_tokens(self) -> dict[str, str]:
        """A fresh refresh token, as authorizing the app in Intuit's consent flow gives."""
        token = "AB11" + secrets.token_urlsafe(32)
        with self.lock:
            self.refresh_tokens.add(token)
        return {"refresh_token": token}

    # seeding -------------------------------------------------------------------------------
    def take_txn_id(self) -> str:
        value = self._next_txn
        self._next_txn += 1
        return str(value)

    def store(self, entity: str, payload: Payload, stamp: datetime) -> None:
        stamp = stamp.astimezone(UTC).replace(microsecond=0)
        self.records[entity][payload["Id"]] = payload
        self.stamps[entity][payload["Id"]] = stamp
        self.tombstones[entity].pop(payload["Id"], None)

    def take_memo_number(self) -> str:
        number = self._next_memo_number
        self._next_memo_number += 1
        return str(number)

    def stamp_now(self) -> datetime:
        return self.now().astimezone(UTC).replace(microsecond=0)

    def stamp_meta(self, entity: str, record_id: str) -> None:
        """Set a new record's MetaData from its stored stamp."""
        stamp = self.stamps[entity][record_id]
        self.records[entity][record_id]["MetaData"] = _meta(stamp, stamp)

    def exchange_rate(self, currency: str, day: date | None = None) -> Decimal:
        """Home-currency units one unit of ``currency`` is worth (the same every day here);
        KeyError for a currency the table lacks."""
        rate = USD_VALUE[currency] / USD_VALUE[self.home_currency]
        return rate.quantize(Decimal("0.0000001")).normalize()

    def currency_ref(self, code: str) -> Payload:
        return _currency(code)

    def customer_ref(self, customer_id: str) -> Payload:
        return _ref(customer_id, self.records["Customer"][customer_id]["DisplayName"])

    def _seed(self) -> None:
        world = self.world
        self.customer_ids: dict[int, str] = {}
        self.invoice_ids: dict[int, str] = {}
        self.memo_ids: dict[int, str] = {}
        for customer in world.customers:
            self.store("Customer", self._customer(customer), customer.modified_at)
        for invoice in world.invoices:
            self.store("Invoice", self._invoice(invoice), invoice.modified_at)
        for memo in world.credit_memos:
            self.store("CreditMemo", self._credit_memo(memo), memo.modified_at)
        for payment in world.payments:
            self.store("Payment", self._payment(payment), payment.modified_at)
        self._next_number = world.next_invoice_number()
        self._next_memo_number = world.next_memo_number()
        owed: dict[str, Decimal] = {}
        for row in self.records["Invoice"].values():
            who = row["CustomerRef"]["value"]
            owed[who] = owed.get(who, ZERO) + row["Balance"]
        for row in self.records["CreditMemo"].values():
            who = row["CustomerRef"]["value"]
            owed[who] = owed.get(who, ZERO) - row["RemainingCredit"]
        for customer_id, row in self.records["Customer"].items():
            row["Balance"] = row["BalanceWithJobs"] = owed.get(customer_id, ZERO)

    def _customer(self, customer: WCustomer) -> Payload:
        customer_id = str(self._next_customer)
        self._next_customer += 1
        self.customer_ids[customer.key] = customer_id
        name = name_variant(customer.name, 0)
        created = customer.modified_at - timedelta(days=30)
        return {
            "Id": customer_id,
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": _meta(created, customer.modified_at),
            "DisplayName": name,
            "CompanyName": customer.name,
            "FullyQualifiedName": name,
            "PrintOnCheckName": customer.name,
            "PrimaryEmailAddr": {"Address": customer.email},
            "Active": True,
            "Job": False,
            "BillWithParent": False,
            "Taxable": False,
            "Balance": ZERO,
            "BalanceWithJobs": ZERO,
            "CurrencyRef": _currency(customer.currency),
            "PreferredDeliveryMethod": "Email",
            "SalesTermRef": _ref("3", f"Net {customer.terms_days}"),
        }

    def _customer_ref(self, customer_key: int) -> Payload:
        return self.customer_ref(self.customer_ids[customer_key])

    def _custom_fields(self, po_number: str | None) -> list[Payload]:
        field: Payload = {"DefinitionId": "1", "Name": "P.O. Number", "Type": "StringType"}
        if po_number:
            field["StringValue"] = po_number
        return [field]

    def _invoice(self, invoice: WInvoice) -> Payload:
        invoice_id = self.take_txn_id()
        self.invoice_ids[invoice.key] = invoice_id
        void = invoice.status == "void"
        total = ZERO if void else invoice.total
        created = datetime.combine(invoice.issue_date, datetime.min.time(), UTC)
        payload: Payload = {
            "Id": invoice_id,
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": _meta(min(created, invoice.modified_at), invoice.modified_at),
            "CustomField": self._custom_fields(invoice.po_number),
            "DocNumber": str(invoice.number),
            "TxnDate": invoice.issue_date.isoformat(),
            "DueDate": invoice.due_date.isoformat(),
            "CurrencyRef": _currency(invoice.currency),
            "LinkedTxn": [],
            "Line": _sales_lines(total, "Professional services"),
            "TxnTaxDetail": {"TotalTax": ZERO},
            "CustomerRef": self._customer_ref(invoice.customer_key),
            "TotalAmt": total,
            "Balance": ZERO if void else invoice.balance,
            "Deposit": ZERO,
            "EmailStatus": "NotSet",
            "PrintStatus": "NeedToPrint",
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
        }
        if void:
            payload["PrivateNote"] = "Voided"
        return payload

    def _credit_memo(self, memo: WCreditMemo) -> Payload:
        memo_id = self.take_txn_id()
        self.memo_ids[memo.key] = memo_id
        created = datetime.combine(memo.issue_date, datetime.min.time(), UTC)
        return {
            "Id": memo_id,
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": _meta(min(created, memo.modified_at), memo.modified_at),
            "CustomField": self._custom_fields(memo.reference),
            "DocNumber": str(memo.number),
            "TxnDate": memo.issue_date.isoformat(),
            "CurrencyRef": _currency(memo.currency),
            "Line": _sales_lines(memo.total, "Credit for services"),
            "TxnTaxDetail": {"TotalTax": ZERO},
            "CustomerRef": self._customer_ref(memo.customer_key),
            "TotalAmt": memo.total,
            "RemainingCredit": memo.balance,
            "Balance": memo.balance,
            "PrintStatus": "NeedToPrint",
            "EmailStatus": "NotSet",
        }

    def _payment(self, payment: WPayment) -> Payload:
        payment_id = self.take_txn_id()
        lines: list[Payload] = []
        for application in payment.applications:
            invoice_id = self.invoice_ids[application.invoice_key]
            lines.append(
                {
                    "Amount": application.amount,
                    "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}],
                }
            )
            self._link(invoice_id, payment_id)
            if application.credit_memo_key is not None:
                lines.append(
                    {
                        "Amount": application.amount,
                        "LinkedTxn": [
                            {
                                "TxnId": self.memo_ids[application.credit_memo_key],
                                "TxnType": "CreditMemo",
                            }
                        ],
                    }
                )
        payload: Payload = {
            "Id": payment_id,
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": _meta(payment.modified_at, payment.modified_at),
            "TxnDate": payment.received_on.isoformat(),
            "CurrencyRef": _currency(payment.currency),
            "CustomerRef": self._customer_ref(payment.customer_key),
            "Line": lines,
            "TotalAmt": payment.amount,
            "UnappliedAmt": payment.unapplied,
            "ProcessPayment": False,
        }
        if payment.method in PAYMENT_METHODS:
            method_id, method_name = PAYMENT_METHODS[payment.method]
            payload["PaymentMethodRef"] = _ref(method_id, method_name)
            payload["PaymentRefNum"] = payment.reference
            payload["DepositToAccountRef"] = _ref("4", "Undeposited Funds")
        else:
            payload["PrivateNote"] = f"Credit memo applied ({payment.reference})"
        return payload

    def _link(self, invoice_id: str, payment_id: str) -> None:
        invoice = self.records["Invoice"].get(invoice_id)
        if invoice is not None:
            link = {"TxnId": payment_id, "TxnType": "Payment"}
            if link not in invoice["LinkedTxn"]:
                invoice["LinkedTxn"].append(link)

    def recompute_customer_balance(self, customer_id: str) -> None:
        open_amount = sum(
            (
                Decimal(i["Balance"])
                for i in self.records["Invoice"].values()
                if i["CustomerRef"]["value"] == customer_id
            ),
            ZERO,
        )
        credits = sum(
            (
                Decimal(m["RemainingCredit"])
                for m in self.records["CreditMemo"].values()
                if m["CustomerRef"]["value"] == customer_id
            ),
            ZERO,
        )
        customer = self.records["Customer"][customer_id]
        customer["Balance"] = customer["BalanceWithJobs"] = open_amount - credits

    # changes -------------------------------------------------------------------------------
    def bump(self, entity: str, record_id: str) -> Payload:
        """Mark a record changed now: next SyncToken and LastUpdatedTime."""
        record = self.records[entity][record_id]
        stamp = self.stamp_now()
        record["SyncToken"] = str(int(record["SyncToken"]) + 1)
        record["MetaData"]["LastUpdatedTime"] = render_time(stamp)
        self.stamps[entity][record_id] = stamp
        return record

    def _entity(self, stream: str) -> str:
        try:
            return STREAM_ENTITY[stream]
        except KeyError:
            raise KeyError(f"quickbooks sandbox has no stream {stream!r}") from None

    def _live(self, entity: str, record_id: str) -> Payload:
        try:
            return self.records[entity][record_id]
        except KeyError:
            raise KeyError(f"quickbooks sandbox: no {entity} {record_id}") from None

    def touch(self, stream: str, remote_id: str) -> None:
        entity = self._entity(stream)
        with self.lock:
            record = self._live(entity, remote_id)
            note = f"Updated {render_time(self.now())}"
            if entity == "Customer":
                record["Notes"] = note
            elif entity == "Payment":
                record["PrivateNote"] = note
            else:
                record["CustomerMemo"] = {"value": note}
            self.bump(entity, remote_id)

    def create(self, stream: str) -> str:
        entity = self._entity(stream)
        with self.lock:
            now = self.now()
            today = now.astimezone(COMPANY_TZ).date()
            customer_id = min(self.records["Customer"], key=int)
            customer = self.records["Customer"][customer_id]
            currency = customer["CurrencyRef"]["value"]
            customer_ref = _ref(customer_id, customer["DisplayName"])
            if entity == "Customer":
                key = len(self.world.customers) + self._next_customer
                payload = self._customer(WCustomer.newcomer(key, now))
            elif entity == "Invoice":
                number = self._next_number
                self._next_number += 1
                payload = self._new_invoice(
                    customer_ref, currency, number, Decimal("250.00"), today
                )
            elif entity == "CreditMemo":
                number = int(self.take_memo_number())
                payload = self._new_credit_memo(
                    customer_ref, currency, number, Decimal("40.00"), today
                )
            else:
                payload = {
                    "Id": self.take_txn_id(),
                    "SyncToken": "0",
                    "domain": "QBO",
                    "sparse": False,
                    "MetaData": _meta(now, now),
                    "TxnDate": today.isoformat(),
                    "CurrencyRef": _currency(currency),
                    "CustomerRef": customer_ref,
                    "Line": [],
                    "TotalAmt": Decimal("75.00"),
                    "UnappliedAmt": Decimal("75.00"),
                    "ProcessPayment": False,
                    "PaymentRefNum": "PREPAY",
                }
            self.store(entity, payload, now)
            return str(payload["Id"])

    def _new_document(self, number: int, today: date) -> Payload:
        """The fields a new invoice or credit memo starts with (a new transaction id, created
        now, no P.O. number), in the order QBO sends them."""
        now = self.now()
        return {
            "Id": self.take_txn_id(),
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": _meta(now, now),
            "CustomField": self._custom_fields(None),
            "DocNumber": str(number),
            "TxnDate": today.isoformat(),
        }

    def _new_invoice(
        self, customer_ref: Payload, currency: str, number: int, total: Decimal, today: date
    ) -> Payload:
        return {
            **self._new_document(number, today),
            "DueDate": (today + timedelta(days=30)).isoformat(),
            "CurrencyRef": _currency(currency),
            "LinkedTxn": [],
            "Line": _sales_lines(total, "Professional services"),
            "TxnTaxDetail": {"TotalTax": ZERO},
            "CustomerRef": customer_ref,
            "TotalAmt": total,
            "Balance": total,
            "Deposit": ZERO,
            "EmailStatus": "NotSet",
            "PrintStatus": "NeedToPrint",
        }

    def _new_credit_memo(
        self, customer_ref: Payload, currency: str, number: int, total: Decimal, today: date
    ) -> Payload:
        return {
            **self._new_document(number, today),
            "CurrencyRef": _currency(currency),
            "Line": _sales_lines(total, "Credit for services"),
            "TxnTaxDetail": {"TotalTax": ZERO},
            "CustomerRef": customer_ref,
            "TotalAmt": total,
            "RemainingCredit": total,
            "Balance": total,
            "PrintStatus": "NeedToPrint",
            "EmailStatus": "NotSet",
        }

    def remove(self, stream: str, remote_id: str) -> None:
        """Customers are made inactive, invoices voided, credit memos and payments deleted."""
        entity = self._entity(stream)
        with self.lock:
            record = self._live(entity, remote_id)
            if entity == "Customer":
                record["Active"] = False
                record["DisplayName"] = f"{record['DisplayName']} (deleted)"
                self.bump(entity, remote_id)
            elif entity == "Invoice":
                self.void_invoice(remote_id)
            else:
                if entity == "Payment":
                    self.ledger.unapply(record)
                del self.records[entity][remote_id]
                self.stamps[entity].pop(remote_id, None)
                self.tombstones[entity][remote_id] = self.stamp_now()

    def void_invoice(self, invoice_id: str) -> None:
        """QBO's void: amounts zeroed, "Voided" put before the private note."""
        invoice = self.records["Invoice"][invoice_id]
        invoice["TotalAmt"] = invoice["Balance"] = ZERO
        for line in invoice["Line"]:
            line["Amount"] = ZERO
            if "SalesItemLineDetail" in line:
                line["SalesItemLineDetail"]["UnitPrice"] = ZERO
        note = invoice.get("PrivateNote")
        invoice["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        self.bump("Invoice", invoice_id)

    def remote_ids(self, stream: str) -> list[str]:
        """Ids of records that are neither deleted nor void (deleted customers are inactive
        with " (deleted)" in their name; void documents have zero totals and a "Voided" note).
        """
        entity = self._entity(stream)
        with self.lock:
            return sorted(
                (
                    rid
                    for rid, record in self.records[entity].items()
                    if not _deleted_customer(record)
                ),
                key=int,
            )

    # serving -------------------------------------------------------------------------------
    def routes(self) -> None:
        base = "/v3/company/<realm>"
        self.route(self.token_path, self.handle_token, ("POST",))
        self.route(f"{base}/query", self.handle_query, ("GET", "POST"))
        self.route(f"{base}/cdc", self.handle_cdc, ("GET",))
        self.route(f"{base}/batch", self.handle_batch, ("POST",))
        self.route(f"{base}/payment", self.handle_payment_create, ("POST",))
        self.route(f"{base}/preferences", self.handle_preferences, ("GET",))
        self.route(f"{base}/exchangerate", self.handle_exchange_rate, ("GET",))
        self.route(f"{base}/<name>/<record_id>", self.handle_read, ("GET",))

    def json(self, body: Any, status: int = 200) -> Response:
        if isinstance(body, dict) and "time" not in body and "error" not in body:
            body = {**body, "time": render_time(self.now())}
        return Response(dumps(body), status=status, mimetype="application/json")

    def invalid_property(self, detail: str, element: str = "") -> Response:
        """QBO's 400 fault 2010 ("Request has invalid or unsupported property"), its detail
        saying which and why."""
        return self.fault(
            400, "2010", "Request has invalid or unsupported property", detail, element=element
        )

    def fault(
        self,
        status: int,
        code: str,
        message: str,
        detail: str = "",
        *,
        element: str = "",
        fault_type: str = "ValidationFault",
    ) -> Response:
        error: Payload = {"Message": message, "Detail": detail or message, "code": code}
        if element:
            error["element"] = element
        return self.json({"Fault": {"Error": [error], "type": fault_type}}, status)

    def error(self, status: int, code: str, message: str) -> Response:
        if status == 429 or code == "rate_limit":
            return self.fault(
                self.throttle_status,
                "3001",
                "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                "The request limit was reached.  Try again later",
                fault_type="SERVICE",
            )
        if status == 401:
            return self.fault(
                401,
                "3200",
                "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                message,
                fault_type="AUTHENTICATION",
            )
        if status >= 500:
            return self.fault(status, "10000", message, fault_type="SystemFault")
        return self.fault(status, code, message)

    def _guard(self, request: Request, realm: str) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        if not self.token_ok(token):
            return self.error(401, "3200", "Token expired or invalid")
        if realm != self.realm_id:
            return self.fault(
                403,
                "3100",
                "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                f"the app is not connected to company {realm}",
                fault_type="AUTHORIZATION",
            )
        minor = request.args.get("minorversion", "")
        if not minor.isdigit():
            return self.invalid_property("minorversion is required", "minorversion")
        return None

    def served(self, entity: str, record: Payload) -> Payload:
        """A record as sent: a copy, broken on purpose when it is marked malformed."""
        stream = ENTITY_STREAM[entity]
        if not self.is_malformed(stream, record["Id"]):
            return record
        broken = copy.deepcopy(record)
        if entity == "Customer":
            broken.pop("DisplayName", None)
        else:
            broken["TotalAmt"] = MALFORMED_AMOUNT
        return broken

    def handle_token(self, request: Request) -> Response:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.client_id, self.client_secret):
            return self.json({"error": "invalid_client"}, 401)
        if request.form.get("grant_type") != "refresh_token":
            return self.json({"error": "unsupported_grant_type"}, 400)
        presented = request.form.get("refresh_token", "")
        with self.lock:
            if presented not in self.refresh_tokens:
                return self.json({"error": "invalid_grant"}, 400)
            self.refresh_tokens.discard(presented)
            rotated = "AB11" + secrets.token_urlsafe(32)
            self.refresh_tokens.add(rotated)
        return self.json(
            {
                "token_type": "bearer",
                "access_token": self.issue_token(),
                "refresh_token": rotated,
                "expires_in": 3600,
                "x_refresh_token_expires_in": 8726400,
            }
        )

    def handle_query(self, request: Request, realm: str) -> Response:
        denied = self._guard(request, realm)
        if denied is not None:
            return denied
        statement = request.args.get("query") or request.get_data(as_text=True)
        try:
            query = querylang.parse(statement)
        except querylang.QueryError as exc:
            return self.fault(
                400,
                "4000",
                "message=QueryParserError; errorCode=004000; statusCode=400",
                str(exc),
            )
        entity = URL_ENTITY.get(query.entity.lower())
        if entity is None:
            return self.fault(
                400,
                "4001",
                "message=QueryValidationError; errorCode=004001; statusCode=400",
                f"unsupported entity {query.entity}",
            )
        with self.lock:
            try:
                stamps = self.stamps[entity]
                rows, total = querylang.run(
                    query, self.records[entity].values(), lambda r: stamps[r["Id"]]
                )
            except querylang.QueryError as exc:
                return self.fault(400, "4001", "message=QueryValidationError", str(exc))
            if query.count:
                return self.json({"QueryResponse": {"totalCount": total}})
            result: Payload = {"startPosition": query.start, "maxResults": len(rows)}
            if rows:
                result[entity] = [self.served(entity, row) for row in rows]
            return self.json({"QueryResponse": result})

    def handle_cdc(self, request: Request, realm: str) -> Response:
        denied = self._guard(request, realm)
        if denied is not None:
            return denied
        names = [n.strip() for n in request.args.get("entities", "").split(",") if n.strip()]
        entities = [URL_ENTITY.get(n.lower()) for n in names]
        if not names or None in entities:
            return self.invalid_property("entities must name supported entities", "entities")
        try:
            since = querylang.parse_timestamp(request.args.get("changedSince", ""))
        except ValueError:
            return self.invalid_property("changedSince must be a date-time", "changedSince")
        if self.cdc_window_days and since < self.now() - timedelta(days=self.cdc_window_days):
            return self.invalid_property(
                f"changedSince must be within the last {self.cdc_window_days} days", "changedSince"
            )
        blocks: list[Payload] = []
        every: list[tuple[datetime, int, Payload]] = []
        with self.lock:
            for index, entity in enumerate(entities):
                assert entity is not None
                changed: list[tuple[datetime, Payload]] = [
                    (stamp, self.served(entity, self.records[entity][rid]))
                    for rid, stamp in self.stamps[entity].items()
                    if stamp >= since
                ]
                changed += [
                    (
                        stamp,
                        {
                            "domain": "QBO",
                            "status": "Deleted",
                            "Id": rid,
                            "MetaData": {"LastUpdatedTime": render_time(stamp)},
                        },
                    )
                    for rid, stamp in self.tombstones[entity].items()
                    if stamp >= since
                ]
                every += [(stamp, index, row) for stamp, row in changed]
            # the cap is the response's, whatever the entities asked: the oldest changes win
            every.sort(key=lambda item: (item[0], item[1]))
            kept = every[: self.cdc_max_objects]
            for index, entity in enumerate(entities):
                rows = [row for _, at, row in kept if at == index]
                block: Payload = {
                    "startPosition": 1,
                    "maxResults": len(rows),
                    "totalCount": len(rows),
                }
                if rows:
                    block[str(entity)] = rows
                blocks.append(block)
            return self.json({"CDCResponse": [{"QueryResponse": blocks}]})

    def handle_preferences(self, request: Request, realm: str) -> Response:
        denied = self._guard(request, realm)
        if denied is not None:
            return denied
        return self.json(
            {
                "Preferences": {
                    "Id": "1",
                    "SyncToken": "0",
                    "domain": "QBO",
                    "CurrencyPrefs": {
                        "MultiCurrencyEnabled": True,
                        "HomeCurrency": {"value": self.home_currency},
                    },
                    "MetaData": _meta(self.now(), self.now()),
                }
            }
        )

    def handle_exchange_rate(self, request: Request, realm: str) -> Response:
        """``GET /exchangerate?sourcecurrencycode=EUR&asofdate=2024-05-01``: the ExchangeRate
        entity of that currency and day (today without ``asofdate``)."""
        denied = self._guard(request, realm)
        if denied is not None:
            return denied
        source = (request.args.get("sourcecurrencycode") or "").upper()
        if not source:
            return self.invalid_property("sourcecurrencycode is required", "sourcecurrencycode")
        day = request.args.get("asofdate") or self.now().astimezone(COMPANY_TZ).date().isoformat()
        try:
            rate = self.exchange_rate(source, date.fromisoformat(day))
        except (KeyError, ValueError):
            return self.fault(400, "610", "Object Not Found", f"no exchange rate for {source}")
        return self.json(
            {
                "ExchangeRate": {
                    "SourceCurrencyCode": source,
                    "TargetCurrencyCode": self.home_currency,
                    "Rate": rate,
                    "AsOfDate": day,
                    "SyncToken": "0",
                    "domain": "QBO",
                    "sparse": False,
                    "MetaData": {"LastUpdatedTime": render_time(self.now())},
                }
            }
        )

    def handle_read(self, request: Request, realm: str, name: str, record_id: str) -> Response:
        denied = self._guard(request, realm)
        if denied is not None:
            return denied
        if name.lower() == "companyinfo" and record_id == self.realm_id:
            return self.json(
                {
                    "CompanyInfo": {
                        "Id": "1",
                        "SyncToken": "0",
                        "domain": "QBO",
                        "CompanyName": "Sandbox Company_US_1",
                        "Country": "US",
                        "MetaData": _meta(self.now(), self.now()),
                    }
                }
            )
        entity = URL_ENTITY.get(name.lower())
        if entity is None:
            return self.invalid_property(f"unsupported entity {name}")
        with self.lock:
            record = self.records[entity].get(record_id)
            if record is None:
                return self.fault(
                    400,
                    "610",
                    "Object Not Found",
                    f"{entity} {record_id} does not exist or was deleted",
                )
            return self.json({entity: self.served(entity, record)})

    def handle_batch(self, request: Request, realm: str) -> Response:
        denied = self._guard(request, realm) or self._request_id_refused(request, batch=True)
        if denied is not None:
            return denied
        with_id = bool(request.args.get("requestid"))
        return self._once(request, lambda body: self.ledger.batch(body, with_request_id=with_id))

    def handle_payment_create(self, request: Request, realm: str) -> Response:
        denied = self._guard(request, realm) or self._request_id_refused(request, batch=False)
        if denied is not None:
            return denied
        operation = request.args.get("operation")
        if operation is None:
            return self._once(request, lambda body: self.ledger.single_payment(body))
        if operation == "update" and request.args.get("include") == "void":
            return self._once(request, lambda body: self.ledger.single_void(body))
        return self.invalid_property(
            f"operation={operation!r} is not supported on Payment here", "operation"
        )

    def _request_id_refused(self, request: Request, *, batch: bool) -> Response | None:
        """Intuit's limits: a requestid has at most 50 characters, 36 on a batch request."""
        request_id = request.args.get("requestid")
        limit = REQUEST_ID_MAX_BATCH if batch else REQUEST_ID_MAX
        if request_id is not None and not 0 < len(request_id) <= limit:
            return self.fault(
                400,
                "2050",
                "String length specified does not match the supported length",
                f"requestid: Min:1 Max:{limit} supported. Supplied length:{len(request_id)}",
                element="requestid",
            )
        return None

    def _once(self, request: Request, apply: Callable[[Any], tuple[int, Payload]]) -> Response:
        """Apply a write once per ``requestid``: a repeat gets the first reply, no new write."""
        request_id = request.args.get("requestid")
        with self.lock:
            if request_id and request_id in self.replies:
                status, text = self.replies[request_id]
                return Response(text, status=status, mimetype="application/json")
            try:
                body = loads(request.get_data())
            except ValueError:
                return self.invalid_property("the body is not JSON")
            status, reply = apply(body)
            response = self.json(reply, status)
            if request_id:
                self.replies[request_id] = (status, response.get_data(as_text=True))
            self.writes += 1
            dropped = self.take_dropped_reply()
        if dropped:
            connection = request.environ.get("werkzeug.socket")
            if connection is not None:
                connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("reply dropped after the write (injected)")
        return response


def _deleted_customer(record: dict[str, Any]) -> bool:
    """A customer QBO "deleted": kept inactive with " (deleted)" after its name."""
    name = record.get("DisplayName")
    return record.get("Active") is False and isinstance(name, str) and name.endswith(" (deleted)")
