"""The one Intacct client: API sessions, the XML envelope over ApiSession, readByQuery paging.

:class:`IntacctSessionAuth` opens an API session with ``getAPISession`` (login credentials)
and remembers its session id and endpoint in the token store. The session id travels inside
the XML body, so every request is built per attempt by a ``body_factory``: after the error
table classifies an invalid session as REFRESH and the auth logs in again, the resent body
carries the new id.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator, Sequence

import requests
from lxml import etree

from connectors.base import TokenStore
from connectors.errors import (
    ApiError,
    AuthError,
    TransientError,
    UncertainAuthError,
    UncertainWriteError,
)
from connectors.http import ApiSession, RetryPolicy
from connectors.intacct.config import IntacctConfig
from connectors.intacct.errors import ERROR_TABLE, SENDER_NOT_AUTHORIZED, SENDER_REFUSED
from connectors.intacct.xmlwire import (
    Control,
    Element,
    Login,
    Payload,
    build_request,
    function,
    parse,
    to_dict,
)
from connectors.redact import register_secret, register_secrets_of

SYSTEM = "intacct"
SESSION_KEY = "session_id"
ENDPOINT_KEY = "endpoint"
QUERY_SHOWN = 160  # characters of a query an error message quotes
HEADERS = {"Content-Type": "application/xml", "Accept": "application/xml"}


def _control(config: IntacctConfig, control_id: str, *, unique: bool = False) -> Control:
    return Control(config.sender_id, config.sender_password.get_secret_value(), control_id, unique)


def read_response(content: bytes, what: str) -> Element:
    """The parsed response to ``what``; a document that is not well-formed XML is a
    :class:`TransientError` (the gateway's reply was damaged), never a parser's exception."""
    try:
        return parse(content)
    except etree.XMLSyntaxError as exc:
        raise TransientError(
            SYSTEM, f"{what}: the gateway answered a malformed XML response ({exc})"
        ) from None


def results(root: Element) -> list[Element]:
    """The ``operation/result`` elements of a successful response, in function order."""
    return list(root.findall("operation/result"))


class IntacctSessionAuth(requests.auth.AuthBase):
    """The API session: its id goes in the body; ``refresh()`` logs in again."""

    def __init__(
        self, config: IntacctConfig, tokens: TokenStore, *, policy: RetryPolicy | None = None
    ) -> None:
        self.config = config
        self.tokens = tokens
        register_secrets_of(config)
        self.session = ApiSession(f"{SYSTEM}", error_table=ERROR_TABLE, policy=policy)
        self.session.headers.update(HEADERS)
        self._lock = threading.Lock()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request  # the credential is inside the XML body

    @property
    def session_id(self) -> str:
        with self._lock:
            current = self.tokens.get(SESSION_KEY)
            register_secret(current)
            if not current:
                self._login_locked()
                current = self.tokens.get(SESSION_KEY)
            assert current is not None
            return current

    @property
    def endpoint(self) -> str:
        self.session_id  # noqa: B018 - opens a session first if there is none
        return self.tokens.get(ENDPOINT_KEY) or self.config.endpoint_url

    def refresh(self) -> None:
        """Open a new API session (the old one is invalid or expired)."""
        with self._lock:
            self._login_locked()

    def _login_locked(self) -> None:
        config = self.config
        login = Login(config.user_id, config.company_id, config.user_password.get_secret_value())
        body = build_request(
            _control(config, f"login-{uuid.uuid4().hex[:12]}"),
            login,
            [function("session", "getAPISession")],
        )
        try:
            response = self.session.post(
                config.endpoint_url, data=body, timeout=config.timeout_seconds
            )
        except AuthError as exc:
            if exc.code in (SENDER_NOT_AUTHORIZED, SENDER_REFUSED):
                refused = f"Web Services sender {config.sender_id!r} refused for company"
                who = f"{config.company_id!r}"
            else:
                refused = f"getAPISession refused for user {config.user_id!r} at company"
                who = f"{config.company_id!r} (sender {config.sender_id!r})"
            raise AuthError(
                SYSTEM,
                f"{refused} {who}: {exc.message}",
                status=exc.status,
                code=exc.code,
            ) from None
        api = read_response(response.content, "getAPISession").find("operation/result/data/api")
        session_id = (api.findtext("sessionid") or "").strip() if api is not None else ""
        if not session_id:
            raise AuthError(SYSTEM, "getAPISession answered without a sessionid")
        endpoint = (api.findtext("endpoint") or "").strip() if api is not None else ""
        register_secret(session_id)
        self.tokens.set(SESSION_KEY, session_id)
        self.tokens.set(ENDPOINT_KEY, endpoint or config.endpoint_url)

    def close(self) -> None:
        self.session.close()


class IntacctClient:
    """Low-level calls against one company: functions in one request, readByQuery pages."""

    def __init__(
        self, config: IntacctConfig, tokens: TokenStore, *, policy: RetryPolicy | None = None
    ) -> None:
        self.config = config
        policy = policy or RetryPolicy(timeout=config.timeout_seconds)
        self.auth = IntacctSessionAuth(config, tokens, policy=policy)
        self.session = ApiSession(
            SYSTEM,
            error_table=ERROR_TABLE,
            policy=policy,
            auth=self.auth,
            per_second=config.per_second,
        )
        self.session.headers.update(HEADERS)
        self._ids = itertools.count(1)

    def control_id(self, prefix: str = "req") -> str:
        return f"{prefix}-{next(self._ids)}-{uuid.uuid4().hex[:8]}"

    def call(
        self,
        functions: Sequence[Element],
        *,
        control_id: str | None = None,
        unique: bool = False,
        transaction: bool = False,
        raise_for_error: bool = True,
        idempotent: bool = True,
    ) -> Element:
        """Send functions in one request with the current session; the parsed response.
        ``idempotent`` False: never sent again once it may have run (a readMore moves
        Intacct's result set on; a second one answers the next page)."""
        control = _control(self.config, control_id or self.control_id(), unique=unique)

        def body() -> bytes:
            return build_request(control, self.auth.session_id, functions, transaction=transaction)

        response = self.session.request(
            "POST",
            self.auth.endpoint,
            body_factory=body,
            timeout=self.config.timeout_seconds,
            raise_for_error=raise_for_error,
            write=unique,  # keyed writes (uniqueid): an auth failure on a retry is uncertain
            idempotent=idempotent,
        )
        return read_response(response.content, f"request {control.control_id}")

    def read_by_query(
        self, obj: str, query: str, *, fields: str = "*", page_size: int | None = None
    ) -> Iterator[list[Payload]]:
        """Pages of ``obj`` records matching ``query``: readByQuery, then readMore until
        ``numremaining`` is 0. An answer saying records remain but giving no ``resultId`` to
        read them with is a :class:`TransientError` (never a read that looks complete).
        """
        size = page_size or self.config.page_size
        first = function(
            self.control_id("read"),
            "readByQuery",
            object=obj,
            fields=fields,
            query=query,
            pagesize=size,
        )
        data = self._data(self._read(first, obj, query), obj)
        while True:
            yield [to_dict(row) for row in data if isinstance(row.tag, str)]
            remaining = int(data.get("numremaining") or 0)
            result_id = data.get("resultId") or ""
            if remaining <= 0:
                return
            if not result_id:
                raise TransientError(
                    SYSTEM,
                    f"readByQuery of {obj}: {remaining} records remain but the answer gave no "
                    "resultId to read them with; the read is incomplete",
                )
            more = function(self.control_id("more"), "readMore", resultId=result_id)
            data = self._data(self._read(more, obj, query, again=False), obj)

    def _read(self, read: Element, obj: str, query: str, *, again: bool = True) -> Element:
        """One page; a failure that is not about credentials names the object and query.
        ``again`` False (readMore): a page whose answer was lost after it may have been read
        is not asked for again (that would answer the next page and skip this one): the read
        stops, and the next run reads on from the bookmark."""
        try:
            return self.call([read], idempotent=again)
        except UncertainWriteError as exc:
            if again or isinstance(exc, UncertainAuthError):
                raise
            raise TransientError(
                SYSTEM,
                f"readMore of {obj}: its answer was lost after Intacct may have moved on to the "
                f"next page ({exc.message}); the read stops here, nothing skipped",
                status=exc.status,
                code=exc.code,
            ) from exc
        except AuthError:
            raise
        except ApiError as exc:
            name = read[0].tag if len(read) else "read"
            shown = query if len(query) <= QUERY_SHOWN else f"{query[:QUERY_SHOWN]}..."
            where = f"{name} of {obj}" + (f" where {shown}" if query else "")
            raise type(exc)(
                SYSTEM,
                f"{where}: {exc.message}",
                kind=exc.kind,
                status=exc.status,
                code=exc.code,
                retry_after=exc.retry_after,
            ) from exc

    @staticmethod
    def _data(root: Element, obj: str) -> Element:
        data = root.find("operation/result/data")
        if data is None:
            raise ApiError(SYSTEM, f"readByQuery of {obj} answered without <data>")
        return data

    def close(self) -> None:
        self.session.close()
        self.auth.close()
