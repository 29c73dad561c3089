"""How the command lines show times: in the account's zone, with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime

from fulfilment.client.terminal import labelled_time


def test_wire_times_get_the_abbreviation_in_force_then() -> None:
    assert str(labelled_time("2026-01-15 10:00:00", "Europe/Amsterdam")) == (
        "2026-01-15 10:00:00 CET"
    )
    assert str(labelled_time("2026-07-15 10:00:00", "Europe/Amsterdam")) == (
        "2026-07-15 10:00:00 CEST"
    )
    assert str(labelled_time("2026-07-15 10:00:00", "America/New_York")) == (
        "2026-07-15 10:00:00 EDT"
    )


def test_stored_times_are_moved_into_the_zone() -> None:
    moment = datetime(2026, 7, 15, 8, 0, tzinfo=UTC)

    assert str(labelled_time(moment, "Europe/Amsterdam")) == "2026-07-15 10:00:00 CEST"


def test_without_a_zone_wire_text_says_whose_time_it_is() -> None:
    # The hosted system names no zone in its answers.
    assert str(labelled_time("2026-07-15 10:00:00", None)) == "2026-07-15 10:00:00 (server time)"
    assert str(labelled_time(None, "Europe/Amsterdam")) == ""
    assert str(labelled_time("not a time\x1b", "Europe/Amsterdam")) == "not a time\\x1b"
