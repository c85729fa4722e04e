"""The one HTTP layer every connector uses: retries, Retry-After, auth refresh, error tables.

:class:`ApiSession` is a ``requests.Session``, so vendor SDKs that accept a session
(python-quickbooks, simple-salesforce) send through it too. Each request is classified by the
connector's :class:`ErrorTable` — bodies included, because QuickBooks and Intacct report
errors inside HTTP 200 responses — and then returned, retried, refreshed once, or raised as
an :class:`~connectors.errors.ApiError` of the right kind.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from connectors.errors import (
    ERROR_CLASSES,
    ApiError,
    AuthError,
    ErrorKind,
    TransientError,
    UncertainAuthError,
    UncertainWriteError,
)
from connectors.redact import redact_text, register_secrets_in

log = logging.getLogger("arsync.http")

BodyErrors = Callable[[requests.Response], Sequence[tuple[str, str]]]
"""Reads a response body and returns the (code, message) pairs of the errors it reports."""


@dataclass(frozen=True)
class ErrorRule:
    """One row of a connector's error table: status and/or body code -> what to do."""

    kind: ErrorKind
    status: int | tuple[int, ...] | None = None  # None: any status
    code: str | None = None  # the vendor's code in the body; None: any (or none)

    def matches(self, status: int, codes: Sequence[str]) -> bool:
        if self.status is not None:
            statuses = (self.status,) if isinstance(self.status, int) else self.status
            if status not in statuses:
                return False
        return self.code is None or self.code in codes


@dataclass(frozen=True)
class Failure:
    kind: ErrorKind
    status: int
    code: str | None
    message: str


def _no_body_errors(_response: requests.Response) -> Sequence[tuple[str, str]]:
    return ()


@dataclass(frozen=True)
class ErrorTable:
    """Ordered rules mapping status and body codes to an :class:`ErrorKind`.

    Rules are tried in order; the first match wins. Responses no rule matches fall back to
    the HTTP defaults (429 rate-limited, 401 refresh, 403 auth, 404 not found, 409/412
    conflict, 5xx retry, other 4xx data). A 2xx response whose body reports errors and
    matches no rule is a plain failure.
    """

    rules: Sequence[ErrorRule] = ()
    body_errors: BodyErrors = _no_body_errors

    def classify(self, response: requests.Response) -> Failure | None:
        try:
            errors = list(self.body_errors(response))
        except Exception:  # an unreadable body is judged on its status alone
            errors = []
        status = response.status_code
        if 200 <= status < 300 and not errors:
            return None
        codes = [code for code, _ in errors]
        message = "; ".join(msg for _, msg in errors if msg) or (
            response.reason or f"HTTP {status}"
        )
        for rule in self.rules:
            if rule.matches(status, codes):
                code = rule.code or (codes[0] if codes else None)
                return Failure(rule.kind, status, code, message)
        return Failure(_default_kind(status), status, codes[0] if codes else None, message)


def _default_kind(status: int) -> ErrorKind:
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status == 401:
        return ErrorKind.REFRESH
    if status == 403:
        return ErrorKind.AUTH
    if status == 404:
        return ErrorKind.NOT_FOUND
    if status in (409, 412):
        return ErrorKind.CONFLICT
    if status >= 500 or status in (408, 425):
        return ErrorKind.RETRY
    if 400 <= status < 500:
        return ErrorKind.DATA
    return ErrorKind.FAIL


@runtime_checkable
class Refreshable(Protocol):
    """An auth strategy that can obtain a new access token."""

    def refresh(self) -> None: ...


@runtime_checkable
class Relocating(Protocol):
    """An auth strategy whose refreshed session may live on another host (Salesforce's
    ``instance_url``): a request retried after a refresh is sent where ``relocate`` says."""

    def relocate(self, url: str) -> str: ...


@dataclass
class RetryPolicy:
    """Bounded exponential backoff with full jitter; Retry-After wins when the server sends it."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0
    timeout: float = 60.0  # seconds per HTTP request
    sleep: Callable[[float], None] = time.sleep

    def wait_seconds(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ApiError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (state.attempt_number - 1)))
        return random.uniform(0, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


class MinInterval:
    """Client-side throttle: at most one request start per ``interval`` seconds."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


@dataclass
class CallStats:
    """How many HTTP requests were sent, in all and per (method, path)."""

    total: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    refreshes: int = 0

    def record(self, method: str, url: str) -> None:
        self.total += 1
        self.by_endpoint[f"{method.upper()} {urlsplit(url).path}"] += 1


class ApiSession(requests.Session):
    """A ``requests.Session`` that applies one system's retry policy and error table.

    Extra keyword arguments understood by :meth:`request`:

    * ``idempotent`` (default True): False for a write with no idempotency key. Such a
      request is never re-sent after it may have reached the server; a timeout or 5xx raises
      :class:`UncertainWriteError` so the caller reads before retrying.
    * ``write``: whether the request writes business data. When an attempt of a write fails
      on its credentials (refresh refused, 401/403) after an earlier attempt may have been
      processed (sent with no reply, or answered with a retryable 5xx), the outcome is
      unknown: :class:`UncertainAuthError` is raised, not :class:`AuthError` (which says the
      request ran nothing); any other refusal of such a resend (a conflict with what the
      first attempt wrote, a rate limit outlasting the retries) is :class:`UncertainWriteError`.
      Default (None): a PUT, PATCH or DELETE, or a POST carrying an idempotency key (an
      ``Idempotency-Key`` header, a ``requestid`` parameter). A POST without one is not taken
      for a write (token endpoints, QuickBooks queries, Intacct, where reads and writes alike
      are POSTs): its write paths pass ``write=True``.
    * ``body_factory``: a callable producing the body for each attempt (for protocols that
      carry the session credential inside the body, like Intacct).
    * ``raise_for_error`` (default True): False returns classified failures' responses as
      they are, for callers that inspect per-item results (batch endpoints).
    """

    def __init__(
        self,
        system: str,
        *,
        error_table: ErrorTable | None = None,
        policy: RetryPolicy | None = None,
        auth: requests.auth.AuthBase | None = None,
        per_second: float = 0.0,
        user_agent: str = "arsync/0.1",
    ) -> None:
        super().__init__()
        self.system = system
        self.error_table = error_table or ErrorTable()
        self.policy = policy or RetryPolicy()
        self.auth = auth
        self.stats = CallStats()
        self.throttle = MinInterval(per_second)
        self.headers["User-Agent"] = user_agent

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send, first remembering the credentials the request carries (its Authorization
        header; secret form fields or XML elements of its body) so that no error, log line or
        stored text can show them, whatever a server echoes back."""
        _remember_credentials(request)
        return super().send(request, **kwargs)

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        idempotent: bool = kwargs.pop("idempotent", True)
        body_factory: Callable[[], Any] | None = kwargs.pop("body_factory", None)
        raise_for_error: bool = kwargs.pop("raise_for_error", True)
        write: bool | None = kwargs.pop("write", None)
        if write is None:
            write = keyed_write(method, url, kwargs)
        kwargs.setdefault("timeout", self.policy.timeout)
        exchange = _Exchange()

        def retryable(exc: BaseException) -> bool:
            if not isinstance(exc, ApiError) or isinstance(exc, UncertainWriteError):
                return False
            return exc.kind in (ErrorKind.RETRY, ErrorKind.RATE_LIMITED)

        def before_sleep(state: RetryCallState) -> None:
            self.stats.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s %s %s: %s; retry %d",
                self.system,
                method,
                _safe_path(url),
                exc,
                state.attempt_number,
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_attempts),
            wait=self.policy.wait_seconds,
            retry=retry_if_exception(retryable),
            sleep=self.policy.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            response: requests.Response = retrying(
                self._attempt,
                method,
                url,
                args,
                kwargs,
                idempotent,
                body_factory,
                raise_for_error,
                exchange,
            )
        except AuthError as exc:
            if not write or exchange.maybe_processed is None:
                raise  # nothing of this request ran: refused before any write
            log.error(
                "%s %s %s: credentials failed after an attempt that may have been processed",
                self.system,
                method,
                _safe_path(url),
            )
            raise UncertainAuthError(
                self.system,
                f"{method.upper()} {_safe_path(url)}: outcome unknown: an earlier attempt may "
                f"have been processed ({exchange.maybe_processed}), then the credentials "
                f"failed: {exc.message}",
                auth=exc,
                status=exc.status,
                code=exc.code,
            ) from exc
        except ApiError as exc:
            if (
                not write
                or exchange.maybe_processed is None
                or isinstance(exc, UncertainWriteError)
                or exc.kind is ErrorKind.RETRY
            ):
                raise
            # refused on a resend (a conflict with what the first attempt wrote, throttled
            # out of retries): the first attempt may have landed all the same
            raise UncertainWriteError(
                self.system,
                f"{method.upper()} {_safe_path(url)}: outcome unknown: an earlier attempt may "
                f"have been processed ({exchange.maybe_processed}), then: {exc.message}",
                status=exc.status,
                code=exc.code,
            ) from exc
        return response

    def _send(
        self,
        method: str,
        url: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        idempotent: bool,
        body_factory: Callable[[], Any] | None,
        exchange: _Exchange,
    ) -> requests.Response:
        if body_factory is not None:
            kwargs["data"] = body_factory()
        self.throttle.wait()
        self.stats.record(method, url)
        try:
            return super().request(method, url, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            sent = not _never_connected(exc)
            if sent:
                exchange.maybe_processed = f"no reply: {type(exc).__name__}"
            if not idempotent and sent:
                raise UncertainWriteError(
                    self.system, f"no reply to {method} {_safe_path(url)}: outcome unknown"
                ) from exc
            # the host is named when it was never reached: a wrong or unreachable base URL
            where = "" if sent else f"cannot connect to {_safe_host(url)}: "
            raise TransientError(
                self.system, f"{where}{type(exc).__name__} on {method} {_safe_path(url)}"
            ) from exc

    def _attempt(
        self,
        method: str,
        url: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        idempotent: bool,
        body_factory: Callable[[], Any] | None,
        raise_for_error: bool,
        exchange: _Exchange,
    ) -> requests.Response:
        response = self._send(method, url, args, kwargs, idempotent, body_factory, exchange)
        failure = self.error_table.classify(response)
        refreshable = isinstance(self.auth, Refreshable)
        if failure is not None and failure.kind is ErrorKind.REFRESH and refreshable:
            self.stats.refreshes += 1
            log.info("%s: access token rejected; refreshing once", self.system)
            self.auth.refresh()  # type: ignore[union-attr]
            if isinstance(self.auth, Relocating):
                url = self.auth.relocate(url)
            response = self._send(method, url, args, kwargs, idempotent, body_factory, exchange)
            failure = self.error_table.classify(response)
        if failure is None:
            return response
        if failure.kind is ErrorKind.RETRY:
            exchange.maybe_processed = f"HTTP {failure.status}"
        if failure.kind is ErrorKind.RETRY and not idempotent:
            raise UncertainWriteError(
                self.system,
                f"{failure.message} on unkeyed write: outcome unknown",
                status=failure.status,
                code=failure.code,
            )
        if not raise_for_error and failure.kind not in (
            ErrorKind.RETRY,
            ErrorKind.RATE_LIMITED,
            ErrorKind.REFRESH,
            ErrorKind.AUTH,
        ):
            return response
        error_class = ERROR_CLASSES[failure.kind]
        raise error_class(
            self.system,
            redact_text(failure.message),
            kind=failure.kind if failure.kind is not ErrorKind.REFRESH else ErrorKind.AUTH,
            status=failure.status,
            code=failure.code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


@dataclass
class _Exchange:
    """What the attempts of one request left behind."""

    # set once an attempt may have been processed: sent with no reply, or a retryable 5xx
    maybe_processed: str | None = None


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_HEADERS = frozenset({"idempotency-key"})
KEY_PARAMS = frozenset({"requestid"})


def keyed_write(method: str, url: str, kwargs: Mapping[str, Any]) -> bool:
    """Whether a request with no explicit ``write=`` is taken for a write of business data:
    a PUT, PATCH or DELETE, or a POST carrying an idempotency key (header or parameter). A
    POST without one may be a read or a sign-in (QuickBooks queries, token endpoints,
    Intacct): only its caller can say."""
    verb = method.upper()
    if verb not in WRITE_METHODS:
        return False
    if verb != "POST":
        return True
    headers = kwargs.get("headers") or {}
    if any(str(name).lower() in KEY_HEADERS for name in headers):
        return True
    names = {name.lower() for name, _ in parse_qsl(urlsplit(url).query)}
    params = kwargs.get("params")
    if isinstance(params, Mapping):
        names.update(str(name).lower() for name in params)
    elif isinstance(params, list | tuple):
        names.update(str(pair[0]).lower() for pair in params if isinstance(pair, tuple) and pair)
    return bool(names & KEY_PARAMS)


_CREDENTIAL_MARKERS = (b"password", b"sessionid", b"token", b"secret", b"assertion", b"apikey")


def _remember_credentials(request: requests.PreparedRequest) -> None:
    register_secrets_in(request.headers.get("Authorization"))
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8", "replace")
    if isinstance(body, bytes) and any(marker in body for marker in _CREDENTIAL_MARKERS):
        register_secrets_in(body)


def _safe_path(url: str) -> str:
    return urlsplit(url).path


def _safe_host(url: str) -> str:
    """Scheme, host and port of a URL: never its user, password, path or query."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def _never_connected(exc: requests.RequestException) -> bool:
    """Whether a request failed before any byte of it left: the connection was never made
    (refused, unreachable, a name not resolved, timed out while connecting). A reset or a
    read timeout on a connection made may come after the system read the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)
