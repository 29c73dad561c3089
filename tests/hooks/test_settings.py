"""The hooks' settings: read from the environment, refused with a message that names the
variable, and the secret key never repeated."""

from __future__ import annotations

import pytest

from fulfilment.settings import Settings, SettingsError


def test_hooks_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            "FULFILMENT_HOOKS_ALLOW_PRIVATE": "yes",
            "FULFILMENT_HOOKS_WORKER": "off",
            "FULFILMENT_HOOKS_POLL_SECONDS": "0.25",
            "FULFILMENT_HOOKS_LEASE_SECONDS": "30",
            "FULFILMENT_HOOKS_PER_ACCOUNT": "250",
        }
    )
    assert settings.hooks_per_account == 250
    assert Settings().hooks_per_account == 100
    assert settings.hooks_allow_private is True
    assert settings.hooks_worker is False
    assert (settings.hooks_poll_seconds, settings.hooks_lease_seconds) == (0.25, 30)

    for variable, value, message in [
        ("HOOKS_POLL_SECONDS", "soon", "must be a number above 0 and at most 60, not 'soon'"),
        ("HOOKS_RETRY_SCALE", "2", "must be a number above 0 and at most 1"),
        ("HOOKS_LEASE_SECONDS", "1", "must be a whole number of at least 2"),
        ("HOOKS_PER_ACCOUNT", "0", "must be a whole number of at least 1"),
    ]:
        with pytest.raises(SettingsError, match=message):
            Settings.from_env({f"FULFILMENT_{variable}": value})
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"FULFILMENT_ENCRYPTION_KEY": "too short a secret"})
    assert "too short" not in str(refused.value)
    assert "FULFILMENT_ENCRYPTION_KEY must be at least 32 characters" in str(refused.value)
