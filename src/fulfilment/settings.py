"""Typed settings, read once from `FULFILMENT_*` environment variables and checked here:
every rule about a setting's value lives in this module."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from limits import RateLimitItem, parse

from .fields import SENDER

DEFAULT_DATABASE_URL = "sqlite:///var/fulfilment.sqlite3"
# A limit set to one of these is switched off.
DISABLED = frozenset({"", "0", "off", "none"})
# Spellings of a yes or no that msgspec does not read itself.
_BOOLEAN_WORDS = {"yes": "true", "on": "true", "no": "false", "off": "false"}
# Never repeated in a message: a message may end up in a log.
_SECRET = frozenset(
    {
        "portal_secret_key",
        "database_url",
        "database_direct_url",
        "redis_url",
        "encryption_key",
        "encryption_old_keys",
        "smtp_url",
    }
)

AtLeastOne = Annotated[int, msgspec.Meta(ge=1)]
MIN_KEY_LENGTH = 32
DatabaseUrl = Annotated[str, msgspec.Meta(pattern=r"^(sqlite|postgres|postgresql)(\+\w+)?://")]
RedisUrl = Annotated[str, msgspec.Meta(pattern=r"^(redis|rediss|unix)://")]
SmtpUrl = Annotated[str, msgspec.Meta(pattern=r"^smtps?://[^/?#]*[^@/?#:][^/?#]*(/?\?.*)?$")]
MailAddress = Annotated[str, msgspec.Meta(pattern=rf"^(?:{SENDER.pattern})\Z")]
PublicUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://[^/?#\s]+/?$")]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def variable(name: str) -> str:
    """The environment variable that sets the field `name`."""
    return f"FULFILMENT_{name.upper()}"


def limit_item(value: str) -> RateLimitItem | None:
    """A limit in the `limits` syntax (`500/minute`); None when it is switched off."""
    return None if value.strip().lower() in DISABLED else parse(value)


def proxy_networks(value: str | None) -> tuple[bool, list[Network]]:
    """FULFILMENT_FORWARDED_ALLOW_IPS read: whether any address is trusted (`*`), and the
    networks that are."""
    entries = [entry.strip() for entry in (value or "").split(",") if entry.strip()]
    networks = [ipaddress.ip_network(entry, strict=False) for entry in entries if entry != "*"]
    return "*" in entries, networks


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service can be configured with. Build with `Settings.from_env()`;
    built with keywords (as tests do), its values are checked by `checked()`, which
    `create_app` calls."""

    database_url: Annotated[
        str, msgspec.Meta(pattern=r"^(sqlite|postgres|postgresql)(\+\w+)?://")
    ] = DEFAULT_DATABASE_URL
    # PostgreSQL behind a pooler in transaction mode (PgBouncer): a connection straight to
    # the server, for what needs a session of its own (migrations, LISTEN for API key
    # changes). Unset, those use FULFILMENT_DATABASE_URL, and API key changes are noticed
    # by reading a counter every second instead of by LISTEN.
    database_direct_url: (
        Annotated[str, msgspec.Meta(pattern=r"^(postgres|postgresql)(\+\w+)?://")] | None
    ) = None
    redis_url: Annotated[str, msgspec.Meta(pattern=r"^(redis|rediss|unix)://")] | None = None
    rate_limit: str = "500/minute"
    # moving-window (exact), sliding-window or fixed-window: see ratelimit.py.
    rate_limit_strategy: Literal["moving-window", "sliding-window", "fixed-window"] = (
        "moving-window"
    )
    # Connections each worker process keeps open to the database.
    pool_size: AtLeastOne = 5
    # How long a request waits for a free connection before it is answered 503.
    pool_timeout_seconds: AtLeastOne = 5
    # PostgreSQL ends a statement that runs (or waits for a lock) longer than this; the
    # request is answered 503. A unit of work whose server does not answer at all is given
    # up a second later.
    statement_timeout_seconds: AtLeastOne = 5
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1024 * 1024
    # The longest wait for the next part of a request body; the whole body must arrive
    # within six times this. A client that stalls is answered 408 instead of being waited
    # for: a connection held open costs the server, and costs the client nothing.
    body_timeout_seconds: AtLeastOne = 10
    # Requests whose body is still arriving, per worker process; past this, a request that
    # comes with a body is answered 503 (error_code 104), so stalled uploads cannot pile up.
    max_pending_bodies: AtLeastOne = 256
    # What one client address (an IPv6 /64 network) may hold of those: this many slow bodies
    # (not whole once their first part is in), and, once the worker's room is full, this
    # many in all; then it is refused the same way, and everyone else still has room (a
    # quarter more, kept for them).
    max_pending_bodies_per_address: AtLeastOne = 16
    # Addresses (or networks, `10.0.0.0/8`; `*` for any) of the proxies whose
    # `X-Forwarded-Proto` and `X-Forwarded-For` headers are believed. Unset: none is.
    forwarded_allow_ips: str | None = None
    # SQLite `PRAGMA synchronous`: FULL syncs the WAL on every commit, so an answered write
    # survives a power cut as well as a killed process.
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    sqlite_busy_timeout_ms: Annotated[int, msgspec.Meta(ge=0)] = 5000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # One JSON line a request (method, path, status, duration, request id). Off by default:
    # it costs a fifth of a small request, and the proxy in front usually logs requests.
    access_log: bool = False
    # The portal's session cookies are signed with this; unset, each process makes a random
    # one (sessions then end at a restart). Set it when several processes serve the portal.
    portal_secret_key: Annotated[str, msgspec.Meta(min_length=32)] | None = None
    # How long a portal login lasts, in seconds, however active the customer is.
    portal_session_seconds: Annotated[int, msgspec.Meta(ge=60)] = 8 * 3600
    # Portal login attempts allowed, in the `limits` syntax, counted before the password is
    # checked: per username from one client address (low), per username from every address
    # (a ceiling, NIST SP 800-63B's 100), and per client address. Past any one, logins are
    # refused until the window moves on; a correct password clears the username's counts.
    portal_login_limit_per_username_and_address: str = "5/15 minutes"
    portal_login_limit_per_username: str = "100/15 minutes"
    portal_login_limit_per_address: str = "30/15 minutes"
    # `auto`: Secure cookies when the request came over HTTPS; `always`: behind a proxy
    # that ends TLS.
    portal_secure_cookies: Literal["auto", "always"] = "auto"
    # Hooks' secrets and staff users' second-factor keys are stored encrypted with a key
    # derived from this. Unset, from a key file made beside the SQLite database; required
    # on PostgreSQL (see require_encryption_key). Every instance must have the same one.
    encryption_key: Annotated[str, msgspec.Meta(min_length=MIN_KEY_LENGTH)] | None = None
    # Keys used before, separated by commas: what they encrypted is still read, and
    # `fulfilment secrets rotate` encrypts it again with the current key.
    encryption_old_keys: str | None = None
    # Addresses on loopback, private, link-local... networks are allowed (development, tests).
    hooks_allow_private: bool = False
    # Whether this process delivers webhooks (its engine runs them besides mails).
    hooks_worker: bool = True
    # How long a claimed delivery is left to the instance that claimed it; an attempt is
    # given up a second before its lease ends (with the default, after 10 seconds).
    hooks_lease_seconds: Annotated[int, msgspec.Meta(ge=2)] = 60
    # How often the engine (jobs/) looks for due work when it found none.
    hooks_poll_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 0.5
    # Multiplies the retry schedule; below 1 in tests only.
    hooks_retry_scale: Annotated[float, msgspec.Meta(gt=0, le=1)] = 1.0
    # Finished deliveries and their attempts are kept this many days.
    hooks_log_retention_days: AtLeastOne = 30
    # Active hooks an account may have: each one multiplies every change's deliveries.
    hooks_per_account: AtLeastOne = 100
    # Outgoing mail (see mail/): `smtp://user:pass@host:port` (`?starttls=true` to require
    # STARTTLS) or `smtps://...` (implicit TLS). Unset: mails are written to the log.
    smtp_url: SmtpUrl | None = None
    # The sender's address; the account's name is its display name.
    mail_from: MailAddress | None = None
    # A PEM file of the certificate authorities the SMTP server's certificate is checked
    # against, instead of the system's.
    smtp_ca_file: str | None = None
    # Sent and failed mails' rows, and used or expired one-time links, are kept this many
    # days.
    mail_log_retention_days: AtLeastOne = 30
    # The service's address as people reach it (`https://portal.example.com`): links in
    # mails start with it, never with a Host header a client sent.
    public_url: PublicUrl | None = None
    # Mails asked for (a forgotten password, a new address), in the `limits` syntax: per
    # recipient, and per client address.
    mail_limit_per_recipient: str = "5/hour"
    mail_limit_per_address: str = "20/hour"
    # How long a mailed invitation to choose a password works: long enough for a new hire
    # who starts next week.
    invitation_days: AtLeastOne = 7

    def __post_init__(self) -> None:
        # The rules msgspec's constraints cannot say; these run on keyword construction too.
        for name, example in [
            ("rate_limit", "500/minute"),
            ("portal_login_limit_per_username_and_address", "5/15 minutes"),
            ("portal_login_limit_per_username", "100/15 minutes"),
            ("portal_login_limit_per_address", "30/15 minutes"),
            ("mail_limit_per_recipient", "5/hour"),
            ("mail_limit_per_address", "20/hour"),
        ]:
            value = getattr(self, name)
            try:
                limit_item(value)
            except ValueError:
                raise SettingsError(
                    f"{variable(name)} must look like `{example}` or be `off`, not {value!r}"
                ) from None
        for entry in (self.forwarded_allow_ips or "").split(","):
            try:
                proxy_networks(entry)
            except ValueError:
                raise SettingsError(
                    "FULFILMENT_FORWARDED_ALLOW_IPS must list addresses or networks, "
                    f"separated by commas, or be `*`; {entry.strip()!r} is neither"
                ) from None
        if any(len(key) < MIN_KEY_LENGTH for key in self.old_encryption_keys):
            raise SettingsError(
                f"FULFILMENT_ENCRYPTION_OLD_KEYS must list keys of at least {MIN_KEY_LENGTH} "
                "characters each, separated by commas"
            )
        if self.smtp_url is not None and (self.mail_from is None or self.public_url is None):
            raise SettingsError(
                "FULFILMENT_SMTP_URL needs FULFILMENT_MAIL_FROM and FULFILMENT_PUBLIC_URL: "
                "who mails come from, and where their links lead"
            )

    @property
    def old_encryption_keys(self) -> list[bytes]:
        """FULFILMENT_ENCRYPTION_OLD_KEYS read, in the order given."""
        keys = (self.encryption_old_keys or "").split(",")
        return [key.strip().encode() for key in keys if key.strip()]

    def require_encryption_key(self) -> None:
        """Refuse to serve a PostgreSQL database without FULFILMENT_ENCRYPTION_KEY: the
        instances sharing it must all read the secrets any of them stored, and a key file
        made by each, in its own folder, would differ."""
        if self.encryption_key is None and not self.database_url.startswith("sqlite"):
            raise SettingsError(
                "FULFILMENT_ENCRYPTION_KEY must be set with a PostgreSQL database, the same "
                f"on every instance ({MIN_KEY_LENGTH} characters or more; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )

    @property
    def api_rate_limit(self) -> RateLimitItem | None:
        """FULFILMENT_RATE_LIMIT read; None when it is switched off."""
        return limit_item(self.rate_limit)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `FULFILMENT_<FIELD>` variables; keyword overrides win over the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, kind in _FIELD_TYPES.items():
            raw = environ.get(variable(name))
            if raw is None or raw == "":
                continue
            if isinstance(kind, msgspec.inspect.BoolType):
                raw = _BOOLEAN_WORDS.get(raw.strip().lower(), raw)
            elif isinstance(kind, msgspec.inspect.LiteralType):
                # Choices are read whatever their case: `full` is FULL.
                choices = {str(choice).lower(): str(choice) for choice in kind.values}
                raw = choices.get(raw.lower(), raw)
            values[name] = raw
        values.update(overrides)
        unknown = sorted(set(overrides) - set(_FIELD_TYPES))
        if unknown:
            raise TypeError(f"Settings has no field {unknown[0]!r}")
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as error:
            raise SettingsError(_explain(error, values)) from None

    def checked(self) -> Settings:
        """These settings, their values checked as `from_env` checks them."""
        return Settings.from_env({}, **msgspec.structs.asdict(self))


def _field_types() -> dict[str, msgspec.inspect.Type]:
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    types: dict[str, msgspec.inspect.Type] = {}
    for field in info.fields:
        kind = field.type
        if isinstance(kind, msgspec.inspect.UnionType):  # `X | None`: X says what is wanted
            kind = next(t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType))
        types[field.name] = kind
    return types


_FIELD_TYPES = _field_types()
_AT = re.compile(r" - at `\$\.(\w+)`$")


def _explain(error: msgspec.ValidationError, values: Mapping[str, object]) -> str:
    """The message for a value msgspec refused, in our words, naming the variable."""
    found = _AT.search(str(error))
    if found is None:  # raised by __post_init__: already ours
        return str(error)
    name = found.group(1)
    kind: Any = _FIELD_TYPES[name]
    if isinstance(kind, msgspec.inspect.BoolType):
        wanted = "true or false"
    elif isinstance(kind, msgspec.inspect.IntType):
        wanted = "a whole number" + (f" of at least {kind.ge}" if kind.ge is not None else "")
    elif isinstance(kind, msgspec.inspect.FloatType):
        wanted = "a number" + (f" above {kind.gt:g}" if kind.gt is not None else "")
        wanted += f" and at most {kind.le:g}" if kind.le is not None else ""
    elif isinstance(kind, msgspec.inspect.LiteralType):
        wanted = "one of " + ", ".join(str(v) for v in kind.values)
    elif isinstance(kind, msgspec.inspect.StrType) and kind.min_length is not None:
        wanted = f"at least {kind.min_length} characters"
    elif name == "database_url":
        wanted = "a `sqlite:///path` or `postgresql://user@host/db` URL"
    elif name == "database_direct_url":
        wanted = "a `postgresql://user@host/db` URL"
    elif name == "redis_url":
        wanted = "a `redis://`, `rediss://` or `unix://` URL"
    elif name == "smtp_url":
        wanted = "an `smtp://user:password@host:port` or `smtps://...` URL"
    elif name == "mail_from":
        wanted = "an e-mail address"
    elif name == "public_url":
        wanted = "an `https://host` URL without a path"
    else:
        wanted = "text"
    message = f"{variable(name)} must be {wanted}"
    if name not in _SECRET:
        message += f", not {values.get(name)!r}"
    return message
