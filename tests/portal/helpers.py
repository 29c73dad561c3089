"""Driving the portal through the test client, and reading what its pages show."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from html.parser import HTMLParser

import httpx
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

from fulfilment.web.i18n import catalogue_path

PASSWORD = "correct horse 1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found is not None, "the page has no form token"
    return found.group(1)


def log_in(
    client: TestClient, base: str, username: str, password: str, **headers: str
) -> httpx.Response:
    """Open the login form and send it, as a browser would; the answer is not followed."""
    form = client.get(f"{base}login", headers=headers)
    assert form.status_code == 200, form.text
    return client.post(
        f"{base}login",
        data={"csrf_token": form_token(form.text), "username": username, "password": password},
        headers=headers,
        follow_redirects=False,
    )


def post_form(
    client: TestClient, base: str, path: str, page: httpx.Response, **fields: str
) -> httpx.Response:
    """Send a form of `page` (which carries the form token) to `base + path`."""
    return client.post(
        f"{base}{path}",
        data={"csrf_token": form_token(page.text), **fields},
        follow_redirects=False,
    )


TIMES = re.compile(r"<time[^>]*>[^<]*</time>")


class _ShownText(HTMLParser):
    """Text a person sees or hears: text nodes, and the attributes that are read out."""

    SPOKEN = ("aria-label", "title", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "script"}:
            self._hidden += 1
        values = dict(attrs)
        for name in self.SPOKEN:
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "script"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._hidden:
            self.texts.append(text)


def shown_texts(html: str) -> list[str]:
    parser = _ShownText()
    parser.feed(html)
    return parser.texts


@cache
def catalogue_patterns(language: str) -> tuple[re.Pattern[str], ...]:
    """Each translated message of the language's catalogue; a placeholder matches any text."""
    with catalogue_path(language).open("rb") as source:
        catalogue = read_po(source, locale=language)
    patterns = []
    for message in catalogue:
        if not message.id or not isinstance(message.string, str) or not message.string:
            continue
        pattern = re.sub(r"%\\\(\w+\\\)s", ".+?", re.escape(message.string))
        patterns.append(re.compile(pattern))
    return tuple(patterns)


def untranslated(html: str, language: str, data: Iterable[str] = ()) -> list[str]:
    """The shown texts that are neither a message of `language`'s catalogue nor the data the
    page displays (names, e-mail addresses...), nor punctuation between those."""
    # A <time> is data, which Babel writes in the page's language (its month names).
    html = TIMES.sub("TIME", html)
    values = sorted((value for value in (*data, "TIME") if value), key=len, reverse=True)
    strays = []
    for text in shown_texts(html):
        if any(pattern.fullmatch(text) for pattern in catalogue_patterns(language)):
            continue
        remainder = text
        for value in values:
            remainder = remainder.replace(value, " ")
        if re.sub(r"[\W_]+", "", remainder):
            strays.append(text)
    return strays
