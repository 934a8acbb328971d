"""HTTP client for the admin API that turns every failure into one clear CliError."""

from __future__ import annotations

from typing import Any

import httpx

from edgehost.cli.errors import CliError
from edgehost.cli.settings import Target
from edgehost.routes import ADMIN_PREFIX


class AdminClient:
    def __init__(self, target: Target, timeout: float = 60.0) -> None:
        self.target = target
        headers = {"authorization": f"Bearer {target.key}"} if target.key else {}
        self._http = httpx.Client(base_url=target.url, headers=headers, timeout=timeout)

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, ADMIN_PREFIX + path, **kwargs)
        except httpx.ConnectError as e:
            raise CliError(f"cannot reach the host at {self.target.url} ({_reason(e)}); start it "
                           "with 'edgehost serve' or point EDGEHOST_URL / --url at it") from None
        except httpx.HTTPError as e:
            raise CliError(f"request to {self.target.url} failed: {e}") from None
        if response.status_code < 400:
            return response.json()
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        message = body.get("message") or body.get("detail") or response.reason_phrase
        if response.status_code == 401:
            hint = ("no API key is configured: run 'edgehost auth api-key set' or set "
                    "EDGEHOST_API_KEY") if not self.target.key else \
                f"the host refused the API key from {self.target.key_source}"
            raise CliError(f"{hint} ({message})")
        if isinstance(message, list):  # FastAPI validation errors
            message = "; ".join(str(m.get("msg", m)) for m in message)
        raise CliError(str(message), body.get("details", []))


def _reason(error: httpx.ConnectError) -> str:
    text = str(error)
    return "connection refused" if "refused" in text.lower() else (text or "cannot connect")
