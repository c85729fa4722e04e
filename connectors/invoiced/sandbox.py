"""A local Invoiced API over the shared world, on loopback.

Endpoints: ``GET /customers|/invoices|/credit_notes|/payments`` (``page``/``per_page`` up to
100, ``Link`` and ``X-Total-Count`` headers, ``updated_after``, ``sort``, ``filter[...]``,
``metadata[...]``, ``include=applied_to`` for payments), ``GET /<objects>/<id>``,
``POST /payments`` (JSON body, ``Idempotency-Key`` honoured; a ``credit_note`` entry applies a
credit note to an invoice, never beyond either balance), ``POST /credit_notes`` (the documented
attributes: an ``invoice`` is refused, a credit note is applied by a payment), ``GET /events``
(newest first, ``filter[type]``, ``related_to``) and ``GET /events/<id>``. HTTP Basic with the
API key as the user name; errors as ``{"type", "message", "param"}``. The base class injects
429s and 5xx bursts; malformed records are served with a non-numeric amount.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr
from werkzeug.wrappers import Request, Response

from connectors.invoiced.config import InvoicedConfig
from connectors.invoiced.jsonwire import dumps, loads
from connectors.invoiced.sandbox_ledger import (
    OBJECTS,
    InvoicedLedger,
    Payload,
    Rejected,
    is_voided,
)
from connectors.sandbox.server import Faults, SandboxServer
from connectors.sandbox.world import World

PATHS = {
    "customers": "/customers",
    "invoices": "/invoices",
    "credit_memos": "/credit_notes",
    "payments": "/payments",
}
MAX_PER_PAGE = 100
ERROR_TYPES = {
    400: "invalid_request",
    401: "authentication_error",
    403: "invalid_request",
    404: "invalid_request",
    429: "rate_limit_error",
}
SORTABLE = ("id", "updated_at", "created_at", "date", "number", "name")
MALFORMED = "twelve dollars"


def _fingerprint(raw: bytes) -> str:
    """The same JSON body, however its keys are ordered or spaced, gives the same print."""
    try:
        canonical = json.dumps(loads(raw), sort_keys=True, default=str)
    except ValueError:
        canonical = raw.decode("utf-8", "replace")
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class InvoicedSandbox(SandboxServer):
    """Invoiced's REST API over the world (name style 1, ``INV-01001``, ``CN-5001``)."""

    system = "invoiced"

    def __init__(self, world: World | None = None, faults: Faults | None = None) -> None:
        self.api_key = "sk_test_" + secrets.token_hex(16)
        super().__init__(world, faults)
        self.ledger = InvoicedLedger(self.world, self.now)
        self.replies: dict[str, tuple[str, int, str]] = {}  # key -> (print, status, body)
        self.payments_created = 0
        self.credit_notes_created = 0
        self._orders: dict[tuple[str, str, bool], tuple[int, list[Payload]]] = {}

    # what arsync is given ------------------------------------------------------------------
    def config(self) -> InvoicedConfig:
        """A connector config pointing at this sandbox with its valid API key."""
        return InvoicedConfig(api_key=SecretStr(self.api_key), base_url=self.base_url)

    def initial_tokens(self) -> dict[str, str]:
        return {}  # an API key does not rotate

    # HTTP ----------------------------------------------------------------------------------
    def routes(self) -> None:
        for stream, path in PATHS.items():
            self.route(path, self._lister(stream))
            self.route(f"{path}/<int:remote_id>", self._getter(stream))
        self.route("/payments", self.create_payment, ("POST",))
        self.route("/credit_notes", self.create_credit_note, ("POST",))
        self.route("/payments/<int:remote_id>", self.void_payment, ("DELETE",))
        self.route("/events", self.list_events)
        self.route("/events/<int:remote_id>", self.get_event)

    def error(self, status: int, code: str, message: str, param: str | None = None) -> Response:
        # Invoiced documents two error types: invalid_request (4xx) and api (5xx)
        body: Payload = {"type": ERROR_TYPES.get(status, "api"), "message": message}
        if param:
            body["param"] = param
        return Response(dumps(body), status=status, mimetype="application/json")

    def json(self, value: Any, status: int = 200) -> Response:
        return Response(dumps(value), status=status, mimetype="application/json")

    def _denied(self, request: Request) -> Response | None:
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return self.error(401, "authentication_error", "An API key is required")
        if not secrets.compare_digest(auth.username or "", self.api_key) or auth.password:
            return self.error(401, "authentication_error", "Invalid API key")
        return None

    def _served(self, stream: str, record: Payload, request: Request) -> Payload:
        out = dict(record)
        if stream == "payments" and "applied_to" not in request.args.get("include", "").split(","):
            out.pop("applied_to", None)
        if self.is_malformed(stream, str(record["id"])):
            out["amount" if stream == "payments" else "total"] = MALFORMED
        return out

    def _lister(self, stream: str) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            denied = self._denied(request)
            if denied is not None:
                return denied
            try:
                with self.lock:
                    items = self._select(stream, request)
                    return self._page(request, items, lambda r: self._served(stream, r, request))
            except Rejected as exc:
                return self.error(exc.status, "invalid_request", exc.message, exc.param)

        handler.__name__ = f"list_{stream}"
        return handler

    def _getter(self, stream: str) -> Callable[..., Response]:
        def handler(request: Request, remote_id: int) -> Response:
            denied = self._denied(request)
            if denied is not None:
                return denied
            with self.lock:
                record = self.ledger.records[stream].get(remote_id)
                if record is None:
                    return self.error(
                        404, "invalid_request", f"No such {OBJECTS[stream]}: {remote_id}"
                    )
                return self.json(self._served(stream, record, request))

        handler.__name__ = f"get_{stream}"
        return handler

    def _select(self, stream: str, request: Request) -> list[Payload]:
        """Apply ``sort``, ``updated_after``, ``filter[...]`` and ``metadata[...]``."""
        column, _, direction = request.args.get("sort", "id asc").strip().partition(" ")
        if column not in SORTABLE or direction.lower() not in ("", "asc", "desc"):
            raise Rejected(f"cannot sort by {request.args.get('sort')!r}", "sort")
        items = self._sorted(stream, column, direction.lower() == "desc")
        after = request.args.get("updated_after")
        if after is not None:
            if not after.lstrip("-").isdigit():
                raise Rejected("updated_after must be a unix timestamp", "updated_after")
            items = [r for r in items if r["updated_at"] > int(after)]
        for name, value in request.args.items():
            if name.startswith("filter[") and name.endswith("]"):
                field = name[7:-1]
                items = [r for r in items if _matches(r.get(field), value)]
            elif name.startswith("metadata[") and name.endswith("]"):
                key = name[9:-1]
                items = [r for r in items if str((r.get("metadata") or {}).get(key)) == value]
        return items

    def _sorted(self, stream: str, column: str, descending: bool) -> list[Payload]:
        """A stream's records in order, kept until the next change (pages re-sort nothing)."""
        cache_key = (stream, column, descending)
        cached = self._orders.get(cache_key)
        if cached is not None and cached[0] == self.ledger.changes:
            return cached[1]
        items = sorted(
            self.ledger.records[stream].values(),
            key=lambda r: (r.get(column) is None, r.get(column) or 0, r["id"]),
            reverse=descending,
        )
        self._orders[cache_key] = (self.ledger.changes, items)
        return items

    def _page(
        self,
        request: Request,
        items: list[Payload],
        render: Callable[[Payload], Payload] = lambda record: record,
    ) -> Response:
        """One page of ``items`` (only that page rendered) with Link and X-Total-Count."""
        try:
            per_page = min(max(int(request.args.get("per_page", MAX_PER_PAGE)), 1), MAX_PER_PAGE)
            page = max(int(request.args.get("page", 1)), 1)
        except ValueError:
            return self.error(400, "invalid_request", "page and per_page must be numbers", "page")
        last = max(1, -(-len(items) // per_page))
        params = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

        def link(number: int, rel: str) -> str:
            query = urlencode({**params, "page": number, "per_page": per_page})
            return f'<{self.base_url}{request.path}?{query}>; rel="{rel}"'

        links = [link(page, "self"), link(1, "first")]
        if page > 1:
            links.append(link(page - 1, "previous"))
        if page < last:
            links.append(link(page + 1, "next"))
        links.append(link(last, "last"))
        response = self.json([render(r) for r in items[(page - 1) * per_page : page * per_page]])
        response.headers["Link"] = ", ".join(links)
        response.headers["X-Total-Count"] = str(len(items))
        return response

    def list_events(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        wanted = request.args.get("filter[type]")
        related = request.args.get("related_to")
        with self.lock:
            events = [
                e
                for e in reversed(self.ledger.events)  # newest first, as Invoiced lists them
                if (wanted is None or e["type"] == wanted)
                and (related is None or _related(e, related))
            ]
        return self._page(request, events)

    def get_event(self, request: Request, remote_id: int) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        with self.lock:
            found = next((e for e in self.ledger.events if e["id"] == remote_id), None)
        if found is None:
            return self.error(404, "invalid_request", f"No such event: {remote_id}")
        return self.json(found)

    def create_payment(self, request: Request) -> Response:
        """POST /payments, once per ``Idempotency-Key``."""
        return self._create_once(request, self.ledger.create_payment, "payments_created")

    def create_credit_note(self, request: Request) -> Response:
        """POST /credit_notes (not applied to anything yet), once per ``Idempotency-Key``."""
        return self._create_once(request, self.ledger.create_credit_note, "credit_notes_created")

    def void_payment(self, request: Request, remote_id: int) -> Response:
        """DELETE /payments/:id: Invoiced's void; the payment stays, ``voided``."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        with self.lock:
            try:
                voided = self.ledger.void_payment(remote_id)
            except Rejected as exc:
                return self.error(exc.status, "invalid_request", exc.message, exc.param)
            self.writes += 1
            dropped = self.take_dropped_reply()
        if dropped:
            connection = request.environ.get("werkzeug.socket")
            if connection is not None:
                connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("reply dropped after the void was recorded (injected)")
        return self.json(voided)

    def _create_once(
        self, request: Request, create: Callable[[Any], Payload], counter: str
    ) -> Response:
        """A create, once per ``Idempotency-Key``: a repeat with the same body gets the first
        reply and writes nothing; the same key with another body is refused."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        raw = request.get_data()
        key = request.headers.get("Idempotency-Key")
        printed = _fingerprint(raw)
        with self.lock:
            if key and key in self.replies:
                first_print, status, text = self.replies[key]
                if first_print != printed:
                    return self.error(
                        400,
                        "invalid_request",
                        "Keys for idempotent requests can only be used with the same parameters",
                        "Idempotency-Key",
                    )
                replay = Response(text, status=status, mimetype="application/json")
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
            try:
                created = create(loads(raw))
            except ValueError:
                response = self.error(400, "invalid_request", "the body is not JSON")
            except Rejected as exc:
                response = self.error(exc.status, "invalid_request", exc.message, exc.param)
            else:
                response = self.json(created, 201)
                self.writes += 1
                setattr(self, counter, getattr(self, counter) + 1)
            if key:
                self.replies[key] = (printed, response.status_code, response.get_data(as_text=True))
            dropped = response.status_code == 201 and self.take_dropped_reply()
        if dropped:
            connection = request.environ.get("werkzeug.socket")
            if connection is not None:
                connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("reply dropped after the write was recorded (injected)")
        return response

    # data changes the tests make ------------------------------------------------------------
    def touch(self, stream: str, remote_id: str) -> None:
        with self.lock:
            self.ledger.touch(stream, int(remote_id))

    def create(self, stream: str) -> str:
        with self.lock:
            return str(self.ledger.create(stream))

    def remove(self, stream: str, remote_id: str) -> None:
        """Delete (a ``*.deleted`` event); an invoice or credit note with payments is voided."""
        with self.lock:
            self.ledger.remove(stream, int(remote_id))

    def remote_ids(self, stream: str) -> list[str]:
        with self.lock:
            return [str(k) for k in sorted(self.ledger.records[stream])]

    def record(self, stream: str, remote_id: str) -> Payload:
        """A copy of one record as stored (for tests reading balances back). An invoice or
        credit note also gets ``voided`` here, from its status: a test's convenience that the
        API never serves (Invoiced documents no such attribute on these)."""
        with self.lock:
            out = dict(self.ledger.records[stream][int(remote_id)])
        if stream in ("invoices", "credit_memos"):
            out["voided"] = is_voided(out)
        return out


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted.lower() in (("1", "true") if value else ("0", "false"))
    if isinstance(value, Decimal | int):
        try:
            return Decimal(wanted) == value
        except ArithmeticError:
            return False
    return str(value) == wanted


def _related(event: Payload, related: str) -> bool:
    kind, _, remote_id = related.partition(",")
    obj = event["data"]["object"]
    return event["type"].split(".", 1)[0] == kind and str(obj.get("id")) == remote_id.strip()
