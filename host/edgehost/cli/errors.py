"""The one way a CLI command fails: a clear line (plus optional detail lines), exit 1."""

from __future__ import annotations


class CliError(Exception):
    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
