"""The live activations: at most one per (account, type, name), created single-flight.

An `Activation` is created under the directory lock, so two concurrent first calls always get
the same object. Its Wasm instance is made later by whichever caller first holds its mailbox
token, so instantiation never happens under the directory lock and never twice.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from typing import Callable

from edgehost.actors.mailbox import Mailbox
from edgehost.config import ActorLimits
from edgehost.registry.functions import Deployment
from edgehost.sandbox.engine import GuestInstance
from edgehost.storage.actor_storage import InstanceId


class Activation:
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
        self._lock = threading.Lock()
        self._live: OrderedDict[InstanceId, Activation] = OrderedDict()  # LRU order
        self._on_evict = on_evict

    def __len__(self) -> int:
        return len(self._live)

    def get(self, key: InstanceId, deployment: Deployment) -> Activation:
        """The activation for `key` on the owner's current revision, created if needed."""
        revision = (deployment.function.func_id, deployment.revision.number)
        with self._lock:
            current = self._live.get(key)
            if current is not None and not current.dropped and current.revision == revision:
                self._live.move_to_end(key)
                return current
            predecessor = current if current is not None and not current.dropped else None
            activation = Activation(key, deployment, self._limits.mailbox_depth, predecessor)
            self._live[key] = activation
            self._live.move_to_end(key)
            over_cap = len(self._live) - self._limits.max_activations
            # Least recently used first; look at a few more than needed, as busy ones stay.
            lru = list(itertools.islice((a for k, a in self._live.items() if k != key),
                                        over_cap * 2)) if over_cap > 0 else []
        for candidate in lru:
            if over_cap <= 0:
                break
            if self._evict(candidate, "lru"):
                over_cap -= 1
        return activation

    def live_names(self, account_id: str, type_: str) -> list[str]:
        with self._lock:
            return sorted(k.name for k, a in self._live.items()
                          if k.account_id == account_id and k.type == type_ and not a.dropped)

    def forget(self, activation: Activation) -> None:
        with self._lock:
            if self._live.get(activation.key) is activation:
                del self._live[activation.key]

    def _evict(self, activation: Activation, reason: str) -> bool:
        # Only an idle activation is evicted: take its token without waiting.
        if not activation.mailbox.try_acquire():
            return False
        try:
            if activation.predecessor is not None:
                return False  # not started yet; it still has an older one to drain
            activation.close_instance()
            self.forget(activation)
            self._on_evict(activation, reason)
            return True
        finally:
            activation.mailbox.release()

    def evict_idle(self, now: float) -> int:
        cutoff = now - self._limits.idle_eviction_s
        with self._lock:
            idle = [a for a in self._live.values() if a.last_used < cutoff]
        return sum(self._evict(a, "idle") for a in idle)

    def evict_all(self) -> None:
        with self._lock:
            everything = list(self._live.values())
        for activation in everything:
            self._evict(activation, "shutdown")
