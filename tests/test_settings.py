"""Settings read from `FULFILMENT_*` variables: converted, checked in one place, and refused
with a message that names the variable and what it must be."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from fulfilment.settings import Settings, SettingsError


def test_variables_become_typed_values() -> None:
    settings = Settings.from_env(
        {
            "FULFILMENT_POOL_SIZE": "7",
            "FULFILMENT_ACCESS_LOG": "yes",
            "FULFILMENT_SQLITE_SYNCHRONOUS": "normal",
            "FULFILMENT_LOG_LEVEL": "debug",
            "FULFILMENT_REDIS_URL": "",  # empty is unset
            "FULFILMENT_PORTAL_SECURE_COOKIES": "always",
            "FULFILMENT_MAIL_FROM": "noreply@localhost",
        }
    )

    assert (settings.pool_size, settings.access_log) == (7, True)
    assert (settings.sqlite_synchronous, settings.log_level) == ("NORMAL", "DEBUG")
    assert (settings.redis_url, settings.portal_secure_cookies) == (None, "always")
    assert settings.mail_from == "noreply@localhost"


def test_keyword_overrides_win_over_the_environment() -> None:
    settings = Settings.from_env({"FULFILMENT_POOL_SIZE": "7"}, pool_size=3)

    assert settings.pool_size == 3


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("POOL_SIZE", "0", "FULFILMENT_POOL_SIZE must be a whole number of at least 1, not '0'"),
        ("POOL_SIZE", "five", "FULFILMENT_POOL_SIZE must be a whole number of at least 1"),
        ("MAX_BODY_BYTES", "100", "FULFILMENT_MAX_BODY_BYTES must be a whole number of at least"),
        ("ACCESS_LOG", "maybe", "FULFILMENT_ACCESS_LOG must be true or false, not 'maybe'"),
        ("SQLITE_SYNCHRONOUS", "fast", "FULFILMENT_SQLITE_SYNCHRONOUS must be one of EXTRA, FULL"),
        ("PORTAL_SECURE_COOKIES", "never", "FULFILMENT_PORTAL_SECURE_COOKIES must be one of"),
        ("RATE_LIMIT", "lots", "FULFILMENT_RATE_LIMIT must look like `500/minute`"),
        ("RATE_LIMIT_STRATEGY", "leaky", "FULFILMENT_RATE_LIMIT_STRATEGY must be one of"),
        ("PORTAL_LOGIN_LIMIT_PER_ADDRESS", "3 a go", "FULFILMENT_PORTAL_LOGIN_LIMIT_PER_ADDRESS"),
        ("PORTAL_SESSION_SECONDS", "10", "FULFILMENT_PORTAL_SESSION_SECONDS must be a whole"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.1, proxy", "'proxy' is neither"),
        ("DATABASE_URL", "mysql://db/x", "FULFILMENT_DATABASE_URL must be a `sqlite:///path`"),
        ("REDIS_URL", "http://cache", "FULFILMENT_REDIS_URL must be a `redis://`"),
        ("MAIL_FROM", "noreply,x@w.test", "FULFILMENT_MAIL_FROM must be an e-mail address, not"),
        ("MAIL_FROM", "Acme <noreply@w.test>", "FULFILMENT_MAIL_FROM must be an e-mail address"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({f"FULFILMENT_{variable}": value})

    assert message in str(refused.value)
    assert "Expected" not in str(refused.value)  # our words, not the decoder's


def test_a_short_secret_key_is_refused_without_repeating_it() -> None:
    secret = "not-long-enough-secret"
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"FULFILMENT_PORTAL_SECRET_KEY": secret})

    assert str(refused.value) == "FULFILMENT_PORTAL_SECRET_KEY must be at least 32 characters"


def test_settings_built_with_keywords_are_checked_the_same_way() -> None:
    with pytest.raises(SettingsError, match="FULFILMENT_RATE_LIMIT must look like"):
        Settings(rate_limit="lots")
    unchecked = replace(Settings(), pool_size=0)
    with pytest.raises(SettingsError, match="FULFILMENT_POOL_SIZE must be"):
        unchecked.checked()
    assert Settings(pool_size=2).checked() == Settings(pool_size=2)


def test_unknown_keyword_is_an_error() -> None:
    with pytest.raises(TypeError):
        Settings.from_env({}, pool_sise=3)
