"""One lease protocol for every kind of job: the statements that find, claim and finish the
rows of a kind's table, built from its columns. A job is due while `state` is `pending`,
its `next_attempt_at` has come and no lease holds it; a claim marks it with
`claimed_by`/`claimed_until`, and only the claim that holds it can finish it."""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa

from ..db import Query

_p = sa.bindparam
PENDING, DONE, FAILED = "pending", "done", "failed"
# Not a stored state: a job given back unattempted (see handler.NoPlace).
RELEASED = "released"


class JobIdRow(NamedTuple):
    id: int


class BacklogRow(NamedTuple):
    state: str
    jobs: int


class PlanRow(NamedTuple):
    plan: list[dict[str, Any]]  # EXPLAIN's JSON: one plan, {"Plan": {"Plan Rows": ...}}


class Queue:
    """The statements of one kind's table, built once (the database compiles each once).
    `ready` narrows what is due (a hook's deliveries wait while it is inactive); `done` is
    the kind's word for its finished state (a delivery is `delivered`)."""

    def __init__(
        self, table: sa.Table, ready: sa.ColumnElement[bool] | None = None, done: str = DONE
    ) -> None:
        c = table.c
        self.table = table
        self.done = done
        self.id: sa.ColumnElement[Any] = table.primary_key.columns.values()[0]
        due = sa.and_(
            c.state == PENDING,
            c.next_attempt_at <= _p("now"),
            sa.or_(c.claimed_until.is_(None), c.claimed_until < _p("now")),
        )
        if ready is not None:
            due = sa.and_(due, ready)
        # Whether anything is due: a read, so that an idle engine writes nothing.
        self.any_due = Query(sa.select(self.id.label("id")).where(due).limit(1), JobIdRow)
        # Up to `limit` due jobs claimed until `until`, marked `claim`, oldest first, leaving
        # out the accounts that already hold `per_account` live claims (of every instance):
        # an account with many jobs, or slow ones, cannot take every place. The claims are
        # found through their index (`> ''` rather than IS NOT NULL or a LIKE, which SQLite
        # answers by reading the whole table). On PostgreSQL, rows another instance is
        # claiming at this moment are skipped rather than waited for, so each is claimed
        # by one instance.
        busy = (
            sa.select(c.account_id)
            .where(c.claimed_by > "", c.claimed_until >= _p("now"))
            .group_by(c.account_id)
            .having(sa.func.count() >= _p("per_account"))
        )
        claimable = (
            sa.select(self.id)
            .where(due, c.account_id.not_in(busy.scalar_subquery()))
            .order_by(c.next_attempt_at, self.id)
            .limit(_p("limit"))
            .with_for_update(skip_locked=True)
        )
        self.claim = Query(
            sa.update(table)
            .where(self.id.in_(claimable.scalar_subquery()))
            .values(claimed_by=_p("claim"), claimed_until=_p("until"))
            .returning(self.id.label("id")),
            JobIdRow,
        )
        # An attempt's outcome, only while the claim is still `claim`'s.
        self.finish = (
            sa.update(table)
            .where(self.id == _p("id"), c.claimed_by == _p("claim"))
            .values(
                state=_p("state"),
                attempts=c.attempts + 1,
                next_attempt_at=_p("next_attempt_at"),
                finished_at=_p("finished_at"),
                claimed_by=sa.null(),
                claimed_until=sa.null(),
            )
        )
        # A claimed job given back unattempted, its attempts unchanged: due again at
        # `next_attempt_at`.
        self.release = (
            sa.update(table)
            .where(self.id == _p("id"), c.claimed_by == _p("claim"))
            .values(claimed_by=sa.null(), claimed_until=sa.null(), next_attempt_at=_p("next"))
        )
        # (state, count) of the table's jobs, for the metrics.
        self.backlog = Query(
            sa.select(c.state, sa.func.count().label("jobs")).group_by(c.state), BacklogRow
        )
        # PostgreSQL's estimate of the pending jobs, and the statement that renews it (the
        # table's name is the schema's own).
        self.estimate = Query(
            sa.text(
                f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table.name} WHERE state = '{PENDING}'"  # noqa: S608
            ).columns(sa.column("plan")),
            PlanRow,
        )
        self.analyse = sa.text(f"ANALYZE {table.name}")
        # Finished jobs past the window (`before`).
        self.forget = sa.delete(table).where(c.state != PENDING, c.finished_at < _p("before"))
