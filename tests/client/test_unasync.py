"""The blocking client is what scripts/unasync.py writes from the asyncio one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path("scripts") / "unasync.py"
CLIENT = Path("src") / "fulfilment" / "client"


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    result = check(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    generated = (ROOT / CLIENT / "_sync.py").read_text(encoding="utf-8")
    assert generated.startswith("# Generated from _async.py by scripts/unasync.py")


def test_the_check_fails_when_the_sync_client_was_edited_by_hand(tmp_path: Path) -> None:
    # A copy of the parts the script reads: itself, the client, and the ruff settings.
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / SCRIPT).parent.mkdir()
    shutil.copy(ROOT / SCRIPT, tmp_path / SCRIPT)
    shutil.copytree(ROOT / CLIENT, tmp_path / CLIENT)
    synced = tmp_path / CLIENT / "_sync.py"
    synced.write_text(
        synced.read_text(encoding="utf-8").replace("time.sleep(wait)", "time.sleep(2 * wait)"),
        encoding="utf-8",
    )

    result = check(tmp_path)

    assert result.returncode == 1
    assert "-                time.sleep(2 * wait)" in result.stdout
    assert "+                time.sleep(wait)" in result.stdout
