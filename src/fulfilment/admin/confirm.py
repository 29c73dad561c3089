"""The confirmation step every destructive action of the back office takes, without
JavaScript: the action's address answers GET with a page that says what will happen and
holds the one form that does it (POST); the page it came from only links to it."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.responses import Response

from ..web.i18n import N_
from .web import Visit


@dataclass(frozen=True, slots=True)
class Confirmation:
    """Catalogue message ids for the question, what follows, and the button; `values` for
    their placeholders; `back`: where Cancel leads (below the site's base)."""

    question: str
    consequence: str
    button: str
    back: str
    values: dict[str, object] = field(default_factory=dict)


def ask(visit: Visit, confirmation: Confirmation) -> Response:
    """The confirmation page; its form posts to the address it was asked for."""
    action = visit.request.url.path
    return visit.render("confirm.html", confirmation=confirmation, action=action)


REVOKE_KEY = Confirmation(
    N_("Revoke API key %(name)s?"),
    N_("Every request made with this key is refused from now on. This cannot be undone."),
    N_("Revoke"),
    "keys",
)
DEACTIVATE_HOOK = Confirmation(
    N_("Deactivate webhook %(name)s?"),
    N_("Nothing is sent to it until it is reactivated."),
    N_("Deactivate"),
    "hooks/{id}",
)
NEW_HOOK_SECRET = Confirmation(
    N_("Replace the secret of webhook %(name)s?"),
    N_("The old secret stops signing at once: the receiving application needs the new one."),
    N_("New secret"),
    "hooks/{id}",
)
DEACTIVATE_USER = Confirmation(
    N_("Deactivate staff user %(name)s?"),
    N_(
        "The user cannot log in any more and is logged out at once; API keys the user made "
        "stop working."
    ),
    N_("Deactivate"),
    "users/{id}",
)
RESET_SECOND_FACTOR = Confirmation(
    N_("Reset the two-step verification of %(name)s?"),
    N_("For a lost phone: the user sets up two-step verification again at the next login."),
    N_("Reset two-step verification"),
    "users/{id}",
)
END_PORTAL_SESSIONS = Confirmation(
    N_("End the portal sessions of %(name)s?"),
    N_("Logs the customer out of the portal on every device."),
    N_("End portal sessions"),
    "customers/{id}",
)


def about(confirmation: Confirmation, object_id: int, name: str) -> Confirmation:
    """`confirmation` for one object: its name in the question, Cancel back to it."""
    return Confirmation(
        confirmation.question,
        confirmation.consequence,
        confirmation.button,
        confirmation.back.format(id=object_id),
        {"name": name},
    )
