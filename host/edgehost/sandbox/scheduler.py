"""The guest scheduler: every guest run is a task polled on the worker's event loop.

No thread runs guest code. A `GuestTask` wraps one `GuestRun` (a wasmtime call future); the
scheduler polls runnable tasks one time slice at a time (the epoch ticker makes a running
guest yield at every tick), in between lets the event loop serve sockets, and never polls a
task that waits in an async import (an actor call): that task is woken when its result is
ready. The budget is enforced here, by dropping the future at the deadline.

Fairness: runnable tasks are grouped by account, then by function. The next account served
is the one that has used the least guest time (its "virtual time"; an account that was idle
re-enters at the current minimum, so it cannot bank credit), and within an account the
functions take turns. So every account with work gets an equal share of the core whatever
its number of runnable tasks, and a light tenant's request runs as soon as the current slice
ends instead of behind everyone else's slices.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from edgehost.sandbox.guest import GuestRun, InvocationResult, Outcome
from edgehost.sandbox.invocation import RunningGuest
from edgehost.sandbox.wasmtime_ffi import AsyncImports, Pending

Deliver = Callable[["asyncio.Future[Any]"], int]  # an awaited outcome as the import's i32


class GuestTask:
    __slots__ = ("account", "function", "run", "deadline", "budget_ms", "done", "waiting",
                 "_pending", "_timer", "queued")

    def __init__(self, account: str, function: str, run: GuestRun, deadline: float,
                 budget_ms: int, done: asyncio.Future[InvocationResult]) -> None:
        self.account = account
        self.function = function
        self.run = run
        self.deadline = deadline  # loop.time() at which the run is dropped
        self.budget_ms = budget_ms
        self.done = done  # resolves to the run's result
        self.waiting: asyncio.Future[Any] | None = None  # what an async import awaits
        self._pending: Pending | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.queued = False


class _AccountQueue:
    __slots__ = ("account", "vtime", "functions", "runnable")

    def __init__(self, account: str, vtime: float) -> None:
        self.account = account
        self.vtime = vtime
        self.functions: OrderedDict[str, deque[GuestTask]] = OrderedDict()
        self.runnable = 0

    def push(self, task: GuestTask) -> None:
        queue = self.functions.get(task.function)
        if queue is None:
            queue = self.functions[task.function] = deque()
        queue.append(task)
        self.runnable += 1

    def pop(self) -> GuestTask:
        function, queue = next(iter(self.functions.items()))
        task = queue.popleft()
        if queue:
            self.functions.move_to_end(function)  # the account's functions take turns
        else:
            del self.functions[function]
        self.runnable -= 1
        return task


class Scheduler:
    """One per worker process (per host in tests). Used only from its event loop's thread,
    except `running`, which host imports read during a poll.

    It is bound to the event loop of its first `run()`. Everything after that is reached from
    that run, so the internals are handed the loop rather than reading an optional attribute.
    """

    def __init__(self, running: RunningGuest, async_imports: AsyncImports,
                 slice_s: float) -> None:
        self.running = running
        self._async_imports = async_imports
        self._slice_s = slice_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._accounts: dict[str, _AccountQueue] = {}  # accounts with runnable tasks
        self._ready: list[tuple[float, int, _AccountQueue]] = []  # by virtual time
        self._order = itertools.count()
        self._min_vtime = 0.0
        self._scheduled = False
        self._tasks = 0  # tasks started and not finished (runnable, running or waiting)

    # ------------------------------------------------------------------ public

    def run(self, account: str, function: str, run: GuestRun,
            budget_ms: int, deadline: float | None = None) -> asyncio.Future[InvocationResult]:
        """Start `run`; the returned future resolves to its InvocationResult. The run is
        dropped (TIMEOUT) at `deadline` (loop time) or after `budget_ms`, whichever is first."""
        loop = self._loop or self._bind_loop()
        now = loop.time()
        end = now + budget_ms / 1000
        if deadline is not None and deadline < end:
            end = deadline
            # What is left of the chain's deadline, in whole ms as the caller reckons it.
            budget_ms = max(math.ceil((end - now) * 1000), 0)
        task = GuestTask(account, function, run, end, budget_ms, loop.create_future())
        self._tasks += 1
        if not self._ready and self.running.task is None:
            # Nobody else is waiting for the core: run the first slice now, saving two trips
            # round the event loop (most requests finish within it).
            self._poll_charged(task, loop)
        else:
            self._make_runnable(task, loop)
        return task.done

    def suspend(self, awaitable: Awaitable[Any], deliver: Deliver) -> Pending:
        """Called by an async import during a poll: park the polled task until `awaitable`
        is done, then resume it with `deliver(future)` as the import's result."""
        task = self.running.task
        pending = Pending()
        if task is None:  # a guest run outside the scheduler (Sandbox.invoke): cannot wait
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            pending.finish(-6)  # Status.NOT_PERMITTED
            return pending
        loop = self._bound_loop()
        future = asyncio.ensure_future(awaitable, loop=loop)
        task.waiting, task._pending = future, pending
        task._timer = loop.call_at(task.deadline, self._expire_waiting, task)
        future.add_done_callback(lambda f: self._resume(task, f, deliver, loop))
        return pending

    @property
    def tasks(self) -> int:
        return self._tasks

    def runnable_by_account(self) -> dict[str, int]:
        return {a: q.runnable for a, q in self._accounts.items()}

    # ------------------------------------------------------------------ internals

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.get_running_loop()
        return self._loop

    def _bound_loop(self) -> asyncio.AbstractEventLoop:
        """The loop of the first `run()`, for code reached from a poll."""
        if self._loop is None:
            raise RuntimeError("the scheduler has run no guest yet: it has no event loop")
        return self._loop

    def _make_runnable(self, task: GuestTask, loop: asyncio.AbstractEventLoop) -> None:
        queue = self._accounts.get(task.account)
        if queue is None:
            queue = self._accounts[task.account] = _AccountQueue(task.account, self._min_vtime)
            heapq.heappush(self._ready, (queue.vtime, next(self._order), queue))
        queue.push(task)
        task.queued = True
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._run_slice, loop)

    def _run_slice(self, loop: asyncio.AbstractEventLoop) -> None:
        """Poll runnable tasks until one time slice has passed, then let the loop serve I/O."""
        self._scheduled = False
        clock = time.perf_counter
        start = clock()
        loop_now = loop.time()
        while self._ready:
            vtime, _, queue = heapq.heappop(self._ready)
            self._min_vtime = vtime
            task = queue.pop()
            task.queued = False
            began = clock()
            if loop_now >= task.deadline:
                self._finish(task, timed_out=True)
            elif task.done.cancelled():  # its caller stopped waiting: no one wants the rest
                task.run.cancel(Outcome.TRAP, "cancelled: nobody waits for its result")
                self._finish(task)
            else:
                self._poll(task, loop)
            ended = clock()
            queue.vtime += ended - began
            if queue.runnable:
                heapq.heappush(self._ready, (queue.vtime, next(self._order), queue))
            else:
                del self._accounts[queue.account]
            if ended - start >= self._slice_s:
                break
            loop_now = loop.time()
        if self._ready and not self._scheduled:
            # The next slice as a timer due now, not call_soon: asyncio runs due timers after
            # the I/O callbacks of its next iteration, so each step of handling a request (an
            # accept, a read, a task's first step) waits for at most one slice, not one per step.
            self._scheduled = True
            loop.call_at(loop.time(), self._run_slice, loop)

    def _poll_charged(self, task: GuestTask, loop: asyncio.AbstractEventLoop) -> None:
        """Poll a task outside a slice, charging its account's virtual time."""
        queue = self._accounts.get(task.account)
        began = time.perf_counter()
        self._poll(task, loop)
        if queue is not None:
            queue.vtime += time.perf_counter() - began

    def _poll(self, task: GuestTask, loop: asyncio.AbstractEventLoop) -> None:
        self.running.task = task
        try:
            finished = task.run.poll()
        finally:
            self.running.task = None
        if finished:
            self._finish(task)
        elif task.waiting is None:
            if loop.time() >= task.deadline:
                self._finish(task, timed_out=True)
            else:
                self._make_runnable(task, loop)
        # else: parked in an async import until _resume

    def _resume(self, task: GuestTask, future: asyncio.Future[Any], deliver: Deliver,
                loop: asyncio.AbstractEventLoop) -> None:
        pending = task._pending  # set with `waiting`, and cleared with it
        if task.waiting is not future or pending is None:  # dropped at its deadline meanwhile
            if not future.cancelled():
                future.exception()  # seen: nobody is left to deliver it to
            return
        if task._timer is not None:
            task._timer.cancel()
            task._timer = None
        if task.run.done:  # dropped meanwhile (its instance was closed): nothing to resume
            if not future.cancelled():
                future.exception()  # seen
            task._pending = task.waiting = None
            self._async_imports.forget(pending)
            self._finish(task)
            return
        if loop.time() >= task.deadline:
            # Its budget ran out as the answer came (a callee shares its caller's deadline, so
            # both end together): the caller is out of time, not handed a callee's timeout.
            if not future.cancelled():
                future.exception()  # seen
            self._expire_waiting(task)
            return
        task._pending = task.waiting = None
        pending.finish(deliver(future))
        if not self._ready and self.running.task is None:
            self._poll_charged(task, loop)  # nothing else is runnable: resume it now
        else:
            self._make_runnable(task, loop)

    def _expire_waiting(self, task: GuestTask) -> None:
        """The deadline passed while the task waited in an async import: drop the guest. What
        it waited for is not cancelled: it runs under the same deadline (a call chain carries
        one), so it ends by itself, and a turn that holds an actor's token always finishes
        cleanly and passes it on."""
        if task.waiting is None:
            return
        pending = task._pending
        task.waiting = task._pending = None
        task._timer = None
        if pending is not None:
            self._async_imports.forget(pending)
        self._finish(task, timed_out=True)

    def _finish(self, task: GuestTask, timed_out: bool = False) -> None:
        if timed_out:
            task.run.cancel(Outcome.TIMEOUT, f"exceeded its {task.budget_ms} ms budget")
        self._tasks -= 1
        if not task.done.done():
            task.done.set_result(task.run.result())
