"""The mails, in the recipient's language: each kind is a subject and paragraphs from the
mail catalogues (translations/), laid out once as plain text and once as simple HTML."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from .. import catalogues
from ..fields import LANGUAGES

HERE = Path(__file__).parent


def N_(message: str) -> str:
    """Mark `message` for the catalogues; it is translated when a mail is written."""
    return message


@dataclass(frozen=True, slots=True)
class MailKind:
    """What one kind of mail says. Placeholders (`%(account)s`) are filled when it is
    written; `action` labels the link, for mails that carry one."""

    kind: str
    subject: str
    paragraphs: tuple[str, ...]
    action: str | None = None


@dataclass(frozen=True, slots=True)
class Mail:
    """One mail, written, for the outbox."""

    kind: str
    recipient: str
    sender_name: str
    subject: str
    body_text: str
    body_html: str


PASSWORD_RESET = MailKind(
    "password-reset",
    N_("Choose a new password for %(account)s"),
    (
        N_("Someone asked for a new password for the account %(username)s at %(account)s."),
        N_("Follow the link below within an hour to choose a new password. The link works once."),
        N_("If you did not ask for this, ignore this mail: your password stays as it is."),
    ),
    N_("Choose a new password"),
)
STAFF_PASSWORD_RESET = MailKind(
    "password-reset",
    N_("Choose a new password for the back office of %(account)s"),
    (
        N_(
            "Someone asked for a new password for the back office account %(username)s "
            "at %(account)s."
        ),
        PASSWORD_RESET.paragraphs[1],
        PASSWORD_RESET.paragraphs[2],
    ),
    N_("Choose a new password"),
)
CUSTOMER_INVITATION = MailKind(
    "invitation",
    N_("Your account at the customer portal of %(account)s"),
    (
        N_("%(account)s invites you to its customer portal. Your username is %(username)s."),
        N_("Follow the link below within an hour to choose your password. The link works once."),
    ),
    N_("Choose your password"),
)
STAFF_INVITATION = MailKind(
    "invitation",
    N_("Your account in the back office of %(account)s"),
    (
        N_("%(account)s invites you to its back office. Your username is %(username)s."),
        CUSTOMER_INVITATION.paragraphs[1],
    ),
    CUSTOMER_INVITATION.action,
)
EMAIL_CONFIRMATION = MailKind(
    "email-change",
    N_("Confirm your new e-mail address for %(account)s"),
    (
        N_("You asked to use this address for the account %(username)s at %(account)s."),
        N_(
            "Follow the link below within an hour to confirm it. "
            "Until then, mail goes to your current address."
        ),
        N_("If you did not ask for this, ignore this mail."),
    ),
    N_("Confirm this address"),
)
EMAIL_CHANGED = MailKind(
    "email-changed",
    N_("Your e-mail address for %(account)s has changed"),
    (
        N_("The e-mail address of the account %(username)s at %(account)s is now %(address)s."),
        N_("If you did not change it, contact %(account)s at once."),
    ),
)


def load_translations(language: str) -> Translations:
    """The mail catalogue of `language`, compiled in memory."""
    path = HERE / "translations" / language / "LC_MESSAGES" / "messages.po"
    return catalogues.compiled(path, language)


class MailWriter:
    """Writes mails; one per process (the catalogues and templates are read once)."""

    def __init__(self) -> None:
        self._translations = {language: load_translations(language) for language in LANGUAGES}
        self._layouts: dict[tuple[str, str], Template] = {}
        for language in LANGUAGES:
            environment = Environment(
                loader=FileSystemLoader(HERE / "templates"),
                # The HTML part is escaped; the plain text part is text.
                autoescape=select_autoescape(enabled_extensions=("html",)),
                auto_reload=False,
                undefined=StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                keep_trailing_newline=True,
            )
            environment.install_gettext_translations(  # type: ignore[attr-defined]
                self._translations[language], newstyle=True
            )
            for part in ("txt", "html"):
                self._layouts[language, part] = environment.get_template(f"mail.{part}")

    def write(
        self,
        what: MailKind,
        language: str,
        recipient: str,
        account_name: str,
        link: str | None = None,
        **values: str,
    ) -> Mail:
        """`what` for `recipient`, in `language`, from `account_name`."""
        language = language if language in LANGUAGES else LANGUAGES[0]
        translations = self._translations[language]
        values = {"account": account_name, **values}

        def say(message: str) -> str:
            return translations.ugettext(message) % values

        context = {
            "paragraphs": [say(paragraph) for paragraph in what.paragraphs],
            "action": say(what.action) if what.action is not None else None,
            "link": link,
            "account": account_name,
            "language": language,
        }
        return Mail(
            kind=what.kind,
            recipient=recipient,
            sender_name=account_name,
            subject=say(what.subject),
            body_text=self._layouts[language, "txt"].render(context),
            body_html=self._layouts[language, "html"].render(context),
        )


@functools.cache
def shared_writer() -> MailWriter:
    """The process's writer, which every mailer of the process uses."""
    return MailWriter()
