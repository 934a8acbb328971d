"""Compiling tenants' modules in a small pool of separate processes, bounded in memory, time
and output, and shared fairly among accounts.

Each process (compile_worker.py) is started before it is needed and reused while it behaves,
so a ship pays a pipe round trip, not a Python start-up. A process that fails a compile in any
way (too slow, out of memory, crashed) is killed and replaced at once. The caller's thread
waits in select() or the kernel, never holding the GIL, and never on the event loop.
"""

from __future__ import annotations

import json
import os
import select
import signal
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import edgehost
from edgehost.config import MIB, SandboxLimits, ShipLimits
from edgehost.metrics import Metrics
from edgehost.sandbox.compile_queue import CompileBusy, FairSlots
from edgehost.sandbox.compile_worker import EXIT_OUT_OF_MEMORY, CompileReply, CompileSettings

_STDERR_KEPT = 4096  # the end of a dead process's stderr, to tell out-of-memory from a crash
# A compile process's start (Python, then importing wasmtime) takes 0.2-0.7 s; its own clock,
# so that a slow start is never blamed on the module compiled next.
WORKER_START_TIMEOUT_S = 30.0


class CompileRefused(Exception):
    """The module cannot be compiled within the host's limits (or is not valid Wasm):
    `problem` is a sentence naming the limit, for the tenant. `limit` labels the metric."""

    def __init__(self, problem: str, limit: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.limit = limit


@dataclass(frozen=True)
class CompileResult:
    compiled_bytes: int
    seconds: float  # in the compile process, compiling and serializing


class _WorkerDied(Exception):
    pass


class _Process:
    """A running compile process: its pipes (non-blocking) and the file its stderr goes to."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        # stderr goes to a file, not a pipe, so nothing the process prints can fill a pipe
        # and stall it; it is read only after the process died, to tell why.
        self.stderr = tempfile.TemporaryFile()
        self.popen = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, env=env, close_fds=True)
        stdin, stdout = self.popen.stdin, self.popen.stdout
        if stdin is None or stdout is None:  # cannot happen: both are PIPE
            raise RuntimeError("the compile process has no pipes")
        self.stdin: IO[bytes] = stdin
        self.stdout: IO[bytes] = stdout
        for stream in (stdin, stdout):
            os.set_blocking(stream.fileno(), False)

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait()
        for stream in (self.stdin, self.stdout, self.stderr):
            stream.close()


class _Worker:
    """One compile process slot: the process is (re)started on demand."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self._command = command
        self._env = env
        self._process: _Process | None = None
        self._ready = False
        self._buffer = b""

    def spawn(self) -> _Process:
        self._process = _Process(self._command, self._env)
        self._ready = False
        self._buffer = b""
        return self._process

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None

    def ensure_running(self) -> _Process:
        """Start the process unless it is running: one started on demand (a ship before the
        host's start) is kept, not leaked by a second spawn."""
        process = self._process
        if process is None or process.popen.poll() is not None:
            self.stop()
            process = self.spawn()
        return process

    def compile(self, wasm: bytes, output: Path, timeout_s: float) -> CompileReply:
        """The process's reply to one job. Raises TimeoutError (the process is then killed)
        or _WorkerDied (with its exit status and stderr)."""
        process = self.ensure_running()
        if not self._ready:
            self._wait_until_ready(process)
        deadline = time.monotonic() + timeout_s
        self._write(process,
                    json.dumps({"size": len(wasm), "output": str(output)}).encode() + b"\n",
                    deadline)
        self._write(process, wasm, deadline)
        return self._read_reply(process, deadline)

    def _wait_until_ready(self, process: _Process) -> None:
        """A process that cannot start is the host's problem (e.g. compile_memory_bytes too
        low to import wasmtime), never the module's: RuntimeError."""
        try:
            self._read_reply(process, time.monotonic() + WORKER_START_TIMEOUT_S)
        except TimeoutError:
            raise RuntimeError(f"the compile process did not start within "
                               f"{WORKER_START_TIMEOUT_S:g} s") from None
        except _WorkerDied as died:
            returncode, stderr = died.args
            raise RuntimeError(f"the compile process exited at start (status {returncode}): "
                               f"{stderr.decode(errors='replace').strip()[-500:]}") from None
        self._ready = True

    def _write(self, process: _Process, data: bytes, deadline: float) -> None:
        fd = process.stdin.fileno()
        view = memoryview(data)
        while view:
            self._wait(fd, deadline, write=True)
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise self._died(process) from None

    def _read_reply(self, process: _Process, deadline: float) -> CompileReply:
        fd = process.stdout.fileno()
        while b"\n" not in self._buffer:
            self._wait(fd, deadline, write=False)
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                raise self._died(process)
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply: CompileReply = json.loads(line)
        return reply

    def _wait(self, fd: int, deadline: float, *, write: bool) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self.stop()
            raise TimeoutError
        ready = select.select([], [fd], [], remaining) if write else \
            select.select([fd], [], [], remaining)
        if not any(ready):
            self.stop()
            raise TimeoutError

    def _died(self, process: _Process) -> _WorkerDied:
        returncode = process.popen.wait()
        end = process.stderr.seek(0, os.SEEK_END)
        process.stderr.seek(max(0, end - _STDERR_KEPT))
        stderr = process.stderr.read()
        self.stop()
        return _WorkerDied(returncode, stderr)


class CompilerPool:
    """Compiles modules to serialized form in `ShipLimits.compile_processes` processes."""

    def __init__(self, sandbox_limits: SandboxLimits, ship: ShipLimits, metrics: Metrics) -> None:
        self._ship = ship
        self._metrics = metrics
        self._closed = False
        self._slots = FairSlots(ship.compile_processes,
                                max_waiting_per_account=ship.max_waiting_compiles_per_account,
                                max_waiting=ship.max_waiting_compiles,
                                retry_after_s=ship.compile_busy_retry_after_s)
        settings: CompileSettings = {
            "sandbox": asdict(sandbox_limits), "memory_bytes": ship.compile_memory_bytes,
            "max_compiled_bytes": ship.max_compiled_bytes, "nice": ship.compile_nice}
        command = [sys.executable, "-m", "edgehost.sandbox.compile_worker", json.dumps(settings)]
        self._workers = [_Worker(command, _worker_env(ship))
                         for _ in range(ship.compile_processes)]

    def start(self) -> None:
        """Start every process now, so the first ships find them ready."""
        for worker in self._workers:
            worker.ensure_running()

    def close(self) -> None:
        self._closed = True
        self._slots.close()
        for worker in self._workers:
            worker.stop()

    def compile(self, account_id: str, wasm: bytes, output: Path) -> CompileResult:
        """Compile `wasm` and write its serialized form to `output`. Blocks until this
        account's turn and then the compile itself; call it off the event loop.

        Raises CompileBusy when the account's queue or the host's is full, CompileRefused
        when the module is invalid or passes a limit (nothing is left in `output` then).
        """
        try:
            with self._slots.slot(account_id) as slot:
                reply = self._run(self._workers[slot], wasm, output)
        except BaseException as failure:
            output.unlink(missing_ok=True)  # nothing half-written is left behind
            if isinstance(failure, CompileBusy):
                self._metrics.inc("edgehost_compiles_busy_total")
            elif isinstance(failure, CompileRefused):
                self._metrics.inc("edgehost_compiles_refused_total", {"limit": failure.limit})
            raise
        return CompileResult(reply["compiled_bytes"], reply["seconds"])

    def _run(self, worker: _Worker, wasm: bytes, output: Path) -> CompileReply:
        ship = self._ship
        try:
            reply = worker.compile(wasm, output, ship.compile_timeout_s)
        except Exception as failure:
            if self._closed:  # close() stopped the process under this compile
                raise CompileBusy("the host is shutting down", account_full=False,
                                  retry_after_s=ship.compile_busy_retry_after_s) from None
            if not isinstance(failure, (TimeoutError, _WorkerDied)):
                raise
            # The process was killed or died: replace it now, so the next job finds it ready.
            worker.spawn()
            if isinstance(failure, TimeoutError):
                raise CompileRefused(f"compiling the module took longer than the host's limit "
                                     f"of {ship.compile_timeout_s:g} s", "time") from None
            raise self._refusal_for_death(*failure.args) from None
        if "invalid" in reply:
            raise CompileRefused(f"module is not valid WebAssembly: {reply['invalid']}",
                                 "invalid")
        if "failed" in reply:
            raise CompileRefused(f"module could not be compiled: {reply['failed']}", "failed")
        if "out_of_memory" in reply:
            # A process that ran out of memory is not trusted with the next job.
            worker.stop()
            worker.spawn()
            raise self._out_of_memory()
        if "too_large" in reply:
            raise CompileRefused(self._too_large(f"{reply['too_large']:,} bytes"),
                                 "compiled_size")
        if "host_error" in reply:
            raise RuntimeError(f"compile process: {reply['host_error']}")
        return reply

    def _refusal_for_death(self, returncode: int, stderr: bytes) -> CompileRefused:
        if returncode == EXIT_OUT_OF_MEMORY or (
                returncode == -signal.SIGABRT and b"memory allocation" in stderr):
            return self._out_of_memory()
        if returncode == -signal.SIGXFSZ:
            return CompileRefused(self._too_large("larger"), "compiled_size")
        return CompileRefused(f"the compile process failed on this module (exit status "
                              f"{returncode})", "crash")

    def _out_of_memory(self) -> CompileRefused:
        return CompileRefused(f"compiling the module needed more memory than the host's limit "
                              f"of {self._ship.compile_memory_bytes // MIB:,} MiB", "memory")

    def _too_large(self, size: str) -> str:
        return (f"the compiled module is {size}, above the host's limit of "
                f"{self._ship.max_compiled_bytes:,} bytes")


def _worker_env(ship: ShipLimits) -> dict[str, str]:
    env = dict(os.environ)
    # The worker must import this same edgehost: a source checkout is put first on its path
    # (a site-packages directory is on it already, and first it would shadow the stdlib).
    package_root = str(Path(edgehost.__file__).resolve().parent.parent)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    site_dirs = {str(Path(p).resolve()) for p in site.getsitepackages()}
    if package_root not in paths and package_root not in site_dirs:
        env["PYTHONPATH"] = os.pathsep.join([package_root, *paths])
    # wasmtime compiles functions in parallel on rayon's pool; this bounds the cores one
    # compile takes, and with them the malloc arenas (64 MiB of address space each).
    env["RAYON_NUM_THREADS"] = str(ship.compile_threads)
    env["RUST_BACKTRACE"] = "0"  # an out-of-memory abort prints one line, nothing more
    return env
