"""What happens before a request reaches a route: redirects that never name a host, HSTS
over HTTPS (behind a trusted proxy too), the limit on headers, and ids that are no ids."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.settings import Settings, SettingsError
from tests.factories import API, CUSTOMERS, Tenant

HSTS = "strict-transport-security"


@pytest.fixture
def plain(client: TestClient) -> TestClient:
    client.follow_redirects = False
    return client


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/portal", "/portal/"),
        ("/portal/acme", "/portal/acme/"),
        ("/portal/acme?lang=en", "/portal/acme/?lang=en"),
        ("/docs/", "/docs"),
    ],
)
def test_redirects_are_relative_whatever_the_host(
    plain: TestClient, path: str, location: str
) -> None:
    answer = plain.get(path, headers={"Host": "evil.example"})

    assert answer.status_code == 307
    assert answer.headers["location"] == location


def test_no_redirect_to_another_site(plain: TestClient) -> None:
    # `//evil.example/` as a Location would be a protocol-relative address.
    answer = plain.get("//evil.example")

    assert answer.status_code == 404
    assert "location" not in answer.headers


@pytest.mark.parametrize("path", [f"{CUSTOMERS}/", f"{API}/warehouses/", API, f"{API}/"])
def test_no_redirects_under_the_api(plain: TestClient, path: str) -> None:
    answer = plain.get(path, headers={"Host": "evil.example"})

    assert answer.status_code == 404
    assert answer.json() == {
        "error": True,
        "error_code": 8,
        "error_message": f"There is no {path}.",
    }


@pytest.mark.parametrize(
    "path",
    [
        f"{CUSTOMERS}/abc",
        f"{CUSTOMERS}/-1",
        f"{CUSTOMERS}/1.0",
        f"{CUSTOMERS}/abc/history",
        f"{API}/warehouses/abc",
    ],
)
def test_an_id_that_is_no_id_is_an_unknown_path(tenant: Tenant, path: str) -> None:
    answer = tenant.get(path)

    assert answer.status_code == 404
    assert answer.json()["error_code"] == 8
    assert answer.json()["error_message"] == f"There is no {path}."


def test_hsts_over_https_only(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="https://testserver") as secure:
        answers = [secure.get("/health"), secure.get(CUSTOMERS), secure.get("/portal/")]
    with TestClient(create_app(settings)) as plain:
        unsecured = [plain.get("/health"), plain.get(CUSTOMERS), plain.get("/portal/")]

    assert all(answer.headers[HSTS] == "max-age=31536000" for answer in answers)
    assert all(HSTS not in answer.headers for answer in unsecured)
    # Once, also on the portal's pages, which had a header of their own.
    assert answers[2].headers.get_list(HSTS) == ["max-age=31536000"]


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        (None, None),
        ("10.0.0.0/8", None),
        ("127.0.0.1", "max-age=31536000"),
        ("*", "max-age=31536000"),
    ],
)
def test_hsts_behind_a_proxy_that_is_trusted(
    database_url: str, trusted: str | None, expected: str | None
) -> None:
    settings = Settings(database_url=database_url, forwarded_allow_ips=trusted)
    with TestClient(create_app(settings), client=("127.0.0.1", 40000)) as proxied:
        answer = proxied.get("/health", headers={"X-Forwarded-Proto": "https"})

    assert answer.headers.get(HSTS) == expected


def test_forwarded_allow_ips_must_be_addresses() -> None:
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        Settings.from_env({"FULFILMENT_FORWARDED_ALLOW_IPS": "127.0.0.1, proxy.internal"})


def test_headers_too_large_get_a_wire_error(tenant: Tenant) -> None:
    answer = tenant.get(CUSTOMERS, headers={"X-Big": "a" * 70_000})

    assert answer.status_code == 431
    assert answer.json() == {
        "error": True,
        "error_code": 106,
        "error_message": "The request's headers add up to more than 65536 bytes.",
    }
    # 60 KB of Authorization header is within the limit.
    assert tenant.get(CUSTOMERS, headers={"X-Big": "a" * 60_000}).status_code == 200
