"""Translation catalogues (gettext `.po`, read with Babel at start-up) and one Jinja
environment per language. The portal and the back office share one pair of catalogues."""

from __future__ import annotations

import functools
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .. import catalogues
from ..events import EVENT_LABELS
from ..fields import (
    CUSTOMER_FIELDS,
    FORM_FIELDS,
    LANGUAGE_NAMES,
    LANGUAGES,
    PORTAL_FIELDS,
    SHOWN_FIELDS,
    Field,
)
from ..fields import N_ as N_  # the mark of the pages' messages, for the pages' modules
from .times import time_element

TRANSLATIONS = Path(__file__).parents[1] / "portal" / "translations"
DEFAULT_LANGUAGE = LANGUAGES[0]


# The fields a customer's audit trail names, by the name it gives them; and its second
# factor (identity/), which is no field of the wire but is set up and reset.
AUDITED_FIELDS = {
    **{field.audited_as: field for field in CUSTOMER_FIELDS if field.audited_as is not None},
    "second_factor": Field(
        "second_factor", "flag", csv_column=None, label=N_("Two-step verification")
    ),
}

# What every page may read of the field and event tables (fields.py, events.py): which fields it
# shows, and the catalogue keys of their words.
TABLES = {
    "event_labels": EVENT_LABELS,
    "language_names": LANGUAGE_NAMES,
    "audited_fields": AUDITED_FIELDS,
    "shown_fields": SHOWN_FIELDS,
    "form_fields": FORM_FIELDS,
    "portal_fields": PORTAL_FIELDS,
}


def catalogue_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def load_translations(language: str) -> Translations:
    return catalogues.compiled(catalogue_path(language), language)


SHARED_TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def build_environments(templates: Path, site: str) -> dict[str, Environment]:
    """One environment per language over a site's templates (`site`: portal or admin)
    and, where the site has none of its own, the ones both sites share (the form macros,
    the pages of logging in). Built once per process: every app of the site uses them."""
    environments: dict[str, Environment] = {}
    for language in LANGUAGES:
        environment = Environment(
            loader=FileSystemLoader([templates, SHARED_TEMPLATES]),
            autoescape=True,
            auto_reload=False,
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        environment.install_gettext_translations(  # type: ignore[attr-defined]
            load_translations(language), newstyle=True
        )
        environment.filters["when"] = time_element
        environment.globals["site"] = site
        environment.globals.update(TABLES)
        environments[language] = environment
    return environments


def negotiate(accept_language: str | None) -> str:
    """The visitor's browser language when it is one of ours, else the default."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    preferences: list[tuple[float, str]] = []
    for part in accept_language.split(",")[:20]:
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        preferences.append((weight, tag.strip().replace("-", "_")))
    preferences.sort(key=lambda preference: -preference[0])
    try:
        found = Locale.negotiate([tag for _, tag in preferences if tag], LANGUAGES, sep="_")
    except (ValueError, UnknownLocaleError):
        found = None
    return found.language if found is not None else DEFAULT_LANGUAGE
