"""The customer form of the back office: what was typed, checked field by field with a
message beside each field, and turned into the customers service's create or update body.
Its fields are the field table's (fields.FORM_FIELDS); each is read and checked by its kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..customers.schemas import Customer, CustomerCreate, CustomerUpdate
from ..errors import InvalidInput, UsernameTaken
from ..fields import (
    FORM_FIELDS,
    LANGUAGES,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    Field,
    check_email,
    check_username,
)
from ..web.choices import Choices
from ..web.i18n import N_

# As many fields as a form of an account with many shipping profiles can have.
MAX_FIELDS = 2000

FieldError = tuple[str, dict[str, object]]
# The fields typed in, not ticked or chosen: the password is typed apart (never shown again).
TYPED = ("name", "username", "email", "text")
CHOOSE = N_("Choose one from the list.")


def _blank(field: Field) -> Any:
    """A field's value in an empty form: what a create without it stores, as typed."""
    if field.kind == "flag":
        return bool(field.default)
    if field.kind == "references":
        return []
    return field.default if field.kind == "language" else ""


def _typed(field: Field, value: Any) -> Any:
    """A stored value as the form shows it."""
    if field.kind in {"flag", "references"}:
        return value if field.kind == "flag" else list(value)
    return "" if value is None else str(value)


def tick_name(field: Field, id_: int) -> str:
    """The name of the box that ticks `id_` in a list of references."""
    return f"{field.name}_{id_}"


@dataclass(slots=True)
class CustomerForm:
    """The form's values as typed (strings; a flag as a bool, a list of references as the
    ids ticked), the password typed apart, and the errors found in them."""

    values: dict[str, object] = field(
        default_factory=lambda: {f.name: _blank(f) for f in FORM_FIELDS if not f.write_only}
    )
    password: str = ""
    generate_password: bool = False
    errors: dict[str, FieldError] = field(default_factory=dict)

    @classmethod
    def of(cls, customer: Customer) -> CustomerForm:
        return cls(
            values={
                f.name: _typed(f, getattr(customer, f.name))
                for f in FORM_FIELDS
                if not f.write_only
            }
        )

    @classmethod
    def read(cls, form: dict[str, str], choices: Choices) -> CustomerForm:
        values: dict[str, object] = {}
        for declared in FORM_FIELDS:
            if declared.kind == "flag":
                values[declared.name] = form.get(declared.name) == "1"
            elif declared.kind == "references":
                known = sorted(choices.ids(declared.refers_to or ""))
                ticked = [id_ for id_ in known if form.get(tick_name(declared, id_)) == "1"]
                values[declared.name] = ticked
            elif not declared.write_only:
                values[declared.name] = form.get(declared.name, "")
        return cls(
            values=values,
            password=form.get("password", ""),
            generate_password=form.get("generate_password") == "1",
        )

    def _refuse(self, name: str, message: str, **values: object) -> None:
        self.errors.setdefault(name, (message, values))

    def _value(self, declared: Field, choices: Choices) -> Any:
        """The value to send for a field (None: clear it), with its error noted if any."""
        raw = self.values.get(declared.name)
        name = declared.name
        if declared.kind in {"flag", "references"}:
            return raw
        text = str(raw or "")
        if declared.kind == "name":
            text = text.strip()
            if not text:
                self._refuse(name, N_("Enter a name."))
            elif len(text) > NAME_MAX or "\x00" in text:
                self._refuse(name, N_("The name may be at most %(max)s characters."), max=NAME_MAX)
            return text
        if declared.kind == "language":
            if text not in LANGUAGES:
                self._refuse(name, CHOOSE)
            return text
        if declared.kind == "reference":
            if text == "":
                return None
            if (
                text.isascii()
                and text.isdigit()
                and int(text) in choices.ids(declared.refers_to or "")
            ):
                return int(text)
            self._refuse(name, CHOOSE)
            return None
        return self._text(declared, text)

    def _text(self, declared: Field, text: str) -> str | None:
        name = declared.name
        if declared.kind == "username":
            if text:
                try:
                    check_username(text)
                except ValueError:
                    self._refuse(
                        name,
                        N_(
                            "A username has at most %(max)s characters, no spaces at its start "
                            "or end and no invisible characters."
                        ),
                        max=USERNAME_MAX,
                    )
            return text or None
        text = text.strip()
        if not text:
            return None
        if declared.kind == "email":
            try:
                check_email(text)
            except ValueError:
                self._refuse(name, N_("Enter an e-mail address such as name@example.com."))
        elif len(text) > (declared.max_length or NAME_MAX) or "\x00" in text:
            limit = declared.max_length or NAME_MAX
            self._refuse(name, N_("This may be at most %(max)s characters."), max=limit)
        return text

    def body(
        self, choices: Choices, password: str | None, has_password: bool
    ) -> dict[str, object] | None:
        """The fields for the customers service, or None when a field is refused (see
        `errors`). `password`: the new one, if any; `has_password`: whether the customer
        will have one."""
        body: dict[str, object] = {}
        for declared in FORM_FIELDS:  # in the form's order, so that its errors are too
            if not declared.write_only:
                body[declared.name] = self._value(declared, choices)
            elif password is not None and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
                self._refuse(
                    declared.name,
                    N_("A password has %(min)s to %(max)s characters."),
                    min=PASSWORD_MIN,
                    max=PASSWORD_MAX,
                )
        if body.get("can_login") and body.get("username") is None:
            self._refuse("username", N_("A customer who can log in needs a username."))
        if body.get("can_login") and not has_password:
            self._refuse("password", N_("A customer who can log in needs a password."))
        if self.errors:
            return None
        if password is not None:
            body["password"] = password
        return body

    def refuse_taken_username(self) -> None:
        self._refuse("username", N_("Another customer already has this username."))

    def refused_by_service(self, error: InvalidInput) -> None:
        """A rule the service checked (a username another customer has, a reference that
        went away meanwhile), beside the field it is about."""
        if isinstance(error, UsernameTaken):
            self.refuse_taken_username()
            return
        if error.message.startswith("password is required"):
            self._refuse("password", N_("A customer who can log in needs a password."))
            return
        # The message names its field first; the longest name first, should one name
        # start another.
        for name in sorted((f.name for f in FORM_FIELDS), key=len, reverse=True):
            if error.message.startswith(name):
                self._refuse(name, N_("This value cannot be used."))
                return
        self._refuse("name", N_("This value cannot be used."))


def create_body(values: dict[str, object]) -> CustomerCreate:
    return msgspec.convert(values, CustomerCreate)


def update_body(values: dict[str, object]) -> CustomerUpdate:
    return msgspec.convert(values, CustomerUpdate)
