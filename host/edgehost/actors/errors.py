"""Actor errors. They reach the calling guest as values: JSON `{"name", "message"}`."""

from __future__ import annotations

import json

from edgehost.sandbox.abi import AbiError, Status
from edgehost.storage.lmdb_env import StorageFull
from edgehost.storage.usage import StorageQuotaExceeded


class ActorError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    def to_abi(self) -> AbiError:
        payload = json.dumps({"name": self.name, "message": self.message})
        return AbiError(Status.ACTOR_ERROR, payload)


def unknown_binding(binding: str) -> ActorError:
    return ActorError("ActorUnknownBindingError",
                      f"binding {binding!r} is not declared in this function's telnyx.toml")


def unresolved_binding(binding: str, type_: str) -> ActorError:
    return ActorError("ActorUnresolvedBindingError",
                      f"binding {binding!r}: no function on this account owns actor type "
                      f"{type_!r} yet; ship the function that exports the class")


def private_method(type_: str, method: str) -> ActorError:
    return ActorError("ActorPrivateMethodError",
                      f"{type_}.{method} is private (names starting with '_' are not callable)")


def unknown_method(type_: str, method: str) -> ActorError:
    return ActorError("ActorUnknownMethodError", f"{type_} has no public method {method!r}")


def overloaded(type_: str, name: str, depth: int) -> ActorError:
    return ActorError("ActorOverloadedError",
                      f"{type_}({name!r}) already has {depth} calls waiting")


def deadlock(type_: str, name: str) -> ActorError:
    return ActorError("ActorDeadlockError",
                      f"{type_}({name!r}) is already in this call chain; calling it again "
                      "would wait for itself")


def timeout(type_: str, name: str, method: str, budget_ms: int) -> ActorError:
    return ActorError("ActorMethodTimeoutError",
                      f"{type_}({name!r}).{method} did not finish within {budget_ms} ms")


def init_timeout(type_: str, name: str, budget_ms: int) -> ActorError:
    return ActorError("BlockConcurrencyTimeoutError",
                      f"{type_}({name!r}) did not finish initialising within {budget_ms} ms")


def method_failed(type_: str, name: str, method: str, message: str) -> ActorError:
    return ActorError("ActorMethodError", message or f"{type_}({name!r}).{method} failed")


def bad_name(reason: str) -> ActorError:
    return ActorError("ActorNameError", reason)


def codec(message: str) -> ActorError:
    return ActorError("CodecError", message)


def commit_failed(type_: str, name: str, error: Exception) -> ActorError:
    """A call's writes could not be saved, so the call failed and its reply is this error."""
    if isinstance(error, StorageQuotaExceeded):
        return ActorError("StorageQuotaError", str(error))
    if isinstance(error, StorageFull):
        return ActorError("StorageFullError", f"{type_}({name!r}): {error}; nothing of the "
                          "call was saved")
    return ActorError("StorageError", f"{type_}({name!r}): the call's writes could not be "
                      f"saved ({type(error).__name__}: {error}); nothing of the call was saved")
