"""The benchmarks measure the host through its public seams only.

A benchmark that wraps or calls a private host method measures a host that no longer exists as
soon as the method is renamed or split, and keeps the host from changing. So no benchmark
reads a `_`-prefixed attribute of anything but its own objects (`self`), imports a private
name from edgehost, reaches one through getattr/setattr, or assigns to an attribute of a host
object or class (monkeypatching). The timings a benchmark needs from inside the host come from
its metrics (bench_cold reads edgehost_actor_activation_seconds and friends).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
OWN = ("self", "cls")  # a benchmark's own objects may have private parts


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _host_names(tree: ast.Module) -> set[str]:
    """Names bound by `import edgehost...` / `from edgehost... import ...`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "edgehost":
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                      if alias.name.split(".")[0] == "edgehost"}
    return names


def _assigned_attributes(node: ast.AST) -> list[ast.Attribute]:
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
    return [t for target in targets for t in ast.walk(target) if isinstance(t, ast.Attribute)]


def _monkeypatches(target: ast.Attribute, host_names: set[str]) -> bool:
    """`Class.method = ...` on a host import, or `obj.part.method = ...` (a chain: another
    object's part); a benchmark's own `args.x = ...` or `self.x = ...` is not."""
    base = target.value
    return isinstance(base, ast.Attribute) or (isinstance(base, ast.Name) and
                                               base.id in host_names)


def violations(source: str) -> list[str]:
    """Every place `source` reaches into the host's private parts or monkeypatches it."""
    tree = ast.parse(source)
    host_names = _host_names(tree)
    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and _is_private(node.attr) and \
                not (isinstance(node.value, ast.Name) and node.value.id in OWN):
            found.append(f"{where}: private attribute {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] == "edgehost":
            found += [f"{where}: imports private {node.module}.{alias.name}"
                      for alias in node.names if _is_private(alias.name)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("getattr", "setattr", "delattr") and len(node.args) >= 2 and \
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str) \
                and _is_private(node.args[1].value):
            found.append(f"{where}: {ast.unparse(node)}")
        found += [f"{where}: monkeypatches {ast.unparse(target)}"
                  for target in _assigned_attributes(node) if _monkeypatches(target, host_names)]
    return found


@pytest.mark.parametrize("script", sorted(BENCH_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_benchmark_reaches_into_host_internals(script: Path) -> None:
    assert violations(script.read_text()) == [], script.name


# What bench_cold did before the host published its activation timings: each must be caught.
OLD_PROBES = {
    "private method read": "activate = host.actors._activate\n",
    "private method wrapped": "host.actors._activate = probed_activate\n",
    "public method wrapped": "host.sandbox.new_instance = probed_new_instance\n",
    "class patched": "from edgehost.sandbox.engine import GuestInstance\n"
                     "GuestInstance.start = recorded_start\n",
    "private import": "from edgehost.sandbox.engine import _signature_of\n",
    "private getattr": "getattr(host.actors, '_activate')\n",
}


@pytest.mark.parametrize("source", OLD_PROBES.values(), ids=OLD_PROBES.keys())
def test_the_check_catches_probes_into_the_host(source: str) -> None:
    assert violations(source), source


def test_a_benchmarks_own_objects_are_its_own_business() -> None:
    assert violations("self._conn = connect()\nself._conn.close()\nargs.duration = 2\n"
                      "results.size_rows = measure()\n") == []
