"""Every kind of background work of the service, handed to one engine: webhook deliveries
and mails as jobs, and the periodic jobs (API keys' last use, retention, the metrics'
backlog)."""

from __future__ import annotations

from ..auth import KeyUsage
from ..db import Database
from ..hooks import handler as hooks
from ..identity import forgot
from ..mail import handler as mail
from ..ratelimit import SharedCounters
from .engine import Engine
from .handler import Handler, Periodic

RETENTION_EVERY_SECONDS = 600
BACKLOG_EVERY_SECONDS = 15


def engine(
    database: Database,
    key_usage: KeyUsage | None = None,
    shared: SharedCounters | None = None,
) -> Engine:
    """The engine of one process: mails always, webhook deliveries unless
    FULFILMENT_HOOKS_WORKER=false; with `key_usage`, the keys' last use is written every
    minute and when the engine stops."""
    settings = database.settings
    handlers: list[Handler] = [
        mail.MailSending(settings),
        forgot.PasswordRequests(database, shared),
    ]
    if settings.hooks_worker:
        handlers.append(hooks.HookDeliveries(database))

    async def forget_old() -> None:
        await hooks.forget_old(database)
        await mail.forget_old(database)
        await forgot.forget_old(database)

    periodic = [Periodic("retention", RETENTION_EVERY_SECONDS, forget_old)]
    if key_usage is not None:
        every = KeyUsage.INTERVAL.total_seconds()
        periodic.append(Periodic("api key use", every, key_usage.flush, every, at_stop=True))
    work = Engine(database, handlers, periodic)
    work.periodic.append(Periodic("backlog", BACKLOG_EVERY_SECONDS, work.refresh_backlog))
    return work
