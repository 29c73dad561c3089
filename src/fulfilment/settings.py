"""Typed settings, read once from `FULFILMENT_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

DEFAULT_DATABASE_URL = "sqlite:///var/fulfilment.sqlite3"


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service can be configured with. Build with `Settings.from_env()`."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    rate_limit: str = "500/minute"
    # moving-window (exact), sliding-window or fixed-window: see ratelimit.py.
    rate_limit_strategy: str = "moving-window"
    # Connections each worker process keeps open to the database.
    pool_size: int = 5
    # How long a request waits for a free connection before it is answered 503.
    pool_timeout_seconds: int = 5
    # PostgreSQL ends a statement that runs (or waits for a lock) longer than this; the
    # request is answered 503. A unit of work whose server does not answer at all is given
    # up a second later.
    statement_timeout_seconds: int = 5
    max_body_bytes: int = 1024 * 1024
    # The longest wait for the next part of a request body; the whole body must arrive
    # within six times this. A client that stalls is answered 408 instead of being waited
    # for: a connection held open costs the server, and costs the client nothing.
    body_timeout_seconds: int = 10
    # Requests whose body is still arriving, per worker process; past this, a request that
    # comes with a body is answered 503 (error_code 104), so stalled uploads cannot pile up.
    max_pending_bodies: int = 256
    # Addresses (or networks, `10.0.0.0/8`; `*` for any) of the proxies whose
    # `X-Forwarded-Proto` and `X-Forwarded-For` headers are believed. Unset: none is.
    forwarded_allow_ips: str | None = None
    # SQLite `PRAGMA synchronous`: FULL syncs the WAL on every commit, so an answered write
    # survives a power cut as well as a killed process.
    sqlite_synchronous: str = "FULL"
    sqlite_busy_timeout_ms: int = 5000
    default_timezone: str = "Europe/Amsterdam"
    log_level: str = "INFO"
    # One JSON line a request (method, path, status, duration, request id). Off by default:
    # it costs a fifth of a small request, and the proxy in front usually logs requests.
    access_log: bool = False
    # The portal's session cookies are signed with this; unset, each process makes a random
    # one (sessions then end at a restart). Set it when several processes serve the portal.
    portal_secret_key: str | None = None
    # How long a portal login lasts, in seconds, however active the customer is.
    portal_session_seconds: int = 8 * 3600
    # Portal login attempts allowed, in the `limits` syntax, counted before the password is
    # checked: per username from one client address (low), per username from every address
    # (a ceiling, NIST SP 800-63B's 100), and per client address. Past any one, logins are
    # refused until the window moves on; a correct password clears the username's counts.
    portal_login_limit_per_username_and_address: str = "5/15 minutes"
    portal_login_limit_per_username: str = "100/15 minutes"
    portal_login_limit_per_address: str = "30/15 minutes"
    # `auto`: Secure cookies when the request came over HTTPS; `always`: behind a proxy
    # that ends TLS.
    portal_secure_cookies: str = "auto"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `FULFILMENT_<FIELD>` variables; keyword overrides win over the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for setting in fields(cls):
            raw = environ.get(f"FULFILMENT_{setting.name.upper()}")
            if raw is None or raw == "":
                continue
            if setting.type == "bool":
                if raw.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise SettingsError(f"FULFILMENT_{setting.name.upper()} must be true or false")
                values[setting.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif setting.type == "int":
                try:
                    values[setting.name] = int(raw)
                except ValueError:
                    raise SettingsError(
                        f"FULFILMENT_{setting.name.upper()} must be a whole number, not {raw!r}"
                    ) from None
            else:
                values[setting.name] = raw
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.sqlite_synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise SettingsError("FULFILMENT_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA")
        if self.pool_size < 1:
            raise SettingsError("FULFILMENT_POOL_SIZE must be at least 1")
        if self.pool_timeout_seconds < 1 or self.statement_timeout_seconds < 1:
            raise SettingsError(
                "FULFILMENT_POOL_TIMEOUT_SECONDS and FULFILMENT_STATEMENT_TIMEOUT_SECONDS "
                "must be at least 1"
            )
        if self.max_body_bytes < 1024:
            raise SettingsError("FULFILMENT_MAX_BODY_BYTES must be at least 1024")
        if self.body_timeout_seconds < 1:
            raise SettingsError("FULFILMENT_BODY_TIMEOUT_SECONDS must be at least 1")
        if self.max_pending_bodies < 1:
            raise SettingsError("FULFILMENT_MAX_PENDING_BODIES must be at least 1")
        for proxy in (self.forwarded_allow_ips or "").split(","):
            try:
                if proxy.strip() not in {"", "*"}:
                    ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise SettingsError(
                    "FULFILMENT_FORWARDED_ALLOW_IPS must list addresses or networks, "
                    f"separated by commas, or be `*`; {proxy.strip()!r} is neither"
                ) from None
        if self.portal_session_seconds < 60:
            raise SettingsError("FULFILMENT_PORTAL_SESSION_SECONDS must be at least 60")
        if self.portal_secure_cookies not in {"auto", "always"}:
            raise SettingsError("FULFILMENT_PORTAL_SECURE_COOKIES must be auto or always")
        if self.portal_secret_key is not None and len(self.portal_secret_key) < 32:
            raise SettingsError("FULFILMENT_PORTAL_SECRET_KEY must be at least 32 characters")
