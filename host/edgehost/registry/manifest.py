"""Parse and validate `telnyx.toml`.

Every problem is reported at once, each naming the key, the offending value and the rule, so a
user fixes a manifest in one round trip. Unknown keys are warnings, not errors: manifests written
for the original platform may carry keys edgehost does not use.
"""

from __future__ import annotations

import datetime
import re
import tomllib
import uuid
from dataclasses import dataclass, field
from typing import Any

from edgehost import nesting
from edgehost.config import DEFAULT_MAX_NESTING_DEPTH

# Names are checked with `fullmatch`: `$` in `match` also matches before a final "\n".
FUNCTION_NAME = re.compile(r"[a-z][a-z0-9-]*")
MAX_FUNCTION_NAME = 52  # a DNS label is 63: name + "-" + 10 chars of func_id
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_TYPE_NAME = 32
MAX_BINDING_NAME = 64
MAX_ENV_VARS = 64
MAX_ENV_VALUE_BYTES = 4096

KNOWN_TOP_LEVEL = {"name", "main", "compatibility_date", "actors", "edge_compute", "env_vars",
                   "limits"}


class ManifestError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ActorBinding:
    binding: str
    type: str


@dataclass(frozen=True)
class Manifest:
    name: str
    main: str
    compatibility_date: str | None
    actors: tuple[ActorBinding, ...]
    func_id: str | None
    env_vars: dict[str, str]
    memory_mib: int | None
    timeout_ms: int | None
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "main": self.main, "compatibility_date": self.compatibility_date,
            "actors": [{"binding": a.binding, "type": a.type} for a in self.actors],
            "func_id": self.func_id, "env_vars": dict(self.env_vars),
            "limits": {"memory_mib": self.memory_mib, "timeout_ms": self.timeout_ms},
        }


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_function_name(name: Any, key: str = "name") -> str | None:
    """The rule a function name must follow, or None when it is valid."""
    if not isinstance(name, str):
        return f"{key} = {_show(name)}: must be a string"
    if not (FUNCTION_NAME.fullmatch(name) and len(name) <= MAX_FUNCTION_NAME
            and not name.endswith("-")):
        return (f"{key} = {_show(name)}: must be 1-{MAX_FUNCTION_NAME} characters of a-z, 0-9 "
                f"and '-', start with a letter and not end with '-'")
    return None


def check_identifier(value: Any, key: str, max_len: int) -> str | None:
    if not isinstance(value, str):
        return f"{key} = {_show(value)}: must be a string"
    if not IDENTIFIER.fullmatch(value) or "__" in value or len(value) > max_len:
        return (f"{key} = {_show(value)}: must be an identifier (letters, digits, '_', not "
                f"starting with a digit) without '__', at most {max_len} characters")
    return None


def parse_manifest(text: str, *, memory_cap_mib: int, timeout_cap_ms: int,
                   max_nesting_depth: int = DEFAULT_MAX_NESTING_DEPTH) -> Manifest:
    try:
        data = nesting.load_toml(text, "the document", max_nesting_depth)
    except tomllib.TOMLDecodeError as e:
        raise ManifestError([f"telnyx.toml is not valid TOML: {e}"]) from None
    except nesting.TooDeep as e:
        raise ManifestError([f"{e} (documents.max_nesting_depth)"]) from None
    problems: list[str] = []
    warnings: list[str] = []

    def table(key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            problems.append(f"{key} = {_show(value)}: must be a table ([{key}])")
            return {}
        return value

    for key in data:
        if key not in KNOWN_TOP_LEVEL:
            warnings.append(f"unknown key '{key}' is ignored")

    name = data.get("name")
    if name is None:
        problems.append("name: missing; the function's name is required")
    elif (problem := check_function_name(name)) is not None:
        problems.append(problem)

    main = data.get("main")
    if main is None:
        problems.append("main: missing; the entry module (e.g. \"src/index.ts\") is required")
    elif not isinstance(main, str) or not main or ".." in main.split("/") or main.startswith("/"):
        problems.append(f"main = {_show(main)}: must be a relative path inside the project")

    date = data.get("compatibility_date")
    if date is not None:
        try:
            datetime.date.fromisoformat(date if isinstance(date, str) else "")
        except ValueError:
            problems.append(f"compatibility_date = {_show(date)}: must be a date as YYYY-MM-DD")

    actors = _parse_actors(data.get("actors", []), problems)

    edge = table("edge_compute")
    func_id = edge.get("func_id")
    if func_id is not None:
        try:
            func_id = str(uuid.UUID(func_id)) if isinstance(func_id, str) else None
        except ValueError:
            func_id = None
        if func_id is None:
            problems.append(f"edge_compute.func_id = {_show(edge.get('func_id'))}: must be a UUID")
    func_name = edge.get("func_name")
    if func_name is not None and func_name != name:
        problems.append(f"edge_compute.func_name = {_show(func_name)}: must equal name "
                        f"({_show(name)})")

    env_vars: dict[str, str] = {}
    env_table = table("env_vars")
    if len(env_table) > MAX_ENV_VARS:
        problems.append(f"env_vars: {len(env_table)} variables exceeds the limit of {MAX_ENV_VARS}")
    for key, value in env_table.items():
        if (problem := check_identifier(key, f"env_vars key {key!r}", 128)) is not None:
            problems.append(problem)
        elif not isinstance(value, str):
            problems.append(f"env_vars.{key} = {_show(value)}: must be a string")
        elif len(value.encode()) > MAX_ENV_VALUE_BYTES:
            problems.append(f"env_vars.{key}: value is {len(value.encode())} bytes, above "
                            f"{MAX_ENV_VALUE_BYTES}")
        else:
            env_vars[key] = value

    limits = table("limits")
    memory_mib = _bounded_int(limits, "memory_mib", 1, memory_cap_mib, problems)
    timeout_ms = _bounded_int(limits, "timeout_ms", 1, timeout_cap_ms, problems)
    for key in limits:
        if key not in ("memory_mib", "timeout_ms"):
            warnings.append(f"unknown key 'limits.{key}' is ignored")

    if problems:
        raise ManifestError(problems)
    return Manifest(name=name, main=main, compatibility_date=date, actors=actors,
                    func_id=func_id, env_vars=env_vars, memory_mib=memory_mib,
                    timeout_ms=timeout_ms, warnings=tuple(warnings))


def _parse_actors(raw: Any, problems: list[str]) -> tuple[ActorBinding, ...]:
    if not isinstance(raw, list):
        problems.append(f"actors = {_show(raw)}: must be an array of tables ([[actors]])")
        return ()
    bindings: list[ActorBinding] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        where = f"actors[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} = {_show(entry)}: must be a table with binding and type")
            continue
        binding, type_ = entry.get("binding"), entry.get("type")
        ok = True
        for key, value, max_len in (("binding", binding, MAX_BINDING_NAME),
                                    ("type", type_, MAX_TYPE_NAME)):
            if value is None:
                problems.append(f"{where}.{key}: missing")
                ok = False
            elif (problem := check_identifier(value, f"{where}.{key}", max_len)) is not None:
                problems.append(problem)
                ok = False
        if ok and binding in seen:
            problems.append(f"{where}.binding = {_show(binding)}: bindings must be unique "
                            f"within a function")
            ok = False
        if ok:
            seen.add(binding)
            bindings.append(ActorBinding(binding, type_))
    return tuple(bindings)


def _bounded_int(table: dict[str, Any], key: str, low: int, high: int,
                 problems: list[str]) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        problems.append(f"limits.{key} = {_show(value)}: must be an integer from {low} to {high}")
        return None
    return value
