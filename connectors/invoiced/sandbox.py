"""A local Invoiced: list endpoints with Link/X-Total-Count paging, ``updated_after``,
``/events`` for deletes, HTTP Basic with the API key, Invoiced's error bodies and the faults.

It renders the shared world the Invoiced way: names spelled out (style 1), invoice numbers
``INV-01001``, credit notes ``CN-5001``, amounts in major units, lower-case currencies, unix
timestamps, and ``metadata.quickbooks_id`` linking each record to the QuickBooks sandbox's Id
(customers 1..n; invoices, credit memos and payments numbered in one sequence).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from connectors.invoiced.config import InvoicedConfig
from connectors.sandbox.server import Faults, SandboxServer
from connectors.sandbox.world import World, name_variant

PATHS = {
    "customers": "/customers",
    "invoices": "/invoices",
    "credit_memos": "/credit_notes",
    "payments": "/payments",
}
OBJECTS = {
    "customers": "customer",
    "invoices": "invoice",
    "credit_memos": "credit_note",
    "payments": "payment",
}
ID_BASE = {"customers": 0, "invoices": 100_000, "credit_memos": 200_000, "payments": 300_000}


_DECIMAL = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def _json(value: Any) -> str:
    """JSON with Decimal amounts written as exact JSON numbers, as Invoiced sends them."""
    text = json.dumps(value, default=lambda v: f"\x00dec:{v}" if isinstance(v, Decimal) else str(v))
    return _DECIMAL.sub(r"\1", text)


class InvoicedSandbox(SandboxServer):
    """Invoiced's REST API over the world, on loopback."""

    system = "invoiced"

    def __init__(self, world: World | None = None, faults: Faults | None = None) -> None:
        self.api_key = "sk_test_" + secrets.token_hex(12)
        self.records: dict[str, dict[int, dict[str, Any]]] = {s: {} for s in PATHS}
        self.events: list[dict[str, Any]] = []
        self._event_ids = itertools.count(1)
        self._ids = {s: itertools.count(ID_BASE[s] + 50_000) for s in PATHS}
        super().__init__(world, faults)
        self._seed()

    # configuration handed to arsync ------------------------------------------------------
    def config(self) -> InvoicedConfig:
        return InvoicedConfig(api_key=self.api_key, base_url=self.base_url)  # type: ignore[arg-type]

    def initial_tokens(self) -> dict[str, str]:
        return {}

    # world -> Invoiced records ------------------------------------------------------------
    def _seed(self) -> None:
        w = self.world
        invoice_id = {i.key: ID_BASE["invoices"] + i.key for i in w.invoices}
        memo_id = {m.key: ID_BASE["credit_memos"] + m.key for m in w.credit_memos}
        for c in w.customers:
            self.records["customers"][c.key] = {
                "id": c.key,
                "object": "customer",
                "name": name_variant(c.name, 1),
                "number": c.number,
                "email": c.email,
                "currency": c.currency.lower(),
                "type": "company",
                "metadata": {"quickbooks_id": str(c.key)},
                "created_at": int(c.modified_at.timestamp()),
                "updated_at": int(c.modified_at.timestamp()),
            }
        for i in w.invoices:
            balance = i.balance
            if i.key in w.drift_invoice_keys and balance >= 1:
                balance -= Decimal("1.00")  # the AR platform has not caught up
            voided = i.status == "void"
            status = "voided" if voided else ("paid" if balance == 0 else "sent")
            self.records["invoices"][invoice_id[i.key]] = {
                "id": invoice_id[i.key],
                "object": "invoice",
                "customer": i.customer_key,
                "number": f"INV-{i.number:05d}",
                "currency": i.currency.lower(),
                "date": _ts(i.issue_date),
                "due_date": _ts(i.due_date),
                "total": i.total,
                "balance": Decimal(0) if voided else balance,
                "status": status,
                "voided": voided,
                "paid": balance == 0 and not voided,
                "closed": voided or balance == 0,
                "purchase_order": i.po_number,
                "metadata": {"quickbooks_id": str(i.key)},
                "created_at": int(i.modified_at.timestamp()),
                "updated_at": int(i.modified_at.timestamp()),
            }
        for m in w.credit_memos:
            self.records["credit_memos"][memo_id[m.key]] = {
                "id": memo_id[m.key],
                "object": "credit_note",
                "customer": m.customer_key,
                "number": f"CN-{m.number}",
                "currency": m.currency.lower(),
                "date": _ts(m.issue_date),
                "total": m.total,
                "balance": m.balance,
                "status": "paid" if m.balance == 0 else "open",
                "purchase_order": m.reference,
                "metadata": {"quickbooks_id": str(len(w.invoices) + m.key)},
                "created_at": int(m.modified_at.timestamp()),
                "updated_at": int(m.modified_at.timestamp()),
            }
        for p in w.payments:
            applied: list[dict[str, Any]] = []
            for a in p.applications:
                if a.credit_memo_key is not None:
                    applied.append(
                        {
                            "type": "credit_note",
                            "credit_note": memo_id[a.credit_memo_key],
                            "document_type": "invoice",
                            "invoice": invoice_id[a.invoice_key],
                            "amount": a.amount,
                        }
                    )
                else:
                    applied.append(
                        {
                            "type": "invoice",
                            "invoice": invoice_id[a.invoice_key],
                            "amount": a.amount,
                        }
                    )
            if p.unapplied > 0:
                applied.append({"type": "credit", "amount": p.unapplied})
            pid = ID_BASE["payments"] + p.key
            self.records["payments"][pid] = {
                "id": pid,
                "object": "payment",
                "customer": p.customer_key,
                "currency": p.currency.lower(),
                "amount": p.amount,
                "balance": p.unapplied,
                "date": _ts(p.received_on),
                "method": p.method,
                "reference": p.reference,
                "voided": False,
                "applied_to": applied,
                "metadata": {"quickbooks_id": str(len(w.invoices) + len(w.credit_memos) + p.key)},
                "created_at": int(p.modified_at.timestamp()),
                "updated_at": int(p.modified_at.timestamp()),
            }

    # HTTP ----------------------------------------------------------------------------------
    def routes(self) -> None:
        for stream, path in PATHS.items():
            self.route(path, self._lister(stream))
        self.route("/events", self.list_events)

    def error(self, status: int, code: str, message: str) -> Response:
        kind = {
            429: "rate_limit_error",
            401: "authentication_error",
            404: "invalid_request",
            400: "invalid_request",
        }.get(status, "api_error")
        return Response(
            _json({"type": kind, "message": message}), status=status, mimetype="application/json"
        )

    def _authorized(self, request: Request) -> bool:
        auth = request.authorization
        return auth is not None and auth.username == self.api_key and not auth.password

    def _lister(self, stream: str) -> Any:
        def handler(request: Request) -> Response:
            if not self._authorized(request):
                return self.error(401, "authentication_error", "Invalid API key")
            with self.lock:
                items = sorted(self.records[stream].values(), key=lambda r: r["id"])
                after = request.args.get("updated_after")
                if after is not None:
                    items = [r for r in items if r["updated_at"] > int(after)]
                items = [self._served(stream, r, request) for r in items]
            return self._page(request, items)

        handler.__name__ = f"list_{stream}"
        return handler

    def _served(self, stream: str, record: dict[str, Any], request: Request) -> dict[str, Any]:
        out = dict(record)
        if stream == "payments" and request.args.get("include") != "applied_to":
            out.pop("applied_to", None)
        if self.is_malformed(stream, str(record["id"])):
            out["total" if stream != "payments" else "amount"] = "twelve dollars"
        return out

    def list_events(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error(401, "authentication_error", "Invalid API key")
        wanted = request.args.get("filter[type]")
        start = int(request.args.get("start_date", 0))
        with self.lock:
            items = [
                e
                for e in self.events
                if (wanted is None or e["type"] == wanted) and e["timestamp"] >= start
            ]
        return self._page(request, items)

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        per_page = min(int(request.args.get("per_page", 100)), 100)
        page = max(int(request.args.get("page", 1)), 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        params = {k: v for k, v in request.args.items() if k != "page"}

        def url(number: int) -> str:
            return f"{self.base_url}{request.path}?{urlencode({**params, 'page': number})}"

        if page < last:
            links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
        response = Response(_json(chunk), mimetype="application/json")
        response.headers["Link"] = ", ".join(links)
        response.headers["X-Total-Count"] = str(len(items))
        return response

    # changes a user makes ---------------------------------------------------------------------
    def _stamp(self) -> int:
        return int(self.now().timestamp())

    def touch(self, stream: str, remote_id: str) -> None:
        with self.lock:
            record = self.records[stream][int(remote_id)]
            record["notes"] = f"edited {secrets.token_hex(3)}"
            record["updated_at"] = self._stamp()

    def create(self, stream: str) -> str:
        with self.lock:
            new_id = next(self._ids[stream])
            template = dict(next(iter(self.records[stream].values())))
            template.update(
                {
                    "id": new_id,
                    "created_at": self._stamp(),
                    "updated_at": self._stamp(),
                    "metadata": {},
                }
            )
            if "number" in template:
                template["number"] = f"{template['number']}-N{new_id}"
            if stream == "payments":
                template["applied_to"] = []
                template["balance"] = template["amount"]
            self.records[stream][new_id] = template
            return str(new_id)

    def remove(self, stream: str, remote_id: str) -> None:
        with self.lock:
            record = self.records[stream].pop(int(remote_id))
            self.events.append(
                {
                    "id": next(self._event_ids),
                    "type": f"{OBJECTS[stream]}.deleted",
                    "timestamp": self._stamp(),
                    "data": {"object": record},
                }
            )

    def remote_ids(self, stream: str) -> list[str]:
        with self.lock:
            return [str(k) for k in sorted(self.records[stream])]


def _ts(day: Any) -> int | None:
    if day is None:
        return None
    from datetime import UTC, datetime

    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp())
