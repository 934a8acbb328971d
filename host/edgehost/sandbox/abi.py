"""ABI v1 as data: the one table of host imports, guest exports and status codes.

`guest-sdk/ABI.md` is the prose form of this table and `guest-sdk/abi/all_imports.wat` the
guest-side form; `tests/contract/test_abi_contract.py` holds the three together.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

IMPORT_MODULE = "edgehost_v1"


class Status(IntEnum):
    """What a host import returns on failure (success is >= 0)."""

    OK = 0
    NOT_FOUND = -1
    OUT_OF_BOUNDS = -2
    TOO_LARGE = -3
    INVALID_ARGUMENT = -4
    LIMIT_EXCEEDED = -5
    NOT_PERMITTED = -6
    INTERNAL = -100


@dataclass(frozen=True)
class ImportSignature:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def render(self) -> str:
        """Human form used in error messages: `(i32, i32) -> i32`."""
        return f"({', '.join(self.params)}) -> {', '.join(self.results) or '()'}"


def _sig(params: str, result: str = "i32") -> ImportSignature:
    return ImportSignature(tuple(params.split()), (result,) if result else ())


# name -> signature. Implementations live in `imports.py` under the same names.
HOST_IMPORTS: dict[str, ImportSignature] = {
    "input_len": _sig(""),
    "input_read": _sig("i32 i32"),
    "output_write": _sig("i32 i32"),
    "result_read": _sig("i32 i32"),
    "env_get": _sig("i32 i32"),
    "log": _sig("i32 i32 i32"),
    "set_error_message": _sig("i32 i32"),
    "clock_now_ms": _sig("", "i64"),
    "random_fill": _sig("i32 i32"),
}

FETCH_EXPORT = "edgehost_fetch"
INITIALIZE_EXPORT = "_initialize"
MEMORY_EXPORT = "memory"

LOG_LEVELS = ("debug", "info", "warn", "error")
