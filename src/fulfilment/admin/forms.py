"""The customer form of the back office: what was typed, checked field by field with a
message beside each field, and turned into the customers service's create or update body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..customers.schemas import Customer, CustomerCreate, CustomerUpdate
from ..errors import InvalidInput, UsernameTaken
from ..fields import (
    LANGUAGES,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    check_email,
    check_username,
)
from ..web.i18n import N_
from .service import Choices

# As many fields as a form of an account with many shipping profiles can have.
MAX_FIELDS = 2000

FieldError = tuple[str, dict[str, Any]]


@dataclass(slots=True)
class CustomerForm:
    """The form's values as typed (strings), and the errors found in them."""

    name: str = ""
    username: str = ""
    emailaddress: str = ""
    language: str = LANGUAGES[0]
    can_login: bool = False
    preferred_idwarehouse: str = ""
    idtemplate: str = ""
    allowed_shipping_profiles: list[int] = field(default_factory=list)
    password: str = ""
    generate_password: bool = False
    errors: dict[str, FieldError] = field(default_factory=dict)

    @classmethod
    def of(cls, customer: Customer) -> CustomerForm:
        return cls(
            name=customer.name,
            username=customer.username or "",
            emailaddress=customer.emailaddress or "",
            language=customer.language,
            can_login=customer.can_login,
            preferred_idwarehouse=str(customer.preferred_idwarehouse or ""),
            idtemplate=str(customer.idtemplate or ""),
            allowed_shipping_profiles=list(customer.allowed_shipping_profiles),
        )

    @classmethod
    def read(cls, form: dict[str, str], choices: Choices) -> CustomerForm:
        known = {profile for profile, _, _ in choices.profiles}
        return cls(
            name=form.get("name", ""),
            username=form.get("username", ""),
            emailaddress=form.get("emailaddress", ""),
            language=form.get("language", ""),
            can_login=form.get("can_login") == "1",
            preferred_idwarehouse=form.get("preferred_idwarehouse", ""),
            idtemplate=form.get("idtemplate", ""),
            allowed_shipping_profiles=[
                profile for profile in sorted(known) if form.get(f"profile_{profile}") == "1"
            ],
            password=form.get("password", ""),
            generate_password=form.get("generate_password") == "1",
        )

    def _refuse(self, name: str, message: str, **values: Any) -> None:
        self.errors.setdefault(name, (message, values))

    def _choice(self, name: str, raw: str, allowed: set[int]) -> int | None:
        if raw == "":
            return None
        if raw.isascii() and raw.isdigit() and int(raw) in allowed:
            return int(raw)
        self._refuse(name, N_("Choose one from the list."))
        return None

    def body(
        self, choices: Choices, password: str | None, has_password: bool
    ) -> dict[str, Any] | None:
        """The fields for the customers service, or None when a field is refused (see
        `errors`). `password`: the new one, if any; `has_password`: whether the customer
        will have one."""
        name = self.name.strip()
        if not name:
            self._refuse("name", N_("Enter a name."))
        elif len(name) > NAME_MAX or "\x00" in name:
            self._refuse("name", N_("The name may be at most %(max)s characters."), max=NAME_MAX)
        username = self.username or None
        if username is not None:
            try:
                check_username(username)
            except ValueError:
                self._refuse(
                    "username",
                    N_(
                        "A username has at most %(max)s characters, no spaces at its start or "
                        "end and no invisible characters."
                    ),
                    max=USERNAME_MAX,
                )
        emailaddress = self.emailaddress.strip() or None
        if emailaddress is not None:
            try:
                check_email(emailaddress)
            except ValueError:
                self._refuse(
                    "emailaddress", N_("Enter an e-mail address such as name@example.com.")
                )
        if self.language not in LANGUAGES:
            self._refuse("language", N_("Choose one from the list."))
        warehouse = self._choice(
            "preferred_idwarehouse",
            self.preferred_idwarehouse,
            {id_ for id_, _ in choices.warehouses},
        )
        template = self._choice(
            "idtemplate", self.idtemplate, {id_ for id_, _, _ in choices.templates}
        )
        if password is not None and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            self._refuse(
                "password",
                N_("A password has %(min)s to %(max)s characters."),
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
            )
        if self.can_login and username is None:
            self._refuse("username", N_("A customer who can log in needs a username."))
        if self.can_login and not has_password:
            self._refuse("password", N_("A customer who can log in needs a password."))
        if self.errors:
            return None
        body: dict[str, Any] = {
            "name": name,
            "username": username,
            "emailaddress": emailaddress,
            "language": self.language,
            "can_login": self.can_login,
            "preferred_idwarehouse": warehouse,
            "idtemplate": template,
            "allowed_shipping_profiles": self.allowed_shipping_profiles,
        }
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
        for name in (
            "allowed_shipping_profiles",
            "preferred_idwarehouse",
            "emailaddress",
            "idtemplate",
            "username",
            "password",
            "language",
            "name",
        ):
            if error.message.startswith(name):
                self._refuse(name, N_("This value cannot be used."))
                return
        self._refuse("name", N_("This value cannot be used."))


def create_body(values: dict[str, Any]) -> CustomerCreate:
    return msgspec.convert(values, CustomerCreate)


def update_body(values: dict[str, Any]) -> CustomerUpdate:
    return msgspec.convert(values, CustomerUpdate)
