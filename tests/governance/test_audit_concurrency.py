"""Appends from concurrent transactions (as from two server workers) keep one valid chain."""

from __future__ import annotations

import time

from sqlalchemy import select

from factories import run_together
from openbureau.governance.audit import append_event, verify_chain
from openbureau.governance.tables import audit_events

THREADS, APPENDS = 4, 12


def test_concurrent_appends_form_one_unbroken_chain(bureau):
    def worker(n: int) -> None:
        for i in range(APPENDS):
            with bureau.sessions() as session, session.begin():
                append_event(session, f"operator:t{n}", "test.append", {"n": n, "i": i})
                # Hold the transaction open after appending, so that the others' appends
                # really wait on this one's lock instead of slipping in between.
                time.sleep(0.002)

    assert run_together(worker, THREADS) == []
    with bureau.sessions() as session:
        verdict = verify_chain(session)
        details = session.execute(
            select(audit_events.c.detail).where(audit_events.c.action == "test.append")
        ).scalars()
        assert len(set(details)) == THREADS * APPENDS
    assert verdict.ok, verdict.problem
    assert verdict.events == THREADS * APPENDS
