"""Fixtures of the passkey tests: the service and a browser with a virtual authenticator."""

from __future__ import annotations

from tests.portal.test_browser import browser, server  # noqa: F401
