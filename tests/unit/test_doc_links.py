"""Every relative link in the repository's Markdown resolves to a file or folder inside the
repository: a clone carries everything its documents point to."""

import re
from pathlib import Path

from tests.conftest import ROOT

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "results", ".edgehost"}


def markdown_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.md")
            if not SKIPPED_DIRS.intersection(p.relative_to(ROOT).parts)]


def test_relative_links_resolve_inside_the_repository():
    broken = []
    for doc in markdown_files():
        for target in LINK.findall(doc.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL or an anchor in the same page
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT.resolve()) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, "links that leave the repository or lead nowhere:\n" + "\n".join(broken)
