"""Reading a site the way a visitor's browser would: the links of its pages, followed within
the site, and the forms they hold, with the values a browser would send."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from starlette.testclient import TestClient

# A site's pages are few; a crawl that finds more than this has lost its way.
MOST_PAGES = 200


@dataclass
class Form:
    """A form of a page: where it is sent, and what a browser sends with it unchanged."""

    page: str
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    # Fields a person types into (text, password, e-mail...), empty on the page.
    typed: list[str] = field(default_factory=list)
    # The page the form is on, as it was served.
    page_text: str = ""


class _PageParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        # A form whose script first POSTs to another address (the passkey options).
        self._options: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and values.get("href"):
            self.links.append(urljoin(self.page, values["href"]))
        elif tag == "form":
            action = urljoin(self.page, values.get("action") or self.page)
            self._form = Form(self.page, action, values.get("method", "get").lower())
            self.forms.append(self._form)
            options = values.get("data-options")
            self._options = urljoin(self.page, options) if options else None
        elif self._form is not None and tag in {"input", "button"}:
            self._field(tag, values)
        elif self._form is not None and tag == "select":
            self._select, self._first_option = values.get("name"), None
        elif self._form is not None and tag == "option" and self._select is not None:
            value = values.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self._form.fields.setdefault(self._select, value)
            if "selected" in values:
                self._form.fields[self._select] = value
        elif self._form is not None and tag == "textarea":
            self._textarea = values.get("name")
            if self._textarea:
                self._form.fields[self._textarea] = ""

    def _field(self, tag: str, values: dict[str, str]) -> None:
        assert self._form is not None
        name = values.get("name")
        kind = values.get("type", "submit" if tag == "button" else "text").lower()
        if not name or kind in {"submit", "button", "reset", "image"}:
            return
        if kind in {"checkbox", "radio"}:
            if "checked" in values:
                self._form.fields[name] = values.get("value", "on")
            return
        value = values.get("value", "")
        self._form.fields[name] = value
        if not value and kind != "hidden":
            self._form.typed.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            if self._form is not None and self._options is not None:
                # What the script sends there: the form's token.
                token = {"csrf_token": self._form.fields.get("csrf_token", "")}
                self.forms.append(Form(self.page, self._options, "post", token))
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _without_language(path: str) -> str:
    """`path` without its `lang` parameter: the same page in another language is no other
    page."""
    page, _, query = path.partition("?")
    kept = [pair for pair in query.split("&") if pair and not pair.startswith("lang=")]
    return page + ("?" + "&".join(kept) if kept else "")


def crawl(client: TestClient, base: str, starts: list[str]) -> list[Form]:
    """Every form on the pages reachable by links from `starts` (paths under `base`),
    staying under `base`; each page in one language only."""
    seen: set[str] = set()
    forms: list[Form] = []
    waiting = deque(base + start for start in starts)
    while waiting:
        page = waiting.popleft()
        if page in seen:
            continue
        seen.add(page)
        assert len(seen) <= MOST_PAGES, f"more than {MOST_PAGES} pages under {base}"
        answer = client.get(page)
        if answer.status_code != 200 or "text/html" not in answer.headers["content-type"]:
            continue
        parser = _PageParser(str(answer.url))
        parser.feed(answer.text)
        for form in parser.forms:
            form.page, form.action, form.page_text = page, _path(form.action), answer.text
            forms.append(form)
        here = urlsplit(str(answer.url)).netloc
        for link in parser.links:
            path = _without_language(_path(link))
            if urlsplit(link).netloc == here and path.startswith(base):
                waiting.append(path)
    return forms
