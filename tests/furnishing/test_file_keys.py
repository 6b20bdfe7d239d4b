"""Repeated (account, period) keys are found across a file's chunks, in memory or, past the
in-memory limit, through the load's temporary table, with the same answers either way."""

from __future__ import annotations

import random

import polars as pl
import pytest
from sqlalchemy import text

from factories import person, record, write_jsonl
from openbureau.furnishing.file_keys import FileKeys
from openbureau.furnishing.submit import submit_file


def _chunks(seed: int, n_chunks: int = 6, size: int = 40) -> list[pl.DataFrame]:
    rng = random.Random(seed)
    chunks, record_no = [], 1
    for _ in range(n_chunks):
        rows = []
        for _ in range(size):
            rows.append((record_no, f"A{rng.randint(1, 60)}", rng.choice(["2026-08", "2026-09"])))
            record_no += 1
        chunks.append(
            pl.DataFrame(rows, schema=["record_no", "account_ref", "period"], orient="row")
        )
    return chunks


def _run(session, in_memory: int, chunks: list[pl.DataFrame]) -> tuple[list, list, bool]:
    keys = FileKeys(session, in_memory)
    kept, errors = [], []
    for chunk in chunks:
        good, bad = keys.reject_repeats(chunk)
        kept += good["record_no"].to_list()
        errors += bad.rows()
    return sorted(kept), sorted(errors), keys.spilled


def _first_records(chunks: list[pl.DataFrame]) -> dict[tuple[str, str], int]:
    first: dict[tuple[str, str], int] = {}
    for no, ref, period in pl.concat(chunks).rows():
        first.setdefault((ref, period), no)
    return first


@pytest.mark.parametrize("in_memory", [0, 1, 25, 10_000])
def test_the_first_record_of_each_key_stands(bureau, in_memory):
    chunks = _chunks(seed=in_memory)
    with bureau.sessions() as session, session.begin():
        kept, errors, spilled = _run(session, in_memory, chunks)
    first = _first_records(chunks)
    assert kept == sorted(first.values())
    assert spilled == (in_memory < len(first))
    everything = pl.concat(chunks).rows()
    assert [e[0] for e in errors] == sorted(no for no, *_ in everything if no not in kept)
    for no, field, rule, message in errors:
        ref, period = next((r, p) for n, r, p in everything if n == no)
        assert (field, rule) == ("account_ref", "duplicate_account")
        assert message == (
            f"account {ref} for period {period} already appears at record {first[ref, period]}"
        )


def _temp_table_exists(session) -> bool:
    if session.get_bind().dialect.name == "postgresql":
        sql = "SELECT to_regclass('pg_temp.submission_file_keys') IS NOT NULL"
    else:
        sql = "SELECT count(*) > 0 FROM sqlite_temp_master WHERE name = 'submission_file_keys'"
    return bool(session.execute(text(sql)).scalar())


def test_spilled_keys_leave_nothing_behind(bureau):
    chunks = _chunks(seed=7)
    for _ in range(2):  # one after the other on the same database
        with bureau.sessions() as session, session.begin():
            keys = FileKeys(session, 0)
            kept = [keys.reject_repeats(chunk)[0]["record_no"] for chunk in chunks]
            assert keys.spilled and _temp_table_exists(session)
            keys.close()
            assert not _temp_table_exists(session)
        assert pl.concat(kept).sort().to_list() == sorted(_first_records(chunks).values())


def test_a_rolled_back_load_leaves_no_table(bureau):
    with bureau.sessions() as session:
        with session.begin():
            FileKeys(session, 0).reject_repeats(_chunks(seed=8)[0])
            assert _temp_table_exists(session)
            session.rollback()
        assert not _temp_table_exists(session)


def test_a_file_whose_keys_spill_rejects_its_repeats(spilling, tmp_path):
    """In a real load's transaction: the table is made, filled and read there."""
    bureau, furnisher = spilling
    records = [
        record(account_ref="A1"),
        record(**person(2), account_ref="A2"),
        record(**person(3), account_ref="A3"),
        record(account_ref="A1", current_balance=5),
    ]
    report, _ = submit_file(
        bureau, furnisher, write_jsonl(tmp_path / "f.jsonl", records), actor="test"
    )
    assert (report["accepted"], report["rejected"]) == (3, 1)
    [error] = report["errors"]
    assert (error["record_no"], error["rule"]) == (4, "duplicate_account")
