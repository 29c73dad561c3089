"""What the rules of logging in tell a visitor, on either site: one class per case, each
with a catalogue message id, its HTTP status and the values the message names."""

from __future__ import annotations

from ..web.errors import LoginRefused as LoginRefused
from ..web.errors import PageError, RetryLater
from ..web.errors import TooManyAttempts as TooManyAttempts
from ..web.errors import WrongCurrentPassword as WrongCurrentPassword
from ..web.i18n import N_


class SessionEnded(PageError):
    status = 401
    message = N_("Your session has ended. Please log in again.")


class UsePasskey(PageError):
    """The password was right, but the account requires a second factor and the person's is
    a passkey: the password alone must not lead to setting up another one."""

    status = 401
    message = N_("This account requires two-step verification: log in with your passkey.")


class WrongCode(PageError):
    status = 401
    field = "code"
    message = N_("The code is not correct.")


class SecondFactorUnreadable(PageError):
    status = 503
    message = N_(
        "Your code cannot be checked: the server cannot read the key stored for it. "
        "Log in with a recovery code, or ask the service's operator to check its "
        "encryption keys."
    )


class PasswordTooShort(PageError):
    field = "new_password"
    message = N_("The new password must be at least %(min)s characters.")


class PasswordTooLong(PageError):
    field = "new_password"
    message = N_("The new password may be at most %(max)s characters.")


class PasswordsDiffer(PageError):
    field = "new_password_again"
    message = N_("The new passwords do not match.")


class PasswordUnusable(PageError):
    field = "new_password"
    message = N_("The new password contains characters that cannot be used.")


class LinkUnusable(PageError):
    status = 410
    message = N_("This link has expired or has already been used.")


class TooManyRequests(RetryLater):
    message = N_("Too many requests. Try again after %(time)s.")


class EmailInvalid(PageError):
    field = "new_address"
    message = N_("This does not look like an e-mail address.")


class EmailUnchanged(PageError):
    field = "new_address"
    message = N_("This is already your e-mail address.")
