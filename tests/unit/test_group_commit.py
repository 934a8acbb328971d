"""Group commit: turns queued together share one transaction, and one turn's failure stays its
own: the others are committed without it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from edgehost.metrics import Metrics
from edgehost.storage.group_commit import GroupCommitter
from edgehost.storage.lmdb_env import LmdbEnv


@pytest.fixture
def setup(tmp_path: Path):
    env = LmdbEnv(tmp_path / "lmdb", map_size=1 << 30, databases=["kv"])
    metrics = Metrics()
    committer = GroupCommitter(env, metrics, 64)
    committer.start()
    yield env, committer, metrics
    committer.close()
    env.close()


def commit_together(committer: GroupCommitter,
                    applies: dict[str, Callable]) -> dict[str, BaseException | None]:
    """Queue these applies while the committer is held in another transaction, so that they
    are taken as one batch; each one's outcome."""

    async def scenario() -> dict[str, BaseException | None]:
        holding, release = threading.Event(), threading.Event()

        def hold(txn) -> None:
            holding.set()
            release.wait(10)

        first = committer.submit(hold)
        await asyncio.get_running_loop().run_in_executor(None, holding.wait, 10)
        tickets = {label: committer.submit(apply) for label, apply in applies.items()}
        release.set()
        await first.future
        outcomes: dict[str, BaseException | None] = {}
        for label, ticket in tickets.items():
            try:
                await ticket.future
                outcomes[label] = None
            except BaseException as e:  # noqa: BLE001 - returned
                outcomes[label] = e
        return outcomes

    return asyncio.run(scenario())


def test_a_turn_that_fails_mid_transaction_fails_alone(setup):
    env, committer, metrics = setup
    db = env.db("kv")
    applied = []  # (turn, its transaction) in the order they ran

    def put(key: bytes) -> Callable:
        def apply(txn) -> None:
            applied.append((key, txn))
            txn.put(key, b"1", db=db)
        return apply

    def fail_after_writing(txn) -> None:
        applied.append((b"bad", txn))
        txn.put(b"partial", b"1", db=db)
        raise OSError(28, "No space left on device (injected)")

    outcomes = commit_together(committer, {"a": put(b"a"), "bad": fail_after_writing,
                                           "b": put(b"b")})
    assert [key for key, _ in applied] == [b"a", b"bad", b"a", b"bad", b"b"]
    assert applied[0][1] is applied[1][1], "a and the failing turn did not share a transaction"
    assert outcomes["a"] is None and outcomes["b"] is None
    assert isinstance(outcomes["bad"], OSError)
    stored = env.read(lambda txn: {k: v for k, v in txn.cursor(db=db)})
    assert stored == {b"a": b"1", b"b": b"1"}, "the failed turn's partial write was kept"
    # the held transaction, then the failed batch retried as three: two of them committed
    assert metrics.value("edgehost_storage_committed_turns_total") == 1 + 2
