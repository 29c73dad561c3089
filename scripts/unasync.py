"""Write the blocking client (src/fulfilment/client/_sync.py) from the asyncio one
(_async.py), so that the two cannot drift apart; httpcore keeps its twins the same way.

    python scripts/unasync.py           # rewrite _sync.py
    python scripts/unasync.py --check   # write nothing; fail when _sync.py is out of date

The output goes through ruff (import order, formatting), as every file of the package
does: the names the substitutions shorten would otherwise leave lines wrapped early."""

from __future__ import annotations

import re
import sys

from generated import ROOT, ruff, write_or_check

CLIENT = ROOT / "src" / "fulfilment" / "client"
SOURCE = CLIENT / "_async.py"
TARGET = CLIENT / "_sync.py"

HEADER = (
    "# Generated from _async.py by scripts/unasync.py: do not edit. Change _async.py, then\n"
    "# run `python scripts/unasync.py`.\n"
)

# (pattern, replacement), applied in order to the whole text.
SUBSTITUTIONS = [
    # The note in _async.py about this script is for readers of that file only.
    (r"^# unasync: .*\n", ""),
    (r"\bimport anyio\b", "import time"),
    (r"\banyio\.sleep\b", "time.sleep"),
    # AsyncClient, AsyncIterator, httpx.AsyncClient, httpx.AsyncBaseTransport...
    (r"\bAsync([A-Z]\w*)", r"\1"),
    (r"\basync def\b", "def"),
    (r"\bawait ", ""),
    (r"\baclose\b", "close"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    # An async generator cannot `yield from`; a plain one should.
    (r"for (\w+) in (\w+):\n(\s+)yield \1\n", r"yield from \2\n"),
    # Words of the docstrings.
    (r"\basyncio \(and trio\) programs\b", "blocking programs"),
    (r"\ban async context manager\b", "a context manager"),
]


def unasync(text: str) -> str:
    """The blocking twin of `text`, the source of the asyncio client."""
    unused = []
    for pattern, replacement in SUBSTITUTIONS:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if not count:
            unused.append(pattern)
    if unused:
        # A pattern that no longer matches means _async.py changed under it.
        raise SystemExit(f"unasync: these patterns matched nothing in {SOURCE.name}: {unused}")
    return HEADER + ruff(text, TARGET, sort_imports=True)


def main(arguments: list[str]) -> int:
    check = arguments == ["--check"]
    if arguments and not check:
        print(__doc__, file=sys.stderr)
        return 2
    expected = unasync(SOURCE.read_text(encoding="utf-8"))
    written = write_or_check(TARGET, expected, check=check, source=SOURCE.name, script="unasync.py")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
