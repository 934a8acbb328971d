"""Parse and validate `telnyx.toml`, and the typed `Manifest` it becomes.

Every problem is reported at once, each naming the key, the offending value and the rule, so a
user fixes a manifest in one round trip. Unknown keys are warnings, not errors: manifests written
for the original platform may carry keys edgehost does not use.

`parse_manifest` runs one validator per part of the document (top-level keys, name, main,
compatibility_date, [[actors]], [edge_compute], [env_vars], [limits]); each adds what it finds
to one `Findings`, in document order. A stored revision keeps its manifest as the JSON of
`Manifest.to_json`, read back with `Manifest.from_json`.
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
        """The stored form (in a revision) and the admin API's; warnings are not part of it."""
        return {
            "name": self.name, "main": self.main, "compatibility_date": self.compatibility_date,
            "actors": [{"binding": a.binding, "type": a.type} for a in self.actors],
            "func_id": self.func_id, "env_vars": dict(self.env_vars),
            "limits": {"memory_mib": self.memory_mib, "timeout_ms": self.timeout_ms},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        """A manifest as `to_json` stored it (every host so far has stored this same form)."""
        limits = data.get("limits") or {}
        return cls(name=data["name"], main=data["main"],
                   compatibility_date=data.get("compatibility_date"),
                   actors=tuple(ActorBinding(a["binding"], a["type"])
                                for a in data.get("actors") or ()),
                   func_id=data.get("func_id"), env_vars=dict(data.get("env_vars") or {}),
                   memory_mib=limits.get("memory_mib"), timeout_ms=limits.get("timeout_ms"))


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


@dataclass
class Findings:
    """What the validators found: problems (the manifest is refused) and warnings."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_manifest(text: str, *, memory_cap_mib: int, timeout_cap_ms: int,
                   max_nesting_depth: int = DEFAULT_MAX_NESTING_DEPTH) -> Manifest:
    """The manifest `text` describes, or ManifestError listing every problem in it."""
    data = _load(text, max_nesting_depth)
    found = Findings()
    _warn_unknown_keys(data, found)
    name = _check_name(data, found)
    main = _check_main(data, found)
    date = _check_compatibility_date(data, found)
    actors = _check_actors(data.get("actors", []), found)
    func_id = _check_edge_compute(_table(data, "edge_compute", found), name, found)
    env_vars = _check_env_vars(_table(data, "env_vars", found), found)
    memory_mib, timeout_ms = _check_limits(_table(data, "limits", found), memory_cap_mib,
                                           timeout_cap_ms, found)
    if found.problems:
        raise ManifestError(found.problems)
    return Manifest(name=name, main=main, compatibility_date=date, actors=actors,
                    func_id=func_id, env_vars=env_vars, memory_mib=memory_mib,
                    timeout_ms=timeout_ms, warnings=tuple(found.warnings))


def _load(text: str, max_nesting_depth: int) -> dict[str, Any]:
    try:
        return nesting.load_toml(text, "the document", max_nesting_depth)
    except tomllib.TOMLDecodeError as e:
        raise ManifestError([f"telnyx.toml is not valid TOML: {e}"]) from None
    except nesting.TooDeep as e:
        raise ManifestError([f"{e} (documents.max_nesting_depth)"]) from None


def _table(data: dict[str, Any], key: str, found: Findings) -> dict[str, Any]:
    """The table under `key` ({} when absent, or when it is not a table: a problem)."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        found.problems.append(f"{key} = {_show(value)}: must be a table ([{key}])")
        return {}
    return value


def _warn_unknown_keys(data: dict[str, Any], found: Findings) -> None:
    for key in data:
        if key not in KNOWN_TOP_LEVEL:
            found.warnings.append(f"unknown key '{key}' is ignored")


def _check_name(data: dict[str, Any], found: Findings) -> Any:
    name = data.get("name")
    if name is None:
        found.problems.append("name: missing; the function's name is required")
    elif (problem := check_function_name(name)) is not None:
        found.problems.append(problem)
    return name


def _check_main(data: dict[str, Any], found: Findings) -> Any:
    main = data.get("main")
    if main is None:
        found.problems.append(
            "main: missing; the entry module (e.g. \"src/index.ts\") is required")
    elif not isinstance(main, str) or not main or ".." in main.split("/") or \
            main.startswith("/"):
        found.problems.append(f"main = {_show(main)}: must be a relative path inside the project")
    return main


def _check_compatibility_date(data: dict[str, Any], found: Findings) -> Any:
    date = data.get("compatibility_date")
    if date is not None:
        try:
            datetime.date.fromisoformat(date if isinstance(date, str) else "")
        except ValueError:
            found.problems.append(
                f"compatibility_date = {_show(date)}: must be a date as YYYY-MM-DD")
    return date


def _check_actors(raw: Any, found: Findings) -> tuple[ActorBinding, ...]:
    """[[actors]]: each entry a table with a unique `binding` and a `type`, both identifiers."""
    if not isinstance(raw, list):
        found.problems.append(f"actors = {_show(raw)}: must be an array of tables ([[actors]])")
        return ()
    bindings: list[ActorBinding] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        binding = _check_actor_entry(f"actors[{i}]", entry, seen, found)
        if binding is not None:
            seen.add(binding.binding)
            bindings.append(binding)
    return tuple(bindings)


def _check_actor_entry(where: str, entry: Any, seen: set[str],
                       found: Findings) -> ActorBinding | None:
    if not isinstance(entry, dict):
        found.problems.append(f"{where} = {_show(entry)}: must be a table with binding and type")
        return None
    binding, type_ = entry.get("binding"), entry.get("type")
    ok = True
    for key, value, max_len in (("binding", binding, MAX_BINDING_NAME),
                                ("type", type_, MAX_TYPE_NAME)):
        if value is None:
            found.problems.append(f"{where}.{key}: missing")
            ok = False
        elif (problem := check_identifier(value, f"{where}.{key}", max_len)) is not None:
            found.problems.append(problem)
            ok = False
    if ok and binding in seen:
        found.problems.append(f"{where}.binding = {_show(binding)}: bindings must be unique "
                              f"within a function")
        ok = False
    return ActorBinding(binding, type_) if ok else None


def _check_edge_compute(edge: dict[str, Any], name: Any, found: Findings) -> str | None:
    """[edge_compute]: the func_id (a UUID, returned normalised) and func_name (= name)."""
    raw_id = edge.get("func_id")
    func_id = None
    if raw_id is not None:
        try:
            func_id = str(uuid.UUID(raw_id)) if isinstance(raw_id, str) else None
        except ValueError:
            func_id = None
        if func_id is None:
            found.problems.append(f"edge_compute.func_id = {_show(raw_id)}: must be a UUID")
    func_name = edge.get("func_name")
    if func_name is not None and func_name != name:
        found.problems.append(f"edge_compute.func_name = {_show(func_name)}: must equal name "
                              f"({_show(name)})")
    return func_id


def _check_env_vars(env_table: dict[str, Any], found: Findings) -> dict[str, str]:
    """[env_vars]: at most MAX_ENV_VARS, each an identifier bound to a string of at most
    MAX_ENV_VALUE_BYTES; returns the valid ones."""
    if len(env_table) > MAX_ENV_VARS:
        found.problems.append(
            f"env_vars: {len(env_table)} variables exceeds the limit of {MAX_ENV_VARS}")
    env_vars: dict[str, str] = {}
    for key, value in env_table.items():
        if (problem := check_identifier(key, f"env_vars key {key!r}", 128)) is not None:
            found.problems.append(problem)
        elif not isinstance(value, str):
            found.problems.append(f"env_vars.{key} = {_show(value)}: must be a string")
        elif len(value.encode()) > MAX_ENV_VALUE_BYTES:
            found.problems.append(f"env_vars.{key}: value is {len(value.encode())} bytes, above "
                                  f"{MAX_ENV_VALUE_BYTES}")
        else:
            env_vars[key] = value
    return env_vars


def _check_limits(limits: dict[str, Any], memory_cap_mib: int, timeout_cap_ms: int,
                  found: Findings) -> tuple[int | None, int | None]:
    """[limits]: memory_mib and timeout_ms, each an integer from 1 to the host's cap."""
    memory_mib = _bounded_int(limits, "memory_mib", 1, memory_cap_mib, found)
    timeout_ms = _bounded_int(limits, "timeout_ms", 1, timeout_cap_ms, found)
    for key in limits:
        if key not in ("memory_mib", "timeout_ms"):
            found.warnings.append(f"unknown key 'limits.{key}' is ignored")
    return memory_mib, timeout_ms


def _bounded_int(table: dict[str, Any], key: str, low: int, high: int,
                 found: Findings) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        found.problems.append(
            f"limits.{key} = {_show(value)}: must be an integer from {low} to {high}")
        return None
    return value
