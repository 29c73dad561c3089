"""What the back office tells a visitor when something is refused or wrong (the cases the
portal shares are in web/errors.py)."""

from __future__ import annotations

from ..web.errors import PageError
from ..web.i18n import N_


class NoBackOfficeHere(PageError):
    status = 404
    message = N_("There is no back office at this address.")


class AdminsOnly(PageError):
    status = 403
    message = N_("Only administrators can change these settings.")


class ForAdminsOnly(PageError):
    status = 403
    message = N_("This page is for administrators only.")


class KeyMissing(PageError):
    status = 404
    message = N_("This API key does not exist or has been revoked already.")


class StaffUserMissing(PageError):
    status = 404
    message = N_("This staff user does not exist.")


class LastAdminStays(PageError):
    message = N_("The account's last active administrator cannot be deactivated or lose the role.")


class HookMissing(PageError):
    status = 404
    message = N_("This webhook does not exist.")


class HookInactive(PageError):
    message = N_("The webhook is not active: reactivate it before sending a test event.")


class HookLimit(PageError):
    message = N_(
        "The account already has %(limit)s active webhooks, the most it may have: "
        "deactivate one first."
    )


class CustomerMissing(PageError):
    status = 404
    message = N_("This customer does not exist.")


class Unavailable(PageError):
    status = 503
    message = N_("The back office is unavailable right now. Please try again shortly.")
