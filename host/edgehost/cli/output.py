"""How commands print: JSON for tools (--json), plain text for people, progress on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(args, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2))
    else:
        print(text)


def progress(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def table(rows: list[list[str]], header: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)
