"""The compile process: `python -m edgehost.sandbox.compile_worker SETTINGS_JSON`.

Cranelift compiles in native code with no bound on its time or memory: a 1.5 MB module of
250,000 empty functions takes 15 s and 1.4 GiB. So the host never compiles a tenant's module
itself. This process does, under an address-space limit (RLIMIT_AS) and an output-file limit
(RLIMIT_FSIZE) set before wasmtime is even imported, at a lower CPU priority than guests; the
host (compiler.py) kills it when its wall-clock limit runs out.

Protocol, over stdin/stdout: it writes `{"ready": true}` once its engine is built. Then, per
job, it reads one JSON line `{"size": N, "output": PATH}` followed by the N bytes of the
module, and answers with one JSON line: `{"compiled_bytes": n, "seconds": s}` once the
serialized module is in PATH, or `{"invalid": reason}`, `{"failed": reason}`,
`{"out_of_memory": reason}`, `{"too_large": n}` or `{"host_error": reason}`. Running out
of memory ends the process (wasmtime aborts; Python exits with EXIT_OUT_OF_MEMORY) and the
host reads that from its exit status.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from edgehost.config import SandboxLimits

if TYPE_CHECKING:
    import wasmtime  # imported only once the limits are set (see main)

EXIT_OUT_OF_MEMORY = 3


class CompileSettings(TypedDict):
    """The process's one argument, as JSON."""

    sandbox: dict[str, Any]  # SandboxLimits' fields (the engine must match the host's)
    memory_bytes: int
    max_compiled_bytes: int
    nice: int


class CompileReply(TypedDict, total=False):
    """One reply line: `ready`, or one job's outcome (exactly one of the other keys, but
    `seconds`, which comes with `compiled_bytes`)."""

    ready: bool
    compiled_bytes: int
    seconds: float
    invalid: str
    failed: str
    out_of_memory: str
    too_large: int
    host_error: str


def _apply_limits(settings: CompileSettings) -> None:
    _lower(resource.RLIMIT_AS, settings["memory_bytes"])
    _lower(resource.RLIMIT_FSIZE, settings["max_compiled_bytes"])
    _lower(resource.RLIMIT_CORE, 0)  # an out-of-memory abort dumps nothing
    os.nice(settings["nice"])


def _lower(kind: int, value: int) -> None:
    """Set both limits to `value`, or leave a lower limit the host was started under."""
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def _release_freed_memory() -> None:
    """Give the heap freed by the last compile back to the system (glibc keeps it otherwise:
    300 MiB after 50,000 functions, 31 MiB after this), so an idle process stays small."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc's; absent elsewhere
    if trim is not None:
        trim(0)


def _compile(engine: wasmtime.Engine, wasm: bytes, output: Path,
             max_compiled_bytes: int) -> CompileReply:
    import wasmtime

    try:
        wasmtime.Module.validate(engine, wasm)
    except wasmtime.WasmtimeError as e:
        return {"invalid": _first_line(e)}
    started = time.perf_counter()
    try:
        serialized = wasmtime.Module(engine, wasm).serialize()
    except wasmtime.WasmtimeError as e:
        # A valid module fails to compile only at an implementation limit or when memory runs
        # out. Most allocation failures abort the process, but some come back as errors:
        # strerror(ENOMEM) is "Cannot allocate memory", the object writer's "Cannot allocate
        # buffer".
        reason = _first_line(e)
        return {"out_of_memory": reason} if "allocat" in reason.lower() else {"failed": reason}
    if len(serialized) > max_compiled_bytes:
        return {"too_large": len(serialized)}
    try:
        with open(output, "wb") as f:
            f.write(serialized)
    except OSError as e:  # the host's disk, not the module: reported as a host error
        return {"host_error": f"could not write {output.name}: {e}"}
    return {"compiled_bytes": len(serialized), "seconds": time.perf_counter() - started}


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def main() -> None:
    settings: CompileSettings = json.loads(sys.argv[1])
    _apply_limits(settings)
    try:
        import wasmtime

        from edgehost.sandbox.engine_config import engine_config

        engine = wasmtime.Engine(engine_config(SandboxLimits(**settings["sandbox"])))
        requests, replies = sys.stdin.buffer, sys.stdout.buffer

        def reply(message: CompileReply) -> None:
            replies.write(json.dumps(message).encode() + b"\n")
            replies.flush()

        reply({"ready": True})
        while header := requests.readline():
            job = json.loads(header)
            wasm = requests.read(job["size"])
            reply(_compile(engine, wasm, Path(job["output"]), settings["max_compiled_bytes"]))
            del wasm
            _release_freed_memory()
    except MemoryError:
        os._exit(EXIT_OUT_OF_MEMORY)


if __name__ == "__main__":
    main()
