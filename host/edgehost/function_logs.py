"""Each function's own log: guest log lines and failure details, as JSON lines on disk.

Trap details and import faults go here and never to the HTTP client, which only sees an error
id it can quote. The file is capped; when full it is rotated to `.1` (one old file kept).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from edgehost.sandbox.invocation import Invocation

log = logging.getLogger("edgehost")


class FunctionLogs:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self._root = root
        self._max_bytes = max_bytes
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, func_id: str) -> Path:
        return self._root / f"{func_id}.jsonl"  # func_id is a UUID we minted

    def append(self, func_id: str, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        now = time.time()
        text = "".join(json.dumps({"ts": round(now, 3), **e}, ensure_ascii=False) + "\n"
                       for e in entries)
        path = self._path(func_id)
        with self._locks[func_id]:
            if path.exists() and path.stat().st_size + len(text) > self._max_bytes:
                path.replace(path.with_suffix(".jsonl.1"))
            with open(path, "a", encoding="utf-8") as f:
                f.write(text)

    def record(self, func_id: str, invocation: Invocation, *, failure: dict[str, Any] | None
               ) -> str | None:
        """Log an invocation's guest lines and, if it failed, the failure under a new error id.

        `failure` holds what went wrong (outcome, detail, where); the guest's own message and
        the import faults it hit are added here. Returns the error id, for the client.
        """
        entries: list[dict[str, Any]] = [{"level": line.level, "message": line.message}
                                         for line in invocation.logs]
        if invocation.logs_dropped:
            entries.append({"level": "warn", "message": f"{invocation.logs_dropped} log "
                            "line(s) dropped: per-invocation log quota reached"})
        error_id = None
        if failure is not None:
            error_id = "err_" + secrets.token_hex(8)
            entries.append({
                "level": "error", "error_id": error_id, **failure,
                "guest_message": invocation.error_message,
                "import_faults": [{"import": f.import_name, "status": int(f.status),
                                   "detail": f.detail} for f in invocation.faults]})
            log.warning("guest failed", extra={"func_id": func_id, "error_id": error_id,
                                               "outcome": failure.get("outcome")})
        self.append(func_id, entries)
        return error_id

    def tail(self, func_id: str, limit: int) -> list[dict[str, Any]]:
        path = self._path(func_id)
        with self._locks[func_id]:
            if not path.exists():
                return []
            lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines[-limit:]]

    def delete(self, func_id: str) -> None:
        with self._locks[func_id]:
            for path in (self._path(func_id), self._path(func_id).with_suffix(".jsonl.1")):
                path.unlink(missing_ok=True)
