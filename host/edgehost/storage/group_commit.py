"""Group commit: many turns' writes share one durable LMDB transaction and one fsync.

A turn hands its buffer to `commit()` and blocks until the transaction holding it is on disk.
One committer thread drains whatever is queued into a single write transaction, so under load
the cost of an fsync is spread over every turn that arrived while the previous one ran; with a
single caller it degenerates to one transaction per turn. No caller is released before its
writes are durable.

One turn's failure stays that turn's. A turn refused before it wrote anything (`TurnRefused`:
over its account's quota) is skipped and the rest of the transaction commits. If the
transaction fails any other way (the map is full, a bug), it is aborted whole and each of its
turns is retried in a transaction of its own, so only the turns that fail alone get the error.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Callable

from edgehost.metrics import Metrics
from edgehost.storage.lmdb_env import LmdbEnv, StorageFull
from edgehost.storage.usage import TurnRefused

log = logging.getLogger("edgehost.storage")

Apply = Callable[[object], None]  # writes one turn's buffer into an open write transaction


class _Pending:
    __slots__ = ("apply", "done", "error")

    def __init__(self, apply: Apply) -> None:
        self.apply = apply
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommitter:
    def __init__(self, env: LmdbEnv, metrics: Metrics, max_batch: int) -> None:
        self._env = env
        self._metrics = metrics
        self._max_batch = max_batch
        self._queue: deque[_Pending] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="edgehost-commit", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def commit(self, apply: Apply) -> None:
        """Make `apply`'s writes durable; returns only once they are fsynced."""
        pending = _Pending(apply)
        with self._wake:
            if self._closing:
                raise RuntimeError("the host is shutting down")
            self._queue.append(pending)
            self._wake.notify()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue and self._closing:
                    return
                batch = [self._queue.popleft()
                         for _ in range(min(len(self._queue), self._max_batch))]
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[_Pending]) -> None:
        try:
            self._write(batch)
        except BaseException as e:  # not an Exception (e.g. KeyboardInterrupt): fail them all
            for pending in batch:
                pending.error = e
            raise
        finally:
            for pending in batch:  # every waiter is released, whatever happened
                pending.done.set()

    def _write(self, batch: list[_Pending]) -> None:
        """Commit the batch in one transaction, or failing that each turn alone; set the error
        of every turn that did not commit."""
        def write_all(txn) -> None:
            for pending in batch:
                try:
                    pending.apply(txn)
                except TurnRefused as refused:  # it wrote nothing: the others go on
                    pending.error = refused

        try:
            self._env.write(write_all)  # one transaction, one fsync, for the whole batch
        except Exception as e:  # noqa: BLE001 - every waiter must be released
            if len(batch) > 1:
                log.warning("group commit of %d turns failed (%s); committing each alone",
                            len(batch), e)
                for pending in batch:
                    pending.error = None
                    self._write([pending])
                return
            log.error("commit of a turn failed: %s", e, exc_info=not isinstance(e, StorageFull))
            batch[0].error = e
            return
        self._metrics.inc("edgehost_storage_commits_total")
        self._metrics.inc("edgehost_storage_committed_turns_total",
                          by=sum(pending.error is None for pending in batch))

    def close(self) -> None:
        """Finish everything queued, then stop."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join()
