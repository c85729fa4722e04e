"""The base every system's sandbox builds on: a threaded loopback HTTP server with faults.

A sandbox speaks its vendor's documented wire format; connectors cannot tell it from the real
thing except by its URL. Faults are configured, not random: rate limiting every Nth request,
bursts of 5xx, access tokens that expire mid-run, and records served malformed.
"""

from __future__ import annotations

import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from connectors.sandbox.world import World

Handler = Callable[..., Response]


class _QuietHandler(WSGIRequestHandler):
    """No access log: a sandbox's requests are counted, not printed."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class Faults:
    """Faults a sandbox injects. Change them at any time; they apply to the next request."""

    rate_limit_every: int = 0  # every Nth request answers 429
    retry_after: int = 0  # seconds sent in Retry-After with a 429
    fail_next: int = 0  # the next N requests answer 503
    fail_status: int = 503
    drop_reply_next: int = 0  # the next N writes are applied, then the connection is dropped
    expire_tokens_after: int = 0  # access tokens stop working after N authenticated calls
    malformed: set[tuple[str, str]] = field(default_factory=set)  # (stream, remote id)


class SandboxServer(ABC):
    """A sandbox: start it, point a connector at :attr:`base_url`, change data, stop it."""

    system: str = ""
    # paths the injected throttling spares, where the real system never answers 429
    never_throttled: tuple[str, ...] = ()

    def __init__(self, world: World | None = None, faults: Faults | None = None) -> None:
        self.world = world or World.generate()
        self.faults = faults or Faults()
        self.lock = threading.RLock()
        self.requests = 0
        self.writes = 0
        self.log: list[tuple[str, str]] = []  # (method, path) of every request
        self._tokens: dict[str, int] = {}  # access token -> calls made with it
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._rules: list[Rule] = []
        self._handlers: dict[str, Handler] = {}
        self.routes()
        self._map = Map(self._rules)

    # routing -----------------------------------------------------------------------
    def route(self, path: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> None:
        endpoint = f"{handler.__name__}:{len(self._rules)}"
        self._rules.append(Rule(path, endpoint=endpoint, methods=list(methods)))
        self._handlers[endpoint] = handler

    @abstractmethod
    def routes(self) -> None:
        """Register the endpoints with :meth:`route`."""

    @abstractmethod
    def error(self, status: int, code: str, message: str) -> Response:
        """An error response in the vendor's own envelope."""

    # auth helpers --------------------------------------------------------------------
    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = 0
        return token

    def token_ok(self, token: str | None) -> bool:
        """True if the access token is known and not expired (counts the call)."""
        with self.lock:
            if token is None or token not in self._tokens:
                return False
            self._tokens[token] += 1
            limit = self.faults.expire_tokens_after
            if limit and self._tokens[token] > limit:
                del self._tokens[token]
                return False
            return True

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (as after an hour in production)."""
        with self.lock:
            self._tokens.clear()

    # data changes tests make through the vendor's UI, in effect ------------------------
    @abstractmethod
    def touch(self, stream: str, remote_id: str) -> None:
        """Change a record the way a user would (memo or amount), bumping its modified time."""

    @abstractmethod
    def create(self, stream: str) -> str:
        """Create a new record in the stream; returns its remote id."""

    @abstractmethod
    def remove(self, stream: str, remote_id: str) -> None:
        """Delete or void a record the way the system does."""

    @abstractmethod
    def remote_ids(self, stream: str) -> list[str]:
        """Remote ids of the live records of a stream."""

    def corrupt(self, stream: str, remote_id: str) -> None:
        """Serve this record malformed from now on (and bump it so incremental pulls see it)."""
        with self.lock:
            self.faults.malformed.add((stream, remote_id))
        self.touch(stream, remote_id)

    def is_malformed(self, stream: str, remote_id: str) -> bool:
        return (stream, remote_id) in self.faults.malformed

    # serving -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def _injected_fault(self, path: str = "") -> Response | None:
        with self.lock:
            self.requests += 1
            if self.faults.fail_next > 0:
                self.faults.fail_next -= 1
                status = self.faults.fail_status
                return self.error(status, str(status), "service unavailable (injected)")
            every = self.faults.rate_limit_every
            if every and self.requests % every == 0 and path not in self.never_throttled:
                response = self.error(429, "rate_limit", "too many requests (injected)")
                response.headers["Retry-After"] = str(self.faults.retry_after)
                return response
        return None

    def take_dropped_reply(self) -> bool:
        """True once per configured dropped reply: the caller applies the write, then drops."""
        with self.lock:
            if self.faults.drop_reply_next > 0:
                self.faults.drop_reply_next -= 1
                return True
        return False

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self.lock:
            self.log.append((request.method, request.path))
        response = self._injected_fault(request.path)
        if response is None:
            adapter = self._map.bind_to_environ(environ)
            try:
                endpoint, args = adapter.match()
                response = self._handlers[endpoint](request, **args)
            except NotFound:
                response = self.error(404, "not_found", f"no such endpoint {request.path}")
            except HTTPException as exc:
                response = self.error(exc.code or 500, "http", exc.description or "error")
        return response(environ, start_response)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.system} sandbox is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self, port: int = 0) -> str:
        """Serve on a free loopback port in a background thread; returns the base URL."""
        self._server = make_server(
            "127.0.0.1", port, self.wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"{self.system}-sandbox", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
