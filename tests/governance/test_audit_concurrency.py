"""Appends from concurrent transactions (as from two server workers) keep one valid chain."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from openbureau.governance.audit import append_event, verify_chain
from openbureau.governance.tables import audit_events

THREADS, APPENDS = 4, 12


def test_concurrent_appends_form_one_unbroken_chain(bureau):
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(APPENDS):
                with bureau.sessions() as session, session.begin():
                    append_event(session, f"operator:t{n}", "test.append", {"n": n, "i": i})
                    # Hold the transaction open after appending, so that the others' appends
                    # really wait on this one's lock instead of slipping in between.
                    time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with bureau.sessions() as session:
        verdict = verify_chain(session)
        details = session.execute(
            select(audit_events.c.detail).where(audit_events.c.action == "test.append")
        ).scalars()
        assert len(set(details)) == THREADS * APPENDS
    assert verdict.ok, verdict.problem
    assert verdict.events == THREADS * APPENDS
