"""Threat: modules and manifests that must never be accepted. Nothing is stored for them."""

import pytest

from tests.conftest import LiveHost, manifest, wat
from tests.isolation.containment import refused_details
from tests.wasm_encoder import guest


def test_unknown_imports_are_refused_with_every_one_named(live_host: LiveHost):
    details = refused_details(live_host, "wasi", wat("wasi_import"), manifest("wasi"))
    text = "\n".join(details)
    for name in ("wasi_snapshot_preview1.fd_write", "wasi_snapshot_preview1.path_open",
                 "edgehost_v1.open_socket"):
        assert name in text


def test_an_abi_import_with_the_wrong_signature_is_refused(live_host: LiveHost):
    import wasmtime
    module = bytes(wasmtime.wat2wasm(
        '(module (import "edgehost_v1" "log" (func (param i32) (result i32)))'
        ' (memory (export "memory") 1) (func (export "edgehost_fetch") (result i32) i32.const 0))'))
    details = refused_details(live_host, "badsig", module, manifest("badsig"))
    assert any("edgehost_v1.log" in d and "(i32, i32, i32) -> i32" in d for d in details)


@pytest.mark.parametrize("module, expect", [
    (b"not wasm at all", "not valid WebAssembly"),
    (b"\0asm\x01\0\0\0\x01\x05", "not valid WebAssembly"),  # truncated section
    # well-formed sections, but a `() -> ()` body that leaves an i32: found when compiling
    (guest(functions=1, body=b"\x41\x00"), "not valid WebAssembly"),
    (b"", "empty"),
])
def test_malformed_modules_are_refused(live_host: LiveHost, module: bytes, expect: str):
    func = live_host.create_function("malformed")
    r = live_host.ship(func["func_id"], module, manifest("malformed"))
    assert r.status_code in (400, 422), r.text
    assert expect in r.text


def test_module_missing_required_exports_is_refused(live_host: LiveHost):
    import wasmtime
    module = bytes(wasmtime.wat2wasm('(module (memory 1))'))
    details = refused_details(live_host, "noexports", module, manifest("noexports"))
    assert any("'memory'" in d for d in details)
    assert any("edgehost_fetch" in d for d in details)


def test_oversized_module_is_refused_with_413(live_host: LiveHost, host_config):
    func = live_host.create_function("huge")
    r = live_host.ship(func["func_id"], b"\0" * (host_config.max_module_bytes + 1),
                       manifest("huge"))
    assert r.status_code == 413


@pytest.mark.parametrize("manifest_text, key", [
    ('main = "src/index.ts"\n', "name"),
    ('name = "bad"\n', "main"),
    ('name = "bad"\nmain = "src/index.ts"\ncompatibility_date = "May 1st"\n',
     "compatibility_date"),
    ('name = "bad"\nmain = "src/index.ts"\n[[actors]]\nbinding = "A__B"\ntype = "Account"\n',
     "actors[0].binding"),
    ('name = "bad"\nmain = "src/index.ts"\n[[actors]]\nbinding = "ACCOUNT"\ntype = "' + "T" * 33
     + '"\n', "actors[0].type"),
    ('name = "bad"\nmain = "src/index.ts"\n[[actors]]\nbinding = "X"\ntype = "A"\n'
     '[[actors]]\nbinding = "X"\ntype = "B"\n', "actors[1].binding"),
    ('name = "bad"\nmain = "src/index.ts"\n[env_vars]\nKEY = 3\n', "env_vars.KEY"),
    ('name = "bad"\nmain = "/etc/passwd"\n', "main"),
    ('name = "bad"\nmain = "src/index.ts"\n[edge_compute]\nfunc_id = "nope"\n',
     "edge_compute.func_id"),
    ('name = "other"\nmain = "src/index.ts"\n', "name"),
    ('this is not toml', "not valid TOML"),
])
def test_bad_manifest_is_refused_naming_the_key(live_host: LiveHost, manifest_text, key):
    details = refused_details(live_host, "bad", wat("static_ok"), manifest_text)
    assert any(key in d for d in details), details


def test_refused_ship_leaves_the_previous_revision_serving(live_host: LiveHost):
    func = live_host.deploy("keeper", wat("static_ok"))
    r = live_host.ship(func["func_id"], wat("wasi_import"), manifest("keeper"))
    assert r.status_code == 422
    assert live_host.call(func["slug"], "/").text == "ok"
    inspected = live_host.admin("GET", f"/functions/{func['func_id']}").json()
    assert inspected["current_revision"] == 1 and len(inspected["revisions"]) == 1
