"""Commands that work on a function project folder: new-func, build, ship, types, dev."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import edgehost
from edgehost.cli.client import AdminClient
from edgehost.cli.commands import Command, client_options, from_dir_option, json_option
from edgehost.cli.errors import CliError
from edgehost.cli.output import emit, progress
from edgehost.cli.settings import Target
from edgehost.projects import MANIFEST_FILE, Project, ProjectError, load_project
from edgehost.registry.manifest import (
    MAX_BINDING_NAME,
    MAX_TYPE_NAME,
    ManifestError,
    check_function_name,
    check_identifier,
    parse_manifest,
)

PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def sdk_path() -> Path:
    """The AssemblyScript SDK: $EDGEHOST_SDK, else beside this checkout's host package."""
    explicit = os.environ.get("EDGEHOST_SDK")
    path = Path(explicit) if explicit else \
        Path(edgehost.__file__).resolve().parents[2] / "guest-sdk" / "assemblyscript"
    if not (path / "package.json").is_file():
        raise CliError(f"cannot find the edgehost AssemblyScript SDK at {path}; set EDGEHOST_SDK")
    return path


def _project(folder: Path) -> Project:
    try:
        project = load_project(folder)
    except ProjectError as e:
        raise CliError(str(e)) from None
    try:  # the same checks the host makes at ship, before spending time on a build
        parse_manifest(project.manifest_text, memory_cap_mib=1 << 20, timeout_cap_ms=1 << 30)
    except ManifestError as e:
        path = folder / MANIFEST_FILE
        raise CliError(f"{path}: {e.problems[0]}", [f"{path}: {p}" for p in e.problems[1:]]) \
            from None
    return project


# ------------------------------------------------------------------ new-func

def new_func_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="function name (a-z, 0-9, '-')")
    parser.add_argument("--actor", action="store_true", help="include a sample actor class")
    parser.add_argument("--type", help="actor class name [from --name: account -> Account]")
    parser.add_argument("--binding", help="binding name [from the type: Account -> ACCOUNT]")
    parser.add_argument("--dir", type=Path, help="create the folder under DIR [.]")
    client_options(parser)


def new_func(args, target: Target) -> int:
    name = args.name
    if (problem := check_function_name(name, "--name")) is not None:
        raise CliError(problem)
    folder = (args.dir or Path.cwd()) / name
    if folder.exists():
        raise CliError(f"{folder} already exists; new-func never overwrites a folder")
    type_, binding = _actor_names(name, args)  # refused here, before the host registers it
    template = sdk_path() / "templates" / ("actor" if args.actor else "basic")
    if not template.is_dir():
        raise CliError(f"template folder {template} is missing from the SDK")
    with AdminClient(target) as client:
        func = client.request("POST", "/functions", json={"name": name})
        try:
            _render_template(template, folder,
                             _placeholders(name, func["func_id"], type_, binding, args))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            client.request("DELETE", f"/functions/{func['func_id']}")  # leave nothing behind
            raise
    emit(args, {"folder": str(folder), **func},
         f"created {folder}\n  func_id: {func['func_id']}\n  next:    cd {name} && "
         f"edgehost ship")
    return 0


def _actor_names(name: str, args) -> tuple[str, str]:
    """The actor type and binding the templates use, from the options or derived from --name.

    They are written into telnyx.toml and the TypeScript sources, so each must follow the rule
    the host's manifest check applies to [[actors]] (an identifier), or it is refused here.
    """
    type_ = args.type or "".join(part.capitalize() for part in re.split(r"[-_]", name))
    binding = args.binding or re.sub(r"(?<!^)(?=[A-Z])", "_", type_).upper()
    for option, value, given, max_len, source in (
            ("--type", type_, args.type, MAX_TYPE_NAME, "--name"),
            ("--binding", binding, args.binding, MAX_BINDING_NAME, "--type")):
        if given is None and not args.actor:
            continue  # derived but unused: the basic template has no actor
        key = option if given is not None else f"{option} (derived from {source})"
        if (problem := check_identifier(value, key, max_len)) is not None:
            raise CliError(problem if given is not None else f"{problem}; pass {option}")
    return type_, binding


def _placeholders(name: str, func_id: str, type_: str, binding: str,
                  args) -> dict[str, str]:
    return {"name": name, "func_id": func_id, "Type": type_, "BINDING": binding,
            "type_file": re.sub(r"(?<!^)(?=[A-Z])", "-", type_).lower(),
            "sdk_path": os.path.relpath(sdk_path(), (args.dir or Path.cwd()) / name),
            "compatibility_date": time.strftime("%Y-%m-%d")}


def _render_template(template: Path, folder: Path, values: dict[str, str]) -> None:
    for source in sorted(template.rglob("*")):
        if source.name == "README.md" and source.parent == template:
            continue
        relative = PLACEHOLDER.sub(lambda m: values[m.group(1)], str(source.relative_to(template)))
        destination = folder / relative
        if source.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text()
        missing = {m for m in PLACEHOLDER.findall(text) if m not in values}
        if missing:
            raise CliError(f"template {source} uses unknown placeholders {sorted(missing)}")
        destination.write_text(PLACEHOLDER.sub(lambda m: values[m.group(1)], text))


# ------------------------------------------------------------------ build

def build_arguments(parser: argparse.ArgumentParser) -> None:
    from_dir_option(parser)
    json_option(parser)


def build(args, target: Target | None = None) -> int:
    project = build_project(args.from_dir, quiet=getattr(args, "json", False))
    size = project.module_path.stat().st_size
    emit(args, {"module": str(project.module_path), "bytes": size},
         f"built {project.module_path} ({size} bytes)")
    return 0


def build_project(folder: Path, *, quiet: bool = False) -> Project:
    project = _project(folder)
    manifest = parse_manifest(project.manifest_text, memory_cap_mib=1 << 20,
                              timeout_cap_ms=1 << 30)
    main = folder / manifest.main
    if not main.is_file():
        raise CliError(f"{folder / MANIFEST_FILE}: main = {manifest.main!r}: {main} does not exist")
    if shutil.which("npm") is None:
        raise CliError("npm is not on PATH; the AssemblyScript build needs Node.js and npm")
    if not (folder / "node_modules").is_dir():
        progress(quiet, f"installing npm packages in {folder} (first build only)...")
        _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], folder,
             "npm install")
    progress(quiet, f"building {project.name}...")
    _run(["npm", "run", "--silent", "build"], folder, "build")
    if not project.module_path.is_file():
        raise CliError(f"the build did not produce {project.module_path}")
    return project


def _run(command: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + "\n" + result.stderr).strip().splitlines()
        # The SDK's build prints its one-line summary ("error: file:line:col: ...") last.
        summary = next((line for line in reversed(output) if line.strip()), "no output")
        raise CliError(f"{what} failed in {cwd}: {summary.strip()}",
                       [line for line in output[-15:-1] if line.strip()]
                       if os.environ.get("EDGEHOST_VERBOSE") else [])


# ------------------------------------------------------------------ ship

def ship_arguments(parser: argparse.ArgumentParser) -> None:
    from_dir_option(parser)
    parser.add_argument("--no-build", action="store_true", help="upload the existing build")
    client_options(parser)


def ship(args, target: Target) -> int:
    folder = args.from_dir
    project = _project(folder) if args.no_build else build_project(folder, quiet=args.json)
    with AdminClient(target) as client:
        result = ship_with(client, project, write_func_id=True, quiet=args.json)
    text = f"shipped {project.name} revision {result['revision']}\n" + \
        "".join(f"warning: {w}\n" for w in result.get("warnings", [])) + \
        f"live at: {result['url']}\n  (or {result['path_url']})"
    emit(args, result, text)
    return 0


def ship_with(client: AdminClient, project: Project, *, write_func_id: bool,
              quiet: bool) -> dict:
    """Upload a built project to the function its manifest names (creating it if needed).

    With `write_func_id` false (dev), the manifest's func_id belongs to another host and is
    ignored: the function is found or created by name.
    """
    manifest = parse_manifest(project.manifest_text, memory_cap_mib=1 << 20,
                              timeout_cap_ms=1 << 30)
    func_id = manifest.func_id if write_func_id else None
    if func_id is not None:
        known = {f["func_id"] for f in client.request("GET", "/functions")["functions"]}
        if func_id not in known:
            raise CliError(f"{project.root / MANIFEST_FILE}: edge_compute.func_id = {func_id!r}: "
                           f"no such function on this account at {client.target.url}; remove "
                           "the line to create the function by name")
    if func_id is None:
        existing = [f for f in client.request("GET", "/functions")["functions"]
                    if f["name"] == project.name]
        func_id = existing[0]["func_id"] if existing else \
            client.request("POST", "/functions", json={"name": project.name})["func_id"]
        if write_func_id:
            write_manifest_func_id(project.root / MANIFEST_FILE, func_id, project.name)
            project = load_project(project.root)
    manifest_text = project.manifest_text if write_func_id else \
        _without_func_id(project.manifest_text)
    progress(quiet, f"uploading {project.module_path.name} "
                    f"({project.module_path.stat().st_size} bytes)...")
    try:
        return client.request(
            "POST", f"/functions/{func_id}/revisions",
            files={"module": (project.module_path.name, project.read_module(), "application/wasm"),
                   "manifest": (MANIFEST_FILE, manifest_text, "text/plain")})
    except CliError as e:
        if e.details:  # the host lists every problem; name the file for manifest ones
            raise CliError(f"ship refused: {e.details[0]}", e.details[1:]) from None
        raise


def write_manifest_func_id(path: Path, func_id: str, name: str) -> None:
    """Record the function's id in [edge_compute], keeping the rest of the file as written.

    The file is edited line by line (only the func_id line is written or replaced), then
    parsed back: if it does not hold exactly the intended change, nothing is written.
    """
    text = path.read_text()
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CliError(f"{path}: not valid TOML ({e}); cannot record func_id") from None
    line = f"func_id = {toml_string(func_id)}"
    lines = text.splitlines(keepends=True)
    header, existing = _edge_compute_lines(lines)
    if existing is not None:
        raw = lines[existing]
        indent = raw[:len(raw) - len(raw.lstrip(" \t"))]
        lines[existing] = f"{indent}{line}\n"
    elif header is not None:
        lines.insert(header + 1, f"{line}\n")
    else:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += ["\n", "[edge_compute]\n", f"{line}\n",
                  f"func_name = {toml_string(name)}\n"]
    result = "".join(lines)
    if not _holds_only(result, before, func_id, name, header is None):
        raise CliError(f"{path}: could not record the function's id in its [edge_compute] "
                       f"table; add the line  {line}  under [edge_compute] yourself")
    path.write_text(result)


def _without_func_id(text: str) -> str:
    """`text` without the func_id line of its [edge_compute] table (a key of that name in
    another table, such as [env_vars], stays)."""
    lines = text.splitlines(keepends=True)
    _, line = _edge_compute_lines(lines)
    return text if line is None else "".join(lines[:line] + lines[line + 1:])


# A table header line: [ key ] or [[ key ]], keys bare or quoted, then an optional comment.
_KEY = r'(?:[A-Za-z0-9_-]+|"[^"\\\n]*"|\'[^\'\n]*\')'
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]\]?\s*(?:#.*)?$")
_FUNC_ID_KEY = re.compile(r"""\s*(?:func_id|"func_id"|'func_id')\s*=""")
_MULTILINE = re.compile(r'"""|\'\'\'')


def _edge_compute_lines(lines: list[str]) -> tuple[int | None, int | None]:
    """The indexes of the [edge_compute] header line and of its func_id line (None if absent).

    Lines inside multi-line strings are skipped; values are not interpreted beyond that, and
    the caller parses the result back to catch any layout this reading gets wrong.
    """
    header = func_id_line = None
    table: str | None = ""
    open_quote: str | None = None
    for i, raw in enumerate(lines):
        delimiters = _MULTILINE.findall(raw)
        if open_quote is not None:  # inside a multi-line string: only look for its end
            if delimiters.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        if (m := _HEADER.match(raw)) is not None:
            parts = [p.strip().strip("\"'") for p in m.group(2).split(".")]
            table = parts[0] if len(parts) == 1 and m.group(1) == "[" else None
            if table == "edge_compute" and header is None:
                header = i
        elif table == "edge_compute" and _FUNC_ID_KEY.match(raw):
            func_id_line = i
        for quote in ('"""', "'''"):
            if delimiters.count(quote) % 2 == 1:
                open_quote = quote
                break
    return header, func_id_line


def _holds_only(result: str, before: dict, func_id: str, name: str, added: bool) -> bool:
    """Whether `result` parses to `before` with only edge_compute.func_id set (and the table
    with func_name when it was `added`)."""
    try:
        after = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        return False
    edge = before.get("edge_compute", {})
    if not isinstance(edge, dict):
        return False
    edge = {**edge, "func_id": func_id, **({"func_name": name} if added else {})}
    return after == {**before, "edge_compute": edge}


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: quote and backslash escaped, control characters as
    \\uXXXX (TOML allows none of them raw in a basic string)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group(0)):04X}", escaped)
    return f'"{escaped}"'


# ------------------------------------------------------------------ types

def types_arguments(parser: argparse.ArgumentParser) -> None:
    from_dir_option(parser)
    parser.add_argument("--out", type=Path, help="output file [DIR/src/env.ts]")
    client_options(parser)


def types(args, target: Target) -> int:
    project = _project(args.from_dir)
    manifest = parse_manifest(project.manifest_text, memory_cap_mib=1 << 20,
                              timeout_cap_ms=1 << 30)
    if not manifest.actors:
        raise CliError(f"{project.root / MANIFEST_FILE}: declares no [[actors]] bindings")
    local = _local_signatures(project)
    with AdminClient(target) as client:
        remote = {t["type"]: t for t in client.request("GET", "/actors")["types"]}
    bindings = []
    for binding in manifest.actors:
        methods = local.get(binding.type) or remote.get(binding.type, {}).get("signatures") or {}
        bindings.append({"binding": binding.binding, "type": binding.type, "methods": methods})
    out = args.out or project.root / "src" / "env.ts"
    generator = sdk_path() / "bin" / "edgehost-types.js"
    result = subprocess.run(["node", str(generator), "--out", str(out)],
                            input=json.dumps({"bindings": bindings}), capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise CliError(f"edgehost-types failed: {result.stderr.strip().splitlines()[-1:]}")
    untyped = [b["binding"] for b in bindings if not b["methods"]]
    emit(args, {"out": str(out), "bindings": bindings},
         f"wrote {out}" + (f" (untyped, no owner known yet: {', '.join(untyped)})"
                           if untyped else ""))
    return 0


def _local_signatures(project: Project) -> dict[str, dict]:
    """Signatures of classes this project itself exports, from its last build."""
    if not project.module_path.is_file():
        return {}
    from edgehost.registry.actor_types import read_actor_classes
    section, _ = read_actor_classes(project.module_path.read_bytes())
    return section.signatures


# ------------------------------------------------------------------ dev

def dev_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--from-dir", dest="from_dir_list", type=Path, action="append",
                        metavar="DIR", help="project folder; repeat to ship several [.]")
    parser.add_argument("--port", type=int, default=8788, help="port of the dev host [8788]")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between checks [0.5]")


def dev(args, target: Target) -> int:
    """A local host for this project: build + ship on start and on every save."""
    folders = args.from_dir_list or [Path.cwd()]
    projects = [_project(f) for f in folders]
    data_dir = folders[0] / ".edgehost-dev"  # state survives reloads and dev restarts
    key = "ehk_dev_" + secrets.token_urlsafe(24)
    host = subprocess.Popen(
        [sys.executable, "-m", "edgehost", "serve", "--port", str(args.port), "--data-dir",
         str(data_dir), "--log-level", "warning"],
        env={**os.environ, "EDGEHOST_API_KEY": key}, stdout=subprocess.PIPE, text=True)
    try:
        url = _wait_for_listening(host)
        print(f"dev host at {url} (state in {data_dir})", flush=True)
        dev_target = Target(url, key, "dev")
        with AdminClient(dev_target) as client:
            stamps: dict[Path, float] = {}
            while True:
                for project in projects:
                    current = _source_stamp(project.root)
                    if stamps.get(project.root) != current:
                        stamps[project.root] = current
                        _dev_ship(client, project.root)
                time.sleep(args.poll)
    except KeyboardInterrupt:
        return 0
    finally:
        host.send_signal(signal.SIGTERM)
        host.wait(timeout=10)


def _wait_for_listening(host: subprocess.Popen) -> str:
    assert host.stdout is not None
    for line in host.stdout:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return match.group(1)
    raise CliError("the dev host exited during start")


def _source_stamp(root: Path) -> float:
    files = [root / MANIFEST_FILE, *(root / "src").rglob("*")]
    return max((f.stat().st_mtime for f in files if f.is_file()), default=0.0)


def _dev_ship(client: AdminClient, folder: Path) -> None:
    try:
        project = build_project(folder)
        result = ship_with(client, project, write_func_id=False, quiet=False)
        print(f"{project.name}: revision {result['revision']} live at {result['url']}",
              flush=True)
    except CliError as e:  # keep watching: the next save may fix it
        print(f"edgehost: {e.message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the command table

COMMANDS = (
    Command("dev", "local host for a project: build + ship on start and on every save", dev,
            dev_arguments,
            "Start a private host whose state lives in DIR/.edgehost-dev (it survives "
            "reloads), build and ship the project, then rebuild and reship on every save."),
    Command("new-func", "scaffold a function project and register it with the host", new_func,
            new_func_arguments,
            "Create ./NAME with telnyx.toml, src/index.ts, package.json (and with --actor "
            "a sample actor class in its own file), register the function with the host "
            "and write its func_id into telnyx.toml. Refuses an existing folder."),
    Command("build", "build the project's module (npm install on first use)", build,
            build_arguments),
    Command("ship", "build, upload and print the live URL", ship, ship_arguments,
            "Build the project and ship it as the function's next revision. Without "
            "[edge_compute] func_id in telnyx.toml the function is found or created by "
            "name and its func_id written back."),
    Command("types", "generate src/env.ts: typed stubs for the manifest's bindings", types,
            types_arguments),
)
