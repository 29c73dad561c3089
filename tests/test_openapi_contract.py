"""Contract fuzzing: schemathesis drives a real server process from the service's own
OpenAPI document, with valid and invalid input (every phase, stateful links from create to
get and update included). No answer may be a 5xx or break the document, and the server
must still be up, with no traceback in its log, at the end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.servers import new_account, running_server

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Examples per operation and mode in the fuzzing phase; coverage and stateful phases add
# their own: about 2,000 requests per backend (nine operations), some 30 seconds each on
# two shared cores; the subprocess timeout bounds a hang at three minutes.
MAX_EXAMPLES = 100
SEED = 20261127


def recorded_requests(report: Path) -> tuple[int, set[str]]:
    """Requests schemathesis sent, and the phases it ran, from its NDJSON event stream."""
    sent = 0
    phases: set[str] = set()
    for line in report.read_text().splitlines():
        event = json.loads(line)
        if "ScenarioFinished" in event:
            finished = event["ScenarioFinished"]
            interactions = finished["recorder"].get("interactions", {})
            sent += len(interactions)
            if interactions:
                phases.add(finished["phase"])
    return sent, phases


def test_the_live_service_keeps_its_contract(database_url: str, tmp_path: Path) -> None:
    env = {"FULFILMENT_DATABASE_URL": database_url, "FULFILMENT_RATE_LIMIT": "1000000/minute"}
    key = new_account(env)
    log = tmp_path / "server.log"
    report = tmp_path / "events.ndjson"
    with running_server(env, log=log) as server:
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")),
                "--config-file", str(CONFIG),
                "--no-color",
                "run", f"{server.url}/api/v1/openapi.json",
                "--url", server.url,
                "--auth", f"{key}:X",
                "--max-examples", str(MAX_EXAMPLES),
                "--seed", str(SEED),
                "--workers", "1",
                "--report", "ndjson",
                "--report-ndjson-path", str(report),
            ],
            capture_output=True,
            text=True,
            timeout=180,  # a hang fails the test instead of holding CI up
            cwd=tmp_path,
        )  # fmt: skip
        still_up = httpx.get(f"{server.url}/api/v1/warehouses", auth=(key, "X"))

    sent, phases = recorded_requests(report)
    print(f"\nschemathesis sent {sent} requests ({', '.join(sorted(phases))})")
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert {"coverage", "fuzzing", "stateful"} <= phases
    assert sent > 1000
    assert still_up.status_code == 200
    assert "Traceback" not in log.read_text()
