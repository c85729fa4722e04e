"""How a call to an external system failed, in terms the runtime can act on."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Generic, TypeVar

from connectors.redact import redact_text

R = TypeVar("R")


class ErrorKind(StrEnum):
    """What to do about a failed call."""

    RETRY = "retry"  # transient (5xx, timeout): back off and try again
    RATE_LIMITED = "rate_limited"  # slow down, honour Retry-After, try again
    REFRESH = "refresh"  # the access token expired: refresh once, then resend
    AUTH = "auth"  # credentials or configuration are wrong: stop this connector
    DATA = "data"  # the record or request is invalid: fail this item, go on
    CONFLICT = "conflict"  # stale version (QBO 5010, Salesforce 412): re-read, re-validate
    NOT_FOUND = "not_found"
    FAIL = "fail"  # anything else


class ApiError(Exception):
    """A call failed. Carries the system, the classification and the vendor's own code."""

    kind: ErrorKind = ErrorKind.FAIL

    def __init__(
        self,
        system: str,
        message: str,
        *,
        kind: ErrorKind | None = None,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.system = system
        # every error message passes here: a vendor body that echoes a credential stops here
        self.message = message = redact_text(message)
        if kind is not None:
            self.kind = kind
        self.status = status
        self.code = code
        self.retry_after = retry_after
        detail = ", ".join(
            part
            for part in (
                f"HTTP {status}" if status is not None else "",
                f"code {code}" if code else "",
            )
            if part
        )
        super().__init__(f"{system}: {message}" + (f" ({detail})" if detail else ""))


class TransientError(ApiError):
    kind = ErrorKind.RETRY


class RateLimitError(ApiError):
    kind = ErrorKind.RATE_LIMITED


class AuthError(ApiError):
    """Credentials or configuration are wrong; nothing more can be done with this connector."""

    kind = ErrorKind.AUTH


class PartialAuthError(AuthError, Generic[R]):
    """An auth failure that stopped a loop of requests after some of them were answered.

    ``answered`` holds the results of the writes answered before it (the loop's own result
    objects, in the loop's order): they are done or refused, and must be recorded as such, not
    sent again blind. The request the auth failure refused was not processed (a 401/403 or a
    refused sign-in comes before any write of the request), nor was anything after it. Raised
    by each loop that sends several requests; whoever calls such a loop translates ``answered``
    into its own results (:func:`answered_before`) and raises it again with them.
    """

    def __init__(self, cause: AuthError, answered: Sequence[R]) -> None:
        super().__init__(
            cause.system,
            cause.message,
            kind=cause.kind,
            status=cause.status,
            code=cause.code,
            retry_after=cause.retry_after,
        )
        self.answered: list[R] = list(answered)


def answered_before(exc: AuthError) -> list[Any]:
    """What the requests answered before the auth failure ``exc`` returned (nothing when it
    stopped the first request)."""
    return list(exc.answered) if isinstance(exc, PartialAuthError) else []


class DataError(ApiError):
    kind = ErrorKind.DATA


class ConflictError(ApiError):
    kind = ErrorKind.CONFLICT


class NotFoundError(ApiError):
    kind = ErrorKind.NOT_FOUND


class UncertainWriteError(ApiError):
    """A write may or may not have landed (no idempotency key to resend it with, or its
    outcome was lost): read before retrying."""

    kind = ErrorKind.RETRY


class ReplayedFaultError(UncertainWriteError):
    """A write the system answered with a fault of its own that says nothing of whether it
    was saved, and that the write's idempotency key now replays (QuickBooks answers a
    repeated ``requestid`` with its first reply): looked for before it is sent again, and
    then sent under a key of its own, never answered with the same fault."""


class UncertainAuthError(UncertainWriteError):
    """A write whose outcome is unknown because the credentials failed while it was retried.

    An earlier attempt of the same request may have been processed (it was sent and got no
    reply, or a 5xx); a later attempt was refused by an auth failure (a 401 whose token
    refresh was refused, a revoked credential). Unlike a plain :class:`AuthError` (a request
    refused before anything ran), the write may have landed: it is to be looked for before
    it is sent again. ``auth`` is the credential failure itself, for callers that stop the
    connector on it. Not an :class:`AuthError` on purpose: callers that take an auth failure
    as "nothing ran" must not put this write back as never sent.
    """

    def __init__(
        self,
        system: str,
        message: str,
        *,
        auth: AuthError,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(system, message, status=status, code=code)
        self.auth = auth


ERROR_CLASSES: dict[ErrorKind, type[ApiError]] = {
    ErrorKind.RETRY: TransientError,
    ErrorKind.RATE_LIMITED: RateLimitError,
    ErrorKind.REFRESH: AuthError,  # a refresh that did not help is an auth failure
    ErrorKind.AUTH: AuthError,
    ErrorKind.DATA: DataError,
    ErrorKind.CONFLICT: ConflictError,
    ErrorKind.NOT_FOUND: NotFoundError,
    ErrorKind.FAIL: ApiError,
}


def share_of_failed_call(exc: ApiError, where: str) -> ApiError:
    """One write's share of a call that failed as a whole (a batch refused, no reply).

    A transient failure that outlived the retries (no reply, 5xx) may have landed: the write
    is uncertain, to be looked for before it is sent again. A refusal (throttled, invalid)
    wrote nothing: the write carries that error. ``where`` names the write.
    """
    if isinstance(exc, UncertainAuthError):
        return UncertainAuthError(
            exc.system,
            f"{where}: outcome unknown ({exc.message})",
            auth=exc.auth,
            status=exc.status,
            code=exc.code,
        )
    if exc.kind is ErrorKind.RETRY or isinstance(exc, UncertainWriteError):
        return UncertainWriteError(
            exc.system,
            f"{where}: outcome unknown ({exc.message})",
            status=exc.status,
            code=exc.code,
        )
    return ERROR_CLASSES[exc.kind](
        exc.system,
        f"{where}: {exc.message}",
        kind=exc.kind,
        status=exc.status,
        code=exc.code,
        retry_after=exc.retry_after,
    )
