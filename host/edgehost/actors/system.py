"""Route an actor call and run it as one turn: binding -> type -> owner -> activation.

A call resolves the binding in the *caller's* manifest to a type, the type to the function
that owns it on the *caller's* account, and (account, type, name) to the one activation. The
caller's thread then waits its turn in the activation's mailbox and runs the turn itself:
instantiate and init on first use, run the method against a write buffer, commit the buffer
durably (group commit), and only then return the result.
"""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass

from edgehost.actors import errors
from edgehost.actors.directory import Activation, ActorDirectory
from edgehost.actors.errors import ActorError
from edgehost.actors.mailbox import MailboxFull
from edgehost.config import ActorLimits
from edgehost.function_logs import FunctionLogs
from edgehost.metrics import Metrics
from edgehost.registry.functions import Deployment, Functions
from edgehost.sandbox.abi import ACTOR_CALL_EXPORT, ACTOR_INIT_EXPORT, AbiError, Status
from edgehost.sandbox.engine import InvocationResult, Outcome, Sandbox
from edgehost.sandbox.invocation import Invocation
from edgehost.sandbox.slots import ExecutionSlots
from edgehost.storage.actor_storage import ActorStorage, InstanceId
from edgehost.storage.group_commit import GroupCommitter
from edgehost.storage.turn import Turn, check_json

_U32 = struct.Struct("<I")


def _frame(*parts: bytes) -> bytes:
    return b"".join(_U32.pack(len(p)) + p for p in parts)


@dataclass(frozen=True)
class BoundCaller:
    """The `actor_call` capability of one guest invocation: its account, its own manifest's
    bindings, and the instances already in its call chain."""

    system: ActorSystem
    account_id: str
    bindings: dict[str, str]
    chain: frozenset[InstanceId]

    def call(self, binding: bytes, name: bytes, method: bytes, args: bytes) -> bytes:
        return self.system.call(self, binding, name, method, args)


class ActorSystem:
    def __init__(self, limits: ActorLimits, functions: Functions, sandbox: Sandbox,
                 storage: ActorStorage, committer: GroupCommitter, slots: ExecutionSlots,
                 logs: FunctionLogs, metrics: Metrics) -> None:
        self._limits = limits
        self._slots = slots
        self._functions = functions
        self._sandbox = sandbox
        self._storage = storage
        self._committer = committer
        self._logs = logs
        self._metrics = metrics
        self.directory = ActorDirectory(limits, self._evicted)
        metrics.gauge("edgehost_actor_live_activations", lambda: len(self.directory))
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="edgehost-actor-reaper",
                                        daemon=True)

    def start(self) -> None:
        self._reaper.start()

    def close(self) -> None:
        self._stop.set()
        if self._reaper.is_alive():
            self._reaper.join()
        self.directory.evict_all()

    def _reap(self) -> None:
        interval = min(max(self._limits.idle_eviction_s / 4, 0.05), 5.0)
        while not self._stop.wait(interval):
            self.directory.evict_idle(time.monotonic())

    def _evicted(self, activation: Activation, reason: str) -> None:
        self._metrics.inc("edgehost_actor_evictions_total", {"reason": reason})

    def live_names(self, account_id: str, type_: str) -> list[str]:
        return self.directory.live_names(account_id, type_)

    def instance_names(self, account_id: str, type_: str, *, after: str | None,
                       limit: int) -> list[str]:
        return self._storage.instance_names(account_id, type_, after=after, limit=limit)

    def caller_for(self, deployment: Deployment,
                   chain: frozenset[InstanceId] = frozenset()) -> BoundCaller:
        return BoundCaller(self, deployment.function.account_id, deployment.bindings, chain)

    # ------------------------------------------------------------------ call

    def call(self, caller: BoundCaller, binding: bytes, name: bytes, method: bytes,
             args: bytes) -> bytes:
        """Entry point of the `actor_call` import. Raises AbiError for every failure."""
        try:
            result = self._call(caller, _text(binding, "binding"), name, _text(method, "method"),
                                args)
        except ActorError as e:
            self._metrics.inc("edgehost_actor_calls_total", {"outcome": e.name})
            raise e.to_abi() from None
        self._metrics.inc("edgehost_actor_calls_total", {"outcome": "ok"})
        return result

    def _call(self, caller: BoundCaller, binding: str, raw_name: bytes, method: str,
              args: bytes) -> bytes:
        type_ = caller.bindings.get(binding)
        if type_ is None:
            raise errors.unknown_binding(binding)
        name = self._check_name(raw_name)
        if method.startswith("_"):
            raise errors.private_method(type_, method)
        parsed = check_json(args, "the argument list")
        if not isinstance(parsed, list):
            raise AbiError(Status.CODEC_ERROR, "the argument list must be a JSON array")
        key = InstanceId(caller.account_id, type_, name)
        if key in caller.chain:
            raise errors.deadlock(type_, name)
        budget_ms = self._limits.call_timeout_ms
        deadline = time.monotonic() + budget_ms / 1000
        while True:
            owner = self._functions.owner_deployment(caller.account_id, type_)
            if owner is None:
                raise errors.unresolved_binding(binding, type_)
            if method not in owner.actor_classes.get(type_, ()):
                raise errors.unknown_method(type_, method)
            activation = self.directory.get(key, owner)
            try:
                with self._slots.released():
                    acquired = activation.mailbox.acquire(deadline - time.monotonic())
            except MailboxFull as full:
                raise errors.overloaded(type_, name, full.args[0]) from None
            if not acquired:
                raise errors.timeout(type_, name, method, budget_ms)
            hold = _MailboxHold(activation)
            try:
                if activation.dropped or self.directory.get(key, owner) is not activation:
                    continue  # replaced or dropped while we waited: go round again
                if activation.predecessor is not None:
                    self._drain(activation.predecessor, deadline, type_, name, method, budget_ms)
                    activation.predecessor = None
                chain = caller.chain | {key}
                if activation.instance is None:
                    self._activate(activation, chain, deadline)
                return self._turn(activation, hold, method, args, chain, deadline, budget_ms)
            finally:
                hold.release()

    def _check_name(self, raw: bytes) -> str:
        if not raw or len(raw) > self._limits.max_name_bytes:
            raise errors.bad_name(f"instance names must be 1-{self._limits.max_name_bytes} "
                                  f"bytes, got {len(raw)}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.bad_name("instance name is not valid UTF-8") from None

    def _drain(self, old: Activation, deadline: float, type_: str, name: str, method: str,
               budget_ms: int) -> None:
        """Wait for an older revision's activation to finish its call, then drop it."""
        with self._slots.released():
            acquired = old.mailbox.acquire(deadline - time.monotonic())
        if not acquired:
            raise errors.timeout(type_, name, method, budget_ms)
        try:
            old.close_instance()
            self.directory.forget(old)
        finally:
            old.mailbox.release()
        self._metrics.inc("edgehost_actor_evictions_total", {"reason": "redeploy"})

    # ------------------------------------------------------------------ turns

    def _invocation(self, activation: Activation, payload: bytes, turn: Turn,
                    chain: frozenset[InstanceId]) -> Invocation:
        owner = activation.deployment
        return Invocation(input=payload, limits=self._sandbox.limits, env_vars=owner.env_vars,
                          storage=turn, actors=self.caller_for(owner, chain))

    def _activate(self, activation: Activation, chain: frozenset[InstanceId],
                  deadline: float) -> None:
        """First turn of an activation: instantiate, construct the class (may use storage)."""
        key, owner = activation.key, activation.deployment
        budget_ms = min(self._limits.init_timeout_ms, _remaining_ms(deadline))
        instance = self._sandbox.new_instance(owner.compiled, owner.memory_limit_bytes)
        turn = Turn(self._storage, key, self._limits)
        invocation = self._invocation(activation, _frame(key.type.encode(), key.name.encode()),
                                      turn, chain)
        result = instance.run(ACTOR_INIT_EXPORT, invocation, budget_ms)
        self._metrics.inc("edgehost_actor_activations_total")
        if result.outcome is Outcome.OK:
            try:
                self._commit(turn)
            except ActorError:  # the constructor's writes were not saved: start over next call
                instance.close()
                self.directory.forget(activation)
                raise
            activation.instance = instance
            self._log(owner, result, None)
            return
        instance.close()
        activation.close_instance()
        self.directory.forget(activation)
        error_id = self._log(owner, result, f"{key.type}({key.name!r}) init")
        if result.outcome is Outcome.TIMEOUT:
            raise errors.init_timeout(key.type, key.name, budget_ms)
        raise errors.method_failed(key.type, key.name, "constructor",
                                   _failure_message(result, error_id))

    def _turn(self, activation: Activation, hold: _MailboxHold, method: str, args: bytes,
              chain: frozenset[InstanceId], deadline: float, budget_ms: int) -> bytes:
        key, owner = activation.key, activation.deployment
        turn = Turn(self._storage, key, self._limits)
        invocation = self._invocation(activation, _frame(method.encode(), args), turn, chain)
        assert activation.instance is not None
        result = activation.instance.run(ACTOR_CALL_EXPORT, invocation,
                                         _remaining_ms(deadline))
        if result.outcome is Outcome.OK:
            output = result.output
            try:
                check_json(output, f"the result of {key.type}.{method}")
            except AbiError as e:
                self._drop(activation)
                raise errors.codec(e.detail) from None
            try:
                self._commit(turn, hold)  # durable before the reply leaves
            except ActorError:
                self._drop(activation)  # its memory ran ahead of what was saved
                raise
            self._log(owner, result, None)
            return output
        # Nothing of a failed turn is committed: its buffer is dropped with it.
        error_id = self._log(owner, result, f"{key.type}({key.name!r}).{method}")
        if result.outcome is Outcome.TIMEOUT:
            self._drop(activation)
            raise errors.timeout(key.type, key.name, method, budget_ms)
        if result.outcome is Outcome.TRAP:
            self._drop(activation)  # its heap may be mid-update: memory is a cache
        raise errors.method_failed(key.type, key.name, method,
                                   _failure_message(result, error_id))

    def _commit(self, turn: Turn, hold: _MailboxHold | None = None) -> None:
        with self._slots.released():  # waiting for the fsync is not guest work
            if turn.has_writes:
                try:
                    self._committer.commit(turn.apply)
                except Exception as e:  # nothing of the turn was saved
                    raise errors.commit_failed(turn.instance.type, turn.instance.name, e) from e
            if hold is not None:
                # The instance is done with: let the next call in before this thread
                # competes for an execution slot to return to its caller.
                hold.release()

    def _drop(self, activation: Activation) -> None:
        activation.close_instance()
        self.directory.forget(activation)
        self._metrics.inc("edgehost_actor_evictions_total", {"reason": "failed"})

    def _log(self, owner: Deployment, result: InvocationResult, failed: str | None) -> str | None:
        failure = None if failed is None else \
            {"outcome": result.outcome.value, "actor_call": failed, "detail": result.detail}
        return self._logs.record(owner.function.func_id, result.invocation, failure=failure)


class _MailboxHold:
    """The mailbox token of one call; released exactly once, as early as is safe."""

    def __init__(self, activation: Activation) -> None:
        self._activation = activation
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._activation.last_used = time.monotonic()
            self._activation.mailbox.release()


def _remaining_ms(deadline: float) -> int:
    return max(int((deadline - time.monotonic()) * 1000), 1)


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AbiError(Status.INVALID_ARGUMENT, f"{what} is not valid UTF-8") from None


def _failure_message(result: InvocationResult, error_id: str | None) -> str:
    message = result.invocation.error_message
    if message:
        return message
    return f"the method failed ({result.outcome.value}); see the owner's log, {error_id}"
