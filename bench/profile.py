"""Where a case's CPU goes: py-spy samples the service's worker through one more round of
the case's load, and the summary names what the time was spent in, with and without what
each function called. The raw samples stay in the profile directory for a flame graph
(`py-spy`'s raw format: one stack a line, frames separated by `;`, then the count)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .processes import Server

SAMPLES_PER_SECOND = 1000
SHOWN = 18
# `handle (fulfilment/api.py:52)`: the function, and its file from the package on.
_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^:]+):\d+\)$")


def py_spy() -> str | None:
    """py-spy beside this Python (a virtual environment's), or on the path."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(server: Server, seconds: float, path: Path) -> subprocess.Popen[bytes]:
    """Start sampling the server's worker for `seconds` into `path`; wait on the result."""
    worker = server._worker_pids()[0]
    argv = [
        py_spy() or "py-spy",
        "record",
        "--pid",
        str(worker),
        "--format",
        "raw",
        # Only what holds the interpreter: the CPU the Python side spends, not its waits.
        "--gil",
        "--rate",
        str(SAMPLES_PER_SECOND),
        "--duration",
        str(max(1, round(seconds))),
        "--output",
        str(path),
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    file = match["file"]
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{match['function']} ({file})"


def _stacks(lines: Iterable[str]) -> Iterable[tuple[list[str], int]]:
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            # py-spy writes the thread first, then the outermost frame.
            frames = [_name(frame) for frame in stack.split(";")]
            yield frames, int(count)


def summary(path: Path) -> list[str]:
    """The functions that took the largest shares of the samples: in all (with what they
    called) and on their own. Shares, not times: sampling slows the worker down."""
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in _stacks(path.read_text().splitlines()):
        total += count
        own[frames[-1]] += count
        for name in set(frames[1:]):
            inclusive[name] += count
    if not total:
        return [f"profile {path.name}: no samples"]
    lines = [f"profile {path.name}: {total:,} samples; share with callees, then own"]
    # The frames under every sample (the server's start, the event loop) say nothing.
    layers = [(name, count) for name, count in inclusive.most_common() if count < total * 0.97]
    for (name, count), (own_name, own_count) in zip(
        layers[:SHOWN], own.most_common(SHOWN), strict=False
    ):
        lines.append(
            f"  {count / total:>6.1%} {name[:60]:<60}  {own_count / total:>6.1%} {own_name[:60]}"
        )
    return lines
