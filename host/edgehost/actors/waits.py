"""Who waits on whom: deadlock detection for actor calls, at the moment a cycle would close.

An instance whose turn is making an actor call waits on the callee until the call returns.
Each turn makes one call at a time, so each instance waits on at most one other: the edges
form chains, and a new wait closes a cycle exactly when the callee's chain leads back to the
caller. That covers a call chain re-entering itself (A -> B -> A, one request) and two
requests that each hold one instance and call the other's (A waits on B while B waits on A):
the call that would close the cycle fails at once with ActorDeadlockError instead of both
waiting out their budgets.
"""

from __future__ import annotations

from edgehost.storage.actor_storage import InstanceId


class WaitGraph:
    def __init__(self) -> None:
        self._waits_on: dict[InstanceId, InstanceId] = {}

    def closes_cycle(self, caller: InstanceId, callee: InstanceId) -> bool:
        """Would `caller` waiting on `callee` close a cycle? Bounded by the number of waits."""
        seen = 0
        node: InstanceId | None = callee
        while node is not None and seen <= len(self._waits_on):
            if node == caller:
                return True
            node = self._waits_on.get(node)
            seen += 1
        return False

    def add(self, caller: InstanceId, callee: InstanceId) -> None:
        self._waits_on[caller] = callee

    def remove(self, caller: InstanceId) -> None:
        self._waits_on.pop(caller, None)

    def __len__(self) -> int:
        return len(self._waits_on)
