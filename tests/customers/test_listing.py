"""Pagination by `offset` in pages of 100, and `search`."""

from __future__ import annotations

import pytest

from tests.factories import CUSTOMERS, Tenant


@pytest.mark.pgbouncer
def test_pages_of_100_then_an_empty_page(tenant: Tenant) -> None:
    created = [
        tenant.create_customer(name=f"Customer {n:03}")["idfulfilment_customer"] for n in range(250)
    ]

    pages = [tenant.get(CUSTOMERS, params={"offset": offset}) for offset in (0, 100, 200, 300)]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert [len(page.json()) for page in pages] == [100, 100, 50, 0]
    assert pages[3].json() == []
    seen = [item["idfulfilment_customer"] for page in pages for item in page.json()]
    assert seen == sorted(created) == created
    assert tenant.get(CUSTOMERS).json() == pages[0].json()
    middle = tenant.get(CUSTOMERS, params={"offset": 149}).json()
    assert [item["idfulfilment_customer"] for item in middle] == created[149:249]


def test_a_client_walking_pages_stops_at_the_short_page(tenant: Tenant) -> None:
    for n in range(120):
        tenant.create_customer(name=f"Walker {n}")

    names: list[str] = []
    offset = 0
    for _ in range(10):  # 2 pages expected: a service that never ends a list fails here
        page = tenant.get(CUSTOMERS, params={"offset": offset}).json()
        names += [item["name"] for item in page]
        if len(page) < 100:
            break
        offset += 100

    assert names == [f"Walker {n}" for n in range(120)]


@pytest.mark.parametrize(
    "offset", ["-1", "abc", "1.5", "1e3", "+5", " 5", "99999999999999999999", "٣"]
)
def test_a_bad_offset_is_400(tenant: Tenant, offset: str) -> None:
    answer = tenant.get(CUSTOMERS, params={"offset": offset})

    assert answer.status_code == 400
    body = answer.json()
    assert body["error_code"] == 5
    assert "offset" in body["error_message"]


@pytest.mark.pgbouncer
def test_search_matches_name_username_and_email_ignoring_case(tenant: Tenant) -> None:
    by_name = tenant.create_customer(name="Fulfilling Partners")
    by_username = tenant.create_customer(name="Other", username="PartnerShop")
    by_email = tenant.create_customer(name="Third", emailaddress="orders@partners.example")
    tenant.create_customer(name="Unrelated", username="nobody", emailaddress="x@y.example")

    found = tenant.get(CUSTOMERS, params={"search": "PARTNER"}).json()

    assert [item["idfulfilment_customer"] for item in found] == [
        by_name["idfulfilment_customer"],
        by_username["idfulfilment_customer"],
        by_email["idfulfilment_customer"],
    ]


def test_search_folds_unicode_case_and_treats_wildcards_literally(tenant: Tenant) -> None:
    accented = tenant.create_customer(name="ÉCOLE Dépôt")
    percent = tenant.create_customer(name="100% Wol")
    tenant.create_customer(name="1000 Wol")
    underscore = tenant.create_customer(name="a_b", username="under_score")
    tenant.create_customer(name="axb")

    def ids(search: str) -> list[int]:
        answer = tenant.get(CUSTOMERS, params={"search": search})
        assert answer.status_code == 200
        return [item["idfulfilment_customer"] for item in answer.json()]

    assert ids("école dép") == [accented["idfulfilment_customer"]]
    assert ids("0%") == [percent["idfulfilment_customer"]]
    assert ids("a_b") == [underscore["idfulfilment_customer"]]
    assert ids("zzz") == []


@pytest.mark.pgbouncer
def test_search_pages_like_the_full_list(tenant: Tenant) -> None:
    matching = [
        tenant.create_customer(name=f"Match {n}")["idfulfilment_customer"] for n in range(105)
    ]
    tenant.create_customer(name="Other")

    first = tenant.get(CUSTOMERS, params={"search": "match"}).json()
    second = tenant.get(CUSTOMERS, params={"search": "match", "offset": 100}).json()

    assert [item["idfulfilment_customer"] for item in first + second] == matching
    assert len(first) == 100


@pytest.mark.parametrize("search", ["a\x00b", "\x00", "x" * 256])
def test_a_search_with_nul_or_over_255_characters_is_400(tenant: Tenant, search: str) -> None:
    tenant.create_customer(name="x" * 255)

    answer = tenant.get(CUSTOMERS, params={"search": search})

    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == 5
    assert "search" in answer.json()["error_message"]


def test_a_search_of_255_characters_and_an_empty_offset_are_served(tenant: Tenant) -> None:
    created = tenant.create_customer(name="x" * 255)

    answer = tenant.get(CUSTOMERS, params={"search": "x" * 255, "offset": ""})

    assert answer.status_code == 200, answer.text
    assert [item["idfulfilment_customer"] for item in answer.json()] == [
        created["idfulfilment_customer"]
    ]
