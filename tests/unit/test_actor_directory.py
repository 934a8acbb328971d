"""The live activations and what they may keep (actors/directory.py): when a count or a memory
budget is passed, host-wide or per account, idle activations go, least recently used first and
the account's own first when the account is over its share; a busy one (its mailbox token
held: a turn is running) is never evicted; a new activation on an account at its cap with
every activation busy is refused.

Activations with memory hold real guest instances (a one-function module whose memory is N
pages, instantiated by the real wasmtime), so the bytes counted are what the instance keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import wasmtime
from edgehost.actors.directory import Activation, ActorDirectory
from edgehost.actors.errors import ActorError
from edgehost.config import ActorLimits, SandboxLimits, ShipLimits
from edgehost.metrics import Metrics
from edgehost.sandbox.engine import CompiledModule, Sandbox
from edgehost.sandbox.guest import GuestInstance, Outcome
from edgehost.sandbox.invocation import Invocation
from edgehost.storage.actor_storage import InstanceId

from tests.conftest import TEST_POOLS

PAGE = 65536
TYPE = "Counter"


def deployment(func_id: str = "f-owner", revision: int = 1) -> SimpleNamespace:
    """What the directory reads of a deployment: which function and revision it runs. (A
    registry Deployment would also need a shipped, compiled module the directory never
    touches.)"""
    return SimpleNamespace(function=SimpleNamespace(func_id=func_id),
                           revision=SimpleNamespace(number=revision))


def key(account: str, name: str) -> InstanceId:
    return InstanceId(account, TYPE, name)


class Fixture:
    """A directory with the limits a test gives, recording what it evicts and why."""

    def __init__(self, **limits) -> None:
        self.evicted: list[tuple[str, str, str]] = []  # (account, name, reason)
        self.directory = ActorDirectory(ActorLimits(**limits), self._on_evict)

    def _on_evict(self, activation: Activation, reason: str) -> None:
        assert activation.dropped and activation.instance is None, "evicted means closed"
        self.evicted.append((activation.key.account_id, activation.key.name, reason))

    def activate(self, account: str, name: str, owner=None) -> Activation:
        return self.directory.get(key(account, name), owner or DEPLOYMENT)

    def live(self, account: str) -> list[str]:
        return self.directory.live_names(account, TYPE)


DEPLOYMENT = deployment()


# ------------------------------------------------------------------ lookup

def test_a_name_has_one_activation_and_lookup_never_creates_one():
    fx = Fixture()
    assert fx.directory.lookup(key("a", "x")) is None
    first = fx.activate("a", "x")
    assert fx.activate("a", "x") is first
    assert fx.directory.lookup(key("a", "x")) is first
    assert fx.directory.lookup(key("b", "x")) is None  # another account's "x" is another
    assert len(fx.directory) == 1


def test_a_new_revision_gets_a_new_activation_that_waits_for_the_old_one():
    fx = Fixture()
    old = fx.activate("a", "x", deployment(revision=1))
    new = fx.activate("a", "x", deployment(revision=2))
    assert new is not old and new.predecessor is old
    assert fx.directory.lookup(key("a", "x")) is new
    assert len(fx.directory) == 1
    assert fx.evicted == []  # replaced, not evicted


def test_a_dropped_activation_is_replaced_on_the_next_get():
    fx = Fixture()
    old = fx.activate("a", "x")
    old.close_instance()  # dropped by its mailbox holder (e.g. a run stopped at its deadline)
    assert fx.directory.lookup(key("a", "x")) is None
    assert fx.activate("a", "x").predecessor is old


# ------------------------------------------------------------------ counts

def test_past_the_host_wide_count_the_least_recently_used_idle_one_goes():
    fx = Fixture(max_activations=3)
    fx.activate("a", "first")
    fx.activate("b", "second")
    fx.activate("a", "third")
    fx.activate("a", "first")  # used again: now "second" is the least recently used
    fx.activate("b", "fourth")
    assert fx.evicted == [("b", "second", "lru")]
    assert (fx.live("a"), fx.live("b")) == (["first", "third"], ["fourth"])


def test_past_its_own_cap_an_account_loses_its_own_activations_first():
    fx = Fixture(max_activations=100, max_activations_per_account=2)
    fx.activate("bystander", "oldest")  # older than anything of "crowd"
    fx.activate("crowd", "c1")
    fx.activate("crowd", "c2")
    fx.activate("crowd", "c3")
    fx.activate("crowd", "c4")
    assert fx.evicted == [("crowd", "c1", "account_cap"), ("crowd", "c2", "account_cap")]
    assert fx.live("crowd") == ["c3", "c4"]
    assert fx.live("bystander") == ["oldest"]


def test_a_busy_activation_is_never_evicted_for_the_count():
    fx = Fixture(max_activations=2)
    busy = fx.activate("a", "busy")  # the least recently used...
    assert busy.mailbox.try_acquire()  # ...but a turn is running on it
    fx.activate("a", "idle")
    fx.activate("a", "new")
    assert fx.evicted == [("a", "idle", "lru")]
    assert fx.live("a") == ["busy", "new"] and not busy.dropped


def test_an_account_at_its_cap_with_every_activation_busy_is_refused():
    fx = Fixture(max_activations=100, max_activations_per_account=2)
    for name in ("b1", "b2"):
        assert fx.activate("a", name).mailbox.try_acquire()
    with pytest.raises(ActorError) as refused:
        fx.activate("a", "b3")
    assert refused.value.name == "ActorOverloadedError"
    assert "max_activations_per_account" in refused.value.message
    assert fx.evicted == [] and fx.live("a") == ["b1", "b2"]
    # Another account is not held back by it.
    fx.activate("other", "fine")
    assert fx.live("other") == ["fine"]


def test_a_busy_activation_at_the_cap_lets_an_idle_one_of_its_account_go():
    fx = Fixture(max_activations=100, max_activations_per_account=2)
    busy = fx.activate("a", "busy")
    assert busy.mailbox.try_acquire()
    fx.activate("a", "idle")
    fx.activate("a", "new")
    assert fx.evicted == [("a", "idle", "account_cap")]


def test_an_activation_still_waiting_for_its_predecessor_is_not_evicted():
    fx = Fixture(max_activations=2)
    fx.activate("a", "x", deployment(revision=1))
    successor = fx.activate("a", "x", deployment(revision=2))  # waits for revision 1's turn
    fx.activate("a", "y")
    fx.activate("a", "z")
    assert ("a", "x", "lru") not in fx.evicted
    assert fx.directory.lookup(key("a", "x")) is successor


# ------------------------------------------------------------------ idle time, shutdown

def test_activations_idle_past_the_eviction_time_go_unless_busy():
    fx = Fixture(idle_eviction_s=60)
    stale, busy_stale, recent = (fx.activate("a", n) for n in ("stale", "busy", "recent"))
    stale.last_used = busy_stale.last_used = 1000.0
    recent.last_used = 1050.0
    assert busy_stale.mailbox.try_acquire()
    assert fx.directory.evict_idle(now=1070.0) == 1
    assert fx.evicted == [("a", "stale", "idle")]
    assert fx.live("a") == ["busy", "recent"]


def test_one_idle_activation_can_be_given_up_other_than_the_one_kept():
    fx = Fixture()
    keep = fx.activate("a", "keep")  # the least recently used, but the caller's own
    busy = fx.activate("a", "busy")
    assert busy.mailbox.try_acquire()
    fx.activate("b", "idle")
    assert fx.directory.evict_one_idle(keep, "instance_pool") is True
    assert fx.evicted == [("b", "idle", "instance_pool")]
    assert fx.directory.evict_one_idle(keep, "instance_pool") is False  # none left to give


def test_shutdown_evicts_every_idle_activation():
    fx = Fixture()
    for account, name in (("a", "x"), ("b", "y")):
        fx.activate(account, name)
    fx.directory.evict_all()
    assert sorted(fx.evicted) == [("a", "x", "shutdown"), ("b", "y", "shutdown")]
    assert len(fx.directory) == 0


# ------------------------------------------------------------------ memory

MODULE = '(module (memory (export "memory") {pages}) ' \
         '(func (export "edgehost_fetch") (result i32) (i32.const 0)))'


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(SandboxLimits(**TEST_POOLS), tmp_path_factory.mktemp("cache"), Metrics(),
                      ShipLimits(compile_processes=1))
    sandbox.start()
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="module")
def modules(sandbox: Sandbox) -> dict[int, CompiledModule]:
    """A module per memory size, in pages."""
    return {pages: sandbox.compile(bytes(wasmtime.wat2wasm(MODULE.format(pages=pages))),
                                   memory_limit_bytes=1 << 20) for pages in (1, 2, 3)}


class MemoryFixture(Fixture):
    def __init__(self, sandbox: Sandbox, modules: dict[int, CompiledModule], **limits) -> None:
        super().__init__(**limits)
        self._sandbox = sandbox
        self._modules = modules

    def turn(self, account: str, name: str, pages: int) -> Activation:
        """A turn on the activation (made if needed): its instance keeps `pages` pages, and
        the directory is told after the turn, while its token is still held."""
        activation = self.activate(account, name)
        assert activation.mailbox.try_acquire()
        try:
            if activation.instance is None:
                activation.instance = instantiated(self._sandbox, self._modules[pages])
            self.directory.note_memory(activation)
        finally:
            activation.mailbox.release()
        return activation


def instantiated(sandbox: Sandbox, compiled: CompiledModule) -> GuestInstance:
    instance = sandbox.new_instance(compiled, 1 << 20)
    run = instance.start("edgehost_fetch", Invocation(input=b"", limits=sandbox.limits))
    while not run.poll():
        pass
    assert run.result().outcome is Outcome.OK
    return instance


@pytest.fixture
def memory_fixture(sandbox: Sandbox, modules) -> Iterator:
    made: list[MemoryFixture] = []

    def make(**limits) -> MemoryFixture:
        made.append(MemoryFixture(sandbox, modules, **limits))
        return made[-1]

    stores_before = sandbox.stores_open
    yield make
    for fx in made:
        fx.directory.evict_all()
    assert sandbox.stores_open == stores_before, "every evicted activation closed its store"


def test_memory_is_counted_per_activation_account_and_host(memory_fixture):
    fx = memory_fixture()
    fx.turn("a", "x", pages=2)
    fx.turn("a", "y", pages=1)
    fx.turn("b", "z", pages=3)
    directory = fx.directory
    assert directory.lookup(key("a", "x")).memory_bytes == 2 * PAGE
    assert directory.account_memory_bytes("a") == 3 * PAGE
    assert directory.account_memory_bytes("b") == 3 * PAGE
    assert directory.account_memory_bytes("nobody") == 0
    assert directory.memory_bytes == 6 * PAGE
    dropped = directory.lookup(key("b", "z"))
    dropped.close_instance()
    directory.forget(dropped)
    assert directory.account_memory_bytes("b") == 0 and directory.memory_bytes == 3 * PAGE


def test_an_account_over_its_memory_budget_loses_its_own_idle_activations(memory_fixture):
    fx = memory_fixture(account_activation_memory_bytes=4 * PAGE,
                        activation_memory_bytes=100 * PAGE)
    fx.turn("bystander", "oldest", pages=3)  # older, but its account is within budget
    fx.turn("crowd", "c1", pages=2)
    fx.turn("crowd", "c2", pages=1)
    fx.turn("crowd", "c3", pages=2)  # 5 pages: over by one, and c1 is its LRU
    assert fx.evicted == [("crowd", "c1", "memory")]
    assert fx.live("crowd") == ["c2", "c3"]
    assert fx.live("bystander") == ["oldest"]
    assert fx.directory.account_memory_bytes("crowd") == 3 * PAGE


def test_the_host_over_its_memory_budget_loses_the_least_recently_used_idle_ones(
        memory_fixture):
    fx = memory_fixture(account_activation_memory_bytes=100 * PAGE,
                        activation_memory_bytes=5 * PAGE)
    fx.turn("a", "first", pages=2)
    fx.turn("b", "second", pages=2)
    fx.turn("a", "first", pages=2)  # used again: "second" is now the least recently used
    fx.turn("c", "third", pages=3)  # 7 pages: two over
    assert fx.evicted == [("b", "second", "memory")]
    assert fx.directory.memory_bytes == 5 * PAGE
    assert (fx.live("a"), fx.live("b"), fx.live("c")) == (["first"], [], ["third"])


def test_eviction_for_memory_stops_once_back_within_budget(memory_fixture):
    fx = memory_fixture(activation_memory_bytes=6 * PAGE)
    for name in ("m1", "m2", "m3", "m4", "m5", "m6"):
        fx.turn("a", name, pages=1)
    fx.turn("a", "big", pages=3)  # 9 pages: exactly three 1-page ones must go
    assert [name for _, name, _ in fx.evicted] == ["m1", "m2", "m3"]
    assert fx.directory.memory_bytes == 6 * PAGE


def test_busy_activations_are_kept_even_over_the_memory_budget(memory_fixture):
    fx = memory_fixture(account_activation_memory_bytes=3 * PAGE)
    busy = fx.turn("a", "busy", pages=2)
    assert busy.mailbox.try_acquire()  # a turn is running on it
    fx.turn("a", "current", pages=2)  # over, but the only other one is busy
    assert fx.evicted == []
    assert fx.directory.account_memory_bytes("a") == 4 * PAGE  # over: nothing could go
    busy.mailbox.release()
    fx.turn("a", "current", pages=2)  # the next turn's check finds it idle
    assert fx.evicted == [("a", "busy", "memory")]
