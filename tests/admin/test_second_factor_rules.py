"""The second factor's limits, each tried at its edge: how far a code's time step may be
from the server's clock, and whose recovery codes open which account."""

from __future__ import annotations

import time

import pyotp
import sqlalchemy as sa
from starlette.testclient import TestClient

from fulfilment.db import Database
from fulfilment.staff.schemas import User
from fulfilment.tables import staff_users

from .helpers import BASE, enrol, log_in, send

STEP_SECONDS = 30
# Time a few codes sent one after another need, with room to spare on a busy machine.
ROOM_SECONDS = 10


def _well_inside_a_time_step() -> float:
    """The time once the current TOTP time step has ROOM_SECONDS left, so that the codes a
    test reckons from it are the steps away it means when the server reads them."""
    deadline = time.monotonic() + STEP_SECONDS + 1
    while STEP_SECONDS - time.time() % STEP_SECONDS < ROOM_SECONDS:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return time.time()


def _same_time_step(then: float) -> bool:
    """Whether the clock is still in the time step of `then`: the codes reckoned from it
    were as many steps away as meant when the server read them."""
    return int(then // STEP_SECONDS) == int(time.time() // STEP_SECONDS)


def _code(secret: str, now: float, steps: int) -> str:
    """The code `steps` time steps away from the one of `now`."""
    return pyotp.TOTP(secret).at(now + steps * STEP_SECONDS)


def _at_the_code_step(client: TestClient, username: str) -> None:
    answer = log_in(client, username)
    assert answer.headers["location"] == f"{BASE}second-factor"


def _send_code(client: TestClient, code: str) -> int:
    page = client.get(f"{BASE}second-factor")
    assert page.status_code == 200, page.text
    return send(client, "second-factor", page, code=code).status_code


def test_a_code_one_time_step_away_is_accepted_and_two_steps_away_refused(
    client: TestClient, anna: User, database: Database
) -> None:
    log_in(client, "anna")
    secret, _ = enrol(client)
    # The enrolment used the current step's code; forget it, so that from here each code is
    # judged by its distance from the clock alone (a code is good once, later steps only).
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(staff_users)
            .where(staff_users.c.iduser == anna.iduser)
            .values(totp_last_step=None)
        )
    # Each half logs in first (the slow part), then sends its codes within one time step.
    behind = TestClient(client.app)
    _at_the_code_step(behind, "anna")
    now = _well_inside_a_time_step()
    assert _send_code(behind, _code(secret, now, -2)) == 401
    assert behind.get(f"{BASE}customers", follow_redirects=False).status_code == 303
    assert _send_code(behind, _code(secret, now, -1)) == 303
    assert _same_time_step(now)
    assert behind.get(f"{BASE}customers").status_code == 200

    ahead = TestClient(client.app)
    _at_the_code_step(ahead, "anna")
    now = _well_inside_a_time_step()
    assert _send_code(ahead, _code(secret, now, 2)) == 401
    assert ahead.get(f"{BASE}customers", follow_redirects=False).status_code == 303
    assert _send_code(ahead, _code(secret, now, 1)) == 303
    assert _same_time_step(now)
    assert ahead.get(f"{BASE}customers").status_code == 200


def test_a_recovery_code_opens_only_the_account_of_its_own_user(
    client: TestClient, anna: User, piet: User
) -> None:
    log_in(client, "anna")
    _, annas_codes = enrol(client)
    pietje = TestClient(client.app)
    log_in(pietje, "piet")
    _, pietjes_codes = enrol(pietje)

    intruder = TestClient(client.app)
    _at_the_code_step(intruder, "piet")
    for code in annas_codes[:3]:
        assert _send_code(intruder, code) == 401
    assert intruder.get(f"{BASE}customers", follow_redirects=False).status_code == 303

    # Refused to piet, anna's codes are still hers, and piet's own still his.
    visitor = TestClient(client.app)
    _at_the_code_step(visitor, "anna")
    assert _send_code(visitor, annas_codes[0]) == 303
    assert "Recovery codes left: 9" in visitor.get(f"{BASE}settings").text
    _at_the_code_step(intruder, "piet")
    assert _send_code(intruder, pietjes_codes[0]) == 303
