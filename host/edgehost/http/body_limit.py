"""Admin API request bodies are counted as they arrive and cut off at a limit with 413.

A declared Content-Length over the limit is refused before anything is read, but a chunked
body declares nothing, so the bytes themselves are counted as the app receives them: no client
can make the host spool or hold more than the limit. Every admin route gets the admin limit;
the one route that takes uploads raises it for its own request with `allow_body` before it
reads. (Function traffic counts its bodies itself, in http/function_traffic.py.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgehost.errors import PayloadTooLarge
from edgehost.http.function_traffic import header

_SCOPE_KEY = "edgehost.body_meter"


class _CutOff(Exception):
    """Raised from `receive` past the limit. Whatever the app makes of it (FastAPI turns it into
    a 400 while parsing), the middleware answers 413 instead."""


class _BodyMeter:
    def __init__(self, receive: Receive, limit: int, rule: str, declared: int | None) -> None:
        self._receive = receive
        self.limit, self.rule = limit, rule
        self._declared = declared
        self._received = 0
        self.error: PayloadTooLarge | None = None  # set once the body is cut off

    def allow(self, limit: int, rule: str) -> None:
        self.limit, self.rule = limit, rule

    async def receive(self) -> Message:
        if self._declared is not None and self._declared > self.limit:
            self._cut(f"a request body of {self._declared} bytes")
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self.limit:
                self._cut("the request body")
        return message

    def _cut(self, what: str) -> None:
        self.error = PayloadTooLarge(f"{what} exceeds the limit of {self.limit} bytes "
                                     f"({self.rule})")
        raise _CutOff


def allow_body(request: Request, limit: int, rule: str) -> None:
    """Let this request's body be up to `limit` bytes (`rule` names the knobs, for the error)."""
    request.scope[_SCOPE_KEY].allow(limit, rule)


def _declared_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    return int(value) if value is not None and value.isdigit() else None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int, rule: str) -> None:
        self.app = app
        self.limit, self.rule = limit, rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        meter = _BodyMeter(receive, self.limit, self.rule, _declared_length(scope))
        scope[_SCOPE_KEY] = meter
        started = False

        async def send_unless_cut_off(message: Message) -> None:
            nonlocal started
            if meter.error is not None:
                return  # the app's answer to a body it did not get whole; the 413 replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, meter.receive, send_unless_cut_off)
        except Exception:
            if meter.error is None:
                raise
        if meter.error is not None and not started:
            # Close the connection: the rest of the body is not worth reading.
            await JSONResponse(meter.error.to_json(), status_code=meter.error.status,
                               headers={"connection": "close"})(scope, receive, send)
