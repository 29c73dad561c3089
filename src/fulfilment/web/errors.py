"""What a page tells its visitor when something is refused or wrong, in the portal and the
back office alike: one class per case, each with a catalogue message id, its HTTP status and
the values the message names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from ..accounts.service import Account
from ..auth import zone
from .i18n import N_


class PageError(Exception):
    """Something a page tells the visitor: `message` is a catalogue message id."""

    status: ClassVar[int] = 400
    message: ClassVar[str]
    # The form field the error is about, if one: the page shows it beside that field.
    field: ClassVar[str | None] = None
    values: dict[str, object]

    def __init__(self, **values: object) -> None:
        super().__init__(self.message)
        self.values = values


class PageNotFound(PageError):
    status = 404
    message = N_("This page does not exist.")


class FormExpired(PageError):
    message = N_("The form has expired. Please try again.")


class FormUnreadable(PageError):
    message = N_("The form could not be read.")


class FormTooSlow(PageError):
    status = 408
    message = N_("The form took too long to arrive. Please try again.")


class WrongCurrentPassword(PageError):
    field = "current_password"
    message = N_("Your current password is not correct.")


class LoginRefused(PageError):
    # One message for a wrong password, an unknown username and a customer that may not
    # log in, so that the answer tells nobody which usernames exist.
    status = 401
    message = N_("The username or password is not correct.")


class RetryLater(PageError):
    """Refused for now: the message names the time, on the minute, from when it is not."""

    status = 429

    def __init__(self, retry_after: int, account: Account) -> None:
        # A clock time in the account's zone, labelled with it (CET), reads the same in
        # every language.
        until = datetime.now(UTC) + timedelta(seconds=retry_after + 59)
        super().__init__(time=until.astimezone(zone(account.timezone)).strftime("%H:%M %Z"))
        self.retry_after = retry_after


class TooManyAttempts(RetryLater):
    message = N_("Too many failed attempts. Try again after %(time)s.")


class FieldErrors(PageError):
    """Several fields of one form refused at once, each beside its field: `fields` maps a
    field's name to what is wrong with it."""

    message = N_("There is a problem")

    def __init__(self, fields: dict[str, PageError]) -> None:
        super().__init__()
        self.fields = fields

    def shown(self) -> dict[str, tuple[str, dict[str, object]]]:
        """The form's errors as the form macros take them."""
        return {name: (error.message, error.values) for name, error in self.fields.items()}
