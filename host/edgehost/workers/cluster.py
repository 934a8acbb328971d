"""Which worker process is home to which actor instance, and the links between workers.

Every actor instance (account, type, name) lives on exactly one worker, chosen by a stable
hash of its identity, so all of its calls meet in one mailbox on one event loop and the
spec's guarantees (one activation per name, one call at a time) hold across the workers. A
call made on another worker is forwarded to the home worker over the peer links. Worker 0 is
the primary: it runs the admin API, ships and compiles; the others forward admin requests to
it.
"""

from __future__ import annotations

from edgehost.storage.actor_storage import InstanceId
from edgehost.workers.peers import Peers

PRIMARY = 0


class Cluster:
    def __init__(self, index: int, count: int, peers: Peers) -> None:
        self.index = index
        self.count = count
        self.peers = peers

    @property
    def is_primary(self) -> bool:
        return self.index == PRIMARY

    def home(self, key: InstanceId) -> int:
        """The worker an instance lives on. `prefix` is already a SHA-256 of its identity, so
        its first bytes are uniform; the choice only changes if the worker count does."""
        return int.from_bytes(key.prefix[:8], "big") % self.count
