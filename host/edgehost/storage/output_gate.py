"""The output gate: turns of one actor run back to back; replies wait for the disk.

When a turn ends, its writes go to the group committer and the actor's next turn may start at
once, before the fsync: it reads through the writes still in flight (the instance's pending
*layers*, newest last). What may not run ahead of the disk is anything a client or another
actor can see: every reply waits for the newest pending commit of its instance at the moment
its turn ended, which covers its own writes and every write it read. Commits are applied in
order, so that one ticket stands for all earlier ones.

If a commit fails, every later pending commit of the instance depends on it and fails too
(group_commit.py), its layers are dropped here, and `on_failure` tells the actor system to
drop the activation, whose memory may hold state the disk never got.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgehost.storage.actor_storage import InstanceId
from edgehost.storage.group_commit import CommitTicket, GroupCommitter


@dataclass(frozen=True)
class Layer:
    """One turn's writes, handed to the committer and not yet known to be durable."""

    writes: dict[bytes, bytes | None]  # None marks a delete
    cleared: bool  # deleteAll() ran in that turn: nothing older is visible
    ticket: CommitTicket


class OutputGate:
    def __init__(self, committer: GroupCommitter) -> None:
        self._committer = committer
        self._layers: dict[InstanceId, list[Layer]] = {}
        self._instance_of: dict[int, InstanceId] = {}  # id(ticket) -> instance
        self.on_failure: Callable[[InstanceId, BaseException], None] | None = None
        committer.on_settled = self._settled

    def layers(self, instance: InstanceId) -> tuple[Layer, ...]:
        """What a new turn of `instance` reads through before LMDB, oldest first."""
        return tuple(self._layers.get(instance, ()))

    def submit(self, instance: InstanceId, writes: dict[bytes, bytes | None], cleared: bool,
               apply) -> CommitTicket:
        """Hand one turn's writes to the committer; they become a layer until settled."""
        pending = self._layers.get(instance)
        ticket = self._committer.submit(apply, pending[-1].ticket if pending else None)
        self._layers.setdefault(instance, []).append(Layer(writes, cleared, ticket))
        self._instance_of[id(ticket)] = instance
        return ticket

    def gate(self, instance: InstanceId) -> CommitTicket | None:
        """The commit a reply from `instance` must wait for now (None: nothing pending)."""
        pending = self._layers.get(instance)
        return pending[-1].ticket if pending else None

    def pending_instances(self) -> int:
        return len(self._layers)

    def _settled(self, ticket: CommitTicket) -> None:
        instance = self._instance_of.pop(id(ticket), None)
        if instance is None:
            return
        layers = self._layers.get(instance)
        if not layers:
            return
        if ticket.error is None:
            # Durable: LMDB now answers what the layer did. Commits settle in order.
            if layers[0].ticket is ticket:
                layers.pop(0)
        else:
            # Everything newer was computed from this and fails with it (group_commit.py).
            del self._layers[instance]
            for layer in layers:
                if layer.ticket is not ticket:
                    self._instance_of.pop(id(layer.ticket), None)
            if self.on_failure is not None:
                self.on_failure(instance, ticket.error)
            return
        if not layers:
            del self._layers[instance]
