"""A module's shape (how many functions, exports, tables... it declares), read and capped at
ship before wasmtime sees the bytes.

Every count here drives work the host does for the module: compiling each function, wrapping
each import and export in a Python object (wasmtime-py does, on every enumeration),
initialising each global, table element and data segment on every instantiation. wasmtime's
own limits are far above what a host can afford per tenant (a million functions, a hundred
thousand exports), and its compiler and instantiation run in native code where no epoch
deadline can stop them. Reading the counts is cheap: a section header and one LEB128 each,
plus a walk over tables and element segments that stops as soon as a cap is passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgehost.config import SandboxLimits, ShipLimits
from edgehost.sandbox.wasm_reader import (
    MalformedWasm,
    Reader,
    read_limits,
    read_ref_type,
    sections,
    skip_const_expr,
)

CUSTOM, TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT, CODE, DATA, \
    DATA_COUNT, TAG = range(14)
SECTION_NAMES = {CUSTOM: "custom", TYPE: "type", IMPORT: "import", FUNCTION: "function",
                 TABLE: "table", MEMORY: "memory", GLOBAL: "global", EXPORT: "export",
                 START: "start", ELEMENT: "element", CODE: "code", DATA: "data",
                 DATA_COUNT: "data count", TAG: "tag"}
_TABLE_WITH_INIT_EXPR = 0x40  # function references: `0x40 0x00 tabletype expr`
# Sections whose cost is their entry count, the first LEB128 of the section.
_COUNTED = {TYPE: "types", IMPORT: "imports", FUNCTION: "functions", CODE: "functions",
            MEMORY: "memories", GLOBAL: "globals", EXPORT: "exports", DATA: "data_segments",
            DATA_COUNT: "data_segments", TAG: "tags"}
# Counts whose walk stops at the cap, so a message can only say "more than" the limit.
_PARTIAL_COUNTS = {"custom_sections", "element_items"}


@dataclass
class ModuleShape:
    """What a module declares (its own definitions; imports are counted apart)."""

    types: int = 0
    imports: int = 0
    functions: int = 0
    tables: int = 0
    memories: int = 0
    globals: int = 0
    exports: int = 0
    element_segments: int = 0
    element_items: int = 0  # across every element segment
    data_segments: int = 0
    tags: int = 0
    custom_sections: int = 0


@dataclass(frozen=True)
class _Cap:
    field: str  # in ModuleShape
    where: str  # the section, as a message names it
    noun: str
    limit: int


def _caps(ship: ShipLimits, sandbox: SandboxLimits) -> list[_Cap]:
    # Tables and memories are capped by the per-instance limits the store enforces at run
    # time: a module above them could be shipped but would fail every request.
    return [
        _Cap("types", "type section", "types", ship.max_types),
        _Cap("imports", "import section", "imports", ship.max_imports),
        _Cap("functions", "function section", "functions", ship.max_functions),
        _Cap("tables", "table section", "tables", sandbox.max_tables),
        _Cap("memories", "memory section", "memories", sandbox.max_memories),
        _Cap("globals", "global section", "globals", ship.max_globals),
        _Cap("exports", "export section", "exports", ship.max_exports),
        _Cap("element_segments", "element section", "segments", ship.max_element_segments),
        _Cap("element_items", "element section", "elements in all segments",
             ship.max_element_items),
        _Cap("data_segments", "data section", "segments", ship.max_data_segments),
        _Cap("tags", "tag section", "tags", ship.max_tags),
        _Cap("custom_sections", "module", "custom sections", ship.max_custom_sections),
    ]


class ShapeCheck:
    """Reads a module's shape and reports every count above the host's caps."""

    def __init__(self, ship: ShipLimits, sandbox: SandboxLimits) -> None:
        self._caps = _caps(ship, sandbox)
        self._limit = {cap.field: cap.limit for cap in self._caps}
        self._max_table_elements = sandbox.max_table_elements

    def problems(self, wasm: bytes) -> list[str]:
        """One sentence per cap exceeded, naming the section, the count and the limit.

        Raises MalformedWasm if the bytes cannot be read as a module. Reading stops at the
        first cap passed in a part whose walk costs more than a header (custom sections, table
        and element entries), so a hostile module costs at most the caps' worth of work.
        """
        shape = ModuleShape()
        problems: list[str] = []
        seen: set[int] = set()
        for section in sections(wasm):
            if section.id != CUSTOM:
                if section.id in seen:
                    raise MalformedWasm(f"the {SECTION_NAMES.get(section.id, section.id)} "
                                        f"section appears more than once")
                seen.add(section.id)
            reader = section.reader(wasm)
            if section.id == CUSTOM:
                shape.custom_sections += 1
                if shape.custom_sections > self._limit["custom_sections"]:
                    break
            elif section.id == TABLE:
                problems += self._read_tables(reader, shape)
            elif section.id == ELEMENT:
                self._read_elements(reader, shape)
            elif section.id in _COUNTED:
                name = _COUNTED[section.id]
                # Functions are declared in one section and defined in another, data segments
                # likewise; each is counted by the larger of its two counts.
                setattr(shape, name, max(getattr(shape, name), reader.uleb()))
            elif section.id != START:
                raise MalformedWasm(f"unknown section id {section.id}")
        for cap in self._caps:
            count = getattr(shape, cap.field)
            if count > cap.limit:
                problems.append(f"{cap.where}: {_count(count, cap)} {cap.noun}, above the "
                                f"host's limit of {cap.limit:,}")
        return problems

    def refusals(self, wasm: bytes) -> list[str]:
        """Why the module is refused for its shape (bytes that are not a module included), or
        nothing."""
        try:
            return self.problems(wasm)
        except MalformedWasm as e:
            return [f"module is not valid WebAssembly: {e}"]

    def _read_tables(self, reader: Reader, shape: ModuleShape) -> list[str]:
        shape.tables = reader.uleb()
        if shape.tables > self._limit["tables"]:
            return []  # refused for the count; its entries are not worth reading
        problems = []
        limit = self._max_table_elements
        for index in range(shape.tables):
            with_init = reader.peek() == _TABLE_WITH_INIT_EXPR
            if with_init:
                reader.skip(2)
            read_ref_type(reader)
            limits = read_limits(reader)
            if with_init:
                skip_const_expr(reader)
            if limits.minimum > limit:
                problems.append(f"table section: table {index} has an initial size of "
                                f"{limits.minimum:,} elements, above the host's limit of "
                                f"{limit:,}")
            elif limits.maximum is not None and limits.maximum > limit:
                problems.append(f"table section: table {index} has a maximum size of "
                                f"{limits.maximum:,} elements, above the host's limit of "
                                f"{limit:,} (a table without a maximum may grow to the limit)")
        return problems

    def _read_elements(self, reader: Reader, shape: ModuleShape) -> None:
        shape.element_segments = reader.uleb()
        if shape.element_segments > self._limit["element_segments"]:
            return
        for _ in range(shape.element_segments):
            # Flags (core spec 5.5.12): bit 0 passive or declarative, bit 1 an explicit table
            # index (active) or declarative, bit 2 items given as expressions.
            flags = reader.uleb()
            if flags > 7:
                raise MalformedWasm(f"unknown element segment flags {flags}")
            if not flags & 1:
                if flags & 2:
                    reader.uleb()  # table index
                skip_const_expr(reader)  # offset
            if flags & 3:
                if flags & 4:
                    read_ref_type(reader)
                else:
                    reader.byte()  # element kind
            items = reader.uleb()
            shape.element_items += items
            if shape.element_items > self._limit["element_items"]:
                return  # refused; the rest is not worth reading
            for _ in range(items):
                if flags & 4:
                    skip_const_expr(reader)
                else:
                    reader.uleb()  # function index


def _count(count: int, cap: _Cap) -> str:
    return f"more than {cap.limit:,}" if cap.field in _PARTIAL_COUNTS else f"{count:,}"
