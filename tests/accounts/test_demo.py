"""`fulfilment demo`, what `make run` prints: everything a newcomer needs for a first hour,
made once and reused after."""

from __future__ import annotations

import re

from click.testing import CliRunner
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.cli import main
from fulfilment.settings import Settings
from tests.admin.helpers import log_in as staff_log_in
from tests.portal.helpers import log_in as portal_log_in

KEY = re.compile(r"^API key: +(\S+)", re.MULTILINE)
LOGIN = re.compile(r"log in as (\S+), password (\S+) \(shown this once\)")


def _demo(database_url: str) -> str:
    result = CliRunner().invoke(main, ["demo"], env={"FULFILMENT_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_demo_prints_a_first_hour_and_reuses_it(database_url: str) -> None:
    first = _demo(database_url)
    second = _demo(database_url)

    [first_key] = KEY.findall(first)
    [second_key] = KEY.findall(second)
    assert first_key != second_key
    site = "http://127.0.0.1:8000"
    assert f"curl -u {first_key}:X {site}/api/v1/fulfilment/customers" in first
    assert f"API console: {site}/docs" in first
    assert f"Back office: {site}/admin/demo/" in first
    assert f"Portal:      {site}/portal/demo/" in first
    [(staff, staff_password), (customer, customer_password)] = LOGIN.findall(first)
    assert "Made the demo account" in first
    assert "Added 4 demo customers" in first
    # Again: the same account, users and customers, said so, and no password shown again.
    assert "Reusing the demo account" in second
    assert "Added" not in second
    assert LOGIN.findall(second) == []
    assert staff_password not in second
    assert customer_password not in second
    assert f"log in as {staff} (the password printed when it was made)" in second
    assert f"log in as {customer} (the password printed when it was made)" in second

    with TestClient(create_app(Settings(database_url=database_url))) as client:
        for key in (first_key, second_key):
            listed = client.get("/api/v1/fulfilment/customers", auth=(key, "X")).json()
            assert len(listed) == 4
            assert {item["language"] for item in listed} == {"nl", "en"}
            [portal] = [item for item in listed if item["username"] == customer]
            assert portal["can_login"] is True
            assert None not in (portal["idtemplate"], portal["preferred_idwarehouse"])
            assert client.get("/api/v1/users/me", auth=(key, "X")).json()["username"] == staff
            assert client.get("/api/v1/warehouses", auth=(key, "X")).json()[0]["name"] == (
                "Main warehouse"
            )
            providers = client.get("/api/v1/shippingproviders", auth=(key, "X")).json()
            assert len(providers[0]["profiles"]) == 2
            assert len(client.get("/api/v1/templates", auth=(key, "X")).json()) == 1
        assert [
            user["username"] for user in client.get("/api/v1/users", auth=(key, "X")).json()
        ] == [staff]

        staff_login = staff_log_in(client, staff, staff_password, base="/admin/demo/")
        assert staff_login.status_code == 303
        assert staff_login.headers["location"].endswith("/admin/demo/")
        customer_login = portal_log_in(client, "/portal/demo/", customer, customer_password)
        assert customer_login.status_code == 303
        assert not customer_login.headers["location"].endswith("login")
