"""The live activations: at most one per (account, type, name), and what they may keep.

Everything here runs on the worker's event loop, so a lookup-or-create is atomic without a
lock: two concurrent first calls get the same `Activation`. Its Wasm instance is made later
by whichever caller first holds its mailbox token.

Memory is a cache (spec section 2.4): an activation keeps its instance, and so its linear
memory, between calls. What all activations may keep is bounded host-wide and per account, in
count and in bytes; when a bound is passed, idle activations are dropped, least recently used
first (the account's own when the account is over its share). A call that would need a new
activation on an account whose activations are all busy at its cap fails with
ActorOverloadedError instead of growing past it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

from edgehost.actors import errors
from edgehost.actors.mailbox import Mailbox
from edgehost.config import ActorLimits
from edgehost.registry.functions import Deployment
from edgehost.sandbox.guest import GuestInstance
from edgehost.storage.actor_storage import InstanceId


class Activation:
    __slots__ = ("key", "deployment", "mailbox", "instance", "dropped", "predecessor",
                 "last_used", "memory_bytes", "commit_error")

    def __init__(self, key: InstanceId, deployment: Deployment, mailbox_depth: int,
                 predecessor: Activation | None) -> None:
        self.key = key
        self.deployment = deployment
        self.mailbox = Mailbox(mailbox_depth)
        self.instance: GuestInstance | None = None  # made by the first turn (init)
        # Set by the mailbox holder only. A dropped activation is never run again; callers
        # that were waiting for it go back to the directory.
        self.dropped = False
        # An activation of an older revision of the owner that may still be finishing a call;
        # the first turn here waits for it so two activations of one name never overlap.
        self.predecessor = predecessor
        self.last_used = time.monotonic()
        self.memory_bytes = 0  # the instance's linear memory after its last turn
        # Why it was dropped while a turn ran, when a commit it depended on failed.
        self.commit_error: BaseException | None = None

    @property
    def revision(self) -> tuple[str, int]:
        return self.deployment.function.func_id, self.deployment.revision.number

    def close_instance(self) -> None:
        """Mailbox holder only: drop the instance (memory is a cache)."""
        self.dropped = True
        if self.instance is not None:
            self.instance.close()
            self.instance = None


class ActorDirectory:
    def __init__(self, limits: ActorLimits, on_evict: Callable[[Activation, str], None]) -> None:
        self._limits = limits
        self._live: OrderedDict[InstanceId, Activation] = OrderedDict()  # LRU order
        self._by_account: dict[str, OrderedDict[InstanceId, Activation]] = {}
        self._memory = 0
        self._memory_by_account: dict[str, int] = {}
        self._on_evict = on_evict

    def __len__(self) -> int:
        return len(self._live)

    @property
    def memory_bytes(self) -> int:
        return self._memory

    def account_memory_bytes(self, account_id: str) -> int:
        return self._memory_by_account.get(account_id, 0)

    def lookup(self, key: InstanceId) -> Activation | None:
        """The live activation for `key`, never creating one."""
        current = self._live.get(key)
        return current if current is not None and not current.dropped else None

    def get(self, key: InstanceId, deployment: Deployment) -> Activation:
        """The activation for `key` on `deployment` (the owner's current revision), created
        if needed. Raises ActorError when the account is at its cap with every one busy."""
        current = self._live.get(key)
        if current is not None and not current.dropped and \
                current.deployment.revision.number == deployment.revision.number and \
                current.deployment.function.func_id == deployment.function.func_id:
            self._touch(current)
            return current
        if current is None:
            self._make_room(key.account_id)
        # A replaced activation (older revision, or dropped while a turn still runs on it)
        # becomes the new one's predecessor: its first turn waits for it to finish.
        activation = Activation(key, deployment, self._limits.mailbox_depth, current)
        if current is not None:
            self._remove(current)
        self._add(activation)
        return activation

    def _touch(self, activation: Activation) -> None:
        self._live.move_to_end(activation.key)
        self._by_account[activation.key.account_id].move_to_end(activation.key)

    def _add(self, activation: Activation) -> None:
        self._live[activation.key] = activation
        self._by_account.setdefault(activation.key.account_id, OrderedDict())[
            activation.key] = activation

    def _remove(self, activation: Activation) -> None:
        key = activation.key
        if self._live.get(key) is activation:
            del self._live[key]
            account = self._by_account[key.account_id]
            del account[key]
            if not account:
                del self._by_account[key.account_id]
        self._set_memory(activation, 0)

    def _make_room(self, account_id: str) -> None:
        """Before a new activation: stay within the host-wide and the account's counts."""
        limits = self._limits
        account: Mapping[InstanceId, Activation] = self._by_account.get(account_id, {})
        if len(account) >= limits.max_activations_per_account:
            if not self._evict_lru(account.values(), len(account) -
                                   limits.max_activations_per_account + 1, "account_cap"):
                raise errors.too_many_activations(account_id, len(account),
                                                  limits.max_activations_per_account)
        if len(self._live) >= limits.max_activations:
            self._evict_lru(self._live.values(), len(self._live) - limits.max_activations + 1,
                            "lru")

    def note_memory(self, activation: Activation) -> None:
        """After a turn: record what the activation keeps, and evict idle ones if the host or
        its account is over its memory budget."""
        instance = activation.instance
        self._set_memory(activation, instance.memory_bytes() if instance is not None else 0)
        limits = self._limits
        account_id = activation.key.account_id
        if self._memory_by_account.get(account_id, 0) > limits.account_activation_memory_bytes:
            self._evict_for_memory(self._by_account.get(account_id, {}).values(),
                                   lambda: self._memory_by_account.get(account_id, 0) >
                                   limits.account_activation_memory_bytes)
        if self._memory > limits.activation_memory_bytes:
            self._evict_for_memory(self._live.values(),
                                   lambda: self._memory > limits.activation_memory_bytes)

    def _set_memory(self, activation: Activation, size: int) -> None:
        delta = size - activation.memory_bytes
        if delta:
            activation.memory_bytes = size
            self._memory += delta
            account = activation.key.account_id
            total = self._memory_by_account.get(account, 0) + delta
            if total:
                self._memory_by_account[account] = total
            else:
                self._memory_by_account.pop(account, None)

    def _evict_for_memory(self, candidates: Iterable[Activation], over: Callable[[], bool]
                          ) -> None:
        for activation in list(candidates):  # least recently used first
            if not over():
                return
            self._evict(activation, "memory")

    def _evict_lru(self, candidates: Iterable[Activation], count: int, reason: str) -> bool:
        """Evict `count` idle activations, least recently used first; False if too few are
        idle."""
        for activation in list(candidates):
            if count <= 0:
                break
            if self._evict(activation, reason):
                count -= 1
        return count <= 0

    def evict_one_idle(self, keep: Activation | None, reason: str) -> bool:
        """Drop the least recently used idle activation other than `keep`; False if none."""
        return any(self._evict(a, reason) for a in list(self._live.values()) if a is not keep)

    def live_names(self, account_id: str, type_: str) -> list[str]:
        return sorted(k.name for k in self._by_account.get(account_id, {})
                      if k.type == type_)

    def forget(self, activation: Activation) -> None:
        self._remove(activation)

    def _evict(self, activation: Activation, reason: str) -> bool:
        # Only an idle activation is evicted: take its token without waiting.
        if activation.predecessor is not None or not activation.mailbox.try_acquire():
            return False
        try:
            activation.close_instance()
            self.forget(activation)
            self._on_evict(activation, reason)
            return True
        finally:
            activation.mailbox.release()

    def evict_idle(self, now: float) -> int:
        cutoff = now - self._limits.idle_eviction_s
        idle = [a for a in self._live.values() if a.last_used < cutoff]
        return sum(self._evict(a, "idle") for a in idle)

    def evict_all(self) -> None:
        for activation in list(self._live.values()):
            self._evict(activation, "shutdown")
