"""Webhook deliveries as a kind of the engine's jobs: a claimed delivery is POSTed (see
attempts.py), each attempt logged, and the published rules applied: the retry schedule,
and the deactivation of a hook whose delivery used it up."""

from __future__ import annotations

from collections.abc import Sequence

from ..accounts import audit
from ..clock import utcnow
from ..db import Connection, Database
from ..jobs.handler import Finished, Handler, Places, forget_older_than
from ..jobs.queue import FAILED
from . import queries
from .attempts import TIMEOUT_SECONDS, Delivery, Outcome, Sender

# Seconds from a failed attempt to the next: the first retry within 10 s, the second
# within 30 s of the first attempt, and the whole schedule spans about 12.7 hours.
RETRY_SCHEDULE = (5, 20, 120, 600, 1800, 3600, 3 * 3600, 8 * 3600)
ATTEMPTS = len(RETRY_SCHEDULE) + 1


def _logged(finished: list[Finished]) -> list[dict[str, object]]:
    rows = []
    for done in finished:
        outcome: Outcome = done.result
        rows.append(
            {
                "id": done.job.id,
                "claim": done.claim,
                "attempted_at": outcome.attempted_at,
                "status": outcome.status,
                "duration_ms": outcome.duration_ms,
                "error": outcome.error,
                "response": outcome.response,
            }
        )
    return rows


class HookDeliveries(Handler):
    kind = "hook"
    queue = queries.QUEUE

    def __init__(self, database: Database) -> None:
        self.database = database
        settings = database.settings
        self.lease_seconds = settings.hooks_lease_seconds
        self.scale = settings.hooks_retry_scale
        # An attempt is given up a second before its lease ends.
        self.sender = Sender(database, min(TIMEOUT_SECONDS, self.lease_seconds - 1.0))

    def retry_delay(self, attempts_made: int) -> float | None:
        if attempts_made >= ATTEMPTS:
            return None
        return RETRY_SCHEDULE[attempts_made - 1] * self.scale

    async def load(self, connection: Connection, claim: str) -> Sequence[Delivery]:
        rows = await connection.all(queries.CLAIMED, {"claim": claim})
        return [Delivery.from_row(row) for row in rows]

    async def run(self, job: Delivery, places: Places, lease_end: float) -> Outcome:
        return await self.sender.attempt(job, places, lease_end)

    async def record(self, connection: Connection, finished: list[Finished]) -> None:
        # Logged while the claims still say whose the attempts were.
        await connection.execute_many(queries.LOG_CLAIMED_ATTEMPT, _logged(finished))

    async def recorded(self, connection: Connection, finished: list[Finished]) -> None:
        now = utcnow()
        for done in finished:
            if done.state != FAILED:
                continue
            # The schedule ran out: rare, one by one, and the published rule applied.
            delivery: Delivery = done.job
            deactivated = await connection.execute(
                queries.DEACTIVATE_FAILING,
                {
                    "id": delivery.iddelivery,
                    "idhook": delivery.idhook,
                    "since": delivery.triggered_at,
                    "now": now,
                },
            )
            if deactivated:
                await audit.record(
                    connection, delivery.account_id, audit.SYSTEM, "hook", delivery.idhook,
                    delivery.name, "deactivate", {"because": "failing"},
                )  # fmt: skip
        succeeded = sorted({done.job.idhook for done in finished if done.result.succeeded})
        if succeeded:
            # One statement for the batch (psycopg pipelines them): with deliveries to many
            # hooks, one round trip each made recording the round its slowest part.
            rows = [{"idhook": idhook, "now": now} for idhook in succeeded]
            await connection.execute_many(queries.SUCCEEDED, rows)

    async def aclose(self) -> None:
        await self.sender.aclose()


async def forget_old(database: Database) -> None:
    """Retention: finished deliveries, their attempts and their events older than the
    set days."""
    await forget_older_than(
        database,
        database.settings.hooks_log_retention_days,
        (queries.FORGET_ATTEMPTS, queries.FORGET_DELIVERIES, queries.FORGET_EVENTS),
    )
