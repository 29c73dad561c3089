"""The engine itself: its stop protocol, the periodic retention of every kind, and the
backlog in the metrics."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.clock import utcnow
from fulfilment.db import Database
from fulfilment.hooks.handler import HookDeliveries
from fulfilment.jobs.engine import Engine
from fulfilment.jobs.handler import Places
from fulfilment.mail import handler as mail
from fulfilment.mail import outbox
from fulfilment.mail.messages import PASSWORD_RESET, MailWriter
from fulfilment.tables import hook_deliveries, hook_events, mail_outbox, one_time_tokens
from tests.factories import Tenant
from tests.hooks.helpers import CHANGED, CREATED, HOOKS, create_hook, stored_deliveries
from tests.hooks.receiver import Receiver


def test_a_delivery_under_way_when_the_engine_stops_is_finished_and_recorded_once(
    tenant: Tenant, database: Database, receiver: Receiver, client: TestClient
) -> None:
    # The app's own engine is stopped first: this test's engine is the only one.
    client.portal.call(client.app.state.jobs.stop)  # type: ignore[attr-defined, union-attr]
    hook = create_hook(tenant, receiver.url)
    receiver.delay = 0.5
    tenant.create_customer(name="Stopped mid-way")

    async def stop_during_the_attempt() -> None:
        await database.start()
        engine = Engine(database, [HookDeliveries(database)])
        engine.start()
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: receiver.wait_for(lambda _: bool(receiver.arrivals))
        )
        await engine.stop()
        await database.aclose()

    asyncio.run(stop_during_the_attempt())

    [delivery] = stored_deliveries(database)
    assert (delivery["state"], delivery["attempts"], delivery["claimed_by"]) == (
        "delivered",
        1,
        None,
    )
    assert len(receiver.received) == 1
    log = tenant.get(f"{HOOKS}/{hook['idhook']}/deliveries").json()
    assert [attempt["status"] for attempt in log[0]["attempts"]] == [200]


def test_retention_forgets_finished_mails_and_used_or_expired_links(
    tenant: Tenant, database: Database
) -> None:
    writer = MailWriter()
    for recipient in ("old@example.com", "recent@example.com", "waiting@example.com"):
        written = writer.write(
            PASSWORD_RESET, "en", recipient, "Acme BV", "https://x/", username="a"
        )
        database.write_sync(lambda c, m=written: outbox.enqueue(c, tenant.account.id, m))
    # The app's engine sends them (to the log): once it has, it changes them no more.
    deadline = time.monotonic() + 30
    while True:
        with database.engine.connect() as connection:
            states = connection.execute(sa.select(mail_outbox.c.state)).scalars().all()
        if set(states) == {"sent"}:
            break
        assert time.monotonic() < deadline, f"the mails were not sent: {states}"
        time.sleep(0.05)
    long_ago = utcnow() - timedelta(days=31)
    token = {"account_id": tenant.account.id, "purpose": "password-reset"}
    token |= {"subject_type": "customer", "subject_id": 1, "emailaddress": "a@example.com"}
    with database.engine.begin() as connection:
        for recipient, finished in (("old@", long_ago), ("recent@", utcnow())):
            connection.execute(
                sa.update(mail_outbox)
                .where(mail_outbox.c.recipient.startswith(recipient))
                .values(state="sent", finished_at=finished)
            )
        for name, created, expires, used in (
            ("used long ago", long_ago, utcnow() + timedelta(1), long_ago),
            ("expired long ago", long_ago, long_ago, None),
            ("used just now", utcnow(), utcnow() + timedelta(1), utcnow()),
            ("still usable", utcnow(), utcnow() + timedelta(1), None),
        ):
            connection.execute(
                sa.insert(one_time_tokens).values(
                    **token, token_hash=name, created_at=created, expires_at=expires, used_at=used
                )
            )

    asyncio.run(mail.forget_old(database))

    with database.engine.connect() as connection:
        mails = connection.execute(sa.select(mail_outbox.c.recipient)).scalars().all()
        tokens = connection.execute(sa.select(one_time_tokens.c.token_hash)).scalars().all()
    assert sorted(mails) == ["recent@example.com", "waiting@example.com"]
    assert sorted(tokens) == ["still usable", "used just now"]


def test_the_metrics_show_the_backlog_by_kind_and_state(
    tenant: Tenant, client: TestClient, receiver: Receiver
) -> None:
    create_hook(tenant, receiver.url, CREATED)
    receiver.down()
    for number in range(3):
        tenant.create_customer(name=f"Waiting {number}")
    engine: Engine = client.app.state.jobs  # type: ignore[attr-defined]

    client.portal.call(engine.refresh_backlog)  # type: ignore[union-attr]

    text = client.get("/metrics").text
    gauges = dict(re.findall(r"^fulfilment_jobs\{(.*)\} (\S+)$", text, re.MULTILINE))
    assert float(gauges['kind="hook",state="pending"']) == 3
    assert set(gauges) == {
        f'kind="{kind}",state="{state}"'
        for kind in ("hook", "mail", "password_request")
        for state in ("pending", "done", "failed")
    }


def test_a_job_that_finds_no_place_in_its_lease_goes_back_unattempted(
    tenant: Tenant, database: Database, receiver: Receiver, client: TestClient
) -> None:
    client.portal.call(client.app.state.jobs.stop)  # type: ignore[attr-defined, union-attr]
    create_hook(tenant, receiver.url)
    tenant.create_customer(name="No place")

    async def with_every_place_taken() -> int:
        await database.start()
        hooks = HookDeliveries(database)
        # A lease too short to wait in: a job without a free place goes back at once.
        hooks.lease_seconds = 2
        engine = Engine(database, [hooks])
        engine.places = Places(total=1)
        async with engine.places.take(tenant.account.id):
            ran = await engine.run_due()
        await database.aclose()
        return ran

    assert asyncio.run(with_every_place_taken()) == 1

    [delivery] = stored_deliveries(database)
    assert (delivery["state"], delivery["attempts"], delivery["claimed_by"]) == ("pending", 0, None)
    assert receiver.requests == []
    log = tenant.get(f"{HOOKS}/{delivery['idhook']}/deliveries").json()
    assert log[0]["attempts"] == []


def _estimated_pending(database: Database) -> int:
    with database.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM hook_deliveries WHERE state = 'pending'"
        ).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_backlog_written_in_a_burst_is_analysed_before_the_claims_read_it(
    tenant: Tenant, database: Database, receiver: Receiver, client: TestClient
) -> None:
    client.portal.call(client.app.state.jobs.stop)  # type: ignore[attr-defined, union-attr]
    hook = create_hook(tenant, receiver.url, CHANGED)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE hook_deliveries")  # the planner sees none
        now = utcnow()
        idevent = connection.execute(
            sa.insert(hook_events)
            .values(account_id=tenant.account.id, event=CHANGED, data="{}", triggered_at=now)
            .returning(hook_events.c.idevent)
        ).scalar_one()
        row = {"account_id": tenant.account.id, "idhook": hook["idhook"], "idevent": idevent}
        row |= {"state": "pending", "attempts": 0, "next_attempt_at": now}
        connection.execute(sa.insert(hook_deliveries), [row] * 3000)
    assert _estimated_pending(database) < 1500

    async def refresh() -> None:
        await database.start()
        await Engine(database, [HookDeliveries(database)]).refresh_backlog()
        await database.aclose()

    asyncio.run(refresh())

    assert _estimated_pending(database) > 2000
