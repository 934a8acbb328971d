"""Route an actor call and run it as one turn: binding -> type -> owner -> activation.

A call resolves the binding in the *caller's* manifest to a type, the type to the function
that owns it on the *caller's* account, and (account, type, name) to the one activation. The
caller waits its turn in the activation's mailbox (a future, not a thread) and then the turn
runs as a guest task on the scheduler: instantiate and init on first use, run the method
against a write buffer, hand the buffer to the committer. The mailbox passes to the next call
at once; this call's result is released only when the writes it saw are on disk (the output
gate, storage/output_gate.py).

Everything here runs on the worker's event loop. A call chain carries one deadline (the
caller's budget keeps running while it waits; a callee gets at most what is left), its depth
is bounded, and a call that would close a cycle of waits fails at once (actors/waits.py).
"""

from __future__ import annotations

import asyncio
import math
import struct
import time
from collections.abc import Awaitable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import NoReturn

from edgehost import nesting
from edgehost.actors import errors
from edgehost.actors.directory import Activation, ActorDirectory
from edgehost.actors.errors import ActorError
from edgehost.actors.mailbox import MailboxFull
from edgehost.actors.waits import WaitGraph
from edgehost.config import DEFAULT_MAX_NESTING_DEPTH, ActorLimits
from edgehost.function_logs import FunctionLogs
from edgehost.metrics import Metrics
from edgehost.registry.functions import Deployment, Functions
from edgehost.sandbox.abi import ACTOR_CALL_EXPORT, ACTOR_INIT_EXPORT, AbiError, Status
from edgehost.sandbox.compile_queue import CompileBusy
from edgehost.sandbox.engine import ModuleRejected, Sandbox
from edgehost.sandbox.guest import InvocationResult, Outcome
from edgehost.sandbox.invocation import Invocation
from edgehost.storage.actor_storage import ActorStorage, InstanceId
from edgehost.storage.group_commit import CommitTicket
from edgehost.storage.output_gate import OutputGate
from edgehost.storage.turn import Turn
from edgehost.workers.cluster import Cluster
from edgehost.workers.peers import PeerError

_U32 = struct.Struct("<I")


def _frame(*parts: bytes) -> bytes:
    return b"".join(_U32.pack(len(p)) + p for p in parts)


@dataclass(frozen=True)
class BoundCaller:
    """The `actor_call` capability of one guest invocation: its account, its own manifest's
    bindings, the instances already in its call chain (outermost first; the last one is the
    caller itself when it is an actor), and the chain's deadline (event loop time)."""

    system: ActorSystem
    account_id: str
    bindings: dict[str, str]
    chain: tuple[InstanceId, ...]
    deadline: float

    def call(self, binding: bytes, name: bytes, method: bytes, args: bytes) -> Awaitable[bytes]:
        return self.system.call(self, binding, name, method, args)


class ActorSystem:
    def __init__(self, limits: ActorLimits, functions: Functions, sandbox: Sandbox,
                 storage: ActorStorage, gate: OutputGate, logs: FunctionLogs,
                 metrics: Metrics, loader: Executor, cluster: Cluster | None = None) -> None:
        self._limits = limits
        self._loader = loader  # threads for blocking loads (deployments, modules)
        self._cluster = cluster
        self._functions = functions
        self._sandbox = sandbox
        self._scheduler = sandbox.scheduler
        self._storage = storage
        self._gate = gate
        self._logs = logs
        self._metrics = metrics
        self.directory = ActorDirectory(limits, self._evicted)
        self._waits = WaitGraph()
        self._waiting_by_account: dict[str, int] = {}
        self._reaper: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # set by start()
        gate.on_failure = self._commit_failed
        self._activation_seconds = metrics.summary("edgehost_actor_activation_seconds")
        self._init_seconds = metrics.summary("edgehost_actor_init_seconds")
        metrics.gauge("edgehost_actor_live_activations", lambda: len(self.directory))
        metrics.gauge("edgehost_actor_activation_memory_bytes",
                      lambda: self.directory.memory_bytes)

    def start(self) -> None:
        """Arm the idle reaper on the running event loop (the host's lifespan calls this)."""
        try:
            loop = self._loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (tools): nothing to reap
        interval = min(max(self._limits.idle_eviction_s / 4, 0.05), 5.0)

        def reap() -> None:
            self.directory.evict_idle(time.monotonic())
            self._reaper = loop.call_later(interval, reap)

        self._reaper = loop.call_later(interval, reap)

    def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        self.directory.evict_all()

    def _evicted(self, activation: Activation, reason: str) -> None:
        self._metrics.inc("edgehost_actor_evictions_total", {"reason": reason})

    def live_names(self, account_id: str, type_: str) -> list[str]:
        """From an admin thread: the live instances of a type, on every worker."""
        if self._loop is None:
            return self.directory.live_names(account_id, type_)
        return asyncio.run_coroutine_threadsafe(self._live_names(account_id, type_),
                                                self._loop).result(30)

    async def _live_names(self, account_id: str, type_: str) -> list[str]:
        names = set(self.directory.live_names(account_id, type_))
        cluster = self._cluster
        if cluster is not None:
            for reply, _ in await cluster.peers.broadcast(
                    "actor_live_names", {"account": account_id, "type": type_}):
                names.update(reply["names"])
        return sorted(names)

    def instance_names(self, account_id: str, type_: str, *, after: str | None,
                       limit: int) -> list[str]:
        return self._storage.instance_names(account_id, type_, after=after, limit=limit)

    def free_instance_slot(self, keep: Activation | None = None) -> bool:
        """Make room in a full instance pool by dropping the least recently used idle
        activation (memory is a cache); False if every activation is busy."""
        return self.directory.evict_one_idle(keep, "instance_pool")

    def caller_for(self, deployment: Deployment, deadline: float,
                   chain: tuple[InstanceId, ...] = ()) -> BoundCaller:
        return BoundCaller(self, deployment.function.account_id, deployment.bindings, chain,
                           deadline)

    # ------------------------------------------------------------------ call

    def call(self, caller: BoundCaller, binding: bytes, name: bytes, method: bytes,
             args: bytes) -> Awaitable[bytes]:
        """Entry point of the `actor_call` import. Checks what it can at once (raising
        AbiError, which the guest gets without waiting) and returns the call to await."""
        try:
            binding_s, method_s = _text(binding, "binding"), _text(method, "method")
            type_ = caller.bindings.get(binding_s)
            if type_ is None:
                raise errors.unknown_binding(binding_s)
            name_s = self._check_name(name)
            if method_s.startswith("_"):
                raise errors.private_method(type_, method_s)
            parsed = check_json(args, "the argument list")
            if not isinstance(parsed, list):
                raise AbiError(Status.CODEC_ERROR, "the argument list must be a JSON array")
            key = InstanceId(caller.account_id, type_, name_s)
            if key in caller.chain:
                raise errors.deadlock(type_, name_s)
            if len(caller.chain) >= self._limits.max_call_depth:
                raise errors.call_depth(type_, name_s, len(caller.chain),
                                        self._limits.max_call_depth)
        except ActorError as e:
            self._metrics.inc("edgehost_actor_calls_total", {"outcome": e.name})
            raise e.to_abi() from None
        return self._call(caller, key, binding_s, method_s, args)

    async def _call(self, caller: BoundCaller, key: InstanceId, binding: str, method: str,
                    args: bytes) -> bytes:
        try:
            result = await self._route(caller, key, binding, method, args)
        except ActorError as e:
            self._metrics.inc("edgehost_actor_calls_total", {"outcome": e.name})
            raise e.to_abi() from None
        self._metrics.inc("edgehost_actor_calls_total", {"outcome": "ok"})
        return result

    async def _route(self, caller: BoundCaller, key: InstanceId, binding: str, method: str,
                     args: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = min(caller.deadline, loop.time() + self._limits.call_timeout_ms / 1000)
        waiter = caller.chain[-1] if caller.chain else None  # the calling instance, if any
        cluster = self._cluster
        if waiter is not None:
            self._waits.add(waiter, key)  # kept where the caller's turn runs (its home)
        try:
            if cluster is not None and (home := cluster.home(key)) != cluster.index:
                return await self._forward(home, key, binding, method, args, caller.chain,
                                           deadline)
            return await self._serve(key, binding, method, args, caller.chain, deadline)
        finally:
            if waiter is not None:
                self._waits.remove(waiter)

    async def _serve(self, key: InstanceId, binding: str, method: str, args: bytes,
                     chain: tuple[InstanceId, ...], deadline: float) -> bytes:
        """Run a call on this worker, the instance's home."""
        loop = asyncio.get_running_loop()
        budget_ms = _ms_until(loop, deadline)
        waiter = chain[-1] if chain else None
        chain = chain + (key,)
        while True:
            owner = self._functions.cached_owner_deployment(key.account_id, key.type)
            if owner is None:  # not in memory: LMDB, maybe a module to load; off the loop
                try:
                    owner = await loop.run_in_executor(
                        self._loader, self._functions.owner_deployment, key.account_id,
                        key.type)
                except CompileBusy as e:
                    raise errors.owner_unavailable(
                        key.type, f"its module is waiting to be compiled; retry in "
                        f"{e.retry_after_s} s") from None
                except ModuleRejected:
                    raise errors.owner_unavailable(
                        key.type, "its module cannot be compiled within the host's limits") \
                        from None
            if owner is None:
                raise errors.unresolved_binding(binding, key.type)
            if method not in owner.actor_classes.get(key.type, ()):
                raise errors.unknown_method(key.type, method)
            activation = self.directory.get(key, owner)
            if waiter is not None and activation.mailbox.busy and \
                    await self._closes_cycle(waiter, key):
                raise errors.deadlock(key.type, key.name)
            if not await self._acquire(activation, deadline):
                raise errors.timeout(key.type, key.name, method, budget_ms)
            if activation.dropped or self.directory.lookup(key) is not activation:
                activation.mailbox.release()
                continue  # replaced or dropped while we waited: go round again
            # Nothing cancels this call (a caller dropped at its deadline leaves it to end by
            # itself, under the same deadline), so the turn always passes the token on.
            output, gate, own_writes = await self._hold(activation, method, args, chain,
                                                        deadline, budget_ms)
            if gate is not None:
                try:
                    await gate.future
                except Exception as e:  # noqa: BLE001 - not saved: withdraw the result
                    raise (errors.commit_failed(key.type, key.name, e) if own_writes
                           else errors.output_gate(key.type, key.name, e)) from None
            return output

    async def _closes_cycle(self, waiter: InstanceId, start: InstanceId, hops: int = 0) -> bool:
        """Would `waiter` waiting on `start` close a cycle of waits? Follows the chain of
        waits from `start`, asking an instance's home worker for its edge when it lives
        elsewhere (each instance's wait is recorded where its turn runs)."""
        cluster = self._cluster
        node: InstanceId | None = start
        while node is not None and hops <= self._limits.max_call_depth * 4:
            if node == waiter:
                return True
            if cluster is not None and (home := cluster.home(node)) != cluster.index:
                reply, _ = await cluster.peers.request(home, "actor_walk", {
                    "node": _id_json(node), "waiter": _id_json(waiter), "hops": hops})
                return bool(reply["cycle"])
            node = self._waits.waits_on(node)
            hops += 1
        return False

    async def _forward(self, home: int, key: InstanceId, binding: str, method: str,
                       args: bytes, chain: tuple[InstanceId, ...], deadline: float) -> bytes:
        """Send a call to the instance's home worker and wait for its answer there."""
        assert self._cluster is not None
        remaining_ms = _ms_until(asyncio.get_running_loop(), deadline)
        try:
            reply, result = await self._cluster.peers.request(home, "actor_call", {
                "key": _id_json(key), "binding": binding, "method": method,
                "chain": [_id_json(c) for c in chain], "remaining_ms": remaining_ms}, args)
        except PeerError as e:
            raise errors.unreachable(key.type, key.name, str(e)) from None
        if "actor_error" in reply:
            raise ActorError(*reply["actor_error"])
        if "abi_error" in reply:
            status, detail = reply["abi_error"]
            raise AbiError(Status(status), detail)
        return result

    # ------------------------------------------------------------------ peer handlers

    def serve_peers(self, cluster: Cluster) -> None:
        """Answer other workers: calls to instances that live here, and deadlock walks."""

        async def actor_call(header: dict, args: bytes) -> tuple[dict, bytes]:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + header["remaining_ms"] / 1000
            chain = tuple(_id_of(c) for c in header["chain"])
            try:
                result = await self._serve(_id_of(header["key"]), header["binding"],
                                           header["method"], args, chain, deadline)
            except ActorError as e:
                return {"actor_error": [e.name, e.message]}, b""
            except AbiError as e:
                return {"abi_error": [int(e.status), e.detail]}, b""
            return {}, result

        async def actor_walk(header: dict, _payload: bytes) -> tuple[dict, bytes]:
            node = _id_of(header["node"])
            nxt = self._waits.waits_on(node)
            cycle = nxt is not None and await self._closes_cycle(
                _id_of(header["waiter"]), nxt, header["hops"] + 1)
            return {"cycle": cycle}, b""

        async def live_names(header: dict, _payload: bytes) -> tuple[dict, bytes]:
            return {"names": self.directory.live_names(header["account"], header["type"])}, b""

        cluster.peers.handle("actor_call", actor_call)
        cluster.peers.handle("actor_walk", actor_walk)
        cluster.peers.handle("actor_live_names", live_names)

    async def _acquire(self, activation: Activation, deadline: float) -> bool:
        account = activation.key.account_id
        if activation.mailbox.try_acquire():
            return True
        waiting = self._waiting_by_account.get(account, 0)
        if waiting >= self._limits.max_waiting_calls_per_account:
            raise errors.too_many_waiting(waiting, self._limits.max_waiting_calls_per_account)
        self._waiting_by_account[account] = waiting + 1
        try:
            return await activation.mailbox.acquire(deadline - asyncio.get_running_loop().time())
        except MailboxFull as full:
            raise errors.overloaded(activation.key.type, activation.key.name,
                                    full.args[0]) from None
        finally:
            left = self._waiting_by_account[account] - 1
            if left:
                self._waiting_by_account[account] = left
            else:
                del self._waiting_by_account[account]

    async def _hold(self, activation: Activation, method: str, args: bytes,
                    chain: tuple[InstanceId, ...], deadline: float, budget_ms: int
                    ) -> tuple[bytes, CommitTicket | None, bool]:
        """Run one call's turn while holding the activation's token; always passes it on."""
        key = activation.key
        try:
            if activation.predecessor is not None:
                await self._drain(activation.predecessor, deadline, key, method, budget_ms)
                activation.predecessor = None
            if activation.instance is None:
                await self._activate(activation, chain, deadline)
            return await self._turn(activation, method, args, chain, deadline, budget_ms)
        finally:
            activation.last_used = time.monotonic()
            if activation.dropped:
                if activation.instance is not None:  # a commit failed while the turn ran
                    self._drop(activation, "commit_failed")
            elif activation.instance is not None:
                self.directory.note_memory(activation)
            activation.mailbox.release()

    def _check_name(self, raw: bytes) -> str:
        if not raw or len(raw) > self._limits.max_name_bytes:
            raise errors.bad_name(f"instance names must be 1-{self._limits.max_name_bytes} "
                                  f"bytes, got {len(raw)}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.bad_name("instance name is not valid UTF-8") from None

    async def _drain(self, old: Activation, deadline: float, key: InstanceId, method: str,
                     budget_ms: int) -> None:
        """Wait for an older revision's activation to finish its call, then drop it."""
        if not await old.mailbox.acquire(deadline - asyncio.get_running_loop().time()):
            raise errors.timeout(key.type, key.name, method, budget_ms)
        try:
            old.close_instance()
            self.directory.forget(old)
        finally:
            old.mailbox.release()
        self._metrics.inc("edgehost_actor_evictions_total", {"reason": "redeploy"})

    # ------------------------------------------------------------------ turns

    def _invocation(self, activation: Activation, payload: bytes, turn: Turn,
                    chain: tuple[InstanceId, ...], deadline: float) -> Invocation:
        owner = activation.deployment
        return Invocation(input=payload, limits=self._sandbox.limits, env_vars=owner.env_vars,
                          storage=turn, actors=self.caller_for(owner, deadline, chain))

    async def _run(self, activation: Activation, entry: str, invocation: Invocation,
                   deadline: float, budget_ms: int) -> InvocationResult:
        assert activation.instance is not None
        owner = activation.deployment
        run = activation.instance.start(entry, invocation)
        return await self._scheduler.run(owner.function.account_id, owner.function.func_id,
                                         run, budget_ms, deadline)

    async def _activate(self, activation: Activation, chain: tuple[InstanceId, ...],
                        deadline: float) -> None:
        """First turn of an activation: instantiate, construct the class (may use storage).

        Timed whether or not it succeeds: all of it, and its init turn from the new store on
        (the Sandbox times the store and the instantiation), for `/__edgehost/metrics`."""
        key, owner = activation.key, activation.deployment
        loop = asyncio.get_running_loop()
        init_deadline = min(deadline, loop.time() + self._limits.init_timeout_ms / 1000)
        budget_ms = _ms_until(loop, init_deadline)
        started = init_started = time.perf_counter()
        try:
            for retry in (False, True):
                activation.instance = self._sandbox.new_instance(owner.compiled,
                                                                 owner.memory_limit_bytes)
                init_started = time.perf_counter()
                turn = Turn(self._storage, key, self._limits, self._gate.layers(key))
                invocation = self._invocation(activation, _frame(key.type.encode(),
                                                                 key.name.encode()),
                                              turn, chain, deadline)
                result = await self._run(activation, ACTOR_INIT_EXPORT, invocation,
                                         init_deadline, budget_ms)
                # No instance slot free: memory is a cache, so make room by dropping the least
                # recently used idle activation, once.
                if result.outcome is not Outcome.OVERLOADED or retry or \
                        not self.free_instance_slot(keep=activation):
                    break
                activation.instance.close()
            self._metrics.inc("edgehost_actor_activations_total")
            if result.outcome is not Outcome.OK:
                self._init_failed(activation, result, init_deadline < deadline, budget_ms)
            self._submit(activation, turn)
            self._log(owner, result, None)
        finally:
            ended = time.perf_counter()
            self._activation_seconds.observe(ended - started)
            self._init_seconds.observe(ended - init_started)

    def _init_failed(self, activation: Activation, result: InvocationResult,
                     own_deadline_first: bool, budget_ms: int) -> NoReturn:
        """Drop an activation whose init turn did not end OK and raise what the caller gets.
        `own_deadline_first`: the init hook's own limit came before the call's deadline."""
        key = activation.key
        self._drop(activation, "failed")
        if result.outcome is Outcome.OVERLOADED:
            raise errors.no_instance_slot(key.type, key.name)
        error_id = self._log(activation.deployment, result, f"{key.type}({key.name!r}) init")
        if result.outcome is Outcome.TIMEOUT:
            if own_deadline_first:  # the init hook's own 30 s budget ran out
                raise errors.init_timeout(key.type, key.name, budget_ms)
            # The call's budget ran out while the constructor ran: the caller timed out, the
            # constructor did not break its own limit.
            raise errors.timeout(key.type, key.name, "constructor", budget_ms)
        raise errors.method_failed(key.type, key.name, "constructor",
                                   _failure_message(result, error_id))

    async def _turn(self, activation: Activation, method: str, args: bytes,
                    chain: tuple[InstanceId, ...], deadline: float, budget_ms: int
                    ) -> tuple[bytes, CommitTicket | None, bool]:
        """The method's output, the commit its reply waits for, and whether that commit holds
        this turn's own writes."""
        key, owner = activation.key, activation.deployment
        turn = Turn(self._storage, key, self._limits, self._gate.layers(key))
        invocation = self._invocation(activation, _frame(method.encode(), args), turn, chain,
                                      deadline)
        result = await self._run(activation, ACTOR_CALL_EXPORT, invocation, deadline,
                                 budget_ms)
        if result.outcome is Outcome.OK:
            output = result.output
            try:
                check_json(output, f"the result of {key.type}.{method}")
            except AbiError as e:
                self._drop(activation, "failed")
                raise errors.codec(e.detail) from None
            self._submit(activation, turn)
            self._log(owner, result, None)
            return output, self._gate.gate(key), turn.has_writes
        # Nothing of a failed turn is committed: its buffer is dropped with it.
        error_id = self._log(owner, result, f"{key.type}({key.name!r}).{method}")
        if result.outcome is Outcome.TIMEOUT:
            self._drop(activation, "failed")
            raise errors.timeout(key.type, key.name, method, budget_ms)
        if result.outcome is Outcome.TRAP:
            self._drop(activation, "failed")  # its heap may be mid-update: memory is a cache
        raise errors.method_failed(key.type, key.name, method,
                                   _failure_message(result, error_id))

    def _submit(self, activation: Activation, turn: Turn) -> None:
        """Hand a finished turn's writes to the committer (the next turn may start now)."""
        if activation.dropped:
            # A commit this instance depended on failed while the turn ran: what it computed
            # rests on writes the disk never got.
            raise errors.output_gate(activation.key.type, activation.key.name,
                                     activation.commit_error or
                                     RuntimeError("an earlier commit of this instance failed"))
        if turn.has_writes:
            self._gate.submit(turn.instance, turn.writes, turn.cleared, turn.apply)

    def _commit_failed(self, instance: InstanceId, error: BaseException) -> None:
        """A commit of `instance` failed: its activation's memory may hold state the disk
        never got, so it must not run again. If a turn is running on it now, the holder
        drops it when the turn ends (`_submit` and `_hold`)."""
        self._metrics.inc("edgehost_storage_commit_failures_total")
        activation = self.directory.lookup(instance)
        if activation is None:
            return
        if activation.mailbox.try_acquire():
            try:
                self._drop(activation, "commit_failed")
            finally:
                activation.mailbox.release()
        else:
            activation.dropped = True  # closed by the holder; waiters go back to the directory
            activation.commit_error = error

    def _drop(self, activation: Activation, reason: str) -> None:
        activation.close_instance()
        self.directory.forget(activation)
        self._metrics.inc("edgehost_actor_evictions_total", {"reason": reason})

    def _log(self, owner: Deployment, result: InvocationResult, failed: str | None) -> str | None:
        failure = None if failed is None else \
            {"outcome": result.outcome.value, "actor_call": failed, "detail": result.detail}
        return self._logs.record(owner.function.func_id, result.invocation, failure=failure)


def _id_json(key: InstanceId) -> list[str]:
    return [key.account_id, key.type, key.name]


def _id_of(raw: list[str]) -> InstanceId:
    return InstanceId(*raw)


def _ms_until(loop: asyncio.AbstractEventLoop, deadline: float) -> int:
    """The budget left until `deadline`, rounded up: rounded down, a callee's run would end
    up to 1 ms before its caller's, and the caller would get the callee's timeout as an
    answer with time left to act on it, instead of timing out with it."""
    return max(math.ceil((deadline - loop.time()) * 1000), 1)


def check_json(data: bytes, what: str) -> object:
    """Parse strict JSON (no NaN/Infinity, nesting at most DEFAULT_MAX_NESTING_DEPTH deep) or
    raise CODEC_ERROR naming `what`."""
    try:
        return nesting.load_json(data, what, DEFAULT_MAX_NESTING_DEPTH)
    except ValueError as e:  # TooDeep, InvalidJson
        raise AbiError(Status.CODEC_ERROR, str(e)) from None


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
