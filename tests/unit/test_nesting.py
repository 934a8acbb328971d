"""The nesting measure agrees with the parsers it protects, also on hostile text (built so that
a scan which backtracks or restarts inside strings would take minutes on it)."""

import json
import random
import tomllib

import pytest
from edgehost import nesting


def _depth(value) -> int:
    """Reference: depth of a parsed value, recursively (fine for the shallow values here)."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _random_value(rng: random.Random, depth: int):
    kind = rng.randrange(6 if depth < 12 else 3)
    if kind == 0:
        return rng.randrange(-1000, 1000)
    if kind == 1:  # strings full of brackets, quotes and escapes: none of them may count
        return "".join(rng.choice('[]{}"\\\n\t ab€') for _ in range(rng.randrange(8)))
    if kind == 2:
        return rng.choice([None, True, False, 1.5])
    if kind in (3, 4):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {str(rng.randrange(100)): _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_json_depth_matches_the_parsed_value():
    rng = random.Random(7)
    for _ in range(3000):
        value = _random_value(rng, 0)
        for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
            assert nesting.json_depth(text.encode()) == _depth(value), text


def test_check_json_refuses_only_above_the_limit():
    nesting.check_json(b"[" * 64 + b"]" * 64, "v", 64)
    nesting.check_json(b'["' + b"[" * 100 + b'"]', "v", 64)  # brackets in a string
    with pytest.raises(nesting.TooDeep) as refused:
        nesting.check_json(b'{"a": ' + b"[" * 65 + b"]" * 65 + b"}", "the value", 64)
    assert str(refused.value) == "the value nests 66 levels deep; the limit is 64"


@pytest.mark.parametrize("text, depth", [
    (b'"' + b'\\"' * 60_000 + b"[" * 100, 0),  # one unterminated string: json reads no bracket
    (b"[" + b'"\\' * 60_000, 1),  # backslashes to the end
    (b"[" * 130_000, 130_000),
    (b'["' * 60_000, 30_000),  # ["[" ["[" ...: every other bracket is inside a string
])
def test_json_depth_of_hostile_text(text: bytes, depth: int):
    assert nesting.json_depth(text) == depth


def test_toml_depth_matches_the_parsed_document():
    documents = {
        'a = 1': 0, '[a]\nb = 1': 1, 'a = [[1]]': 2, '[[a]]\nx = 1': 2, 'a.b.c = 1': 2,
        'x = "[[[" # [[[\ny = \'[[[\'': 0, 'x = """ [[[ "" """\ny = [[2]]': 2,
        "x = '''[['''' \ny = [1]": 1, 'x = { a = [1, { b = 2 }] }': 3,
        '"k[" = [[[1]]]': 3, 'x = """a\\"""" \ny = [[[[1]]]]': 4,
    }
    for text, depth in documents.items():
        assert nesting._structure_depth(tomllib.loads(text)) == depth, text
        nesting.load_toml(text, "t", depth)
        if depth:
            with pytest.raises(nesting.TooDeep):
                nesting.load_toml(text, "t", depth - 1)


@pytest.mark.parametrize("text, depth", [
    ('x = "' + '\\"' * 30_000 + "[[", 0),  # unterminated: tomllib stops there, so does the scan
    ('x = """' + "a" * 60_000 + "[[", 0),
    ('"\\"' * 20_000 + "[[", 0),
    ("x = '''" + "'" * 2 + "a" * 60_000 + "[[", 0),
    ("[" * 60_000, 60_000),
])
def test_toml_depth_of_hostile_text(text: str, depth: int):
    assert nesting._toml_bracket_depth(text) == depth
