"""Invitations from the command line link to the service's public address, and are not
sent without one."""

from __future__ import annotations

import os
import subprocess
import sys

from fulfilment.settings import Settings
from tests.mail.smtp import Inbox, link_in

from .conftest import PUBLIC_URL
from .helpers import Site


def _invite(site: Site, settings: Settings, **environment: str) -> subprocess.CompletedProcess[str]:
    what = (
        ["invite-customer", str(site.person_id)]
        if site.name == "portal"
        else ["invite-user", "jansen"]
    )
    return subprocess.run(
        [sys.executable, "-m", "fulfilment.cli", "mail", *what, "--account", "acme"],
        env={
            **os.environ,
            "FULFILMENT_DATABASE_URL": settings.database_url,
            "FULFILMENT_ENCRYPTION_KEY": str(settings.encryption_key),
            **environment,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_invitation_from_the_command_line_links_to_the_public_address(
    site: Site, settings: Settings, inbox: Inbox
) -> None:
    refused = _invite(site, settings)
    assert refused.returncode == 1
    assert "FULFILMENT_PUBLIC_URL is not set" in refused.stderr
    done = _invite(
        site,
        settings,
        FULFILMENT_SMTP_URL=str(settings.smtp_url),
        FULFILMENT_MAIL_FROM=str(settings.mail_from),
        FULFILMENT_PUBLIC_URL=PUBLIC_URL,
    )
    assert done.returncode == 0, done.stderr
    assert site.email in done.stderr
    [mail] = inbox.wait_for(1, seconds=15)
    assert link_in(mail).startswith(f"{PUBLIC_URL}{site.base}reset?")
