"""ABI.md, the host's import table and guest-sdk/abi/all_imports.wat must agree exactly."""

import re
from pathlib import Path

import wasmtime

from edgehost.config import SandboxLimits
from edgehost.metrics import Metrics
from edgehost.sandbox.abi import HOST_IMPORTS, IMPORT_MODULE, Status
from edgehost.sandbox.engine import Outcome, Sandbox
from edgehost.sandbox.invocation import Invocation
from tests.conftest import ROOT, TEST_POOLS

ABI_DOC = ROOT / "guest-sdk" / "ABI.md"
CONTRACT = ROOT / "guest-sdk" / "abi" / "all_imports.wat"
ROW = re.compile(r"^\| `(\w+)` \| `\(([^)]*)\) -> (\w+)` \|")


def documented_imports() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    section = ABI_DOC.read_text().split("## Host imports", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines():
        if m := ROW.match(line):
            params = tuple(p.split(":")[-1].strip() for p in m.group(2).split(",") if p.strip())
            out[m.group(1)] = (params, (m.group(3),))
    return out


def contract_imports() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    module = wasmtime.Module(wasmtime.Engine(), CONTRACT.read_text())
    out = {}
    for imp in module.imports:
        assert imp.module == IMPORT_MODULE
        out[imp.name] = (tuple(str(p) for p in imp.type.params),
                         tuple(str(r) for r in imp.type.results))
    return out


def table() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {name: (sig.params, sig.results) for name, sig in HOST_IMPORTS.items()}


def test_abi_doc_lists_exactly_the_host_import_table():
    assert documented_imports() == table()


def test_contract_wat_imports_exactly_the_host_import_table():
    assert contract_imports() == table()


def test_contract_module_instantiates_against_the_real_linker(tmp_path: Path):
    sandbox = Sandbox(SandboxLimits(**TEST_POOLS), tmp_path, Metrics())
    sandbox.start()
    try:
        compiled = sandbox.compile(bytes(wasmtime.wat2wasm(CONTRACT.read_text())),
                                   memory_limit_bytes=1 << 20)
        result = sandbox.invoke(compiled, "edgehost_fetch",
                                Invocation(input=b"", limits=sandbox.limits),
                                memory_limit_bytes=1 << 20, timeout_ms=1000)
        assert result.outcome is Outcome.OK, result.detail
    finally:
        sandbox.close()


def test_abi_doc_lists_every_status_code():
    text = ABI_DOC.read_text()
    for status in Status:
        if status is not Status.OK:
            assert f"| {int(status)} | `{status.name}` |" in text, status
