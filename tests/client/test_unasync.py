"""The blocking client is what scripts/unasync.py writes from the asyncio one."""

from __future__ import annotations

from pathlib import Path

from tests.generated import ROOT, check, copy_of_the_tree

CLIENT = Path("src") / "fulfilment" / "client"


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    result = check(ROOT, "unasync.py")

    assert result.returncode == 0, result.stdout + result.stderr
    generated = (ROOT / CLIENT / "_sync.py").read_text(encoding="utf-8")
    assert generated.startswith("# Generated from _async.py by scripts/unasync.py")


def test_the_check_fails_when_the_sync_client_was_edited_by_hand(tmp_path: Path) -> None:
    copy_of_the_tree(tmp_path, CLIENT)
    synced = tmp_path / CLIENT / "_sync.py"
    synced.write_text(
        synced.read_text(encoding="utf-8").replace("time.sleep(wait)", "time.sleep(2 * wait)"),
        encoding="utf-8",
    )

    result = check(tmp_path, "unasync.py")

    assert result.returncode == 1
    assert "-                time.sleep(2 * wait)" in result.stdout
    assert "+                time.sleep(wait)" in result.stdout
