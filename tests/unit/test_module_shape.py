"""The shape check reads every encoding wasmtime accepts, counts what it says it counts, and
its defaults admit the real guests they were chosen from."""

import pytest
import wasmtime
from edgehost.config import SandboxLimits, ShipLimits
from edgehost.sandbox.module_shape import ShapeCheck
from edgehost.sandbox.wasm_reader import MalformedWasm

from tests.conftest import EXAMPLES, WAT_DIR, wat
from tests.wasm_encoder import guest

DEFAULTS = ShapeCheck(ShipLimits(), SandboxLimits())


def _valid(source: str) -> bytes:
    module = bytes(wasmtime.wat2wasm(source))
    wasmtime.Module.validate(wasmtime.Engine(), module)  # wasmtime accepts it
    return module


@pytest.mark.parametrize("name, shape", [
    # The figures ShipLimits' defaults are based on (see its docstring).
    ("StarlingMonkey", dict(functions=19_852, types=172, exports=21, imports=0, globals_=7,
                            data_segments=6_714, tables=((7_690, 7_690),), element_segments=1,
                            element_items=7_689, custom_sections=4)),
    ("QuickJS-NG", dict(functions=1_512, types=107, exports=8, globals_=2, data_segments=2,
                        tables=((588, 588),), element_segments=1, element_items=587,
                        custom_sections=9)),
])
def test_the_defaults_admit_the_javascript_engines_they_were_sized_for(name, shape):
    assert DEFAULTS.problems(guest(**shape)) == []


def test_every_test_guest_and_example_passes():
    modules = [wat(p.stem) for p in WAT_DIR.glob("*.wat")]
    modules += [p.read_bytes() for p in EXAMPLES.glob("*/build/*.wasm")]
    assert modules
    for module in modules:
        assert DEFAULTS.problems(module) == []


# Encodings past the MVP that wasmtime 50 accepts by default; the reader must step over each.
@pytest.mark.parametrize("source", [
    # a table with an initialiser expression (function references)
    '(module (type $f (func)) (func $a) (table 3 10 (ref null $f) (ref.func $a)))',
    # 64-bit tables and memories, a shared memory
    '(module (table i64 2 20 funcref) (memory i64 1 2))',
    '(module (memory 1 1 shared))',
    # every element segment form (flags 0-7)
    '''(module (table $t 10 funcref) (table $u 10 funcref) (func $a) (func $b)
        (elem (i32.const 0) $a $b)
        (elem func $a)
        (elem (table $u) (i32.const 1) func $b)
        (elem declare func $a)
        (elem (i32.const 2) funcref (ref.func $a) (ref.null func))
        (elem funcref (ref.func $b))
        (elem (table $u) (i32.const 3) funcref (ref.func $a))
        (elem declare funcref (ref.func $b)))''',
    # constant expressions: extended-const, GC, SIMD, globals
    '''(module (type $s (struct (field i32))) (type $a (array i32))
        (global $g i32 (i32.const 7))
        (global i32 (i32.add (global.get $g) (i32.mul (i32.const 2) (i32.const 3))))
        (global i64 (i64.sub (i64.const -1) (i64.const 9223372036854775807)))
        (global f32 (f32.const 1.5)) (global f64 (f64.const -2.5))
        (global v128 (v128.const i32x4 1 2 3 4))
        (global (ref null $s) (struct.new $s (i32.const 1)))
        (global (ref null $s) (struct.new_default $s))
        (global (ref null $a) (array.new_fixed $a 2 (i32.const 1) (i32.const 2)))
        (global (ref null $a) (array.new $a (i32.const 0) (i32.const 3)))
        (global i31ref (ref.i31 (i32.const 5)))
        (global (ref null any) (ref.null any)))''',
    # data segments: active, passive, with a memory index; exception tags
    '(module (memory 1) (data (i32.const 0) "a") (data "b") (data (memory 0) (i32.const 1) "c")'
    ' (tag (param i32)))',
])
def test_encodings_wasmtime_accepts_are_read(source):
    assert DEFAULTS.problems(_valid(source)) == []


def test_element_items_are_counted_across_segments_in_every_form():
    module = _valid('''(module (table 10 funcref) (func $a)
        (elem (i32.const 0) $a $a $a)
        (elem funcref (ref.func $a) (ref.null func))
        (elem declare func $a))''')
    assert ShapeCheck(ShipLimits(max_element_items=6), SandboxLimits()).problems(module) == []
    problems = ShapeCheck(ShipLimits(max_element_items=5), SandboxLimits()).problems(module)
    assert problems == ["element section: more than 5 elements in all segments, above the "
                        "host's limit of 5"]


def test_table_limits_are_read_from_a_table_with_an_initialiser():
    module = _valid('(module (type $f (func)) (func $a) (table 50 60 (ref null $f) (ref.func $a))'
                    ' (table i64 5 funcref))')
    check = ShapeCheck(ShipLimits(), SandboxLimits(max_table_elements=55))
    assert check.problems(module) == [
        "table section: table 0 has a maximum size of 60 elements, above the host's limit of "
        "55 (a table without a maximum may grow to the limit)"]


def test_every_cap_passed_is_reported_together():
    problems = DEFAULTS.problems(guest(functions=60_000, exports=2_000, globals_=1_500))
    assert [p.split(":")[0] for p in problems] == ["function section", "global section",
                                                   "export section"]


@pytest.mark.parametrize("module, reason", [
    (b"", "no \\0asm header"),
    (b"\0asm\x0d\0\x01\0", "components and other versions"),
    (b"\0asm\x01\0\0\0\x01\x05\x01", "run past"),
    (b"\0asm\x01\0\0\0\x03\x01\x00\x03\x01\x00", "appears more than once"),
    (b"\0asm\x01\0\0\0\x2a\x00", "unknown section id 42"),
    (b"\0asm\x01\0\0\0\x03\x05\xff\xff\xff\xff\xff", "over 32 bits"),
    (b"\0asm\x01\0\0\0\x04\x04\x01\x70\x80\x01", "unknown limits flags"),
    (b"\0asm\x01\0\0\0\x09\x05\x01\x00\x01\x00\x0b", "not allowed in a constant expression"),
])
def test_malformed_modules_are_reported_not_misread(module, reason):
    with pytest.raises(MalformedWasm, match=reason.replace("\\", "\\\\")):
        DEFAULTS.problems(module)
