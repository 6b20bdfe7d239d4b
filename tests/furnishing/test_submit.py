"""The submission path: validation, rejection reports, idempotency, corrections, atomicity."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from factories import person, record, write_csv, write_jsonl, write_parquet
from openbureau.files.tables import tradelines
from openbureau.furnishing.errors import FileRejected
from openbureau.furnishing.submit import NotAFurnisher, submit_file
from openbureau.furnishing.tables import submissions
from openbureau.governance.members import Role
from openbureau.identity.tables import review_items, subjects


def _count(bureau, table) -> int:
    with bureau.sessions() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


def _snapshot(bureau) -> list[tuple]:
    with bureau.sessions() as session:
        return [tuple(r) for r in session.execute(select(tradelines).order_by(tradelines.c.id))]


def test_good_records_load_and_bad_ones_are_reported(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    records = [
        record(**person(1), account_ref="A1"),
        record(**person(2), account_ref="A2", account_status="bogus"),
        record(**person(3), account_ref="A3", date_opened="2005-02-30"),
        record(**person(4), account_ref="A4", account_status="past_due_60", amount_past_due=0),
        record(**person(5), account_ref="A5", national_id="110101198503140001"),
        record(**person(6), account_ref="A6"),
    ]
    report, replay = submit_file(
        bureau, furnisher, write_jsonl(tmp_path / "f.jsonl", records), actor="test"
    )
    assert not replay
    assert (report["records"], report["accepted"], report["rejected"]) == (6, 2, 4)
    rules = {(e["record_no"], e["field"], e["rule"]) for e in report["errors"]}
    assert (2, "account_status", "unknown_code") in rules
    assert (3, "date_opened", "invalid_date") in rules
    assert (4, "amount_past_due", "delinquency_needs_amount") in rules
    assert (4, "date_first_delinquency", "delinquency_needs_date") in rules
    assert (5, "national_id", "invalid_checksum") in rules
    assert all(e["message"] for e in report["errors"])
    assert _count(bureau, tradelines) == 2
    assert _count(bureau, subjects) == 2
    # New subjects are dated by the submission, in the form the schema reads back.
    with bureau.sessions() as session:
        created = set(session.execute(select(subjects.c.created_at)).scalars())
        received = session.execute(select(submissions.c.received_at)).scalar_one()
    assert created == {received}


@pytest.mark.parametrize("writer,suffix", [(write_csv, "csv"), (write_parquet, "parquet")])
def test_csv_and_parquet_load_like_jsonl(bureau, members, tmp_path, writer, suffix):
    furnisher, _ = members.add("bank", Role.FURNISHER)
    records = [record(**person(i), account_ref=f"A{i}") for i in range(5)]
    records.append(record(**person(9), account_ref="BAD", current_balance="-3"))
    report, _ = submit_file(
        bureau, furnisher, writer(tmp_path / f"f.{suffix}", records), actor="test"
    )
    assert (report["accepted"], report["rejected"]) == (5, 1)
    assert report["errors"][0]["record_no"] == 6
    assert report["errors"][0]["rule"] == "out_of_range"


def test_same_file_twice_changes_nothing(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    path = write_jsonl(
        tmp_path / "f.jsonl", [record(**person(i), account_ref=f"A{i}") for i in range(10)]
    )
    first, replay1 = submit_file(bureau, furnisher, path, actor="test")
    before = _snapshot(bureau)
    second, replay2 = submit_file(bureau, furnisher, path, actor="test")
    assert (replay1, replay2) == (False, True)
    assert second == first
    assert _snapshot(bureau) == before


def test_same_records_in_a_new_file_rewrite_nothing(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    records = [record(**person(i), account_ref=f"A{i}") for i in range(4)]
    submit_file(bureau, furnisher, write_jsonl(tmp_path / "a.jsonl", records), actor="test")
    before = _snapshot(bureau)
    report, _ = submit_file(bureau, furnisher, write_csv(tmp_path / "b.csv", records), actor="t")
    assert report["rows_written"] == 0
    assert _snapshot(bureau) == before


def test_correction_replaces_the_earlier_record(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    submit_file(
        bureau,
        furnisher,
        write_jsonl(tmp_path / "a.jsonl", [record(account_ref="A1")]),
        actor="test",
    )
    corrected = record(account_ref="A1", current_balance=777)
    report, _ = submit_file(
        bureau, furnisher, write_jsonl(tmp_path / "b.jsonl", [corrected]), actor="test"
    )
    assert report["rows_written"] == 1
    with bureau.sessions() as session:
        rows = session.execute(select(tradelines.c.current_balance)).scalars().all()
    assert rows == [777]


def test_same_account_twice_in_one_file_is_rejected(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    records = [
        record(account_ref="A1"),
        record(**person(2), account_ref="A2"),
        record(account_ref="A1", current_balance=5),
    ]
    report, _ = submit_file(
        bureau, furnisher, write_jsonl(tmp_path / "f.jsonl", records), actor="test"
    )
    assert report["rejected"] == 1
    [error] = report["errors"]
    assert (error["record_no"], error["rule"]) == (3, "duplicate_account")
    assert "record 1" in error["message"]


def test_a_file_rejected_late_leaves_nothing_behind(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    good = write_jsonl(
        tmp_path / "f.jsonl", [record(**person(i), account_ref=f"A{i}") for i in range(30)]
    )
    # A wrongly encoded byte far into the file, after whole chunks have loaded.
    data = good.read_bytes() + "\n".join(['{"full_name": "x"}'] * 5).encode() + b"\xff\n"
    good.write_bytes(data)
    from openbureau.furnishing import parse

    original = parse.READ_BLOCK_BYTES
    parse.READ_BLOCK_BYTES = 512  # forces many blocks, so earlier chunks load first
    try:
        with pytest.raises(FileRejected) as exc:
            submit_file(bureau, furnisher, good, actor="test")
    finally:
        parse.READ_BLOCK_BYTES = original
    assert exc.value.rule == "encoding"
    assert _count(bureau, tradelines) == 0
    assert _count(bureau, subjects) == 0


@pytest.mark.parametrize(
    "content,rule",
    [
        (b"", "empty_file"),
        ("张伟,1\n".encode("gbk") + b"\xa1\n", "encoding"),
        (b"full_name,national_id\nx,y\n", "missing_columns"),
        (b"\r\x01", "malformed_csv"),
        (b"PAR1garbage-not-parquet", "malformed_parquet"),
    ],
)
def test_unreadable_files_are_rejected_whole(bureau, members, tmp_path, content, rule):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    suffix = "parquet" if content.startswith(b"PAR1") else "csv"
    path = tmp_path / f"f.{suffix}"
    path.write_bytes(content)
    with pytest.raises(FileRejected) as exc:
        submit_file(bureau, furnisher, path, actor="test")
    assert exc.value.rule == rule


def test_truncated_jsonl_names_the_cut_record(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    path = write_jsonl(
        tmp_path / "f.jsonl", [record(**person(i), account_ref=f"A{i}") for i in range(3)]
    )
    path.write_bytes(path.read_bytes()[:-40])
    report, _ = submit_file(bureau, furnisher, path, actor="test")
    assert report["accepted"] == 2
    [error] = report["errors"]
    assert error["record_no"] == 3 and "truncated" in error["message"]


def test_subscriber_cannot_furnish(bureau, members, tmp_path):
    bank, _ = members.add("bank", Role.SUBSCRIBER)
    with pytest.raises(NotAFurnisher):
        submit_file(bureau, bank, write_jsonl(tmp_path / "f.jsonl", [record()]), actor="test")


def test_id_match_with_disagreeing_name_and_birth_goes_to_review(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    other, _ = members.add("bank", Role.FURNISHER)
    submit_file(bureau, furnisher, write_jsonl(tmp_path / "a.jsonl", [record()]), actor="test")
    # Same ID, Latin-script name: still the same person (birth date agrees).
    same = record(full_name="ZHANG Wei", account_ref="B1", date_of_birth="1985-03-14")
    # Same ID, other name and other birth date: never merged.
    clash = record(full_name="李娜", account_ref="B2", date_of_birth="1985-03-15")
    report, _ = submit_file(
        bureau, other, write_jsonl(tmp_path / "b.jsonl", [same, clash]), actor="test"
    )
    # The clash also fails the ID's embedded birth date check, so it is rejected outright.
    assert report["accepted"] == 1 and report["matched_existing_subjects"] == 1
    assert _count(bureau, subjects) == 1
    us_a = record(
        national_id_type="us_ssn",
        national_id="536-90-4399",
        account_ref="U1",
        full_name="John Smith",
        date_of_birth="1970-01-01",
    )
    us_b = dict(us_a, account_ref="U2", full_name="Mary Jones", date_of_birth="1971-02-02")
    report, _ = submit_file(
        bureau, other, write_jsonl(tmp_path / "c.jsonl", [us_a, us_b]), actor="test"
    )
    assert report["accepted"] == 2 and report["held_for_identity_review"] == 1
    assert _count(bureau, review_items) == 1
    with bureau.sessions() as session:
        held = session.execute(
            select(tradelines.c.subject_id).where(tradelines.c.account_ref == "U2")
        ).scalar_one()
    assert held is None


def test_subject_ids_stay_stable_across_months(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    sep = [record(**person(i), account_ref=f"A{i}") for i in range(5)]
    aug = [dict(r, reporting_date="2005-08-31") for r in sep]
    submit_file(bureau, furnisher, write_jsonl(tmp_path / "a.jsonl", aug), actor="test")
    submit_file(bureau, furnisher, write_jsonl(tmp_path / "b.jsonl", sep), actor="test")
    with bureau.sessions() as session:
        pairs = session.execute(
            select(
                tradelines.c.account_ref, func.count(func.distinct(tradelines.c.subject_id))
            ).group_by(tradelines.c.account_ref)
        ).all()
    assert len(pairs) == 5 and all(n == 1 for _, n in pairs)
    assert _count(bureau, subjects) == 5


def test_future_reporting_date_is_rejected(bureau, members, tmp_path):
    furnisher, _ = members.add("zhifu", Role.FURNISHER)
    report, _ = submit_file(
        bureau,
        furnisher,
        write_jsonl(tmp_path / "f.jsonl", [record(reporting_date="2099-01-31")]),
        actor="test",
        today=date(2026, 1, 1),
    )
    assert report["errors"][0]["rule"] == "future_date"
