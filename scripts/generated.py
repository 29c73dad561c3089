"""What the scripts that write source files share (unasync.py, structs.py): formatting the
text as the project's ruff settings say, and writing it, or checking that it is written."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ruff(text: str, path: Path, *, sort_imports: bool = False) -> str:
    """`text` as ruff formats it for `path` (with its imports sorted if asked)."""
    commands = [["format", "--quiet"]]
    if sort_imports:
        commands.insert(0, ["check", "--select", "I", "--fix", "--quiet"])
    for command in commands:
        text = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return text


def write_or_check(path: Path, expected: str, *, check: bool, source: str, script: str) -> bool:
    """Write `expected` to `path`; with `check`, write nothing and say how `path` differs.
    False when `path` was out of date and only checked."""
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual == expected:
        return True
    if not check:
        path.write_text(expected, encoding="utf-8")
        return True
    print(f"{path.name} is out of date with {source}; run `python scripts/{script}`")
    sys.stdout.writelines(
        difflib.unified_diff(
            actual.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            f"{path.name} (as it is)",
            f"{path.name} (as generated)",
        )
    )
    return False
