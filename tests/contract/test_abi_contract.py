"""ABI.md, the host's import table, guest-sdk/abi/all_imports.wat and the AssemblyScript
build's own copy of the table (bin/edgehost-asc.js, which checks every built module before the
host ever sees it) must agree exactly."""

import re
from pathlib import Path

import wasmtime
from edgehost.config import SandboxLimits
from edgehost.metrics import Metrics
from edgehost.sandbox.abi import (
    ACTOR_CALL_EXPORT,
    ACTOR_INIT_EXPORT,
    HOST_IMPORTS,
    IMPORT_MODULE,
    Status,
)
from edgehost.sandbox.engine import Outcome, Sandbox
from edgehost.sandbox.invocation import Invocation

from tests.conftest import ROOT, TEST_POOLS

ABI_DOC = ROOT / "guest-sdk" / "ABI.md"
CONTRACT = ROOT / "guest-sdk" / "abi" / "all_imports.wat"
ASC_DRIVER = ROOT / "guest-sdk" / "assemblyscript" / "bin" / "edgehost-asc.js"
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


def asc_driver_imports() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """The `ABI_IMPORTS` object literal of edgehost-asc.js: `name: [[params], [results]],`."""
    source = ASC_DRIVER.read_text()
    module = re.search(r'const ABI_MODULE = "([^"]+)";', source)
    assert module and module.group(1) == IMPORT_MODULE
    body = re.search(r"const ABI_IMPORTS = \{(.*?)\n\};", source, re.S)
    assert body, "ABI_IMPORTS not found in edgehost-asc.js"
    out = {}
    for name, params, results in re.findall(r"^\s*(\w+): \[\[([^\]]*)\], \[([^\]]*)\]\],",
                                            body.group(1), re.M):
        out[name] = (tuple(re.findall(r'"(\w+)"', params)),
                     tuple(re.findall(r'"(\w+)"', results)))
    return out


def table() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {name: (sig.params, sig.results) for name, sig in HOST_IMPORTS.items()}


def test_abi_doc_lists_exactly_the_host_import_table():
    assert documented_imports() == table()


def test_contract_wat_imports_exactly_the_host_import_table():
    assert contract_imports() == table()


def test_the_assemblyscript_build_checks_against_exactly_the_host_import_table():
    assert asc_driver_imports() == table()


def test_the_assemblyscript_build_knows_the_actor_entry_points():
    exports = re.search(r"const ACTOR_EXPORTS = \[([^\]]*)\];", ASC_DRIVER.read_text())
    assert exports, "ACTOR_EXPORTS not found in edgehost-asc.js"
    assert set(re.findall(r'"(\w+)"', exports.group(1))) == {ACTOR_INIT_EXPORT,
                                                              ACTOR_CALL_EXPORT}


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
