"""The AssemblyScript SDK as a guest sees it, against the real host over HTTP.

tests/guests/sdk-probe is a function built with the SDK (`npm run build:examples` builds it
with the examples; scripts/setup runs that). Its routes exercise one part of the SDK each and
answer JSON; these tests ship it through the admin API and check every answer exactly, so a
change to the SDK (or to the host below it) that a guest would notice fails here.

Actor routes answer 200 with the call's outcome, {"ok", "value", "error": null | {"name",
"message"}}: an actor error is a value in the caller, which goes on to answer normally.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass

import httpx
import pytest
from edgehost.actors import errors
from edgehost.registry.actor_types import read_actor_classes

from tests.conftest import ROOT, LiveHost

PROBE_DIR = ROOT / "tests" / "guests" / "sdk-probe"
MODULE = PROBE_DIR / "build" / "sdk-probe.wasm"
SDK_DIR = ROOT / "guest-sdk" / "assemblyscript"
# The string the probe uses to test escaping: quote, backslash, newline, tab, U+0001, non-ASCII.
TRICKY = 'he said "hi"\\\n\t\u0001 é 😀'
UNIQUE_ID = re.compile(r"[0-9a-f]{32}")


def probe_bundle() -> tuple[bytes, str]:
    """The built probe and its manifest; a clear failure if it is missing or older than its
    source or the SDK's (testing an old build of the SDK would prove nothing about the new one)."""
    if not MODULE.exists():
        pytest.fail(f"{MODULE.relative_to(ROOT)} is missing: run scripts/setup "
                    "(or `npm run build:examples`, which builds tests/guests/* too)")
    sources = [*PROBE_DIR.glob("src/*.ts"), PROBE_DIR / "telnyx.toml",
               *SDK_DIR.glob("assembly/*.ts"), *SDK_DIR.glob("transform/*.js"),
               *SDK_DIR.glob("bin/*.js")]
    built = MODULE.stat().st_mtime
    stale = sorted(str(p.relative_to(ROOT)) for p in sources if p.stat().st_mtime > built)
    if stale:
        pytest.fail(f"{MODULE.relative_to(ROOT)} is older than {', '.join(stale)}: "
                    "rebuild it (npm run build:examples)")
    return MODULE.read_bytes(), (PROBE_DIR / "telnyx.toml").read_text()


@dataclass
class Probe:
    live_host: LiveHost
    func: dict

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        # Host-header addressing, as in tests/conftest.py, but `headers` may be a list of
        # pairs so that a header can repeat.
        headers = [("host", f"{self.func['slug']}.localhost:{self.live_host.port}"),
                   *kw.pop("headers", [])]
        return self.live_host.client.request(method, path, headers=headers, **kw)

    def json(self, method: str, path: str, **kw):
        r = self.request(method, path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/json"
        return r.json()

    def value(self, method: str, path: str, **kw):
        """The value of an actor call that must succeed."""
        out = self.json(method, path, **kw)
        assert out["ok"] is True and out["error"] is None, out
        return out["value"]

    def error(self, method: str, path: str, **kw) -> dict:
        """The error of an actor call that must fail: {"name", "message"}."""
        out = self.json(method, path, **kw)
        assert out["ok"] is False and out["error"] is not None, out
        return out["error"]

    def list(self, name: str, **options) -> list:
        return self.value("POST", f"/storage/{name}/list", json=options)

    def logs(self) -> list[dict]:
        r = self.live_host.admin("GET", f"/functions/{self.func['func_id']}/logs")
        assert r.status_code == 200, r.text
        return r.json()["entries"]


@pytest.fixture
def probe(live_host: LiveHost) -> Probe:
    module, manifest_text = probe_bundle()
    func = live_host.create_function("sdk-probe")
    r = live_host.ship(func["func_id"], module, manifest_text)
    assert r.status_code == 201, r.text
    shipped = r.json()
    # GHOST names a type that nobody on the account owns: the ship succeeds with a warning.
    assert any("'GHOST'" in w and "ActorUnresolvedBindingError" in w for w in shipped["warnings"])
    return Probe(live_host, shipped)


# ---- the bundle ---------------------------------------------------------------------------------

def test_actor_section_matches_the_typed_env_input():
    """src/env.ts is generated from edgehost-types.json: that input must still describe the
    classes the build put in the module, or the typed stubs call methods as they were."""
    module, _ = probe_bundle()
    section, problems = read_actor_classes(module)
    assert problems == []
    types_input = json.loads((PROBE_DIR / "edgehost-types.json").read_text())
    declared = {b["type"]: b.get("methods") for b in types_input["bindings"]}
    assert section.signatures == {"Probe": declared["Probe"], "Booted": declared["Booted"]}
    # "_secret" and the private "hidden" are not RPC methods
    assert "_secret" not in section.classes["Probe"] and "hidden" not in section.classes["Probe"]


def test_env_ts_is_what_edgehost_types_generates():
    tool = ROOT / "node_modules" / ".bin" / "edgehost-types"
    if not tool.exists():
        pytest.fail(f"{tool.relative_to(ROOT)} is missing: run scripts/setup")
    out = subprocess.run([str(tool), "--input", "edgehost-types.json", "--out", "-"],
                         cwd=PROBE_DIR, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (PROBE_DIR / "src" / "env.ts").read_text(), \
        "src/env.ts is stale: run `npm run types` in tests/guests/sdk-probe, then rebuild"


def test_bindings_as_the_host_sees_them(probe: Probe):
    inspected = probe.live_host.admin("GET", f"/functions/{probe.func['func_id']}").json()
    roles = {b["binding"]: (b["type"], b["role"], b["resolved"]) for b in inspected["bindings"]}
    assert roles == {"PROBE": ("Probe", "owner", True), "BOOTED": ("Booted", "owner", True),
                     "GHOST": ("Ghost", "reference", False)}


# ---- identity, calls between actors, unique ids, the init hook ---------------------------------

def test_ctx_id_is_the_instance_name(probe: Probe):
    # the name is percent-encoded in the URL; the stub and the instance both see it decoded
    out = probe.json("GET", "/whoami/caf%C3%A9%20%F0%9F%98%80")
    assert out == {"ok": True, "value": "café 😀", "error": None, "stub.id": "café 😀"}


def test_an_actor_calls_another_actor(probe: Probe):
    assert probe.value("GET", "/peer/a/b") == "b"


def test_an_actor_calling_itself_gets_ActorDeadlockError_as_a_value(probe: Probe):
    assert probe.value("GET", "/deadlock/a") == {"ok": False, "name": "ActorDeadlockError"}


def test_new_unique_id_gives_distinct_working_instances(probe: Probe):
    out = probe.json("GET", "/unique")
    a, b = out["a"], out["b"]
    assert UNIQUE_ID.fullmatch(a) and UNIQUE_ID.fullmatch(b) and a != b
    # each is a working instance with storage of its own...
    assert out == {"a": a, "b": b, "a.whoami": a, "b.whoami": b, "a.mark": '"a"', "b.mark": '"b"'}
    # ...reachable again later by its name
    assert probe.value("GET", f"/storage/{a}/keys/mark") == '"a"'
    assert probe.value("GET", f"/storage/{b}/keys/mark") == '"b"'


def test_the_init_hook_runs_once_per_activation_and_may_use_storage(probe: Probe):
    for _ in range(3):
        assert probe.value("GET", "/boots/b1") == {"boots": 1, "booted as": "b1"}
    assert probe.value("GET", "/boots/b2") == {"boots": 1, "booted as": "b2"}


# ---- storage ----------------------------------------------------------------------------------

def test_typed_puts_and_gets_round_trip_through_a_later_call(probe: Probe):
    assert probe.json("POST", "/storage/s/typed") == {"ok": True, "error": None}
    got = probe.value("GET", "/storage/s/typed")
    assert got == {
        "i64": -9007199254740993, "f64": 1.5, "bool": True, "string": TRICKY,
        "json": '{"x": [1, 2], "y": null}',
        "g:i64": 9223372036854775807, "g:i32": -5, "g:f64": 2, "g:bool": False,
        "g:string": "plain", "g:null is null": True, "g:object.b": "c", "g:text": "[true,false]",
        # the JSON text each put stored
        "stored": {
            "i64": "-9007199254740993", "f64": "1.5", "bool": "true",
            "string": json.dumps(TRICKY, ensure_ascii=False),
            "json": '{"x": [1, 2], "y": null}',
            "g:i64": "9223372036854775807", "g:i32": "-5", "g:f64": "2", "g:bool": "false",
            "g:string": '"plain"', "g:null": "null", "g:object": '{"a":1,"b":"c"}',
            "g:array": '[1,"two",null]', "g:text": "[true,false]",
        },
        "missing i64": 42, "missing f64": 0.25, "missing bool": True,
        "missing string is null": True, "missing json is null": True, "missing get<i32>": 7,
        "has i64": True, "has missing": False,
    }


def test_reads_see_the_calls_own_writes_and_deletes(probe: Probe):
    # before, after put 1 (as text), after put 2, delete -> existed, has after delete, list count
    assert probe.value("POST", "/storage/r/own-writes") == [None, "1", 2, True, False, 1]
    assert probe.value("GET", "/storage/r/keys/row") == "3"  # the last write committed


def test_put_any_json_and_delete_reports_whether_the_key_existed(probe: Probe):
    assert probe.json("PUT", "/storage/d/keys/k", content='{"a": [1, "x"]}')["ok"] is True
    assert probe.value("GET", "/storage/d/keys/k") == '{"a": [1, "x"]}'
    assert probe.value("DELETE", "/storage/d/keys/k") is True
    assert probe.value("DELETE", "/storage/d/keys/k") is False
    assert probe.value("GET", "/storage/d/keys/k") is None


SEED = [["a", 1], ["b", 2], ["b:1", 3], ["b:2", {"n": 4}], ["c", "five"], ["é", None]]


@pytest.mark.parametrize("options, keys", [
    ({}, ["a", "b", "b:1", "b:2", "c", "é"]),              # "é" is above ASCII in UTF-8 order
    ({"prefix": "b"}, ["b", "b:1", "b:2"]),
    ({"prefix": "b:"}, ["b:1", "b:2"]),
    ({"prefix": "nothing"}, []),
    ({"start": "b", "end": "c"}, ["b", "b:1", "b:2"]),     # start inclusive, end exclusive
    ({"startAfter": "b"}, ["b:1", "b:2", "c", "é"]),       # exclusive
    ({"startAfter": "b", "end": "c"}, ["b:1", "b:2"]),
    ({"reverse": True}, ["é", "c", "b:2", "b:1", "b", "a"]),
    ({"reverse": True, "limit": 2}, ["é", "c"]),
    ({"limit": 1}, ["a"]),
    ({"prefix": "b", "reverse": True, "limit": 2}, ["b:2", "b:1"]),
    ({"limit": 1000}, ["a", "b", "b:1", "b:2", "c", "é"]),
])
def test_list_options(probe: Probe, options, keys):
    assert probe.value("POST", "/storage/l/seed", json=SEED) == len(SEED)
    values = dict((k, v) for k, v in SEED)
    assert probe.list("l", **options) == [[k, values[k]] for k in keys]


def test_list_limit_above_1000_is_an_error_not_a_cut(probe: Probe):
    probe.value("POST", "/storage/l/seed", json=SEED)
    e = probe.error("POST", "/storage/l/list", json={"limit": 1001})
    assert e["name"] == "ActorMethodError"
    # the SDK names the operation and its options, then gives the host's reason
    assert e["message"].startswith('storage.list("{\\"limit\\":1001}"): ')
    assert "1000" in e["message"]


def test_delete_all(probe: Probe):
    probe.value("POST", "/storage/w/seed", json=SEED)
    assert probe.value("POST", "/storage/w/wipe") == 0  # the call sees its own deleteAll
    assert probe.list("w") == []                        # and it committed


def test_delete_all_is_undone_when_the_call_fails(probe: Probe):
    probe.value("POST", "/storage/w/seed", json=SEED)
    e = probe.error("POST", "/fail/w?how=wipe")
    assert e == {"name": "ActorMethodError", "message": "abort after deleteAll"}
    assert len(probe.list("w")) == len(SEED)


def test_transactions_commit_roll_back_and_nest(probe: Probe):
    assert probe.value("POST", "/storage/t/transactions") == {
        "inside commit sees its write": 1,
        "after commit": 1,
        "inside rollback sees outer 99": 99,   # a transaction reads its own writes...
        "after rollback has t:rollback": False,  # ...and a rollback discards all of them
        "after rollback t:outer": 1,
        "nested outer kept": True,
        "nested inner kept": False,
    }
    # what the call committed
    assert probe.list("t") == [["t:commit", 1], ["t:nested-outer", 1], ["t:outer", 1],
                               ["t:with", "t"]]


def test_an_abort_inside_a_transaction_fails_the_whole_call(probe: Probe):
    e = probe.error("POST", "/fail/ta?how=transaction")
    assert e == {"name": "ActorMethodError", "message": "abort inside a transaction"}
    assert probe.list("ta") == []  # not even the write made before the transaction


# ---- failing methods: errors as values in the caller ---------------------------------------------

def test_an_aborting_method_gives_the_caller_ActorMethodError_with_its_message(probe: Probe):
    message = 'no "way" é 😀\nline 2'
    e = probe.error("POST", "/fail/f?how=abort", content=message.encode())
    assert e == {"name": "ActorMethodError", "message": message}
    assert probe.value("GET", "/storage/f/keys/fail:written") is None  # nothing committed
    # the instance keeps working after the failure
    assert probe.value("GET", "/whoami/f") == "f"


def test_a_long_error_message_arrives_whole(probe: Probe):
    # longer than the SDK's first 256-byte read of the error: it must read the rest too
    message = "é" * 1500 + "end"
    e = probe.error("POST", "/fail/f?how=abort", content=message.encode())
    assert e == {"name": "ActorMethodError", "message": message}


def test_a_throwing_method_gives_the_message_and_where(probe: Probe):
    e = probe.error("POST", "/fail/f?how=throw", content=b"thrown")
    assert e["name"] == "ActorMethodError"
    assert re.fullmatch(r"thrown at src/probe\.ts:\d+:\d+", e["message"]), e["message"]


@pytest.mark.parametrize("how, message", [
    ("after-rollback", 'storage.put("x"): the transaction is over'),
    ("nan", 'storage.put("nan"): NaN and infinities are not JSON'),
    ("wrong-type", 'storage.get("not-a-number"): stored value is not an integer: "x"'),
])
def test_storage_misuse_aborts_the_call_with_the_sdks_message(probe: Probe, how, message):
    assert probe.error("POST", f"/fail/m?how={how}") == {"name": "ActorMethodError",
                                                         "message": message}


@pytest.mark.parametrize("how, prefix, mentions", [
    ("bad-key", 'storage.put("__edgehost_x"): ', "__edgehost_"),
    ("nan-f64", 'storage.put("nan"): ', "JSON"),
])
def test_storage_refused_by_the_host_aborts_with_the_hosts_reason(probe: Probe, how, prefix,
                                                                  mentions):
    # The host words the reason; the SDK puts the operation and the key in front of it.
    e = probe.error("POST", f"/fail/m?how={how}")
    assert e["name"] == "ActorMethodError"
    assert e["message"].startswith(prefix) and mentions in e["message"][len(prefix):], e


# ---- typed and untyped stubs ---------------------------------------------------------------------

def test_typed_stub_results_of_every_type(probe: Probe):
    def ok(value):
        return {"ok": True, "value": value, "error": None}

    assert probe.json("GET", "/typed/ty") == {
        "bool": ok(True),
        "i32": ok(-2147483648),
        "i64 min": ok(-9223372036854775808),
        "i64 max": ok(9223372036854775807),
        "u8": ok(255),
        "u64": ok(9223372036854775807),
        "u64 max result": ok(18446744073709551615),
        "f32": ok(0.5),
        "f64": ok(-1.25e-7),
        "f64 integral": ok(3),
        "string": ok(TRICKY),
        "maybe null": ok(None),
        "maybe string": ok("x"),
        "json": ok({"a": [1, {"b": None}], "c": "d"}),
        "optional": ok("1/2/w"),
        "void": {"ok": True, "error": None},
        "void wrote": ok("true"),
    }


def test_u64_above_the_i64_range_as_argument_and_in_storage(probe: Probe):
    u64_max = 18446744073709551615
    out = probe.json("GET", "/u64/u")
    assert out == {"echo max": {"ok": True, "value": u64_max, "error": None},
                   "store max": {"ok": True, "value": u64_max, "error": None}}


@pytest.mark.parametrize("binding, method, args, name, message", [
    ("PROBE", "_secret", "", "ActorPrivateMethodError",
     errors.private_method("Probe", "_secret").message),
    ("PROBE", "hidden", "", "ActorUnknownMethodError",      # a `private` TypeScript method
     errors.unknown_method("Probe", "hidden").message),
    ("PROBE", "nope", "[]", "ActorUnknownMethodError",
     errors.unknown_method("Probe", "nope").message),
    ("NOPE", "whoami", "", "ActorUnknownBindingError",
     errors.unknown_binding("NOPE").message),
    ("GHOST", "anything", "", "ActorUnresolvedBindingError",
     errors.unresolved_binding("GHOST", "Ghost").message),
    # argument checks of the generated dispatch code
    ("PROBE", "echoI64", "", "ActorMethodError", "Probe.echoI64 takes 1 argument(s), got 0"),
    ("PROBE", "echoI64", "[1, 2]", "ActorMethodError",
     "Probe.echoI64 takes 1 argument(s), got 2"),
    ("PROBE", "echoI64", '["x"]', "ActorMethodError",
     'Probe.echoI64: argument 1 must be an integer, got "x"'),
    ("PROBE", "echoI64", "[1.5]", "ActorMethodError",
     "Probe.echoI64: argument 1 must be an integer, got 1.5"),
    ("PROBE", "echoI64", "[9223372036854775808]", "ActorMethodError",
     "Probe.echoI64: argument 1 must be an integer, got 9223372036854775808"),
    ("PROBE", "echoI32", "[2147483648]", "ActorMethodError",
     "Probe.echoI32: argument 1 must be an integer in range of i32, got 2147483648"),
    ("PROBE", "echoI32", "[1e2]", "ActorMethodError",
     "Probe.echoI32: argument 1 must be an integer, got 1e2"),
    ("PROBE", "echoF64", '["1"]', "ActorMethodError",
     'Probe.echoF64: argument 1 must be a number, got "1"'),
    ("PROBE", "echoU8", "[256]", "ActorMethodError",
     "Probe.echoU8: argument 1 must be an integer in range of u8, got 256"),
    ("PROBE", "echoU8", "[-1]", "ActorMethodError",
     "Probe.echoU8: argument 1 must be an integer in range of u8, got -1"),
    ("PROBE", "echoBool", "[0]", "ActorMethodError",
     "Probe.echoBool: argument 1 must be a bool, got 0"),
    ("PROBE", "echoString", "[null]", "ActorMethodError",
     "Probe.echoString: argument 1 must be a string, got null"),
    ("PROBE", "optional", "[]", "ActorMethodError", "Probe.optional takes 1-3 argument(s), got 0"),
])
def test_untyped_call_errors_are_values_with_the_right_name(probe: Probe, binding, method, args,
                                                            name, message):
    e = probe.error("POST", f"/call/{binding}/x/{method}", content=args)
    assert e == {"name": name, "message": message}


def test_an_instance_name_that_is_too_long_is_ActorNameError(probe: Probe):
    e = probe.error("POST", f"/call/PROBE/{'n' * 1025}/whoami")
    assert e["name"] == "ActorNameError" and "1025" in e["message"], e
    assert probe.value("POST", f"/call/PROBE/{'n' * 1024}/whoami") == "n" * 1024


@pytest.mark.parametrize("args, reason", [("{not json", "not valid JSON"),
                                          ("{}", "must be a JSON array")])
def test_untyped_call_with_arguments_that_are_not_a_json_array_is_a_CodecError(probe: Probe,
                                                                                args, reason):
    # The host answers CODEC_ERROR with a message, not an error object; the SDK names it.
    e = probe.error("POST", "/call/PROBE/x/whoami", content=args)
    assert e["name"] == "CodecError" and reason in e["message"], e


@pytest.mark.parametrize("method, args, value", [
    ("whoami", "", "x"),                      # call(method): the default arguments are []
    ("optional", "[1]", "1/10/z"),            # trailing parameters take their defaults
    ("optional", '[1, 2]', "1/2/z"),
    ("echoJson", '[{"deep": [1, {"x": null}]}]', {"deep": [1, {"x": None}]}),
    ("echoMaybe", "[null]", None),
    ("echoF64", "[1e300]", 1e300),
    ("echoF32", "[0.5]", 0.5),
    ("echoString", '["é 😀"]', "é 😀"),                      # UTF-8 in the arguments
    ("echoString", '["\\u00e9\\n"]', "é\n"),   # escapes in arguments are decoded
])
def test_untyped_call_results(probe: Probe, method, args, value):
    assert probe.value("POST", f"/call/PROBE/x/{method}", content=args) == value


# ---- the byte-level API: req.param / methodIs / pathIs, callJson, ByteBuffer#jsonUtf8 ------------

@pytest.mark.parametrize("segment, name", [
    ("alice", "alice"),
    ("a%20b", "a b"),
    ("q%22x%5C%0Ay%01%7F", 'q"x\\\ny\x01\x7f'),    # escaped again on the way out
    ("%C3%A9%F0%9F%98%80", "é😀"),                   # UTF-8 passes through as bytes
    ("%zz%2", "%zz%2"),                              # malformed escapes are kept
    ("x%2Fy", "x/y"),
])
def test_raw_call_with_a_percent_decoded_name(probe: Probe, segment, name):
    out = probe.json("POST", f"/raw-call/PROBE/{segment}?whoami", content="[]")
    assert out == {"name": name, "ok": True, "json": name, "GET": False, "POST": True,
                   "pathIs": True, "pathIs x": False}


def test_raw_call_results_are_the_json_text(probe: Probe):
    out = probe.json("GET", "/raw-call/PROBE/r?echoJson", content='[{"deep": [1, {"x": null}]}]')
    assert out["ok"] is True and out["json"] == {"deep": [1, {"x": None}]}
    assert out["GET"] is True and out["POST"] is False


@pytest.mark.parametrize("path, args, name, message", [
    ("/raw-call/PROBE/f?fail", json.dumps(['no "way" é 😀\nline 2']), "ActorMethodError",
     'no "way" é 😀\nline 2'),
    ("/raw-call/PROBE/x?_private", "[]", "ActorPrivateMethodError", None),
    # a message, named by the SDK:
    ("/raw-call/PROBE/x?whoami", "{}", "CodecError", "must be a JSON array"),
    ("/raw-call/GHOST/x?anything", "[]", "ActorUnresolvedBindingError", None),
])
def test_raw_call_errors_renamed_with_errorAs(probe: Probe, path, args, name, message):
    out = probe.json("POST", path, content=args)
    assert out["ok"] is False and set(out["json"]) == {"error", "message"}, out
    assert out["json"]["error"] == name, out
    if message is not None:
        assert message in out["json"]["message"], out


def test_raw_call_param_does_not_match_another_binding(probe: Probe):
    # the route matches (Router), but not req.param's pattern: /raw-call/PROBE/:name
    r = probe.request("POST", "/raw-call/OTHER/x?whoami", content="[]")
    assert r.status_code == 500 and r.text == "req.param did not match"


# ---- lit("..."): string literals stored as UTF-8 by the build ------------------------------------

def test_lit_gives_the_literals_utf8_bytes(probe: Probe):
    out = probe.json("GET", "/lit?a%20b=%C3%A9")
    assert out == {"ascii": "plain ascii", "unicode": "lit: é 😀 ✓", "empty": "",
                   "alias": "through an alias",
                   "runtime": "a%20b=%C3%A9"}   # lit of a non-literal: encoded at run time


def test_lit_literals_are_stored_as_utf8_not_as_strings():
    """transform/literals.js puts the UTF-8 bytes in the module in place of the call: the
    UTF-16 string object `lit` would otherwise be called with is not there."""
    module, _ = probe_bundle()
    for text in ("lit: é 😀 ✓", "through an alias", "lit text é", "/raw-call/PROBE/:name"):
        assert text.encode() in module, text
        assert text.encode("utf-16-le") not in module, text
    # a string (not lit) pattern stays a string: GHOST's is encoded at run time
    assert "/raw-call/GHOST/:name".encode("utf-16-le") in module


def test_a_users_own_function_named_lit_is_left_alone(probe: Probe):
    r = probe.request("GET", "/own-lit")
    assert r.status_code == 200 and r.text == "own lit, not rewritten"
    module, _ = probe_bundle()
    assert "lit, not rewritten".encode("utf-16-le") in module  # still a string literal


def test_response_text_with_a_utf8_body(probe: Probe):
    r = probe.request("GET", "/lit-text")
    assert r.status_code == 202 and r.content == "lit text é".encode()
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


# ---- HTTP: request, response, router -------------------------------------------------------------

def test_request_fields(probe: Probe):
    body = '{"n": 5, "s": "é"}'
    out = probe.json("POST", "/request?a=1&b=%20x", content=body.encode(),
                     headers=[("X-Probe", "yes"), ("X-Multi", "1"), ("x-multi", "2")])
    assert out == {
        "method": "POST", "path": "/request", "query": "a=1&b=%20x",
        "url": f"http://{probe.func['slug']}.localhost:{probe.live_host.port}/request?a=1&b=%20x",
        # looked up as "X-Probe", "x-probe" and "X-PROBE": case does not matter
        "X-Probe": "yes", "x-probe": "yes", "X-Absent": None,
        "has X-PROBE": True, "has X-Absent": False,
        "X-Multi": ["1", "2"],                          # getAll, in request order
        "x- names": ["x-probe", "x-multi", "x-multi"],  # names arrive lower-case
        "bodyLength": len(body.encode()), "bytes.length": len(body.encode()), "text": body,
        "json": {"n": 5, "s": "é"}, "json is object": True, "json.n": 5, "json.s": "é",
    }


def test_header_bytes_beyond_ascii_reach_the_guest_as_utf8(probe: Probe):
    # HTTP/1.1 header values are ISO-8859-1 (obs-text); the ABI promises UTF-8, so the host
    # transcodes: the byte 0xE9 arrives as "é" (C3 A9), never as an invalid UTF-8 byte.
    out = probe.json("GET", "/request", headers=[("X-Probe", b"caf\xe9")])
    assert out["X-Probe"] == "café"


def test_request_without_query_or_body_and_with_a_body_that_is_not_json(probe: Probe):
    out = probe.json("GET", "/request")
    assert (out["method"], out["query"], out["text"], out["bodyLength"], out["json"]) == \
        ("GET", "", "", 0, None)
    assert out["url"] == f"http://{probe.func['slug']}.localhost:{probe.live_host.port}/request"
    out = probe.json("PATCH", "/request", content=b"not json")
    assert (out["method"], out["text"], out["json"], out["json is object"]) == \
        ("PATCH", "not json", None, False)


def test_request_path_form_strips_the_prefix(probe: Probe):
    r = probe.live_host.client.put(f"/fn/{probe.func['slug']}/request?q=1", content=b"x")
    out = r.json()
    assert (out["method"], out["path"], out["query"], out["text"]) == \
        ("PUT", "/request", "q=1", "x")


def test_path_stays_percent_encoded_and_only_match_decodes(probe: Probe):
    assert probe.json("GET", "/request/a%20b")["path"] == "/request/a%20b"
    assert probe.json("GET", "/params/a%2Fb/and/100%25") == \
        {"first": "a/b", "second": "100%", "unknown": ""}


def test_a_binary_body_round_trips_byte_for_byte(probe: Probe):
    body = bytes(range(256)) * 3
    r = probe.request("POST", "/echo-bytes", content=body,
                      headers=[("content-type", "application/x-bin")])
    assert (r.status_code, r.headers["content-type"], r.content) == (200, "application/x-bin", body)


@pytest.mark.parametrize("kind, status, headers, body", [
    ("text", 201, [("content-type", "text/plain; charset=utf-8")], "plain text é".encode()),
    ("json", 202, [("content-type", "application/json")],
     json.dumps({"s": TRICKY, "i": -42, "f": 0.1, "nan": None, "whole": 2, "b": False, "n": None,
                 "raw": [1, 2], "arr": ["x", 1, True, None, 1.5]},
                separators=(",", ":"), ensure_ascii=False).encode()),
    ("json-text", 200, [("content-type", "application/json")], b'{"already":"json"}'),
    ("json-value", 200, [("content-type", "application/json")], b'[1, {"k": "v"}]'),
    ("html", 200, [("content-type", "text/html; charset=utf-8")], b"<p>hi</p>"),
    ("bytes", 200, [("content-type", "application/x-probe")], b"\x00\x01\x80\xff"),
    ("redirect", 302, [("location", "/elsewhere")], b""),
    ("redirect-301", 301, [("location", "https://example.com/")], b""),
    ("not-found", 404, [("content-type", "text/plain; charset=utf-8")], b"not found"),
    ("not-allowed", 405, [("content-type", "text/plain; charset=utf-8"), ("allow", "GET, POST")],
     b"method not allowed"),
    ("empty", 200, [], b""),
    # setHeader replaces, appendHeader repeats, headers.delete is case-insensitive
    ("custom", 418, [("x-replaced", "new"), ("set-cookie", "a=1"), ("set-cookie", "b=2")],
     b"teapot"),
])
def test_response_helpers(probe: Probe, kind, status, headers, body):
    r = probe.request("GET", f"/response/{kind}", follow_redirects=False)
    assert r.status_code == status
    # the guest's headers, in order (no x-edgehost-error: the guest answered, not the host)
    guest = [(k, v) for k, v in r.headers.multi_items()
             if k not in ("date", "server", "content-length")]
    assert guest == headers
    assert r.headers["content-length"] == str(len(body))  # set by the host
    assert r.content == body


def test_router_params_404_and_405(probe: Probe):
    assert probe.json("GET", "/params/a%20b/and/%E2%82%AC") == \
        {"first": "a b", "second": "€", "unknown": ""}
    assert probe.json("GET", "/params/x/and/%zz")["second"] == "%zz"  # a bad escape stays as is
    for path in ("/params/a/and/", "/params/a/and/b/", "/nowhere"):  # no empty segment, no folding
        r = probe.request("GET", path)
        assert (r.status_code, r.text) == (404, "not found"), path
    r = probe.request("GET", "/only-post")
    assert (r.status_code, r.headers["allow"], r.text) == (405, "POST", "method not allowed")
    assert probe.request("POST", "/only-post").text == "posted"


# ---- environment, logs, failures in fetch --------------------------------------------------------

def test_env_vars_from_the_manifest(probe: Probe):
    assert probe.json("GET", "/env") == {"GREETING": "hello from telnyx.toml",
                                         "UNICODE": "héllo ✓ 😀", "EMPTY": "", "UNSET": None}


def test_log_lines_reach_the_functions_log(probe: Probe):
    token = f"tok{time.monotonic_ns()}"
    assert probe.json("GET", f"/log/{token}") == {"rcs": [0, 0, 0, 0], "actor ok": True}
    mine = [(e["level"], e["message"]) for e in probe.logs() if token in e.get("message", "")]
    # the actor's turn ends (and is logged) before the request that called it
    assert mine == [("info", f"actor logger {token}"), ("debug", f"debug {token}"),
                    ("info", f"info {token}"), ("warn", f"warn {token}"),
                    ("error", f"error {token}")]


def test_log_returns_LIMIT_EXCEEDED_past_the_per_request_quota(probe: Probe):
    quota = probe.live_host.host.config.sandbox.max_log_lines
    assert probe.json("GET", f"/log-flood/{quota + 10}") == {"accepted": quota,
                                                             "first refusal": -5}
    assert any(e["message"].startswith("10 log line(s) dropped") for e in probe.logs())


def test_an_abort_in_fetch_is_a_500_with_the_message_in_the_log(probe: Probe):
    r = probe.request("GET", "/abort")
    assert r.status_code == 500 and "probe fetch abort" not in r.text  # details stay in the log
    error_id = r.json()["error_id"]
    [entry] = [e for e in probe.logs() if e.get("error_id") == error_id]
    assert entry["level"] == "error" and entry["guest_message"] == "probe fetch abort"


def test_clock_and_randomness(probe: Probe):
    before = int(time.time() * 1000)
    out = probe.json("GET", "/misc")
    after = int(time.time() * 1000)
    assert before - 1000 <= out.pop("nowMs") <= after + 1000
    assert out == {"random length": 16, "random 70000 length": 70000,
                   "two random draws equal": False, "Math.random in [0,1)": True}
