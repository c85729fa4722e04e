"""A local Salesforce org: OAuth, SOQL query + paging, getDeleted/getUpdated, sObject writes.

Wire format (as Salesforce documents it; ``vXX.X`` is any API version):

* ``POST /services/oauth2/token`` (form): ``grant_type=client_credentials`` (client_id,
  client_secret), ``password`` (+ username, password with the security token appended) or
  ``urn:ietf:params:oauth:grant-type:jwt-bearer`` (assertion: RS256 JWT, iss = client id,
  sub = username). 200 ``{"access_token", "instance_url", "id", "token_type": "Bearer",
  "issued_at", "signature"}``; 400 ``{"error": "invalid_grant"|"invalid_client",
  "error_description"}``.
* ``GET /services/data/vXX.X/query/?q=SOQL``: ``{"totalSize", "done", "nextRecordsUrl",
  "records": [{"attributes": {"type", "url"}, field: value, Child__r: {"totalSize", "done",
  "records"} | null}]}``; batch size from ``Sforce-Query-Options: batchSize=N`` (default and
  maximum 2000; the sandbox also honours sizes below Salesforce's minimum of 200, for tests).
  ``GET /services/data/vXX.X/query/{locator}-{offset}`` continues. SOQL subset: see
  :mod:`connectors.salesforce.soql`. Timestamps ``2024-05-01T10:00:00.000+0000``.
* ``GET /services/data/vXX.X/sobjects/{X}/deleted/?start&end``: ``{"deletedRecords":
  [{"id", "deletedDate"}], "earliestDateAvailable", "latestDateCovered"}`` (start at most
  15 days back and more than a minute before end, seconds ignored, else 400
  ``INVALID_REPLICATION_DATE``); ``.../updated/`` ``{"ids",
  "latestDateCovered"}`` (30 days).
* ``GET /services/data/vXX.X/limits/``: ``{"DailyApiRequests": {"Max", "Remaining"}}``.
* ``POST|PATCH /services/data/vXX.X/composite/sobjects`` (create / update by Id) and
  ``PATCH .../composite/sobjects/{X}/{ExternalIdField}`` (upsert), body ``{"allOrNone",
  "records": [{"attributes": {"type"}, ...}]}`` (at most 200): 200 with one SaveResult per
  record ``{"id", "success", "errors": [{"statusCode", "message", "fields"}], "created"}``.
* ``PATCH /services/data/vXX.X/sobjects/{X}/{Id}``: 204; with ``If-Unmodified-Since`` (HTTP
  date) a record modified after it answers 412.
* A field of a parent record (``blng__InvoiceLine__r.blng__Invoice__c``) is returned nested,
  ``{"blng__InvoiceLine__r": {"attributes": {"type", "url"}, "blng__Invoice__c": ...}}``, or
  ``null`` when the lookup is empty; such a path cannot be written. Fields a managed package
  calculates (Salesforce Billing's balances and totals) refuse writes per record with
  ``INVALID_FIELD_FOR_INSERT_UPDATE``.
* Every API response carries ``Sforce-Limit-Info: api-usage=N/MAX``. Errors are
  ``[{"message", "errorCode", "fields"}]``: 401 ``INVALID_SESSION_ID`` (expired session),
  400 ``INVALID_FIELD`` / ``INVALID_TYPE`` / ``MALFORMED_QUERY``, 403
  ``REQUEST_LIMIT_EXCEEDED`` (daily allowance spent), 503 ``SERVER_UNAVAILABLE``; a
  queryMore on an expired or released cursor ``INVALID_QUERY_LOCATOR`` (400, or 404 at some
  endpoints; :class:`SalesforceFaults` injects it).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.salesforce.client import dumps_exact
from connectors.salesforce.config import AuthFlow, SalesforceConfig
from connectors.salesforce.soql import Query, SoqlError, parse
from connectors.sandbox.server import Faults, SandboxServer
from connectors.sandbox.world import World, name_variant
from mappings.salesforce.schema import SalesforceSchema, _Spec, load_preset

Row = dict[str, Any]
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_STANDARD = ("Id", "SystemModstamp", "LastModifiedDate", "CreatedDate", "IsDeleted")
_PREFIXES = {
    "Account": "001",
    "Invoice": "3tt",
    "CreditMemo": "50g",
    "Payment": "0a3",
    "PaymentLineInvoice": "0a6",
    "CreditMemoInvApplication": "0bX",
}
# Fields Salesforce calculates (no Update in the object reference; the Salesforce Billing
# package's formulas and roll-ups): not writable.
_CALCULATED: dict[str, frozenset[str]] = {
    "Invoice": frozenset({"Balance", "TotalAmount", "TotalAmountWithTax"}),
    "CreditMemo": frozenset({"Balance", "TotalAmount", "TotalAmountWithTax"}),
    "blng__Invoice__c": frozenset(
        {"blng__Balance__c", "blng__TotalAmount__c", "blng__PaymentStatus__c"}
    ),
    "blng__CreditNote__c": frozenset({"blng__Balance__c", "blng__TotalAmount__c"}),
    "blng__Payment__c": frozenset({"blng__Balance__c"}),
}
# The type and unallocated-flag values of a live (not unapplied) application line, per object:
# Revenue Cloud's Applied / "No" picklists, Salesforce Billing's Allocation / a checkbox.
_APPLIED: dict[str, tuple[str, Any]] = {
    "blng__PaymentAllocationInvoiceLine__c": ("Allocation", False),
    "blng__PaymentAllocationInvoice__c": ("Allocation", False),
    "blng__CreditNoteAllocation__c": ("Allocation", False),
}
_ERROR_CODES = {
    "rate_limit": "REQUEST_LIMIT_EXCEEDED",
    "not_found": "NOT_FOUND",
    "503": "SERVER_UNAVAILABLE",
    "500": "UNKNOWN_EXCEPTION",
    "502": "SERVER_UNAVAILABLE",
    "http": "INVALID_REQUEST",
}


def salesforce_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce id (15 characters + the case-safe checksum suffix)."""
    base = f"{prefix}{'0' * (12 - len(str(number)))}{number}"[:15].ljust(15, "0")
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, char in enumerate(base[chunk * 5 : chunk * 5 + 5]):
            if char.isupper():
                bits |= 1 << i
        suffix += _ID_CHARS[bits]
    return base + suffix


def wire_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}+0000"
    )


@dataclass
class SalesforceFaults(Faults):
    """The shared faults, and Salesforce's own."""

    expire_locator_next: int = 0  # the next N queryMore calls find their cursor expired
    expired_locator_status: int = 400  # the status they answer INVALID_QUERY_LOCATOR with


@dataclass
class _Cursor:
    query: Query
    ids: list[str]


class SalesforceSandbox(SandboxServer):
    """The world rendered as a Salesforce org with the given preset or schema."""

    system = "salesforce"
    # Salesforce's token endpoint refuses a login rate limit with a 400 (rate_limit_exceeded),
    # which stops the connector; it never answers 429
    never_throttled = ("/services/oauth2/token",)

    def __init__(
        self,
        world: World | None = None,
        faults: Faults | None = None,
        *,
        preset: str = "custom_objects",
        schema: SalesforceSchema | None = None,
        auth_flow: AuthFlow = "client_credentials",
        api_version: str = "62.0",
        daily_limit: int = 1_000_000,
        quickbooks_ids: Callable[[str, int], str] | None = None,
        org_timezone: str = "UTC",
        org_currency: str = "USD",
    ) -> None:
        self.schema = schema or load_preset(preset)
        self.org_timezone = org_timezone
        self.org_currency = org_currency
        self.auth_flow = auth_flow
        self.api_version = api_version
        self.daily_limit = daily_limit
        self.api_calls = 0
        self.client_id = "3MVG9sandbox.arsync"
        self.client_secret = secrets.token_hex(16)
        self.username = "integration@arsync.example.com"
        self.password = "sandbox-password"
        self.security_token = "SECTOKEN123"
        self.org_id = salesforce_id("00D", 1)
        self.user_id = salesforce_id("005", 1)
        self._jwt_key: Any = None
        self.tables: dict[str, dict[str, Row]] = {}
        self.columns: dict[str, set[str]] = {}
        self.children: dict[str, dict[str, tuple[str, str]]] = {}
        self.deleted_log: dict[str, dict[str, datetime]] = {}
        self.stream_objects: dict[str, list[str]] = {}
        self._cursors: dict[str, _Cursor] = {}
        self._index_cache: dict[tuple[str, str], dict[str, list[Row]]] = {}
        self._counters: dict[str, itertools.count[int]] = {}
        self._parent_ids: dict[tuple[str, str], str] = {}
        self.prefixes = dict(_PREFIXES)
        self._quickbooks_ids = quickbooks_ids or self.quickbooks_id
        super().__init__(world, faults)
        self._define_objects()
        self._seed()

    def quickbooks_id(self, kind: str, key: int) -> str:
        """The QuickBooks Id of a world record, numbered as the QuickBooks sandbox numbers
        them: customers 1..n; invoices, credit memos and payments share one sequence."""
        w = self.world
        offset = {
            "customer": 0,
            "invoice": 0,
            "credit_memo": len(w.invoices),
            "payment": len(w.invoices) + len(w.credit_memos),
        }[kind]
        return str(offset + key)

    # objects -------------------------------------------------------------------------
    def _define_objects(self) -> None:
        s = self.schema
        specs: list[tuple[str, _Spec | None]] = [
            ("customers", s.account),
            ("invoices", s.invoice),
            ("credit_memos", s.credit_memo),
            ("payments", s.payment),
            ("payments", s.payment.applications),
            ("payments", s.credit_application),
        ]
        for stream, spec in specs:
            if spec is None:
                continue
            names = set(_STANDARD) | {"Name", "Description"}
            names |= {v for v in spec.model_dump().values() if isinstance(v, str)}
            names |= set(spec.links.values())
            names.discard(spec.sobject)
            self.columns[spec.sobject] = names
            self.tables[spec.sobject] = {}
            self.deleted_log[spec.sobject] = {}
            if spec is not s.payment.applications:
                self.stream_objects.setdefault(stream, []).append(spec.sobject)
        apps = s.payment.applications
        self.columns[apps.sobject].discard(apps.relationship)
        self.children[s.payment.sobject] = {apps.relationship: (apps.sobject, apps.payment)}
        for index, sobject in enumerate(self.columns):
            self.prefixes.setdefault(sobject, f"a0{index}")
        # the org itself, read by check: its id, default time zone and corporate currency
        organization = {
            "Id": self.org_id,
            "Name": "Sandbox Org",
            "TimeZoneSidKey": self.org_timezone,
            "DefaultCurrencyIsoCode": self.org_currency,
        }
        self.columns["Organization"] = set(organization)
        self.tables["Organization"] = {self.org_id: organization}

    def _new_id(self, sobject: str) -> str:
        counter = self._counters.setdefault(sobject, itertools.count(1))
        return salesforce_id(self.prefixes[sobject], next(counter))

    def _insert(self, spec: _Spec, values: dict[str, Any], stamp: datetime) -> Row:
        row: Row = {
            "Id": self._new_id(spec.sobject),
            "SystemModstamp": stamp,
            "LastModifiedDate": stamp,
            "CreatedDate": stamp,
            "IsDeleted": False,
            "Name": None,
            "Description": None,
        }
        for attr, value in values.items():
            name = spec.field(attr) if attr in type(spec).model_fields else attr
            if name and name not in _STANDARD:
                row[name] = value
        self.tables[spec.sobject][row["Id"]] = row
        return row

    def _status(self, status_map: dict[str, str], canonical: str, fallback: str) -> str | None:
        for wire, value in status_map.items():
            if value == canonical:
                return wire
        for wire, value in status_map.items():
            if value == fallback:
                return wire
        return None

    def _links(self, spec: _Spec, kind: str, key: int) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for system, field_name in spec.links.items():
            if system == "quickbooks":
                values[field_name] = self._quickbooks_ids(kind, key)
        if spec.external_id and spec.external_id not in values:
            values[spec.external_id] = self._quickbooks_ids(kind, key)
        return values

    def _seed(self) -> None:
        s, w = self.schema, self.world
        self.account_ids: dict[int, str] = {}
        self.invoice_ids: dict[int, str] = {}
        self.memo_ids: dict[int, str] = {}
        self.payment_ids: dict[int, str] = {}
        for c in w.customers:
            row = self._insert(
                s.account,
                {
                    "name": name_variant(c.name, 2),
                    "number": c.number,
                    "currency": c.currency,
                    "credit_hold": False,
                    **self._links(s.account, "customer", c.key),
                },
                c.modified_at,
            )
            self.account_ids[c.key] = row["Id"]
        for inv in w.invoices:
            balance = inv.balance
            if inv.key in w.drift_invoice_keys:
                balance += Decimal("0.50") if balance < inv.total else Decimal("-0.50")
            canonical = inv.status if inv.status != "open" or balance else "paid"
            row = self._insert(
                s.invoice,
                {
                    "number": f"INV-{inv.number}",
                    "account": self.account_ids[inv.customer_key],
                    "total": inv.total,
                    "balance": balance,
                    "status": self._status(s.invoice.status_map, canonical, "open"),
                    "issue_date": inv.issue_date,
                    "due_date": inv.due_date,
                    "currency": inv.currency,
                    "reference": inv.po_number,
                    **self._links(s.invoice, "invoice", inv.key),
                },
                inv.modified_at,
            )
            self.invoice_ids[inv.key] = row["Id"]
        for memo in w.credit_memos:
            row = self._insert(
                s.credit_memo,
                {
                    "number": f"CM-{memo.number}",
                    "account": self.account_ids[memo.customer_key],
                    "total": memo.total,
                    "balance": memo.balance,
                    "status": self._status(
                        s.credit_memo.status_map, "paid" if memo.balance == 0 else "open", "open"
                    ),
                    "issue_date": memo.issue_date,
                    "currency": memo.currency,
                    "reference": memo.reference,
                    **self._links(s.credit_memo, "credit_memo", memo.key),
                },
                memo.modified_at,
            )
            self.memo_ids[memo.key] = row["Id"]
        for pay in w.payments:
            credit = [a for a in pay.applications if a.credit_memo_key is not None]
            if credit and s.credit_application is not None:
                for app in credit:
                    self._insert(
                        s.credit_application,
                        {
                            "credit_memo": self.memo_ids[app.credit_memo_key or 0],
                            "invoice": self.invoice_ids[app.invoice_key],
                            "amount": app.amount,
                            "account": self.account_ids[pay.customer_key],
                            "date": pay.received_on,
                            "unapplied_flag": _APPLIED.get(
                                s.credit_application.sobject, ("Applied", "No")
                            )[1],  # Revenue Cloud: a picklist Yes / No / NA
                            "line_type": _APPLIED.get(
                                s.credit_application.sobject, ("Applied", "No")
                            )[0],
                            "currency": pay.currency,
                        },
                        pay.modified_at,
                    )
                continue
            if credit and s.payment.applications.credit_memo is None:
                continue
            row = self._insert(
                s.payment,
                {
                    "number": f"PAY-{pay.key:06d}",
                    "account": self.account_ids[pay.customer_key],
                    "amount": pay.amount,
                    "unapplied": pay.unapplied,
                    "date": pay.received_on,
                    "method": pay.method.upper() if len(pay.method) <= 3 else pay.method.title(),
                    "reference": pay.reference,
                    "status": self._status(s.payment.status_map, "posted", "posted"),
                    "currency": pay.currency,
                    **self._links(s.payment, "payment", pay.key),
                },
                pay.modified_at,
            )
            self.payment_ids[pay.key] = row["Id"]
            for app in pay.applications:
                self._insert(
                    s.payment.applications,
                    {
                        "payment": row["Id"],
                        "invoice": self.invoice_ids[app.invoice_key],
                        "credit_memo": self.memo_ids.get(app.credit_memo_key or 0),
                        "amount": app.amount,
                        "unapplied_flag": _APPLIED.get(
                            s.payment.applications.sobject, ("Applied", "No")
                        )[1],
                        "line_type": _APPLIED.get(
                            s.payment.applications.sobject, ("Applied", "No")
                        )[0],
                    },
                    pay.modified_at,
                )

    # configuration for the connector -------------------------------------------------
    def now(self) -> datetime:
        """Salesforce keeps timestamps to the millisecond (as its wire form shows them)."""
        moment = super().now()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def config(self) -> SalesforceConfig:
        """A connector config pointing at this sandbox with its valid credentials."""
        values: dict[str, Any] = {
            "token_url": f"{self.base_url}/services/oauth2/token",
            "auth_flow": self.auth_flow,
            "client_id": self.client_id,
            "api_version": self.api_version,
            "objects": self.schema,
        }
        if self.auth_flow in ("client_credentials", "password"):
            values["client_secret"] = self.client_secret
        if self.auth_flow in ("password", "jwt_bearer"):
            values["username"] = self.username
        if self.auth_flow == "password":
            values["password"] = self.password
            values["security_token"] = self.security_token
        if self.auth_flow == "jwt_bearer":
            values["private_key"] = self.jwt_private_key_pem()
            values["jwt_audience"] = self.base_url
        return SalesforceConfig.model_validate(values)

    def initial_tokens(self) -> dict[str, str]:
        return {}

    def jwt_private_key_pem(self) -> str:
        """The connected app's private key (its certificate is 'uploaded' to this org)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        with self.lock:
            if self._jwt_key is None:
                self._jwt_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = self._jwt_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        return pem.decode("ascii")

    # routes ------------------------------------------------------------------------------
    def routes(self) -> None:
        data = "/services/data/v<version>"
        self.route("/services/oauth2/token", self.token, ("POST",))
        self.route(f"{data}/query/", self.query)
        self.route(f"{data}/query/<locator>", self.query_more)
        self.route(f"{data}/sobjects/<sobject>/deleted/", self.get_deleted)
        self.route(f"{data}/sobjects/<sobject>/updated/", self.get_updated)
        self.route(f"{data}/sobjects/<sobject>/<record_id>", self.patch_record, ("PATCH",))
        self.route(f"{data}/limits/", self.limits)
        self.route(f"{data}/composite/sobjects", self.collection, ("POST", "PATCH"))
        self.route(f"{data}/composite/sobjects/<sobject>/<external_field>", self.upsert, ("PATCH",))

    def error(self, status: int, code: str, message: str, fields: Iterable[str] = ()) -> Response:
        body = [
            {"message": message, "errorCode": _ERROR_CODES.get(code, code), "fields": list(fields)}
        ]
        return self._json(body, status)

    def _json(self, body: Any, status: int = 200) -> Response:
        response = Response(dumps_exact(_render(body)), status=status, mimetype="application/json")
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_calls}/{self.daily_limit}"
        return response

    def _authorize(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:].partition("!")[2] if header.startswith("Bearer ") else None
        if not self.token_ok(token):
            return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self.lock:
            if self.api_calls >= self.daily_limit:
                return self.error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.api_calls += 1
        return None

    # OAuth -----------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        form = request.form
        grant = form.get("grant_type", "")
        ok = False
        if grant == "client_credentials" and self.auth_flow == grant:
            ok = form.get("client_id") == self.client_id and (
                form.get("client_secret") == self.client_secret
            )
            if not ok:
                return self._oauth_error("invalid_client", "invalid client credentials")
        elif grant == "password" and self.auth_flow == grant:
            if form.get("client_id") != self.client_id or (
                form.get("client_secret") != self.client_secret
            ):
                return self._oauth_error("invalid_client", "invalid client credentials")
            ok = form.get("username") == self.username and form.get("password") == (
                self.password + self.security_token
            )
        elif (
            grant == "urn:ietf:params:oauth:grant-type:jwt-bearer"
            and self.auth_flow == "jwt_bearer"
        ):
            ok = self._jwt_ok(form.get("assertion", ""))
        else:
            return self._oauth_error("unsupported_grant_type", "grant type not supported")
        if not ok:
            return self._oauth_error("invalid_grant", "authentication failure")
        body = {
            "access_token": f"{self.org_id[:15]}!{self.issue_token()}",
            "instance_url": self.base_url,
            "id": f"{self.base_url}/id/{self.org_id}/{self.user_id}",
            "token_type": "Bearer",
            "issued_at": str(int(self.now().timestamp() * 1000)),
            "signature": secrets.token_urlsafe(32),
        }
        return Response(json.dumps(body), status=200, mimetype="application/json")

    def _oauth_error(self, code: str, description: str) -> Response:
        body = {"error": code, "error_description": description}
        return Response(json.dumps(body), status=400, mimetype="application/json")

    def _jwt_ok(self, assertion: str) -> bool:
        import jwt

        if self._jwt_key is None:
            return False
        try:
            claims = jwt.decode(
                assertion,
                self._jwt_key.public_key(),
                algorithms=["RS256"],
                audience=self.base_url,
            )
        except jwt.PyJWTError:
            return False
        return bool(claims.get("iss") == self.client_id and claims.get("sub") == self.username)

    # reading -----------------------------------------------------------------------------
    def query(self, request: Request, version: str) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        text = request.args.get("q", "")
        try:
            parsed = parse(text)
        except SoqlError as exc:
            return self.error(400, exc.code, f"\n{text}\n{exc}")
        invalid = self._validate(parsed)
        if invalid:
            return invalid
        with self.lock:
            table = self.tables[parsed.sobject]
            candidates: Iterable[Row] = table.values()
            for cond in parsed.where:
                if cond.field == "Id" and cond.op == "IN":  # served from the primary key
                    candidates = [table[i] for i in dict.fromkeys(cond.value) if i in table]
            rows = [r for r in candidates if all(c.holds(r.get(c.field)) for c in parsed.where)]
            for name, descending in reversed(parsed.order_by):
                rows.sort(key=functools.partial(_sort_key, name), reverse=descending)
            if parsed.limit is not None:
                rows = rows[: parsed.limit]
            locator = salesforce_id("01g", len(self._cursors) + 1)
            self._cursors[locator] = _Cursor(parsed, [r["Id"] for r in rows])
        return self._page(request, version, locator, 0)

    def query_more(self, request: Request, version: str, locator: str) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        cursor_id, _, offset = locator.rpartition("-")
        expired = self._expire_locator(cursor_id)
        if expired is not None:
            return self.error(expired, "INVALID_QUERY_LOCATOR", "invalid query locator")
        if cursor_id not in self._cursors or not offset.isdigit():
            return self.error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(request, version, cursor_id, int(offset))

    def _expire_locator(self, cursor_id: str) -> int | None:
        """The status to answer when an injected expiry takes this queryMore (the cursor is
        then gone), else None."""
        faults = self.faults
        with self.lock:
            if not isinstance(faults, SalesforceFaults) or faults.expire_locator_next <= 0:
                return None
            faults.expire_locator_next -= 1
            self._cursors.pop(cursor_id, None)
            return faults.expired_locator_status

    def _page(self, request: Request, version: str, locator: str, offset: int) -> Response:
        size = _batch_size(request.headers.get("Sforce-Query-Options", ""))
        with self.lock:
            cursor = self._cursors[locator]
            ids = cursor.ids[offset : offset + size]
            table = self.tables[cursor.query.sobject]
            records = [self._record(cursor.query, table[i], version) for i in ids if i in table]
        end = offset + len(ids)
        body: dict[str, Any] = {
            "totalSize": len(cursor.ids),
            "done": end >= len(cursor.ids),
            "records": records,
        }
        if not body["done"]:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        return self._json(body)

    def _record(self, query: Query, row: Row, version: str) -> dict[str, Any]:
        sobject = query.sobject
        out: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{version}/sobjects/{sobject}/{row['Id']}",
            }
        }
        for name in query.fields:
            if "." in name:
                self._put_parent_field(out, name, row, version)
            else:
                out[name] = row.get(name)
        for sub in query.subqueries:
            child_object, parent_field = self.children[sobject][sub.sobject]
            kids = [
                k
                for k in self._children_of(child_object, parent_field).get(row["Id"], [])
                if all(c.holds(k.get(c.field)) for c in sub.where)
            ]
            out[sub.sobject] = (
                {
                    "totalSize": len(kids),
                    "done": True,
                    "records": [
                        self._record(_as_child(sub, child_object), k, version) for k in kids
                    ],
                }
                if kids
                else None
            )
        stream = next((n for n, objs in self.stream_objects.items() if sobject in objs), None)
        if stream and self.is_malformed(stream, row["Id"]):
            self._break(sobject, out)
        return out

    def _put_parent_field(self, out: dict[str, Any], path: str, row: Row, version: str) -> None:
        """A parent record's field, nested under its relationship as Salesforce returns it
        (the row keeps the value under the whole path; parents are not tables here)."""
        value = row.get(path)
        *relationships, name = path.split(".")
        node = out
        for depth, relationship in enumerate(relationships):
            if value is None and relationship not in node:
                node[relationship] = None
                return
            child = node.get(relationship)
            if child is None:
                if value is None:
                    return
                custom = relationship.endswith("__r")
                sobject = relationship[:-3] + "__c" if custom else relationship
                key = (".".join(relationships[: depth + 1]), str(row["Id"]))
                parent_id = self._parent_ids.setdefault(
                    key, salesforce_id("a1X", len(self._parent_ids) + 1)
                )
                child = {
                    "attributes": {
                        "type": sobject,
                        "url": f"/services/data/v{version}/sobjects/{sobject}/{parent_id}",
                    }
                }
                node[relationship] = child
            node = child
        node[name] = value

    def _children_of(self, child_object: str, parent_field: str) -> dict[str, list[Row]]:
        """Child rows by parent id (one pass over the child table per page served)."""
        cached = self._index_cache.get((child_object, parent_field))
        if cached is not None:
            return cached
        index: dict[str, list[Row]] = {}
        for child in self.tables[child_object].values():
            index.setdefault(str(child.get(parent_field)), []).append(child)
        self._index_cache[(child_object, parent_field)] = index
        return index

    def _break(self, sobject: str, record: dict[str, Any]) -> None:
        s = self.schema
        if sobject == s.account.sobject:
            record[s.account.name] = None
            return
        spec = s.spec_for_object(sobject)
        for attr in ("balance", "amount"):
            name = (
                spec.field(attr) if spec is not None and attr in type(spec).model_fields else None
            )
            if name and name in record:
                record[name] = "12,5O.00"
                return

    def _validate(self, query: Query, parent: str | None = None) -> Response | None:
        sobject = query.sobject
        if parent is not None:
            relation = self.children.get(parent, {}).get(sobject)
            if relation is None:
                return self.error(
                    400,
                    "INVALID_TYPE",
                    f"Didn't understand relationship '{sobject}' in FROM part of query call.",
                )
            sobject = relation[0]
        elif sobject not in self.tables:
            return self.error(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        for name in query.referenced_fields():
            if name not in self.columns[sobject]:
                return self.error(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on entity '{sobject}'.",
                    [name],
                )
        for sub in query.subqueries:
            invalid = self._validate(sub, parent=sobject)
            if invalid:
                return invalid
        return None

    def get_deleted(self, request: Request, version: str, sobject: str) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        window = self._window(request, sobject, days=15, minute_window=True)
        if isinstance(window, Response):
            return window
        start, end = window
        with self.lock:
            stamps = sorted(
                (stamp, i)
                for i, stamp in self.deleted_log[sobject].items()
                if start <= stamp <= end
            )
        found = [{"id": i, "deletedDate": stamp} for stamp, i in stamps]
        body = {
            "deletedRecords": found,
            "earliestDateAvailable": self.now() - timedelta(days=15),
            "latestDateCovered": end,
        }
        return self._json(body)

    def get_updated(self, request: Request, version: str, sobject: str) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        window = self._window(request, sobject, days=30)
        if isinstance(window, Response):
            return window
        start, end = window
        with self.lock:
            ids = [
                i for i, r in self.tables[sobject].items() if start <= r["SystemModstamp"] <= end
            ]
        return self._json({"ids": ids, "latestDateCovered": end})

    def _window(
        self, request: Request, sobject: str, days: int, minute_window: bool = False
    ) -> tuple[datetime, datetime] | Response:
        if sobject not in self.tables:
            return self.error(404, "NOT_FOUND", f"The requested resource does not exist: {sobject}")
        try:
            start = _parse_param(request.args.get("start", ""))
            end = _parse_param(request.args.get("end", ""))
        except ValueError:
            return self.error(400, "MALFORMED_QUERY", "start and end must be ISO 8601 date-times")
        if start < self.now() - timedelta(days=days):
            return self.error(
                400,
                "INVALID_REPLICATION_DATE",
                f"startDate cannot be more than {days} days ago",
            )
        if end <= start:
            return self.error(400, "INVALID_REPLICATION_DATE", "endDate must be after startDate")
        # getDeleted ignores seconds and wants a window longer than one minute
        if minute_window and end.replace(second=0, microsecond=0) - start.replace(
            second=0, microsecond=0
        ) <= timedelta(minutes=1):
            return self.error(
                400,
                "INVALID_REPLICATION_DATE",
                "endDate must be more than one minute after startDate",
            )
        return start, end

    def limits(self, request: Request, version: str) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        body = {
            "DailyApiRequests": {
                "Max": self.daily_limit,
                "Remaining": self.daily_limit - self.api_calls,
            }
        }
        return self._json(body)

    # writing -----------------------------------------------------------------------------
    def collection(self, request: Request, version: str) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        parsed = self._collection_body(request)
        if isinstance(parsed, Response):
            return parsed
        all_or_none, records = parsed
        unknown = self._unknown_column(records)
        if unknown:
            return unknown
        create = request.method == "POST"
        return self._save_all(
            request, records, all_or_none, lambda rec: self._save(rec, create=create)
        )

    def upsert(self, request: Request, version: str, sobject: str, external_field: str) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        if sobject not in self.tables:
            return self.error(404, "NOT_FOUND", f"The requested resource does not exist: {sobject}")
        if external_field not in self.columns[sobject]:
            return self.error(
                400,
                "INVALID_FIELD",
                f"No such column '{external_field}' on entity '{sobject}'.",
                [external_field],
            )
        parsed = self._collection_body(request)
        if isinstance(parsed, Response):
            return parsed
        all_or_none, records = parsed
        unknown = self._unknown_column(records, sobject)
        if unknown:
            return unknown
        return self._save_all(
            request,
            records,
            all_or_none,
            lambda rec: self._upsert_one(sobject, external_field, rec),
        )

    def patch_record(
        self, request: Request, version: str, sobject: str, record_id: str
    ) -> Response:
        denied = self._authorize(request)
        if denied:
            return denied
        with self.lock:
            row = self.tables.get(sobject, {}).get(record_id)
            if row is None:
                return self.error(404, "NOT_FOUND", "The requested resource does not exist")
            condition = request.headers.get("If-Unmodified-Since")
            if condition:
                try:
                    limit = parsedate_to_datetime(condition)
                except (TypeError, ValueError):
                    return self.error(
                        400, "INVALID_HEADER", "If-Unmodified-Since is not an HTTP date"
                    )
                if row["LastModifiedDate"].replace(microsecond=0) > limit:
                    return self.error(412, "PRECONDITION_FAILED", "The record was modified since")
            values = json.loads(request.get_data() or b"{}", parse_float=Decimal)
            unknown = self._unknown_column([{"attributes": {"type": sobject}, **values}])
            if unknown:
                return unknown
            errors = self._apply(sobject, row, values)
            if errors:
                return self._json(errors, 400)
            self.writes += 1
        if self.take_dropped_reply():
            return _drop_connection(request)
        return Response(status=204)

    def _collection_body(self, request: Request) -> tuple[bool, list[dict[str, Any]]] | Response:
        try:
            body = json.loads(request.get_data() or b"{}", parse_float=Decimal)
        except ValueError:
            return self.error(400, "JSON_PARSER_ERROR", "request body is not JSON")
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            return self.error(400, "INVALID_FIELD", "records: a non-empty list is required")
        if len(records) > 200:
            return self.error(
                400, "EXCEEDED_ID_LIMIT", "record limit exceeded: at most 200 records per request"
            )
        return bool(body.get("allOrNone", False)), records

    def _unknown_column(
        self, records: list[dict[str, Any]], sobject: str | None = None
    ) -> Response | None:
        """A field the object does not have fails the whole request, as Salesforce's JSON
        reader does: 400 ``[{"errorCode": "INVALID_FIELD", "message": "No such column 'X' on
        sobject of type Y"}]`` (read-only fields fail per record instead)."""
        for record in records:
            if not isinstance(record, dict):
                return self.error(400, "JSON_PARSER_ERROR", "each record must be an object")
            kind = sobject or (record.get("attributes") or {}).get("type")
            if kind not in self.columns:
                continue  # an unknown type fails that record (INVALID_TYPE)
            known = {c.lower() for c in self.columns[kind]}
            for name in record:
                if name != "attributes" and name.lower() not in known:
                    return self.error(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name}' on sobject of type {kind}",
                        [name],
                    )
        return None

    def _save_all(
        self,
        request: Request,
        records: list[dict[str, Any]],
        all_or_none: bool,
        save: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Response:
        with self.lock:
            snapshot = (
                {k: {i: dict(r) for i, r in t.items()} for k, t in self.tables.items()}
                if all_or_none
                else {}
            )
            results = [save(rec) for rec in records]
            if all_or_none and not all(r["success"] for r in results):
                self.tables = snapshot
                rolled = {
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and "
                    "the request was using AllOrNone header",
                    "fields": [],
                }
                results = [
                    r if not r["success"] else {"id": r["id"], "success": False, "errors": [rolled]}
                    for r in results
                ]
            elif any(r["success"] for r in results):
                self.writes += 1
        if self.take_dropped_reply():
            return _drop_connection(request)
        return self._json(results)

    def _save(self, record: dict[str, Any], *, create: bool) -> dict[str, Any]:
        sobject = (record.get("attributes") or {}).get("type")
        if sobject not in self.tables:
            return _failure(None, "INVALID_TYPE", f"sObject type '{sobject}' is not supported")
        values = {k: v for k, v in record.items() if k != "attributes"}
        if create:
            row = self._blank(sobject)
            errors = self._apply(sobject, row, values)
            if errors:
                return {"id": None, "success": False, "errors": errors}
            self.tables[sobject][row["Id"]] = row
            return {"id": row["Id"], "success": True, "errors": []}
        record_id = values.pop("Id", None) or values.pop("id", None)
        existing = self.tables[sobject].get(str(record_id))
        if existing is None:
            return _failure(
                record_id,
                "ENTITY_IS_DELETED"
                if record_id in self.deleted_log[sobject]
                else "INVALID_ID_FIELD",
                f"no {sobject} with id {record_id}",
            )
        errors = self._apply(sobject, existing, values)
        if errors:
            return {"id": record_id, "success": False, "errors": errors}
        return {"id": record_id, "success": True, "errors": []}

    def _upsert_one(
        self, sobject: str, external_field: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        key = record.get(external_field)
        if key in (None, ""):
            return _failure(
                None, "REQUIRED_FIELD_MISSING", f"{external_field} is required", [external_field]
            )
        values = {k: v for k, v in record.items() if k != "attributes"}
        matches = [r for r in self.tables[sobject].values() if r.get(external_field) == key]
        if len(matches) > 1:
            return _failure(
                None,
                "DUPLICATE_EXTERNAL_ID",
                f"{external_field} {key} matches several records",
                [external_field],
            )
        if matches:
            row = matches[0]
            errors = self._apply(sobject, row, values)
            if errors:
                return {"id": row["Id"], "success": False, "errors": errors}
            return {"id": row["Id"], "success": True, "errors": [], "created": False}
        row = self._blank(sobject)
        errors = self._apply(sobject, row, values)
        if errors:
            return {"id": None, "success": False, "errors": errors}
        self.tables[sobject][row["Id"]] = row
        return {"id": row["Id"], "success": True, "errors": [], "created": True}

    def _blank(self, sobject: str) -> Row:
        stamp = self.now()
        row: Row = {
            "Id": self._new_id(sobject),
            "SystemModstamp": stamp,
            "LastModifiedDate": stamp,
            "CreatedDate": stamp,
            "IsDeleted": False,
        }
        return row

    def _apply(self, sobject: str, row: Row, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Set fields on a row; returns Salesforce error items (and changes nothing) if invalid."""
        read_only = {"Id", "SystemModstamp", "LastModifiedDate", "CreatedDate", "IsDeleted"}
        read_only |= _CALCULATED.get(sobject, frozenset())
        for name in values:
            if name in read_only or "." in name or name not in self.columns[sobject]:
                return [
                    {
                        "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "message": f"Unable to create/update fields: {name}.",
                        "fields": [name],
                    }
                ]
        converted = {name: _from_wire(value) for name, value in values.items()}
        row.update(converted)
        stamp = self.now()
        row["SystemModstamp"] = stamp
        row["LastModifiedDate"] = stamp
        return []

    # data changes made "through the UI" ------------------------------------------------
    def _stream_row(self, stream: str, remote_id: str) -> tuple[str, Row]:
        for sobject in self.stream_objects[stream]:
            row = self.tables[sobject].get(remote_id)
            if row is not None:
                return sobject, row
        raise KeyError(f"no {stream} record {remote_id}")

    def touch(self, stream: str, remote_id: str) -> None:
        with self.lock:
            _sobject, row = self._stream_row(stream, remote_id)
            stamp = self.now()
            row["Description"] = f"edited {stamp.isoformat()}"
            row["SystemModstamp"] = stamp
            row["LastModifiedDate"] = stamp

    def create(self, stream: str) -> str:
        s = self.schema
        with self.lock:
            stamp = self.now()
            account = next(iter(self.tables[s.account.sobject].values()))
            n = len(self.tables[self.stream_objects[stream][0]]) + 1
            if stream == "customers":
                row = self._insert(
                    s.account,
                    {"name": f"NEW CUSTOMER {n}", "number": f"C-9{n:04d}", "currency": "USD"},
                    stamp,
                )
            elif stream in ("invoices", "credit_memos"):
                spec = s.invoice if stream == "invoices" else s.credit_memo
                status = self._status(spec.status_map, "open", "open")
                row = self._insert(
                    spec,
                    {
                        "number": f"{'INV' if stream == 'invoices' else 'CM'}-9{n:05d}",
                        "account": account["Id"],
                        "total": Decimal("100.00"),
                        "balance": Decimal("100.00"),
                        "status": status,
                        "issue_date": stamp.date(),
                        "due_date": stamp.date() + timedelta(days=30),
                        "currency": account.get(s.account.currency or "", None) or "USD",
                    },
                    stamp,
                )
            else:
                row = self._insert(
                    s.payment,
                    {
                        "number": f"PAY-9{n:05d}",
                        "account": account["Id"],
                        "amount": Decimal("50.00"),
                        "unapplied": Decimal("50.00"),
                        "date": stamp.date(),
                        "status": self._status(s.payment.status_map, "posted", "posted"),
                        "currency": account.get(s.account.currency or "", None) or "USD",
                    },
                    stamp,
                )
            return str(row["Id"])

    def remove(self, stream: str, remote_id: str) -> None:
        """Delete the record (to the recycle bin); a payment takes its applications along."""
        with self.lock:
            sobject, _row = self._stream_row(stream, remote_id)
            stamp = self.now()
            del self.tables[sobject][remote_id]
            self.deleted_log[sobject][remote_id] = stamp
            for child, parent_field in self.children.get(sobject, {}).values():
                for child_id in [
                    i for i, r in self.tables[child].items() if r.get(parent_field) == remote_id
                ]:
                    del self.tables[child][child_id]
                    self.deleted_log[child][child_id] = stamp

    def remote_ids(self, stream: str) -> list[str]:
        with self.lock:
            return [i for sobject in self.stream_objects[stream] for i in self.tables[sobject]]

    def expire_cursors(self) -> None:
        """Every open query cursor expires (as after 15 idle minutes in production)."""
        with self.lock:
            self._cursors.clear()

    def row(self, sobject: str, record_id: str) -> Row:
        """A stored record by id (for tests reading back writes)."""
        with self.lock:
            return dict(self.tables[sobject][record_id])


def _drop_connection(request: Request) -> Response:
    """The write is applied; the client never hears back (the connection is cut)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(status=500)


def _failure(record_id: Any, code: str, message: str, fields: Iterable[str] = ()) -> dict[str, Any]:
    error = {"statusCode": code, "message": message, "fields": list(fields)}
    return {"id": record_id, "success": False, "errors": [error]}


def _as_child(sub: Query, child_object: str) -> Query:
    return Query(sobject=child_object, fields=sub.fields)


def _batch_size(header: str) -> int:
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip() == "batchSize" and value.strip().isdigit():
            return max(1, min(int(value), 2000))
    return 2000


def _sort_key(name: str, row: Row) -> tuple[int, Any]:
    """ORDER BY as SOQL documents it: nulls first, text case-insensitively (English locale)."""
    value = row.get(name)
    if isinstance(value, str):
        return (1, value.upper())
    return (0, "") if value is None else (1, value)


def _parse_param(value: str) -> datetime:
    raw = value.strip().replace(" ", "+").replace("Z", "+00:00")
    moment = datetime.fromisoformat(raw)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _from_wire(value: Any) -> Any:
    """JSON values to what the org stores: ISO dates become dates, numbers stay Decimal."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _render(value: Any) -> Any:
    if isinstance(value, datetime):
        return wire_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v) for v in value]
    return value
