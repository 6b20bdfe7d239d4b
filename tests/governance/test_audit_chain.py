"""The audit log: every write and report appends; any change, removal or reorder is detected."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from factories import record, write_jsonl
from openbureau.cli import app
from openbureau.furnishing.submit import submit_file
from openbureau.governance.audit import append_event, event_hash, verify_chain
from openbureau.governance.members import Role
from openbureau.governance.tables import audit_events


def _events(bureau) -> list:
    with bureau.sessions() as session:
        return session.execute(select(audit_events).order_by(audit_events.c.seq)).all()


def _populate(bureau, members, tmp_path) -> None:
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    members.add("bank", Role.SUBSCRIBER)
    submit_file(bureau, furnisher, write_jsonl(tmp_path / "f.jsonl", [record()]), actor="t")


def _tamper(bureau, *statements: str) -> None:
    """What an attacker with database-owner rights would do: drop the guard, then edit."""
    with bureau.engine.begin() as conn:
        if bureau.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            conn.exec_driver_sql(statement)


def test_writes_append_events_and_the_chain_verifies(bureau, members, tmp_path):
    _populate(bureau, members, tmp_path)
    actions = [e.action for e in _events(bureau)]
    assert actions == ["member.add", "key.issue", "member.add", "key.issue", "submission.load"]
    with bureau.sessions() as session:
        verdict = verify_chain(session)
    assert verdict.ok and verdict.events == 5


def test_the_database_refuses_updates_and_deletes(bureau, members, tmp_path):
    _populate(bureau, members, tmp_path)
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError), bureau.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert len(_events(bureau)) == 5


@pytest.mark.parametrize(
    "statements,bad_seq",
    [
        (["UPDATE audit_events SET detail = '{\"accepted\":99}' WHERE seq = 5"], 5),
        (["UPDATE audit_events SET actor = 'operator:nobody' WHERE seq = 2"], 2),
        (["DELETE FROM audit_events WHERE seq = 3"], 3),
        # Swap two events' contents while keeping their sequence numbers.
        (
            [
                "UPDATE audit_events SET seq = 100 WHERE seq = 2",
                "UPDATE audit_events SET seq = 2 WHERE seq = 3",
                "UPDATE audit_events SET seq = 3 WHERE seq = 100",
            ],
            2,
        ),
    ],
    ids=["changed-detail", "changed-actor", "removed", "reordered"],
)
def test_verify_detects_tampering(bureau, members, tmp_path, statements, bad_seq):
    _populate(bureau, members, tmp_path)
    _tamper(bureau, *statements)
    with bureau.sessions() as session:
        verdict = verify_chain(session)
    assert not verdict.ok
    assert verdict.first_bad_seq == bad_seq


def test_cli_verify_exit_codes_and_head_anchor(bureau, members, tmp_path, env_settings):
    _populate(bureau, members, tmp_path)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--json"])
    assert ok.exit_code == 0, ok.output
    head = __import__("json").loads(ok.output)["head_hash"]
    _tamper(bureau, "DELETE FROM audit_events WHERE seq = 5")
    cut = runner.invoke(app, ["audit", "verify", "--expect-head", head])
    assert cut.exit_code == 1
    _tamper(bureau, "UPDATE audit_events SET action = 'x' WHERE seq = 1")
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 1


def test_awkward_text_chains_the_same_on_every_database(bureau):
    """On PostgreSQL the server computes the hash (audit.queue_pg_append); verify_chain
    recomputes it in Python, so any difference in the canonical text breaks the chain."""
    awkward = [
        ("operator:张伟", "test.text", {"name": 'Zhāng "W" \\ \n\t\x01 😀', "n": [1, None]}, None),
        ("member:a'b", "test.empty", {}, 7),
        ("operator:x", "test.nested", {"b": {"z": 1, "a": "é\u2028"}, "a": True}, 2**31 - 1),
    ]
    with bureau.sessions() as session, session.begin():
        seqs = [append_event(session, *event) for event in awkward]
    with bureau.sessions() as session:
        verdict = verify_chain(session)
        rows = session.execute(
            select(audit_events).where(audit_events.c.seq.in_(seqs)).order_by(audit_events.c.seq)
        ).all()
    assert verdict.ok, verdict.problem
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    for row, (actor, action, detail, subject) in zip(rows, awkward, strict=True):
        assert (row.actor, row.action, row.subject_id) == (actor, action, subject)
        assert row.hash == event_hash(
            row.prev_hash, row.seq, row.occurred_at, actor, action, subject, row.detail
        )
        assert orjson.loads(row.detail) == detail
