"""Times on pages: one rule for both sites. A moment is shown in the account's time zone,
formatted for the reader's language by Babel, and labelled with the zone it is in."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_datetime
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ..auth import zone

# The wire's text of a moment, already in the account's zone (wire.format_datetime).
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
# The locale each page language formats with: English as written in Europe, where the
# warehouse and its customers are (day before month, a 24-hour clock).
LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def local_moment(value: datetime | str, timezone: str) -> datetime:
    """`value` as an aware moment in `timezone`: wire text is in that zone already, a
    datetime without a zone is UTC (as the database keeps it)."""
    where = zone(timezone)
    if isinstance(value, str):
        return datetime.strptime(value, WIRE_FORMAT).replace(tzinfo=where)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(where)


def shown_time(value: datetime | str, timezone: str, language: str) -> str:
    """Such as "7 Dec 2026, 14:05:09 CET" in English, "7 dec 2026, 14:05:09 CET" in Dutch."""
    moment = local_moment(value, timezone)
    # The zone's abbreviation where it has one everybody reads (CET, GMT), else its
    # offset: the same label in every language.
    label = moment.strftime("%Z")
    if not label.isalpha():
        label = "UTC" + moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:]
    return f"{format_datetime(moment, 'medium', locale=LOCALES.get(language, language))} {label}"


@pass_context
def time_element(context: Context, value: datetime | str | None) -> Markup:
    """A `<time>` in the page's language and the account's zone, labelled with the zone;
    its `datetime` attribute carries the moment with its offset."""
    if value is None or value == "":
        return Markup("")
    timezone: str = context["timezone"]
    moment = local_moment(value, timezone)
    text = shown_time(moment, timezone, context["language"])
    return Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), escape(text))
