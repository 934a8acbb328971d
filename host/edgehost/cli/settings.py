"""Where the CLI finds the host and the key: flags, then environment, then the saved config.

The saved config is a small JSON file, readable only by its owner, at $EDGEHOST_CONFIG or
$XDG_CONFIG_HOME/edgehost/config.json (default ~/.config/edgehost/config.json).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from edgehost.files import write_private

DEFAULT_URL = "http://127.0.0.1:8787"


def config_path() -> Path:
    explicit = os.environ.get("EDGEHOST_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "edgehost" / "config.json"


def load_saved() -> dict:
    """The saved settings; an unreadable file, or one that is not a JSON object, counts as
    none (the next `save` replaces it)."""
    path = config_path()
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def save(values: dict) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**load_saved(), **values}
    write_private(path, json.dumps(merged, indent=2))
    return path


@dataclass(frozen=True)
class Target:
    url: str
    key: str | None
    key_source: str  # "--api-key", "EDGEHOST_API_KEY", the config path, or "none"


def resolve(url_flag: str | None, key_flag: str | None) -> Target:
    saved = load_saved()
    url = url_flag or os.environ.get("EDGEHOST_URL") or saved.get("url") or DEFAULT_URL
    if key_flag:
        return Target(url.rstrip("/"), key_flag, "--api-key")
    if os.environ.get("EDGEHOST_API_KEY"):
        return Target(url.rstrip("/"), os.environ["EDGEHOST_API_KEY"], "EDGEHOST_API_KEY")
    if saved.get("api_key"):
        return Target(url.rstrip("/"), saved["api_key"], str(config_path()))
    return Target(url.rstrip("/"), None, "none")
