"""Who waits on whom: the edges of deadlock detection for actor calls.

An instance whose turn is making an actor call waits on the callee until the call returns.
Each turn makes one call at a time, so each instance waits on at most one other, and the
edges form chains: a new wait closes a cycle exactly when the callee's chain leads back to
the caller. That covers a call chain re-entering itself (A -> B -> A, one request) and two
requests that each hold one instance and call the other's (A waits on B while B waits on A),
so the call that would close the cycle fails at once with ActorDeadlockError instead of both
waiting out their budgets. An instance's edge is kept on the worker where its turn runs (its
home); the walk along the chain is in actors/system.py, since it may cross workers.
"""

from __future__ import annotations

from edgehost.storage.actor_storage import InstanceId


class WaitGraph:
    def __init__(self) -> None:
        self._waits_on: dict[InstanceId, InstanceId] = {}

    def waits_on(self, caller: InstanceId) -> InstanceId | None:
        return self._waits_on.get(caller)

    def add(self, caller: InstanceId, callee: InstanceId) -> None:
        self._waits_on[caller] = callee

    def remove(self, caller: InstanceId) -> None:
        self._waits_on.pop(caller, None)

    def __len__(self) -> int:
        return len(self._waits_on)
