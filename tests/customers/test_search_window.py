"""A search first walks the account's first customers, then asks the trigram index when
that did not fill the page: every page is the one the whole list, filtered, would give."""

from __future__ import annotations

import pytest

from fulfilment.customers import service
from tests.factories import CUSTOMERS, Tenant


@pytest.mark.parametrize(("window", "page"), [(4, 3), (40, 3), (1, 2)])
def test_every_page_is_the_filtered_list_s_whatever_the_window(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, window: int, page: int
) -> None:
    names = [f"{'Wombat' if n % 3 == 0 else 'Other'} {n:02}" for n in range(30)]
    ids = [tenant.create_customer(name=name)["idfulfilment_customer"] for name in names]
    expected = [id_ for id_, name in zip(ids, names, strict=True) if "wombat" in name.casefold()]
    monkeypatch.setattr(service, "SEARCH_WINDOW", window)
    monkeypatch.setattr(service, "PAGE_SIZE", page)

    found: list[int] = []
    for offset in range(0, len(expected) + page, page):
        answer = tenant.get(CUSTOMERS, params={"search": "WOMBAT", "offset": offset})
        assert answer.status_code == 200
        items = [item["idfulfilment_customer"] for item in answer.json()]
        assert items == expected[offset : offset + page]
        found += items
    assert found == expected
