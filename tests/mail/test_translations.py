"""Every word of every mail comes from both mail catalogues, `nl` and `en`."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from fulfilment.fields import LANGUAGES
from fulfilment.mail import messages
from fulfilment.mail.messages import MailKind, MailWriter

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
KINDS = [value for value in vars(messages).values() if isinstance(value, MailKind)]
VALUES = {"username": "jan", "address": "new@example.com"}


def _catalogue(language: str) -> dict[str, str]:
    path = messages.HERE / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language)
    found = {}
    for message in catalogue:
        if message.id:
            assert isinstance(message.id, str)
            assert isinstance(message.string, str)
            assert not message.fuzzy, f"{message.id!r} is fuzzy"
            found[message.id] = message.string
    return found


def _used_message_ids() -> set[str]:
    found = extract_from_dir(
        messages.HERE,
        method_map=[("**.py", "python"), ("**/templates/**", "jinja2")],
        keywords={**DEFAULT_KEYWORDS, "N_": None},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalogue_translates_exactly_the_messages_in_use(language: str) -> None:
    used = _used_message_ids()
    catalogue = _catalogue(language)
    assert len(used) >= 3 * len(KINDS)
    assert sorted(used - set(catalogue)) == [], "missing from the catalogue"
    assert sorted(set(catalogue) - used) == [], "no longer used"
    for message_id, string in catalogue.items():
        assert string.strip(), f"{message_id!r} has no translation"
        assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(message_id))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.kind)
def test_every_mail_says_only_catalogue_words(language: str, kind: MailKind) -> None:
    """Each line of the plain text is a catalogue message (its placeholders filled) or the
    link; the HTML part says the same."""
    link = "https://portal.example.com/portal/acme/reset?token=t" if kind.action else None
    mail = MailWriter().write(kind, language, "jan@example.com", "Acme BV", link, **VALUES)
    patterns = [
        re.compile(re.sub(r"%\\\(\w+\\\)s", ".+?", re.escape(string)) + ":?")
        for string in _catalogue(language).values()
    ]
    lines = [line for line in mail.body_text.splitlines() if line.strip() not in {"", "--"}]
    for line in [mail.subject, *lines]:
        assert line == link or any(pattern.fullmatch(line) for pattern in patterns), line
    other = "en" if language == "nl" else "nl"
    foreign = MailWriter().write(kind, other, "jan@example.com", "Acme BV", link, **VALUES)
    assert foreign.subject != mail.subject
    assert f'<html lang="{language}">' in mail.body_html
    for paragraph in lines[1:-1]:
        if paragraph != link and not paragraph.endswith(":"):
            assert paragraph.replace("&", "&amp;") in mail.body_html
