"""Cold-start phases the other benchmarks do not cover: first actor activation, ship -> first 200.

    .venv/bin/python benchmarks/bench_cold.py [--quick] [--json PATH]

Phases, each explained in benchmarks/README.md:

1. first activation   in-process: a Host built as `edgehost serve` builds it, examples/account
                      shipped into it, calls made through `ActorSystem.call` as the guest's
                      `actor_call` import makes them. A deposit to a never-touched name, split
                      into new Store, instantiate, init turn and the method's own turn (the
                      host's own timings, read from its metrics around each call), against a
                      deposit to a warm name.
2. ship -> first 200  a real `edgehost serve --port 0` process: the bundle POSTed to the admin
                      API as `edgehost ship` posts it; the ship request itself, then from its
                      answer to the function's first 200 (new connections, as a first visitor):
                      - hello: a new function per sample, `GET /`
                      - account: a new revision of the owner per sample, then a deposit to a
                        never-touched name (so that first 200 includes an activation)

The table goes to stdout, progress to stderr; `--json PATH` also writes every figure with
machine info. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    BASE_DOMAIN,
    REPO,
    Report,
    add_workers_option,
    host_process,
    http_request,
    machine_info,
    print_table,
    table_header,
    wait_until_serving,
    worker_settings,
    workers_flag,
    write_json,
)
from edgehost.app import build_host
from edgehost.cli.serve import ship_project
from edgehost.config import HostConfig
from edgehost.metrics import Metrics
from edgehost.projects import Project, load_project
from edgehost.registry.bootstrap import KEY_FILE

JSON_SCHEMA = "edgehost-bench-cold/1"
HELLO_DIR = REPO / "examples" / "hello"
OWNER_DIR = REPO / "examples" / "account"
HELLO_BODY = b"hello from edgehost\n"
ADMIN = "/__edgehost/v1"
ACTOR_BINDING = b"ACCOUNT"  # the binding examples/account/telnyx.toml gives its own type
DEPOSIT_ARGS = b"[1]"
FIRST_200_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Settings:
    quick: bool
    activations: int  # phase 1: never-touched names, and as many warm calls
    ships: int  # phase 2: ships of each example
    workers: int | None = None  # `edgehost serve --workers N`; None: flag not passed


def settings_for(quick: bool, workers: int | None = None) -> Settings:
    return Settings(True, 30, 5, workers) if quick else Settings(False, 200, 15, workers)


def missing_modules() -> list[Path]:
    """The built modules this benchmark needs that are not there."""
    return [p for p in (load_project(d).module_path for d in (HELLO_DIR, OWNER_DIR))
            if not p.is_file()]


# ----------------------------------------------------------------------------- phase 1


# What the host times of an activation (host/edgehost/metrics.py), by step.
ACTIVATION_METRICS = {
    "activation": "edgehost_actor_activation_seconds",  # all of it: store, instantiate, init
    "store": "edgehost_guest_store_seconds",  # Sandbox.new_instance: Store + limits
    "instantiate": "edgehost_guest_instantiate_seconds",  # InstancePre.instantiate, memory
    "init": "edgehost_actor_init_seconds",  # from the new store on: instantiate + init turn
}


class HostTimings:
    """The host's timings of the steps one call ran, from its metrics read before and after
    the call (in-process, so exact: each step's sum moves by that step's one duration)."""

    def __init__(self, metrics: Metrics) -> None:
        self._series = {step: metrics.summary(name) for step, name in ACTIVATION_METRICS.items()}

    def read(self) -> dict[str, tuple[int, float]]:
        return {step: series.read() for step, series in self._series.items()}

    def since(self, before: dict[str, tuple[int, float]]) -> dict[str, float | None]:
        """Each step's seconds since `before`; None for a step that did not run."""
        steps: dict[str, float | None] = {}
        for step, (count, total) in self.read().items():
            ran = count - before[step][0]
            if ran > 1:
                raise RuntimeError(f"{ACTIVATION_METRICS[step]} counted {ran} in one call: "
                                   "something else ran guests in this host")
            steps[step] = total - before[step][1] if ran else None
        return steps


def bench_activation(report: Report, settings: Settings, workdir: Path) -> None:
    asyncio.run(_bench_activation(report, settings, workdir))


@dataclass
class ActivationSamples:
    """Per-call seconds: calls to never-touched names, split by step, and to a warm name."""

    total: list[float] = field(default_factory=list)
    activation: list[float] = field(default_factory=list)
    store: list[float] = field(default_factory=list)
    instantiate: list[float] = field(default_factory=list)
    init: list[float] = field(default_factory=list)  # the init turn without instantiation
    method: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)

    def add_first(self, elapsed: float, steps: dict[str, float | None]) -> None:
        if None in steps.values():
            raise RuntimeError(f"a call to a new name did not activate as expected: {steps}")
        self.total.append(elapsed)
        self.activation.append(steps["activation"])
        self.store.append(steps["store"])
        self.instantiate.append(steps["instantiate"])
        self.init.append(steps["init"] - steps["instantiate"])
        self.method.append(elapsed - steps["activation"])

    def add_warm(self, elapsed: float, steps: dict[str, float | None]) -> None:
        if steps["activation"] is not None:
            raise RuntimeError("a call to an active name activated it again")
        self.warm.append(elapsed)


async def _bench_activation(report: Report, settings: Settings, workdir: Path) -> None:
    host = build_host(HostConfig(data_dir=workdir / "inprocess"), env_key=None)
    try:
        record, _status = ship_project(host, load_project(OWNER_DIR))
        host.start()  # the committer, the epoch ticker and the reaper, as in a serving host
        deployment = host.functions.deployment(record.slug)
        if deployment is None:
            raise RuntimeError("account was shipped but has no deployment")
        loop = asyncio.get_running_loop()
        timings = HostTimings(host.metrics)

        async def deposit(name: str, *, new: bool) -> tuple[float, dict[str, float | None]]:
            """A deposit of 1 to `name` (`new`: never touched before): the call's seconds, and
            the host's timings of it."""
            caller = host.actors.caller_for(deployment, loop.time() + 30)
            before = timings.read()
            started = time.perf_counter()
            result = await host.actors.call(caller, ACTOR_BINDING, name.encode(), b"deposit",
                                            DEPOSIT_ARGS)
            elapsed = time.perf_counter() - started
            balance = int(json.loads(result))
            if new and balance != 1:
                raise RuntimeError(f"{name} was not new: balance {balance}")
            return elapsed, timings.since(before)

        # Unmeasured: the first calls in a process pay one-off Python costs (imports, caches).
        for i in range(5):
            await deposit(f"warmup-{i}", new=True)
        await deposit("warm", new=True)
        n = settings.activations
        report.progress(f"first activation: {n} deposits to new names, {n} to a warm one "
                        "(in-process)")
        samples = ActivationSamples()
        for i in range(n):  # interleaved, so both kinds see the same machine state
            samples.add_first(*await deposit(f"fresh-{i}", new=True))
            samples.add_warm(*await deposit("warm", new=False))
    finally:
        host.close()
    add_activation_figures(report, samples)


def add_activation_figures(report: Report, samples: ActivationSamples) -> None:
    section = "1. first actor activation (in-process, ActorSystem.call, examples/account)"
    first = report.timed("first_call_ms", section, "deposit to a never-touched name",
                         samples.total, "ms", "call -> result: activation + the deposit's turn")
    report.timed("activation_ms", section, "  activation: instantiate + init turn",
                 samples.activation, "ms", "edgehost_actor_activation_seconds")
    report.timed("activation_store_us", section, "    new Store + limits", samples.store, "us",
                 "edgehost_guest_store_seconds")
    report.timed("activation_instantiate_us", section,
                 "    instantiate (InstancePre, memory)", samples.instantiate, "us",
                 "edgehost_guest_instantiate_seconds")
    report.timed("activation_init_ms", section, "    init turn (constructor, commit, log)",
                 samples.init, "ms", "edgehost_actor_init_seconds - instantiate")
    report.timed("first_method_turn_ms", section, "  the deposit's turn (incl. durable commit)",
                 samples.method, "ms", "whole call - activation")
    warm_fig = report.timed("warm_call_ms", section, "deposit to a warm name", samples.warm,
                            "ms", "one turn incl. durable commit")
    report.ratio("first_vs_warm", section, "first call / warm call", first, warm_fig,
                 better="lower", note="medians; the parts above need not add up exactly")


# ----------------------------------------------------------------------------- phase 2


def multipart(fields: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body of files, as `edgehost ship` uploads a bundle."""
    boundary = f"edgehost-bench-{secrets.token_hex(8)}"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode() + data + b"\r\n"
        for name, (filename, data, ctype) in fields.items())
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Admin:
    """The admin API of one host, over new connections (stdlib only)."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self._auth = port, {"Authorization": f"Bearer {key}"}

    def call(self, method: str, path: str, body: bytes | None = None,
             content_type: str = "application/json") -> dict:
        status, answer = http_request(self.port, method, ADMIN + path, body=body, headers={
            **self._auth, "Content-Type": content_type}, timeout_s=60)
        if status >= 300:
            raise RuntimeError(f"{method} {ADMIN}{path} answered {status}: {answer[:500]!r}")
        return json.loads(answer)

    def create_function(self, name: str) -> dict:
        return self.call("POST", "/functions", json.dumps({"name": name}).encode())

    def ship(self, func_id: str, project: Project, manifest_text: str) -> float:
        """POST the bundle; the seconds until the host answered 201 (upload, compile, commit)."""
        status, answer, elapsed = self.ship_module(func_id, project.read_module(),
                                                   manifest_text, project.module_path.name)
        if status >= 300:
            raise RuntimeError(f"shipping {project.name} answered {status}: {answer[:500]!r}")
        return elapsed

    def ship_module(self, func_id: str, module: bytes, manifest_text: str,
                    filename: str = "module.wasm") -> tuple[int, bytes, float]:
        """POST a bundle; the host's status and answer, and the seconds it took (a refusal is
        an answer too: the caller decides what it means)."""
        body, content_type = multipart({
            "module": (filename, module, "application/wasm"),
            "manifest": ("telnyx.toml", manifest_text.encode(), "text/plain")})
        started = time.perf_counter()
        status, answer = http_request(self.port, "POST", f"{ADMIN}/functions/{func_id}/revisions",
                                      body=body, headers={**self._auth,
                                                          "Content-Type": content_type},
                                      timeout_s=60)
        return status, answer, time.perf_counter() - started


def admin_key(data_dir: Path) -> str:
    """The key of the host's admin account: EDGEHOST_API_KEY (which `edgehost serve` inherits
    from the benchmark), else the key file it writes into a new data dir."""
    return os.environ.get("EDGEHOST_API_KEY") or (data_dir / KEY_FILE).read_text().strip()


def renamed(manifest_text: str, name: str) -> str:
    return re.sub(r'^name\s*=.*$', f'name = "{name}"', manifest_text, count=1, flags=re.M)


@dataclass
class FirstAnswer:
    elapsed_s: float  # ship answered -> first 200 received
    before: int  # answers that were not the expected 200 before it


def first_200(request: Callable[[], tuple[int, bytes]],
              expected: Callable[[bytes], bool]) -> FirstAnswer:
    """Repeat `request` (each on a new connection) until it answers the expected 200."""
    started, before = time.perf_counter(), 0
    while True:
        status, body = request()
        if status == 200 and expected(body):
            return FirstAnswer(time.perf_counter() - started, before)
        before += 1
        if time.perf_counter() - started > FIRST_200_TIMEOUT_S:
            raise RuntimeError(f"no 200 within {FIRST_200_TIMEOUT_S} s of ship; last answer "
                               f"{status} {body[:300]!r}")


def deposit_answer(name: str) -> Callable[[bytes], bool]:
    return lambda body: json.loads(body) == {"account": name, "balance": 1}


def bench_ship_to_first_200(report: Report, settings: Settings, workdir: Path) -> None:
    section = "2. ship -> first 200 (edgehost serve process, admin API, new connections)"
    hello, owner = load_project(HELLO_DIR), load_project(OWNER_DIR)
    data_dir = workdir / "served"
    with host_process(data_dir, workdir / "host", workers=settings.workers) as host:
        wait_until_serving(host)
        admin, port = Admin(host.port, admin_key(data_dir)), host.port

        def ship_hello(suffix: str) -> tuple[float, FirstAnswer]:
            created = admin.create_function(f"hello-{suffix}")
            ship_s = admin.ship(created["func_id"], hello,
                                renamed(hello.manifest_text, f"hello-{suffix}"))
            slug_host = f"{created['slug']}.{BASE_DOMAIN}:{port}"
            return ship_s, first_200(lambda: http_request(port, "GET", "/", slug_host),
                                     lambda body: body == HELLO_BODY)

        account = admin.create_function(owner.name)
        account_host = f"{account['slug']}.{BASE_DOMAIN}:{port}"

        def ship_account(suffix: str) -> tuple[float, FirstAnswer]:
            ship_s = admin.ship(account["func_id"], owner, owner.manifest_text)
            name = f"shipped-{suffix}"
            return ship_s, first_200(
                lambda: http_request(port, "POST", f"/accounts/{name}/deposit", account_host,
                                     b'{"amount":1}', {"Content-Type": "application/json"}),
                deposit_answer(name))

        # Unmeasured: one of each first (the process's first upload, first actor call).
        ship_hello("warmup")
        ship_account("warmup")
        n = settings.ships
        report.progress(f"ship -> first 200: {n} new hello functions, {n} account revisions")
        hello_samples = [ship_hello(str(i)) for i in range(n)]
        account_samples = [ship_account(str(i)) for i in range(n)]

    for key, what, samples in (("hello", "new function, GET /", hello_samples),
                               ("account", "new revision, deposit to a new actor",
                                account_samples)):
        report.timed(f"ship_{key}_ms", section, f"ship {key}: POST bundle -> 201",
                     [s for s, _ in samples], "ms", "upload, validate, compile, commit")
        retries = sum(a.before for _, a in samples)
        report.timed(f"ship_to_200_{key}_ms", section, f"ship returned -> first {key} 200",
                     [a.elapsed_s for _, a in samples], "ms",
                     f"{what}; {retries} other answers before the first 200s")


# ----------------------------------------------------------------------------- main


def run(report: Report, settings: Settings) -> None:
    """Every phase, adding its figures to `report`; raises if any phase fails."""
    with tempfile.TemporaryDirectory(prefix="edgehost-bench-cold-") as tmp:
        workdir = Path(tmp)
        bench_activation(report, settings, workdir)
        bench_ship_to_first_200(report, settings, workdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Cold-start phases: first actor activation (in-process) and ship -> first "
                    "200 (a real host). See benchmarks/README.md.")
    parser.add_argument("--quick", action="store_true", help="fewer samples (a few seconds)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    add_workers_option(parser)
    args = parser.parse_args(argv)
    settings = settings_for(args.quick, workers_flag(worker_settings(args.workers)))
    for missing in missing_modules():
        print(f"{missing} is missing: run `npm run build:examples` in {REPO}", file=sys.stderr)
        return 2
    report = Report()
    machine = machine_info("none", "none")
    run(report, settings)
    elapsed = time.perf_counter() - report.started
    report.progress(f"done in {elapsed:.1f} s")
    print_table(report, table_header("edgehost cold-start benchmark", quick=settings.quick,
                                     elapsed_s=elapsed, machine=machine, generator_text=None))
    if args.json is not None:
        write_json(args.json, JSON_SCHEMA, report, quick=settings.quick, elapsed_s=elapsed,
                   settings=settings, machine=machine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
