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


def too_many_activations(account_id: str, live: int, limit: int) -> ActorError:
    return ActorError("ActorOverloadedError",
                      f"this account has {live} live actor instances, all busy, and may keep "
                      f"at most {limit} (max_activations_per_account); retry later")


def too_many_waiting(waiting: int, limit: int) -> ActorError:
    return ActorError("ActorOverloadedError",
                      f"this account already has {waiting} actor calls waiting in mailboxes, "
                      f"the limit (max_waiting_calls_per_account is {limit})")


def call_depth(type_: str, name: str, depth: int, limit: int) -> ActorError:
    return ActorError("ActorCallDepthError",
                      f"calling {type_}({name!r}) would make the actor call chain {depth + 1} "
                      f"deep; the limit is {limit} (max_call_depth)")


def output_gate(type_: str, name: str, cause: BaseException) -> ActorError:
    """A call saw writes (its own or an earlier call's) that could not be saved."""
    cause = getattr(cause, "cause", cause)  # a dependent commit: name the first failure
    detail = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
    return ActorError("ActorOutputGateError",
                      f"{type_}({name!r}): storage could not be made durable, so this result "
                      f"is withdrawn and the instance restarts from what is on disk ({detail})")


def commit_failed(type_: str, name: str, error: BaseException) -> ActorError:
    """A call's own writes could not be saved, so the call failed and its reply is this
    error: a refusal names its limit; anything else is an output-gate failure."""
    if isinstance(error, StorageQuotaExceeded):
        return ActorError("StorageQuotaError", str(error))
    if isinstance(error, StorageFull):
        return ActorError("StorageFullError", f"{type_}({name!r}): {error}; nothing of the "
                          "call was saved")
    return output_gate(type_, name, error)


def unreachable(type_: str, name: str, detail: str) -> ActorError:
    return ActorError("ActorUnavailableError",
                      f"{type_}({name!r}) lives on a worker that could not be reached: {detail}")


def owner_unavailable(type_: str, why: str) -> ActorError:
    return ActorError("ActorUnavailableError", f"the owner of actor type {type_!r} cannot run: "
                      f"{why}")


def no_instance_slot(type_: str, name: str) -> ActorError:
    return ActorError("ActorOverloadedError",
                      f"{type_}({name!r}) cannot be activated: the host has no room for another "
                      "guest instance right now (instance_pool_slots); retry later")
