"""The benchmark's back-office case: its staff user logs in, and each of its pages answers
with the customers the fill gave."""

from __future__ import annotations

from bench import admin
from bench.fill import COMMON_WORD, customer_name, fill
from starlette.testclient import TestClient

from fulfilment.app import create_app
from fulfilment.settings import Settings
from tests.portal.helpers import form_token, shown_texts


def test_the_admin_case_reads_the_pages_it_measures(database_url: str, settings: Settings) -> None:
    filled = fill(database_url, 450)
    admin.add_staff_user(filled)
    with TestClient(create_app(settings)) as client:
        form = client.get(f"{admin.BASE}login")
        answer = client.post(
            f"{admin.BASE}login",
            data={
                "csrf_token": form_token(form.text),
                "username": admin.STAFF_USERNAME,
                "password": admin.STAFF_PASSWORD,
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303
        (first, _), (far, far_path), (search, search_path), _ = admin.pages(filled.customers)
        assert far == "list page 5"
        shown = {
            path: shown_texts(client.get(path).text) for _, path in admin.pages(filled.customers)
        }
    assert customer_name(1) in shown[f"{admin.BASE}customers"]
    assert customer_name(100) in shown[f"{admin.BASE}customers"]
    assert customer_name(401) in shown[far_path]
    assert customer_name(450) in shown[far_path]
    tagged = [text for text in shown[search_path] if COMMON_WORD in text]
    assert tagged == [customer_name(n) for n in (50, 150, 250, 350, 450)]
    assert first == "list page 1"
    assert search == "list search, 1%"
