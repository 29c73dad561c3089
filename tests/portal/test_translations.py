"""Every word the portal and the back office show comes from both catalogues, `nl` and
`en`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

import fulfilment
from fulfilment.web import i18n
from tests.factories import Tenant

from .helpers import PASSWORD, log_in, post_form, untranslated

BASE = "/portal/acme/"
PACKAGE = Path(fulfilment.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


# Where the pages' words are: the portal, the back office, what both share, the pages
# of logging in (identity/, passkeys too); and the field and event tables, whose words
# the pages show by their keys.
SOURCES = [PACKAGE / name for name in ("portal", "admin", "web", "identity")]
TABLES = [PACKAGE / "fields.py", PACKAGE / "events.py"]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def _used_message_ids() -> set[str]:
    """What the code and the templates ask to translate, found the way `pybabel extract`
    finds it (see translations/babel.cfg)."""
    used: set[str] = set()
    for source in SOURCES:
        found = extract_from_dir(
            source,
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            keywords=KEYWORDS,
        )
        used |= {message for _, _, message, _, _ in found if isinstance(message, str)}
    for table in TABLES:
        found_in_table = extract_from_file("python", table, keywords=KEYWORDS)
        used |= {message for _, message, _, _ in found_in_table if isinstance(message, str)}
    return used


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_each_catalogue_translates_exactly_the_messages_in_use(language: str) -> None:
    used = _used_message_ids()
    with i18n.catalogue_path(language).open("rb") as source:
        catalogue = read_po(source, locale=language)
    entries = {message.id: message for message in catalogue if message.id}

    assert len(used) > 40
    assert sorted(used - set(entries)) == [], "missing from the catalogue"
    assert sorted(set(entries) - used) == [], "no longer used"
    for message_id, entry in entries.items():
        assert isinstance(entry.string, str)
        assert entry.string.strip(), f"{message_id!r} has no translation"
        assert not entry.fuzzy, f"{message_id!r} is fuzzy"
        assert set(PLACEHOLDER.findall(entry.string)) == set(PLACEHOLDER.findall(message_id))


def test_the_check_notices_words_outside_the_catalogue() -> None:
    assert untranslated("<p>Inloggen</p><p>Jansen</p>", "nl", ["Jansen"]) == []
    assert untranslated("<p>Inloggen</p>", "en") == ["Inloggen"]
    assert untranslated('<p>Log in</p><button aria-label="Close">x</button>', "en") == [
        "Close",
        "x",
    ]


def _customer_data(tenant: Tenant, customer: dict[str, Any]) -> list[str]:
    return [
        tenant.account.name,
        customer["name"],
        customer["username"],
        customer["emailaddress"] or "",
        "Main",
        "PostNL",
        "Standard",
        "Signature",
        "Default",
    ]


def test_every_page_shows_only_catalogue_words(
    client: TestClient, tenant: Tenant, jansen: dict[str, Any], smith: dict[str, Any]
) -> None:
    for customer in (jansen, smith):
        language = customer["language"]
        other = "en" if language == "nl" else "nl"
        data = _customer_data(tenant, customer)
        pages = [
            client.get(f"{BASE}login?lang={language}"),
            client.get(f"{BASE}login?lang={language}&notice=logged-out"),
            log_in(client, BASE, customer["username"], "wrong"),
            client.get(f"{BASE}nosuchpage"),
        ]
        log_in(client, BASE, customer["username"], PASSWORD)
        home = client.get(f"{BASE}?notice=password-changed")
        pages.append(home)
        for current, new in [("wrong", "x" * 10), (PASSWORD, "short")]:
            pages.append(
                post_form(
                    client,
                    BASE,
                    "password",
                    home,
                    current_password=current,
                    new_password=new,
                    new_password_again=new,
                )
            )
        pages.append(post_form(client, BASE, "password", home, current_password=PASSWORD))
        for page in pages:
            assert f'<html lang="{language}">' in page.text, page.url
            assert untranslated(page.text, language, data) == [], page.url
        # And the check has teeth: the same pages are foreign to the other catalogue.
        assert untranslated(home.text, other, data) != []
        post_form(client, BASE, "logout", home)
