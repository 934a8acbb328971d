"""CompilerPool: real compile processes, their limits, replacement, and shutdown."""

import threading
from pathlib import Path

import pytest
import wasmtime
from edgehost.config import SandboxLimits, ShipLimits
from edgehost.metrics import Metrics
from edgehost.sandbox.compile_queue import CompileBusy
from edgehost.sandbox.compiler import CompileRefused, CompilerPool
from edgehost.sandbox.engine_config import engine_config

from tests.conftest import wat
from tests.wasm_encoder import guest

SLOW = guest(functions=48_000, locals_=10_000)  # about 100 s to compile on one core


@pytest.fixture
def make_pool():
    pools: list[CompilerPool] = []

    def make(**ship) -> CompilerPool:
        pool = CompilerPool(SandboxLimits(), ShipLimits(**ship), Metrics())
        pool.start()
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def test_the_output_deserializes_on_an_engine_built_from_the_same_config(make_pool, tmp_path):
    pool = make_pool(compile_processes=1)
    result = pool.compile("a", wat("static_ok"), tmp_path / "out")
    assert result.compiled_bytes == (tmp_path / "out").stat().st_size
    engine = wasmtime.Engine(engine_config(SandboxLimits()))
    module = wasmtime.Module.deserialize_file(engine, str(tmp_path / "out"))
    assert {e.name for e in module.exports} == {"memory", "edgehost_fetch"}


def test_a_killed_process_is_replaced_and_the_next_compile_succeeds(make_pool, tmp_path):
    pool = make_pool(compile_processes=1, compile_timeout_s=2, compile_threads=1)
    with pytest.raises(CompileRefused, match="longer than the host's limit of 2 s"):
        pool.compile("a", SLOW, tmp_path / "slow")
    assert not (tmp_path / "slow").exists()
    pool.compile("b", wat("static_ok"), tmp_path / "ok")
    assert (tmp_path / "ok").stat().st_size > 0


def test_closing_the_pool_under_a_compile_answers_busy_and_leaves_no_file(make_pool,
                                                                        tmp_path: Path):
    pool = make_pool(compile_processes=1, compile_threads=1)
    pool.compile("a", wat("static_ok"), tmp_path / "warm")  # the process is up
    outcome: list[BaseException] = []

    def compile_slowly() -> None:
        try:
            pool.compile("a", SLOW, tmp_path / "slow")
        except BaseException as e:  # noqa: BLE001 - checked below
            outcome.append(e)

    thread = threading.Thread(target=compile_slowly)
    thread.start()
    thread.join(timeout=0.5)  # the compile is under way (it takes minutes)
    pool.close()
    thread.join(timeout=10)
    assert len(outcome) == 1 and isinstance(outcome[0], CompileBusy), outcome
    assert not (tmp_path / "slow").exists()
