"""Group commit: many turns' writes share one durable LMDB transaction and one fsync.

A turn's buffer is handed over with `submit()`, which returns at once with a `CommitTicket`;
the ticket's future resolves on the submitter's event loop once the transaction holding the
writes is on disk (or failed). One committer thread drains whatever is queued into a single
write transaction, so under load one fsync carries every turn that arrived while the previous
one ran; with a single caller it degenerates to one transaction per turn.

One turn's failure stays that turn's. A turn refused before it wrote anything (`TurnRefused`:
over its account's quota) is skipped and the rest of the transaction commits. If the
transaction fails any other way (the map is full, a bug), it is aborted whole and each of its
turns is retried in a transaction of its own, so only the turns that fail alone get the error.

A ticket may depend on an earlier one (a turn that read another turn's writes before they
were durable, see output_gate.py): if the earlier one fails, the later one is failed too and
nothing of it is written, so the disk never holds writes computed from writes it lost.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable

from edgehost.metrics import Metrics
from edgehost.storage.lmdb_env import LmdbEnv, StorageFull
from edgehost.storage.usage import TurnRefused

log = logging.getLogger("edgehost.storage")

Apply = Callable[[object], None]  # writes one turn's buffer into an open write transaction


class CommitFailed(Exception):
    """A ticket failed because one it depends on failed; `cause` is that failure."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class CommitTicket:
    """One turn's writes in the queue. A submitter on an event loop awaits `future`; one that
    is not (a tool, a test) waits on `done`."""

    __slots__ = ("apply", "depends_on", "error", "future", "done", "_loop")

    def __init__(self, apply: Apply, depends_on: CommitTicket | None,
                 loop: asyncio.AbstractEventLoop | None) -> None:
        self.apply = apply
        self.depends_on = depends_on
        self.error: BaseException | None = None
        self._loop = loop
        # Resolves to None, or raises the ticket's error.
        self.future: asyncio.Future | None = loop.create_future() if loop else None
        self.done = threading.Event()


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
        return self._enqueue(CommitTicket(apply, depends_on, asyncio.get_running_loop()))

    def commit(self, apply: Apply) -> None:
        """Make `apply`'s writes durable and return once they are (or raise why not): the
        blocking form, for callers that are not on an event loop."""
        ticket = self._enqueue(CommitTicket(apply, None, None))
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error

    def _enqueue(self, ticket: CommitTicket) -> CommitTicket:
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
        try:
            self._write(batch)
        except BaseException as e:  # not an Exception (e.g. KeyboardInterrupt): fail them all
            for ticket in batch:
                ticket.error = ticket.error or e
            raise
        finally:
            self._hand_back(batch)  # every waiter is released, whatever happened

    def _write(self, batch: list[CommitTicket]) -> None:
        """Commit the batch in one transaction, or failing that each turn alone; set the error
        of every turn that did not commit."""
        def write_all(txn) -> None:
            for ticket in batch:
                ticket.error = None
                earlier = ticket.depends_on
                if earlier is not None and earlier.error is not None:
                    ticket.error = earlier.error if isinstance(earlier.error, CommitFailed) \
                        else CommitFailed(earlier.error)
                    continue
                try:
                    ticket.apply(txn)
                except TurnRefused as refused:  # it wrote nothing: the others go on
                    ticket.error = refused

        try:
            self._env.write(write_all)  # one transaction, one fsync, for the whole batch
        except Exception as e:  # noqa: BLE001 - every waiter must be released
            if len(batch) > 1:
                log.warning("group commit of %d turns failed (%s); committing each alone",
                            len(batch), e)
                for ticket in batch:  # in order, so a dependent sees its predecessor's fate
                    self._write([ticket])
                return
            log.error("commit of a turn failed: %s", e, exc_info=not isinstance(e, StorageFull))
            batch[0].error = e
            return
        self._metrics.inc("edgehost_storage_commits_total")
        self._metrics.inc("edgehost_storage_committed_turns_total",
                          by=sum(ticket.error is None for ticket in batch))

    def _hand_back(self, batch: list[CommitTicket]) -> None:
        # One hand-off to each loop per batch, not one per turn.
        loops: dict[asyncio.AbstractEventLoop, list[CommitTicket]] = {}
        for ticket in batch:
            if ticket._loop is None:
                ticket.done.set()
            else:
                loops.setdefault(ticket._loop, []).append(ticket)
        for loop, tickets in loops.items():
            try:
                loop.call_soon_threadsafe(self._settle, tickets)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

    def _settle(self, tickets: list[CommitTicket]) -> None:
        for ticket in tickets:
            ticket.done.set()
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
