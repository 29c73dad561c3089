"""What a page tells its visitor when a passkey is refused."""

from __future__ import annotations

from ...web.errors import PageError
from ...web.i18n import N_


class PasskeyRefused(PageError):
    # One message for every refusal (an unknown passkey, a used or expired challenge, a
    # bad signature, a copied authenticator, a person who may not log in): the answer
    # tells nobody which passkeys exist.
    status = 401
    message = N_("The passkey was not accepted. Please try again.")


class PasskeyNameInvalid(PageError):
    field = "passkey_name"
    message = N_("Enter a name of at most %(max)s characters.")


class PasskeyLimit(PageError):
    status = 409
    message = N_("You have the most passkeys one may have (%(max)s). Remove one first.")


class PasskeyMissing(PageError):
    status = 404
    message = N_("This passkey does not exist.")
