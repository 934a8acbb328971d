"""The guest scheduler (sandbox/scheduler.py) with real guests on the real wasmtime: accounts
are served by the guest time they used, the functions of an account take turns, a run is
dropped at its deadline (running, queued or waiting in an async import), and a run nobody
waits for any more leaves nothing behind.

Shares are measured in guest work, not wall-clock time: every guest here runs the same loop,
counting its iterations in its own memory, so how far one got while another ran says how the
core was shared, whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
import wasmtime
from edgehost.config import SandboxLimits, ShipLimits
from edgehost.metrics import Metrics
from edgehost.sandbox.engine import CompiledModule, Sandbox
from edgehost.sandbox.guest import GuestInstance, InvocationResult, Outcome
from edgehost.sandbox.invocation import Invocation

from tests.conftest import TEST_POOLS

# `fetch` adds one to the i32 at address 0 until it reaches LIMIT (same cost per iteration
# for every guest below), then returns 0.
COUNTING = '''(module (memory (export "memory") 1)
  (func (export "edgehost_fetch") (result i32)
    (loop $count
      (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
      (br_if $count (i32.lt_u (i32.load (i32.const 0)) (i32.const {limit}))))
    (i32.const 0)))'''
RUNAWAY_LIMIT = -1  # 2**32 - 1 iterations: minutes; every runaway here is dropped long before
# A light request: about twenty time slices of work (a slice is SandboxLimits.slice_fuel,
# ~100,000 instructions, about 10,000 iterations of this loop).
LIGHT_ITERATIONS = 200_000
# Runaways sharing one account (or one function) beside a light run. Served by guest time the
# runaways together get about as much done as the light run needs; served by task they would
# get RUNAWAYS times as much. Guest time is wall-clock time, so a poll the OS preempts is
# charged in full: under a loaded machine the share drifts, hence the wide bound.
RUNAWAYS = 24
FAIR_SHARE_BOUND = 6

# `fetch` makes one actor call and stores its status (the answer's length, or an error) at
# address 0. The call is an async import: the guest waits for it suspended.
CALLING = '''(module
  (import "edgehost_v1" "actor_call"
    (func $actor_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "B" "n" "m" "[]")
  (func (export "edgehost_fetch") (result i32)
    (i32.store (i32.const 0) (call $actor_call (i32.const 16) (i32.const 1) (i32.const 17)
      (i32.const 1) (i32.const 18) (i32.const 1) (i32.const 19) (i32.const 2)))
    (i32.const 0)))'''


@dataclass
class Guests:
    sandbox: Sandbox
    loop: asyncio.AbstractEventLoop
    runaway: CompiledModule
    light: CompiledModule
    calling: CompiledModule
    started: list[Started] = field(default_factory=list)  # by the current test

    def run(self, coroutine: Awaitable):
        return self.loop.run_until_complete(coroutine)


@pytest.fixture(scope="module")
def guests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guests]:
    """One sandbox for the module; its scheduler serves one event loop, used by every test."""
    sandbox = Sandbox(SandboxLimits(**TEST_POOLS), tmp_path_factory.mktemp("cache"), Metrics(),
                      ShipLimits(compile_processes=1))
    sandbox.start()
    loop = asyncio.new_event_loop()

    def compiled(source: str) -> CompiledModule:
        return sandbox.compile(bytes(wasmtime.wat2wasm(source)), memory_limit_bytes=1 << 20)

    try:
        yield Guests(sandbox, loop, compiled(COUNTING.format(limit=RUNAWAY_LIMIT)),
                     compiled(COUNTING.format(limit=LIGHT_ITERATIONS)), compiled(CALLING))
    finally:
        loop.close()
        sandbox.close()


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.001)


@pytest.fixture(autouse=True)
def nothing_left_behind(guests: Guests) -> Iterator[None]:
    """After each test, passed or failed: every run it started is over (runaways are dropped
    at their deadlines), then their instances are closed. A store must never be closed while
    the scheduler may still poll its guest."""
    stores = guests.sandbox.stores_open
    yield
    scheduler = guests.sandbox.scheduler
    guests.run(until(lambda: scheduler.tasks == 0, timeout=10.0))
    for run in guests.started:
        run.instance.close()
    guests.started.clear()
    assert scheduler.runnable_by_account() == {}
    assert guests.sandbox.stores_open == stores


class Started:
    """One guest run handed to the scheduler, on its own instance."""

    def __init__(self, guests: Guests, compiled: CompiledModule, account: str, function: str,
                 budget_ms: int, deadline: float | None = None, invocation=None) -> None:
        sandbox = guests.sandbox
        self.instance: GuestInstance = sandbox.new_instance(compiled, 1 << 20)
        self.invocation = invocation or Invocation(input=b"", limits=sandbox.limits)
        self.done: asyncio.Future = sandbox.scheduler.run(
            account, function, self.instance.start("edgehost_fetch", self.invocation),
            budget_ms, deadline)
        guests.started.append(self)

    def count(self) -> int:
        """The i32 at address 0 of the guest's memory (0 before it is instantiated)."""
        if self.instance.memory is None:
            return 0
        return struct.unpack("<I", self.instance.memory.read(0, 4))[0]

    async def result(self, timeout: float = 5.0) -> InvocationResult:
        """The run's result; a scheduler that never finishes it fails the test, not hangs it."""
        return await asyncio.wait_for(asyncio.shield(self.done), timeout)


def total(runs: list[Started]) -> int:
    return sum(run.count() for run in runs)


async def finish(runs: list[Started]) -> list[InvocationResult]:
    return [await run.result() for run in runs]


# ------------------------------------------------------------------ deadlines

def test_a_run_that_finishes_reports_ok_and_leaves_no_task(guests: Guests):
    async def scenario() -> None:
        light = Started(guests, guests.light, "acct", "fn", budget_ms=5_000)
        assert guests.sandbox.scheduler.tasks == 1
        result = await light.result()
        assert (result.outcome, light.count()) == (Outcome.OK, LIGHT_ITERATIONS)
        assert guests.sandbox.scheduler.tasks == 0

    guests.run(scenario())


def test_a_runaway_is_dropped_at_its_budget(guests: Guests):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        result = await Started(guests, guests.runaway, "acct", "fn", budget_ms=100).result()
        elapsed = loop.time() - started
        assert result.outcome is Outcome.TIMEOUT
        assert 0.1 <= elapsed < 1.5, elapsed

    guests.run(scenario())


def test_a_deadline_sooner_than_the_budget_wins(guests: Guests):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        run = Started(guests, guests.runaway, "acct", "fn", budget_ms=60_000,
                      deadline=started + 0.1)
        result = await run.result()
        assert result.outcome is Outcome.TIMEOUT
        assert 0.1 <= loop.time() - started < 1.5

    guests.run(scenario())


def test_a_run_whose_deadline_passed_while_queued_is_expired_without_running(guests: Guests):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        busy = Started(guests, guests.runaway, "acct", "busy", budget_ms=200)
        late = Started(guests, guests.light, "acct", "late", budget_ms=5_000,
                       deadline=loop.time() - 0.001)
        result = await late.result()
        assert result.outcome is Outcome.TIMEOUT
        assert late.count() == 0 and late.instance.instance is None, "it never ran"
        await busy.result()

    guests.run(scenario())


# ------------------------------------------------------------------ fairness

def test_a_light_account_is_served_beside_a_runaway_account(guests: Guests):
    async def scenario() -> None:
        runaways = [Started(guests, guests.runaway, "noisy", "spin", budget_ms=300)
                    for _ in range(RUNAWAYS)]
        await asyncio.sleep(0.02)  # the runaways have the core to themselves for a while
        before = total(runaways)
        light = Started(guests, guests.light, "quiet", "fn", budget_ms=5_000)
        result = await light.result()
        during = total(runaways) - before
        assert result.outcome is Outcome.OK
        # Served by guest time, the two accounts alternate: the runaways together get about
        # as much work done as the light run needed (served by task: RUNAWAYS times as much).
        assert during <= FAIR_SHARE_BOUND * LIGHT_ITERATIONS, during
        assert {r.outcome for r in await finish(runaways)} == {Outcome.TIMEOUT}

    guests.run(scenario())


def test_the_functions_of_an_account_take_turns(guests: Guests):
    async def scenario() -> None:
        runaways = [Started(guests, guests.runaway, "acct", "spin", budget_ms=300)
                    for _ in range(RUNAWAYS)]
        await asyncio.sleep(0.02)
        before = total(runaways)
        light = Started(guests, guests.light, "acct", "other", budget_ms=5_000)
        result = await light.result()
        during = total(runaways) - before
        assert result.outcome is Outcome.OK
        assert during <= FAIR_SHARE_BOUND * LIGHT_ITERATIONS, during
        await finish(runaways)

    guests.run(scenario())


def test_an_account_arriving_late_shares_the_core_from_the_start(guests: Guests):
    async def scenario() -> None:
        # "early" uses the core alone for a while; "late" then arrives with the same load.
        # It may not claim the time it was idle: both are served alike from then on.
        early = [Started(guests, guests.runaway, "early", "spin", budget_ms=400)
                 for _ in range(2)]
        await asyncio.sleep(0.1)
        early_before = total(early)
        late = [Started(guests, guests.runaway, "late", "spin", budget_ms=200)
                for _ in range(2)]
        await asyncio.sleep(0.05)
        early_during, late_during = total(early) - early_before, total(late)
        assert late_during > 0 and early_during > 0
        assert 1 / 3 <= early_during / late_during <= 3, (early_during, late_during)
        await finish(late + early)

    guests.run(scenario())


# ------------------------------------------------------------------ waiting in an async import

class Actors:
    """The actor system as a guest's `actor_call` sees it: each call returns a future the
    test answers (or never answers)."""

    def __init__(self) -> None:
        self.calls: list[asyncio.Future] = []

    def call(self, binding: bytes, name: bytes, method: bytes, args: bytes) -> asyncio.Future:
        assert (binding, name, method, args) == (b"B", b"n", b"m", b"[]")
        self.calls.append(asyncio.get_running_loop().create_future())
        return self.calls[-1]


def calling(guests: Guests, actors: Actors, budget_ms: int) -> Started:
    invocation = Invocation(input=b"", limits=guests.sandbox.limits, actors=actors)
    return Started(guests, guests.calling, "acct", "caller", budget_ms, invocation=invocation)


def test_a_waiting_run_takes_no_turns_and_resumes_with_its_answer(guests: Guests):
    async def scenario() -> None:
        actors = Actors()
        run = calling(guests, actors, budget_ms=5_000)
        await until(lambda: len(actors.calls) == 1)
        scheduler = guests.sandbox.scheduler
        assert scheduler.tasks == 1 and scheduler.runnable_by_account() == {}
        await asyncio.sleep(0.02)
        assert not run.done.done()
        actors.calls[0].set_result(b'{"ok":1}')
        result = await run.result()
        assert result.outcome is Outcome.OK
        assert run.count() == len(b'{"ok":1}')  # actor_call returned the answer's length
        assert result.invocation.result_slot == b'{"ok":1}'

    guests.run(scenario())


def test_a_run_waiting_past_its_deadline_is_dropped_and_a_late_answer_ignored(guests: Guests):
    async def scenario() -> None:
        actors = Actors()
        loop = asyncio.get_running_loop()
        started = loop.time()
        run = calling(guests, actors, budget_ms=100)
        result = await run.result()
        assert result.outcome is Outcome.TIMEOUT
        assert 0.1 <= loop.time() - started < 1.5
        assert guests.sandbox.scheduler.tasks == 0
        # What it waited for is not cancelled (a call chain shares one deadline and ends by
        # itself); its answer, when it comes, goes nowhere and breaks nothing.
        assert not actors.calls[0].cancelled()
        actors.calls[0].set_result(b"late")
        await asyncio.sleep(0.01)

    guests.run(scenario())


def test_a_dropped_run_reports_the_budget_it_was_given(guests: Guests):
    # The detail goes to the function's log: "exceeded its 99 ms budget" for a function
    # whose timeout_ms is 100 sends its owner looking for a limit that does not exist.
    async def scenario() -> dict[int, str]:
        actors = Actors()  # never answers: each run is dropped at its deadline
        runs = {budget: calling(guests, actors, budget_ms=budget) for budget in range(11, 51)}
        return {budget: (await run.result()).detail for budget, run in runs.items()}

    details = guests.run(scenario())
    wrong = {budget: detail for budget, detail in details.items()
             if detail != f"exceeded its {budget} ms budget"}
    assert wrong == {}


# ------------------------------------------------------------------ nobody waiting any more

def test_a_run_whose_caller_stops_waiting_is_dropped_at_once(guests: Guests):
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        scheduler = guests.sandbox.scheduler
        budget_s = 0.5
        run = Started(guests, guests.runaway, "acct", "fn", budget_ms=int(budget_s * 1000))
        started = loop.time()

        async def request() -> InvocationResult:
            return await run.done

        waiting = asyncio.create_task(request())
        await asyncio.sleep(0.02)
        waiting.cancel()  # the request's task is cancelled (a server shutting down, say)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0.05)
        dropped_at_once = scheduler.tasks == 0
        await until(lambda: scheduler.tasks == 0, timeout=budget_s + 2)
        assert dropped_at_once, (
            f"the run kept its task for {loop.time() - started:.2f} s after its caller "
            f"stopped waiting (until its {budget_s:g} s budget ran out)")
        assert scheduler.runnable_by_account() == {}

    guests.run(scenario())


def test_closing_the_instance_of_a_running_guest_drops_its_run_first(guests: Guests):
    # As a request's handler does when it is cancelled: it closes its instance in `finally`
    # while the scheduler still holds the run. Polling a run whose store is gone aborts the
    # process inside wasmtime, so closing must drop the run's call future first.
    async def scenario() -> None:
        scheduler = guests.sandbox.scheduler
        run = Started(guests, guests.runaway, "acct", "fn", budget_ms=2000)

        async def request() -> InvocationResult:
            try:
                return await run.done
            finally:
                run.instance.close()

        waiting = asyncio.create_task(request())
        await asyncio.sleep(0.02)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await until(lambda: scheduler.tasks == 0, timeout=0.5)
        assert guests.sandbox.stores_open == 0

    guests.run(scenario())


def test_closing_the_instance_of_a_waiting_guest_ends_its_task_when_the_answer_comes(
        guests: Guests):
    # The same, for a guest parked in actor_call: its call future is dropped by close(), so
    # the answer arriving later must end the task, not resume the guest in a closed store.
    async def scenario() -> None:
        scheduler = guests.sandbox.scheduler
        actors = Actors()
        run = calling(guests, actors, budget_ms=5_000)
        await until(lambda: len(actors.calls) == 1)
        run.instance.close()
        assert scheduler.tasks == 1  # still parked until what it awaits is done
        actors.calls[0].set_result(b'{"ok":1}')
        await until(lambda: scheduler.tasks == 0, timeout=0.5)
        result = await run.result()
        assert result.outcome is Outcome.TRAP and "instance was closed" in result.detail
        assert guests.sandbox.stores_open == 0

    guests.run(scenario())
