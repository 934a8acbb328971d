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
    ACTOR_ERROR = -7
    CODEC_ERROR = -8
    INTERNAL = -100


class AbiError(Exception):
    """Raised by host-side code to make the current import return `status` to the guest.

    `detail` is parked in the guest's result slot, so the guest can surface it as a message.
    """

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


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
    # actor storage: only inside an actor turn
    "storage_get": _sig("i32 i32"),
    "storage_put": _sig("i32 i32 i32 i32"),
    "storage_delete": _sig("i32 i32"),
    "storage_list": _sig("i32 i32"),
    "storage_delete_all": _sig(""),
    "storage_txn_begin": _sig(""),
    "storage_txn_commit": _sig(""),
    "storage_txn_rollback": _sig(""),
    # actor calls
    "actor_call": _sig("i32 i32 i32 i32 i32 i32 i32 i32"),
}

FETCH_EXPORT = "edgehost_fetch"
ACTOR_INIT_EXPORT = "edgehost_actor_init"
ACTOR_CALL_EXPORT = "edgehost_actor_call"
ACTORS_SECTION = "edgehost.actors"
INITIALIZE_EXPORT = "_initialize"
MEMORY_EXPORT = "memory"

LOG_LEVELS = ("debug", "info", "warn", "error")
