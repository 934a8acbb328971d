"""telnyx.toml validation, rule by rule: each problem names the key, the value and the rule;
every problem is reported at once, in document order; unknown keys are only warnings."""

from __future__ import annotations

import pytest
from edgehost.registry.manifest import ActorBinding, Manifest, ManifestError, parse_manifest

HEAD = 'name = "hello"\nmain = "src/index.ts"\n'
FUNC_ID = "0b7c8a38-6a47-4b2e-9b3c-1f0e2d3c4b5a"


def parse(text: str, *, memory_cap_mib: int = 128, timeout_cap_ms: int = 60_000,
          max_nesting_depth: int = 64) -> Manifest:
    return parse_manifest(text, memory_cap_mib=memory_cap_mib, timeout_cap_ms=timeout_cap_ms,
                          max_nesting_depth=max_nesting_depth)


def problems(text: str, **caps) -> list[str]:
    with pytest.raises(ManifestError) as e:
        parse(text, **caps)
    assert str(e.value) == "; ".join(e.value.problems)
    return e.value.problems


def test_a_valid_manifest_is_read_whole():
    manifest = parse(HEAD + 'compatibility_date = "2026-05-01"\n'
                     '[[actors]]\nbinding = "COUNTER"\ntype = "Counter"\n'
                     f'[edge_compute]\nfunc_id = "{FUNC_ID.upper()}"\nfunc_name = "hello"\n'
                     '[env_vars]\nGREETING = "hi"\n'
                     '[limits]\nmemory_mib = 16\ntimeout_ms = 500\n')
    assert manifest == Manifest(
        name="hello", main="src/index.ts", compatibility_date="2026-05-01",
        actors=(ActorBinding("COUNTER", "Counter"),), func_id=FUNC_ID,  # normalised
        env_vars={"GREETING": "hi"}, memory_mib=16, timeout_ms=500, warnings=())


def test_the_stored_form_reads_back_as_the_same_manifest():
    manifest = parse(HEAD + '[[actors]]\nbinding = "A"\ntype = "T"\n[limits]\ntimeout_ms = 9\n')
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert manifest.to_json()["limits"] == {"memory_mib": None, "timeout_ms": 9}


def test_every_problem_is_reported_at_once_in_document_order():
    found = problems('name = "Bad"\nmain = "../x"\ncompatibility_date = "soon"\n'
                     'actors = 1\nedge_compute = 2\nenv_vars = 3\nlimits = 4\n')
    assert [p.split(" ")[0] for p in found] == [
        "name", "main", "compatibility_date", "actors", "edge_compute", "env_vars", "limits"]


@pytest.mark.parametrize("text, expected", [
    ("name = ", "telnyx.toml is not valid TOML: "),
    (HEAD + "a = " + "[" * 70 + "]" * 70,
     "the document nests 70 levels deep; the limit is 64 (documents.max_nesting_depth)"),
    (HEAD + "a.b.c.d.e.f = 1", "the document nests 5 levels deep; the limit is 4"),
])
def test_a_document_that_cannot_be_read_is_one_problem(text, expected):
    depth = 4 if "a.b.c" in text else 64
    found = problems(text, max_nesting_depth=depth)
    assert len(found) == 1 and found[0].startswith(expected)


NAME_RULE = ("must be 1-52 characters of a-z, 0-9 and '-', start with a letter and not end "
             "with '-'")


@pytest.mark.parametrize("line, expected", [
    ("", "name: missing; the function's name is required"),
    ("name = 5\n", "name = 5: must be a string"),
    ('name = "Hello"\n', f"name = 'Hello': {NAME_RULE}"),
    ('name = "1abc"\n', f"name = '1abc': {NAME_RULE}"),
    ('name = "abc-"\n', f"name = 'abc-': {NAME_RULE}"),
    ('name = "abc\\n"\n', f"name = 'abc\\n': {NAME_RULE}"),
    (f'name = "{"a" * 53}"\n', f"name = '{'a' * 53}': {NAME_RULE}"),
])
def test_name_rules(line, expected):
    assert problems(line + 'main = "src/index.ts"\n') == [expected]


def test_a_name_of_52_characters_is_the_longest_allowed():
    assert parse(f'name = "{"a" * 52}"\nmain = "m.ts"\n').name == "a" * 52


@pytest.mark.parametrize("line, expected", [
    ("", 'main: missing; the entry module (e.g. "src/index.ts") is required'),
    ('main = ""\n', "main = '': must be a relative path inside the project"),
    ('main = "../x.ts"\n', "main = '../x.ts': must be a relative path inside the project"),
    ('main = "src/../../x.ts"\n',
     "main = 'src/../../x.ts': must be a relative path inside the project"),
    ('main = "/abs.ts"\n', "main = '/abs.ts': must be a relative path inside the project"),
    ("main = 3\n", "main = 3: must be a relative path inside the project"),
])
def test_main_rules(line, expected):
    assert problems('name = "hello"\n' + line) == [expected]


@pytest.mark.parametrize("value, shown", [
    ('"2026-13-01"', "'2026-13-01'"),
    ('"soon"', "'soon'"),
    ("2026-05-01", "datetime.date(2026, 5, 1)"),  # a TOML date, not the string the spec asks
])
def test_compatibility_date_must_be_a_date_string(value, shown):
    assert problems(HEAD + f"compatibility_date = {value}\n") == [
        f"compatibility_date = {shown}: must be a date as YYYY-MM-DD"]


IDENTIFIER_RULE = ("must be an identifier (letters, digits, '_', not starting with a digit) "
                   "without '__', at most {} characters")


@pytest.mark.parametrize("actors, expected", [
    ('actors = "x"\n', ["actors = 'x': must be an array of tables ([[actors]])"]),
    ("actors = [1]\n", ["actors[0] = 1: must be a table with binding and type"]),
    ('[[actors]]\ntype = "T"\n', ["actors[0].binding: missing"]),
    ('[[actors]]\nbinding = "B"\n', ["actors[0].type: missing"]),
    ('[[actors]]\nbinding = 5\ntype = "T"\n', ["actors[0].binding = 5: must be a string"]),
    ('[[actors]]\nbinding = "1B"\ntype = "T"\n',
     [f"actors[0].binding = '1B': {IDENTIFIER_RULE.format(64)}"]),
    ('[[actors]]\nbinding = "a__b"\ntype = "T"\n',
     [f"actors[0].binding = 'a__b': {IDENTIFIER_RULE.format(64)}"]),
    (f'[[actors]]\nbinding = "B"\ntype = "{"T" * 33}"\n',
     [f"actors[0].type = '{'T' * 33}': {IDENTIFIER_RULE.format(32)}"]),
    ('[[actors]]\nbinding = "B"\ntype = "T"\n[[actors]]\nbinding = "B"\ntype = "U"\n',
     ["actors[1].binding = 'B': bindings must be unique within a function"]),
    ('[[actors]]\nbinding = "-"\ntype = "-"\n',
     [f"actors[0].binding = '-': {IDENTIFIER_RULE.format(64)}",
      f"actors[0].type = '-': {IDENTIFIER_RULE.format(32)}"]),
])
def test_actors_rules(actors, expected):
    assert problems(HEAD + actors) == expected


def test_longest_binding_and_type_names_are_allowed():
    manifest = parse(HEAD + f'[[actors]]\nbinding = "{"B" * 64}"\ntype = "{"T" * 32}"\n')
    assert manifest.actors == (ActorBinding("B" * 64, "T" * 32),)


@pytest.mark.parametrize("edge, expected", [
    ("edge_compute = 5\n", "edge_compute = 5: must be a table ([edge_compute])"),
    ('[edge_compute]\nfunc_id = "nope"\n', "edge_compute.func_id = 'nope': must be a UUID"),
    ("[edge_compute]\nfunc_id = 7\n", "edge_compute.func_id = 7: must be a UUID"),
    ('[edge_compute]\nfunc_name = "other"\n',
     "edge_compute.func_name = 'other': must equal name ('hello')"),
])
def test_edge_compute_rules(edge, expected):
    assert problems(HEAD + edge) == [expected]


@pytest.mark.parametrize("env, expected", [
    ("env_vars = 1\n", "env_vars = 1: must be a table ([env_vars])"),
    ('[env_vars]\n1A = "x"\n', f"env_vars key '1A' = '1A': {IDENTIFIER_RULE.format(128)}"),
    ("[env_vars]\nA = 5\n", "env_vars.A = 5: must be a string"),
    (f'[env_vars]\nA = "{"x" * 4097}"\n', "env_vars.A: value is 4097 bytes, above 4096"),
    ("[env_vars]\n" + "".join(f'V{i} = "x"\n' for i in range(65)),
     "env_vars: 65 variables exceeds the limit of 64"),
])
def test_env_vars_rules(env, expected):
    assert problems(HEAD + env) == [expected]


def test_env_vars_at_their_limits_are_kept():
    env = "".join(f'V{i} = "x"\n' for i in range(63)) + f'BIG = "{"é" * 2048}"\n'
    manifest = parse(HEAD + "[env_vars]\n" + env)
    assert len(manifest.env_vars) == 64 and len(manifest.env_vars["BIG"].encode()) == 4096


@pytest.mark.parametrize("limits, expected", [
    ("limits = 1\n", "limits = 1: must be a table ([limits])"),
    ("[limits]\nmemory_mib = 0\n", "limits.memory_mib = 0: must be an integer from 1 to 128"),
    ("[limits]\nmemory_mib = 129\n",
     "limits.memory_mib = 129: must be an integer from 1 to 128"),
    ("[limits]\nmemory_mib = true\n",
     "limits.memory_mib = True: must be an integer from 1 to 128"),
    ('[limits]\nmemory_mib = "16"\n',
     "limits.memory_mib = '16': must be an integer from 1 to 128"),
    ("[limits]\ntimeout_ms = 60001\n",
     "limits.timeout_ms = 60001: must be an integer from 1 to 60000"),
    ("[limits]\ntimeout_ms = 1.5\n",
     "limits.timeout_ms = 1.5: must be an integer from 1 to 60000"),
])
def test_limits_rules(limits, expected):
    assert problems(HEAD + limits) == [expected]


def test_limits_at_the_caps_are_allowed():
    manifest = parse(HEAD + "[limits]\nmemory_mib = 128\ntimeout_ms = 60000\n")
    assert (manifest.memory_mib, manifest.timeout_ms) == (128, 60_000)


def test_unknown_keys_are_warnings_not_problems():
    manifest = parse(HEAD + 'workers_dev = true\n[build]\ncommand = "x"\n'
                     "[limits]\ncpu_ms = 5\n")
    assert manifest.warnings == ("unknown key 'workers_dev' is ignored",
                                 "unknown key 'build' is ignored",
                                 "unknown key 'limits.cpu_ms' is ignored")


def test_a_long_value_is_shown_shortened():
    found = problems(f'name = "{"X" * 200}"\nmain = "m.ts"\n')
    assert found[0].startswith("name = '" + "X" * 76 + "...: must be")
