"""How a call to an external system failed, in terms the runtime can act on."""

from __future__ import annotations

from enum import StrEnum


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
        self.message = message
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


class DataError(ApiError):
    kind = ErrorKind.DATA


class ConflictError(ApiError):
    kind = ErrorKind.CONFLICT


class NotFoundError(ApiError):
    kind = ErrorKind.NOT_FOUND


class UncertainWriteError(ApiError):
    """A write without an idempotency key may or may not have landed: read before retrying."""

    kind = ErrorKind.RETRY


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
