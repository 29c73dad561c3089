"""Helpers for the tests of the scripts that write source files (scripts/unasync.py,
scripts/structs.py): each has a `--check` that fails when what it writes is out of date."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def check(root: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`python scripts/<script> --check` in the tree at `root`."""
    return subprocess.run(
        [sys.executable, str(root / "scripts" / script), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def copy_of_the_tree(target: Path, *parts: Path) -> None:
    """What a script reads, copied to `target`: the scripts, the ruff settings, and `parts`."""
    shutil.copy(ROOT / "pyproject.toml", target)
    shutil.copytree(ROOT / "scripts", target / "scripts")
    for part in parts:
        shutil.copytree(ROOT / part, target / part)
