"""Two guests in two threads: faults recorded for one never surface in the other.

wasmtime-py hands Python exceptions raised in host functions back through one process-wide
slot, so a host import that raised could deliver its error to another thread's guest. Host
imports must never raise; this test runs a faulting guest beside a clean one to prove it.
"""

import threading
from pathlib import Path

from edgehost.config import SandboxLimits
from edgehost.metrics import Metrics
from edgehost.sandbox.abi import Status
from edgehost.sandbox.engine import Outcome, Sandbox
from edgehost.sandbox.invocation import Invocation

from tests.conftest import TEST_POOLS, wat
from tests.isolation.test_bad_pointers import POINTER_IMPORTS, RANGES_PER_IMPORT

ROUNDS = 400


def test_faults_stay_with_their_own_invocation_across_threads(tmp_path: Path):
    sandbox = Sandbox(SandboxLimits(**TEST_POOLS), tmp_path, Metrics())
    sandbox.start()
    faulty = sandbox.compile(wat("bad_pointers"), memory_limit_bytes=1 << 20)
    clean = sandbox.compile(wat("echo_input"), memory_limit_bytes=1 << 22)
    problems: list[str] = []
    barrier = threading.Barrier(2)

    def run(compiled, check) -> None:
        barrier.wait()
        for i in range(ROUNDS):
            try:
                result = sandbox.invoke(compiled, "edgehost_fetch",
                                        Invocation(input=f"req {i}".encode(),
                                                   limits=sandbox.limits),
                                        memory_limit_bytes=1 << 22, timeout_ms=5000)
                check(i, result)
            except BaseException as e:  # an exception crossing threads lands here
                problems.append(f"{type(e).__name__}: {e}")

    def check_faulty(i, result) -> None:
        if result.outcome is not Outcome.OK or len(result.invocation.faults) != min(
                len(POINTER_IMPORTS) * RANGES_PER_IMPORT, 32) or \
                {f.status for f in result.invocation.faults} != {Status.OUT_OF_BOUNDS}:
            problems.append(f"faulty round {i}: {result.outcome} {result.invocation.faults[:2]}")

    def check_clean(i, result) -> None:
        expected = f"req {i}".encode()
        if result.outcome is not Outcome.OK or result.invocation.faults or \
                not result.output.endswith(expected):
            problems.append(f"clean round {i}: {result.outcome} {result.invocation.faults[:2]}")

    threads = [threading.Thread(target=run, args=(faulty, check_faulty)),
               threading.Thread(target=run, args=(clean, check_clean))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sandbox.close()
    assert problems == []
    import wasmtime._func
    assert wasmtime._func.LAST_EXCEPTION is None
