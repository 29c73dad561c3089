"""What the portal tells a visitor when something is refused or wrong: one class per case,
each with a catalogue message id, its HTTP status and the values the message names."""

from __future__ import annotations

from ..web.errors import FormExpired as FormExpired
from ..web.errors import FormTooSlow as FormTooSlow
from ..web.errors import FormUnreadable as FormUnreadable
from ..web.errors import PageError
from ..web.errors import PageNotFound as PageNotFound
from ..web.i18n import N_

# The portal's errors are pages' errors: one base, so each handler catches both.
PortalError = PageError


class NoPortalHere(PortalError):
    status = 404
    message = N_("There is no portal at this address.")


class Unavailable(PortalError):
    status = 503
    message = N_("The portal is unavailable right now. Please try again shortly.")
