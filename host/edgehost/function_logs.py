"""Each function's own log: guest log lines and failure details, as JSON lines on disk.

Trap details and import faults go here and never to the HTTP client, which only sees an error
id it can quote. The file is capped; when full it is rotated to `.1` (one old file kept).

Entries are written by one thread of their own: the event loop only formats and queues them,
so a slow disk or a tenant logging its quota on every request never holds up the loop. The
queue is bounded in bytes; past it, entries are dropped and counted, never buffered without
end. Reading a log first waits for what is queued, so a client sees its failure's entry.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any, overload

from edgehost.metrics import Metrics
from edgehost.sandbox.invocation import Invocation

log = logging.getLogger("edgehost")


class FunctionLogs:
    def __init__(self, root: Path, max_bytes: int, queue_bytes: int = 8 * 1024 * 1024,
                 metrics: Metrics | None = None) -> None:
        self._root = root
        self._max_bytes = max_bytes
        self._queue_bytes = queue_bytes
        self._metrics = metrics
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._pending: deque[tuple[str, str]] = deque()
        self._pending_bytes = 0
        self._writing = False
        self._changed = threading.Condition()
        self._writer: threading.Thread | None = None
        self._closed = False
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, func_id: str) -> Path:
        return self._root / f"{func_id}.jsonl"  # func_id is a UUID we minted

    def append(self, func_id: str, entries: list[dict[str, Any]]) -> None:
        """Queue entries for the writer thread; never blocks on the disk."""
        if not entries:
            return
        now = time.time()
        text = "".join(json.dumps({"ts": round(now, 3), **e}, ensure_ascii=False) + "\n"
                       for e in entries)
        with self._changed:
            if self._closed:
                self._write(func_id, text)  # after close (tools): write it directly
                return
            if self._pending_bytes + len(text) > self._queue_bytes:
                if self._metrics is not None:
                    self._metrics.inc("edgehost_function_log_entries_dropped_total",
                                      by=len(entries))
                return
            self._pending.append((func_id, text))
            self._pending_bytes += len(text)
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="edgehost-logs",
                                                daemon=True)
                self._writer.start()
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if not self._pending:
                    return
                func_id, text = self._pending.popleft()
                self._writing = True
            try:
                self._write(func_id, text)
            except OSError:
                log.exception("could not write the log of function %s", func_id)
            finally:
                with self._changed:
                    self._writing = False
                    self._pending_bytes -= len(text)
                    self._changed.notify_all()

    def _write(self, func_id: str, text: str) -> None:
        path = self._path(func_id)
        with self._locks[func_id]:
            if path.exists() and path.stat().st_size + len(text) > self._max_bytes:
                path.replace(path.with_suffix(".jsonl.1"))
            with open(path, "a", encoding="utf-8") as f:
                f.write(text)

    def flush(self) -> None:
        """Wait until everything queued so far is written."""
        with self._changed:
            while self._pending or self._writing:
                self._changed.wait()

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._writer is not None:
            self._writer.join()

    @overload
    def record(self, func_id: str, invocation: Invocation, *, failure: dict[str, Any]) -> str: ...

    @overload
    def record(self, func_id: str, invocation: Invocation, *, failure: dict[str, Any] | None
               ) -> str | None: ...

    def record(self, func_id: str, invocation: Invocation, *, failure: dict[str, Any] | None
               ) -> str | None:
        """Log an invocation's guest lines and, if it failed, the failure under a new error id.

        `failure` holds what went wrong (outcome, detail, where); the guest's own message and
        the import faults it hit are added here. Returns the error id (for the client) when
        there is a failure, else None.
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
        self.flush()
        path = self._path(func_id)
        with self._locks[func_id]:
            if not path.exists():
                return []
            lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines[-limit:]]

    def delete(self, func_id: str) -> None:
        self.flush()
        with self._locks[func_id]:
            for path in (self._path(func_id), self._path(func_id).with_suffix(".jsonl.1")):
                path.unlink(missing_ok=True)
