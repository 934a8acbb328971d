"""A function project on disk: a folder with `telnyx.toml` and its built module.

The guest SDK's build writes `build/{name}.wasm`, where `name` is the manifest's `name`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from edgehost import nesting
from edgehost.config import DEFAULT_MAX_NESTING_DEPTH

MANIFEST_FILE = "telnyx.toml"


class ProjectError(Exception):
    pass


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    manifest_text: str
    module_path: Path

    def read_module(self) -> bytes:
        if not self.module_path.is_file():
            raise ProjectError(f"{self.module_path}: built module not found; build the project "
                               f"first (npm run build in {self.root})")
        return self.module_path.read_bytes()


def load_project(root: Path) -> Project:
    manifest_path = root / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ProjectError(f"{manifest_path}: not found; a project folder needs a {MANIFEST_FILE}")
    text = manifest_path.read_text(encoding="utf-8")
    try:
        name = nesting.load_toml(text, "the document", DEFAULT_MAX_NESTING_DEPTH).get("name")
    except tomllib.TOMLDecodeError as e:
        raise ProjectError(f"{manifest_path}: not valid TOML: {e}") from None
    except nesting.TooDeep as e:
        raise ProjectError(f"{manifest_path}: {e}") from None
    if not isinstance(name, str) or not name:
        raise ProjectError(f"{manifest_path}: 'name' is missing")
    return Project(root, name, text, root / "build" / f"{name}.wasm")
