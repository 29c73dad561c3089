"""Request ids, JSON logs, metrics, and the health and readiness endpoints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import httpx
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.settings import Settings
from tests.factories import CUSTOMERS, Tenant, metric, wait_until
from tests.servers import FULFILMENT, Server, free_port, new_account, running_server


def test_every_answer_carries_a_request_id(tenant: Tenant) -> None:
    answers = [
        tenant.get(CUSTOMERS),
        tenant.get(f"{CUSTOMERS}/424242"),
        tenant.client.get(CUSTOMERS),
        tenant.client.get("/nowhere"),
        tenant.client.get("/health"),
    ]

    ids = [answer.headers["x-request-id"] for answer in answers]
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids)
    assert len({rid[:16] for rid in ids}) == 1
    assert len(set(ids)) == len(ids)


def test_a_sane_incoming_request_id_is_kept(tenant: Tenant) -> None:
    kept = tenant.get(CUSTOMERS, headers={"X-Request-ID": "lb-7f3a.2"})
    replaced = tenant.get(CUSTOMERS, headers={"X-Request-ID": "bad id;" * 10})

    assert kept.headers["x-request-id"] == "lb-7f3a.2"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {
        "status": "ready",
        "database": "ok",
        "redis": "not configured",
    }


def test_ready_checks_redis(database_url: str) -> None:
    up = Settings(database_url=database_url, redis_url="redis://127.0.0.1:6379/0")
    down = Settings(database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(up)) as client:
        assert client.get("/ready").json()["redis"] == "ok"
    with TestClient(create_app(down)) as client:
        answer = client.get("/ready")
    # Redis only shares counters: without it the service serves, and says what it lacks.
    assert answer.status_code == 200
    assert answer.json() == {"status": "degraded", "database": "ok", "redis": "unreachable"}


def test_ready_checks_the_database() -> None:
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/nothing")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        answer = client.get("/ready")
        alive = client.get("/health")

    assert answer.status_code == 503
    assert "database" in answer.json()["error_message"]
    assert alive.status_code == 200


def test_metrics_count_requests_and_rejections(database_url: str, tmp_path: Path) -> None:
    from fulfilment.db import Database
    from tests.factories import make_tenant

    settings = Settings(database_url=database_url, rate_limit="3/minute")
    database = Database(settings)
    try:
        with TestClient(create_app(settings)) as client:
            tenant = make_tenant(database, client, "acme")
            before = client.get("/metrics").text
            for _ in range(5):
                tenant.get(CUSTOMERS)
            after = client.get("/metrics")
    finally:
        database.close()

    assert after.headers["content-type"].startswith("text/plain")
    route = "/api/v1/fulfilment/customers"
    counted = {
        status: metric(after.text, "fulfilment_http_requests_total", route=route, status=status)
        - metric(before, "fulfilment_http_requests_total", route=route, status=status)
        for status in ("200", "429")
    }
    assert counted == {"200": 3, "429": 2}
    rejected = metric(after.text, "fulfilment_rate_limit_rejections_total") - metric(
        before, "fulfilment_rate_limit_rejections_total"
    )
    assert rejected == 2
    assert metric(after.text, "fulfilment_http_request_duration_seconds_count", route=route) >= 5
    assert tenant.key not in after.text


def test_logs_are_json_lines_with_the_request_id_and_no_secret(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FULFILMENT_DATABASE_URL": f"sqlite:///{tmp_path / 'logged.sqlite3'}",
        "FULFILMENT_RATE_LIMIT": "off",
        "FULFILMENT_ACCESS_LOG": "true",
    }
    key = new_account(env)
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*FULFILMENT, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
        server = Server(f"http://127.0.0.1:{port}", process)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{server.url}/health", timeout=2)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            with httpx.Client(base_url=server.url, auth=(key, "secret-password")) as client:
                created = client.post(
                    CUSTOMERS,
                    json={"name": "Logged", "username": "logged", "password": "hunter2hunter2"},
                )
                missing = client.get(f"{CUSTOMERS}/999999")
                metrics = [client.get("/metrics").text for _ in range(4)]
        finally:
            server.stop()

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "fulfilment.access"]
    by_id = {line["request_id"]: line for line in access}
    assert len(by_id) == len(access)  # two workers, never the same id twice
    assert by_id[created.headers["x-request-id"]]["status"] == 200
    assert by_id[created.headers["x-request-id"]]["route"] == CUSTOMERS
    assert by_id[missing.headers["x-request-id"]]["status"] == 404
    assert {"time", "level", "message", "duration_ms", "method", "path"} <= set(
        by_id[missing.headers["x-request-id"]]
    )
    text = log_path.read_text()
    for secret in (key, "hunter2hunter2", "secret-password"):
        assert secret not in text
    # Two workers, one registry: every scrape sees the requests of both.
    assert all(
        metric(m, "fulfilment_http_requests_total", route=CUSTOMERS, status="200") == 1
        for m in metrics
    )


def test_metric_labels_come_from_a_fixed_set(tenant: Tenant) -> None:
    made_up = "X" * 5000
    before = tenant.client.get("/metrics").text
    for n in range(5):
        tenant.client.request(f"{made_up}{n}", CUSTOMERS)
        tenant.get(f"/api/v1/nowhere/{n}")
        tenant.get(f"/elsewhere/{n}")
    text = tenant.client.get("/metrics").text

    assert made_up not in text
    counted = {
        labels: metric(text, "fulfilment_http_requests_total", **dict(labels))
        - metric(before, "fulfilment_http_requests_total", **dict(labels))
        for labels in ((("method", "other"),), (("route", "unmatched"), ("status", "404")))
    }
    assert list(counted.values()) == [5, 10]
    assert "/api/v1/api/v1" not in text
    assert "nowhere" not in text
    assert "elsewhere" not in text


def test_the_metrics_directory_is_emptied_at_start_and_stop(tmp_path: Path) -> None:
    env = {
        "FULFILMENT_DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.sqlite3'}",
        "FULFILMENT_RATE_LIMIT": "off",
    }
    key = new_account(env)
    # Several workers, no directory chosen: a temporary one, removed at the end.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with running_server({**env, "TMPDIR": str(temporary)}, workers=2) as server:
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        assert next(temporary.iterdir()).name.startswith("fulfilment-metrics-")
    assert list(temporary.iterdir()) == []

    # A directory chosen by the operator: a run's figures are not added to the next one's.
    chosen = tmp_path / "metrics"
    chosen.mkdir()
    for _ in range(2):
        with running_server({**env, "PROMETHEUS_MULTIPROC_DIR": str(chosen)}, workers=2) as server:
            assert httpx.get(f"{server.url}{CUSTOMERS}", auth=(key, "X")).status_code == 200

            def counted(url: str = server.url) -> float:
                text = httpx.get(f"{url}/metrics").text
                return metric(text, "fulfilment_http_requests_total", route=CUSTOMERS)

            # The worker that answered counts the request once its answer is sent; the
            # other may answer /metrics before that.
            wait_until(lambda: counted() > 0, what="counted")
            assert counted() == 1
        assert list(chosen.iterdir()) == []
