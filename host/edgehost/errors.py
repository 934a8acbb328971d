"""Errors the host reports to API clients, each with its HTTP status and a stable code."""

from __future__ import annotations


class EdgehostError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_json(self) -> dict[str, str | list[str]]:
        body: dict[str, str | list[str]] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(EdgehostError):
    status, code = 400, "bad_request"


class InvalidBundle(EdgehostError):
    """A shipped module or manifest failed validation; `details` lists every problem."""

    status, code = 422, "invalid_bundle"


class InvalidRequest(EdgehostError):
    """A well-formed request whose content breaks a rule (e.g. JSON nested too deep)."""

    status, code = 422, "invalid_request"


class Unauthorized(EdgehostError):
    status, code = 401, "unauthorized"


class Forbidden(EdgehostError):
    status, code = 403, "forbidden"


class NotFound(EdgehostError):
    status, code = 404, "not_found"


class Conflict(EdgehostError):
    status, code = 409, "conflict"


class PayloadTooLarge(EdgehostError):
    status, code = 413, "payload_too_large"


class _RetryLater(EdgehostError):
    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class TooManyRequests(_RetryLater):
    """This account has too much in flight (e.g. compiles waiting); it should slow down."""

    status, code = 429, "too_many_requests"


class ServiceUnavailable(_RetryLater):
    """The host as a whole is too busy (or shutting down); any account may retry later."""

    status, code = 503, "unavailable"
