"""Native delete requests: a record with delete_request withdraws its account, as Metro 2's
DA and DF records do (files/deletions.py), in all three native formats."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select, text

from factories import person, record, write_csv, write_jsonl, write_parquet
from openbureau.files.tables import tradelines
from openbureau.furnishing.submit import submit_file
from openbureau.governance.audit import verify_chain
from openbureau.governance.members import Role

WRITERS = [(write_jsonl, "jsonl"), (write_csv, "csv"), (write_parquet, "parquet")]


def _month(n: int, account_ref: str, period: str) -> dict:
    return record(**person(n), account_ref=account_ref, reporting_date=f"{period}-28")


def _request(account_ref: str | None, kind: str) -> dict:
    return {"account_ref": account_ref, "delete_request": kind}


def _submit(bureau, member, path) -> dict:
    report, _ = submit_file(bureau, member, path, actor="test")
    return report


def _on_file(bureau) -> list[tuple]:
    with bureau.sessions() as session:
        rows = session.execute(
            select(tradelines.c.member_id, tradelines.c.account_ref, tradelines.c.period)
        ).all()
    return sorted(tuple(r) for r in rows)


def _deletions(bureau) -> list[dict]:
    with bureau.sessions() as session:
        rows = session.execute(
            text("SELECT detail FROM audit_events WHERE action = 'submission.delete_accounts'")
        ).all()
    return [orjson.loads(r[0]) for r in rows]


@pytest.mark.parametrize("writer,suffix", WRITERS)
def test_a_delete_request_withdraws_every_period_of_the_account(
    bureau, members, tmp_path, writer, suffix
):
    bank, _ = members.add("bank", Role.FURNISHER)
    for period in ("2005-07", "2005-08"):
        months = [_month(1, "A1", period), _month(2, "A2", period)]
        _submit(bureau, bank, writer(tmp_path / f"{period}.{suffix}", months))
    sep = [_request("A1", "reported_in_error"), _month(2, "A2", "2005-09")]
    report = _submit(bureau, bank, writer(tmp_path / f"sep.{suffix}", sep))

    assert (report["records"], report["accepted"], report["rejected"]) == (2, 2, 0)
    assert (report["delete_requests"], report["accounts_deleted"]) == (1, 1)
    assert _on_file(bureau) == [(bank.id, "A2", p) for p in ("2005-07", "2005-08", "2005-09")]
    [event] = _deletions(bureau)
    [deleted] = event["accounts"]
    assert (deleted["account_ref"], deleted["status"], deleted["rows"]) == ("A1", "DA", 2)
    assert len(deleted["subject_ids"]) == 1
    with bureau.sessions() as session:
        assert verify_chain(session).ok


def test_a_request_wins_over_the_same_files_record_and_touches_no_other_member(
    bureau, members, tmp_path
):
    bank, _ = members.add("bank", Role.FURNISHER)
    other, _ = members.add("otherbank", Role.FURNISHER)
    _submit(bureau, other, write_jsonl(tmp_path / "other.jsonl", [_month(1, "A1", "2005-08")]))
    aug = [_month(1, "A1", "2005-08"), _request("A1", "fraud"), _request("NEVER", "fraud")]
    report = _submit(bureau, bank, write_jsonl(tmp_path / "aug.jsonl", aug))
    assert (report["delete_requests"], report["accounts_deleted"]) == (2, 1)
    assert _on_file(bureau) == [(other.id, "A1", "2005-08")]
    [event] = _deletions(bureau)
    assert [(a["account_ref"], a["status"]) for a in event["accounts"]] == [("A1", "DF")]


@pytest.mark.parametrize("writer,suffix", WRITERS)
def test_bad_delete_requests_are_rejected_and_the_rest_loads(
    bureau, members, tmp_path, writer, suffix
):
    bank, _ = members.add("bank", Role.FURNISHER)
    _submit(bureau, bank, writer(tmp_path / f"aug.{suffix}", [_month(1, "A1", "2005-08")]))
    sep = [_request("A1", "oops"), _request(None, "fraud"), _month(3, "A3", "2005-09")]
    report = _submit(bureau, bank, writer(tmp_path / f"sep.{suffix}", sep))

    assert (report["records"], report["accepted"], report["rejected"]) == (3, 1, 2)
    assert report["delete_requests"] == 0
    rules = {(e["record_no"], e["field"], e["rule"]) for e in report["errors"]}
    assert rules == {(1, "delete_request", "unknown_code"), (2, "account_ref", "required")}
    assert all(e["message"] for e in report["errors"])
    assert _on_file(bureau) == [(bank.id, "A1", "2005-08"), (bank.id, "A3", "2005-09")]
    assert _deletions(bureau) == []
