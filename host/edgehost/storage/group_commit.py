"""Group commit: many turns' writes share one durable LMDB transaction and one fsync.

A turn's buffer is handed over with `submit()`, which returns at once with a `CommitTicket`;
the ticket's future resolves on the submitter's event loop once the transaction holding the
writes is on disk (or failed). One committer thread drains whatever is queued into a single
write transaction, so under load one fsync carries every turn that arrived while the previous
one ran; with a single caller it degenerates to one transaction per turn.

A ticket may depend on an earlier one (a turn that read another turn's writes before they
were durable, see output_gate.py): if the earlier one fails, the later one is failed too and
nothing of it is written, so the disk never holds writes computed from writes it lost.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Callable

from edgehost.metrics import Metrics
from edgehost.storage.lmdb_env import LmdbEnv

log = logging.getLogger("edgehost.storage")

Apply = Callable[[object], None]  # writes one turn's buffer into an open write transaction


class TurnRejected(Exception):
    """Raised by an `Apply` that refuses its turn before writing anything (e.g. a quota): that
    turn fails alone, and the rest of the batch commits."""


class CommitFailed(Exception):
    """A ticket failed because one it depends on failed; `cause` is that failure."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class CommitTicket:
    __slots__ = ("apply", "depends_on", "error", "future", "_loop")

    def __init__(self, apply: Apply, depends_on: CommitTicket | None,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.apply = apply
        self.depends_on = depends_on
        self.error: BaseException | None = None
        self._loop = loop
        self.future: asyncio.Future = loop.create_future()  # resolves to None, or raises

    @property
    def settled(self) -> bool:
        return self.future.done()


class GroupCommitter:
    def __init__(self, env: LmdbEnv, metrics: Metrics, max_batch: int) -> None:
        self._env = env
        self._metrics = metrics
        self._max_batch = max_batch
        self._queue: deque[CommitTicket] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="edgehost-commit", daemon=True)
        # Called on the loop for every settled ticket, in commit order (output_gate.py).
        self.on_settled: Callable[[CommitTicket], None] | None = None

    def start(self) -> None:
        self._thread.start()

    def submit(self, apply: Apply, depends_on: CommitTicket | None = None) -> CommitTicket:
        """Queue a turn's writes; call from the event loop. Never blocks."""
        ticket = CommitTicket(apply, depends_on, asyncio.get_running_loop())
        with self._wake:
            if self._closing:
                raise RuntimeError("the host is shutting down")
            self._queue.append(ticket)
            self._wake.notify()
        return ticket

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

    def _commit_batch(self, batch: list[CommitTicket]) -> None:
        def write_all(txn) -> None:
            # May run more than once (LmdbEnv.write retries a whole transaction).
            for ticket in batch:
                ticket.error = None
                earlier = ticket.depends_on
                if earlier is not None and earlier.error is not None:
                    ticket.error = earlier.error if isinstance(earlier.error, CommitFailed) \
                        else CommitFailed(earlier.error)
                    continue
                try:
                    ticket.apply(txn)
                except TurnRejected as e:
                    ticket.error = e

        try:
            self._env.write(write_all)  # one transaction, one fsync, for the whole batch
        except BaseException as e:  # noqa: BLE001 - every waiter must be released
            log.exception("group commit of %d turn(s) failed", len(batch))
            for ticket in batch:
                if ticket.error is None:
                    ticket.error = e
        self._metrics.inc("edgehost_storage_commits_total")
        self._metrics.inc("edgehost_storage_committed_turns_total",
                          by=sum(1 for t in batch if t.error is None))
        # One hand-off to each loop per batch, not one per turn.
        loops: dict[asyncio.AbstractEventLoop, list[CommitTicket]] = {}
        for ticket in batch:
            loops.setdefault(ticket._loop, []).append(ticket)
        for loop, tickets in loops.items():
            try:
                loop.call_soon_threadsafe(self._settle, tickets)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

    def _settle(self, tickets: list[CommitTicket]) -> None:
        for ticket in tickets:
            if not ticket.future.done():
                if ticket.error is None:
                    ticket.future.set_result(None)
                else:
                    ticket.future.set_exception(ticket.error)
                    ticket.future.exception()  # marks it retrieved: a failure nobody awaits
            if self.on_settled is not None:
                self.on_settled(ticket)

    def close(self) -> None:
        """Finish everything queued, then stop."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join()
