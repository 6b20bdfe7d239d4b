"""A file's delete requests come back as each account's last request, in file order and in
batches, the same whether they stayed in memory or moved to the load's temporary table; and
a load whose requests moved still withdraws the accounts."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy import select, text

from factories import person, record, write_jsonl
from openbureau.files.tables import tradelines
from openbureau.furnishing.delete_requests import DeleteRequests
from openbureau.furnishing.submit import submit_file


def _chunks(seed: int) -> list[pl.DataFrame]:
    rng = random.Random(seed)
    chunks, record_no = [], 1
    for _ in range(5):
        rows = []
        for _ in range(rng.randint(0, 12)):
            record_no += rng.randint(1, 3)
            ref = rng.choice([f"A{rng.randint(1, 15)}", *ALIASES])
            rows.append((record_no, ref, rng.choice(["DA", "DF"])))
        chunks.append(
            pl.DataFrame(
                rows,
                schema={"record_no": pl.Int64, "account_ref": pl.Utf8, "status": pl.Utf8},
                orient="row",
            )
        )
    return chunks


# Old numbers (L1) of member 1's accounts: A1 was O1, A2 was O2 and before that P2.
ALIASES = {"O1": "A1", "O2": "A2", "P2": "A2"}


def _last_per_account(chunks: list[pl.DataFrame]) -> list[tuple]:
    last: dict[str, tuple] = {}
    for record_no, ref, status in pl.concat(chunks).rows():
        kept = ALIASES.get(ref, ref)
        last.pop(kept, None)
        last[kept] = (record_no, kept, status)
    return list(last.values())


def _store_aliases(session) -> None:
    # The last row: another member's old number A3 is not member 1's.
    rows = [(1, alias, kept) for alias, kept in ALIASES.items()] + [(2, "A3", "ELSEWHERE")]
    for member_id, alias, kept in rows:
        session.execute(
            text(
                "INSERT INTO account_number_changes (member_id, alias_ref, account_ref, "
                "change_indicator, period, submission_id, loaded_at) "
                "VALUES (:member, :alias, :kept, 1, '2026-08', 1, :now)"
            ),
            {"member": member_id, "alias": alias, "kept": kept, "now": datetime.now(UTC)},
        )


@pytest.mark.parametrize("in_memory", [0, 4, 10_000])
@pytest.mark.parametrize("size", [1, 3, 1_000])
def test_batches_hold_each_accounts_last_request_in_file_order(bureau, in_memory, size):
    chunks = _chunks(seed=in_memory + size)
    with bureau.sessions() as session, session.begin():
        _store_aliases(session)
        requests = DeleteRequests(session, in_memory)
        for chunk in chunks:
            requests.add(chunk)
        batches = list(requests.batches(1, size))
        requests.close()
    total = sum(chunk.height for chunk in chunks)
    assert requests.count == total
    assert requests.spilled == (total > in_memory)
    assert all(0 < batch.height <= size for batch in batches)
    assert [row for batch in batches for row in batch.rows()] == _last_per_account(chunks)


def test_a_load_whose_requests_moved_to_the_table_withdraws_the_accounts(spilling, tmp_path):
    bureau, bank = spilling
    months = [record(**person(n), account_ref=f"A{n}") for n in range(1, 5)]
    submit_file(bureau, bank, write_jsonl(tmp_path / "m.jsonl", months), actor="test")
    requests = [
        {"account_ref": ref, "delete_request": kind}
        for ref, kind in [("A1", "fraud"), ("A3", "fraud"), ("A1", "reported_in_error")]
    ]
    report, _ = submit_file(bureau, bank, write_jsonl(tmp_path / "d.jsonl", requests), actor="test")
    with bureau.sessions() as session:
        left = session.execute(select(tradelines.c.account_ref)).scalars().all()
    assert (report["delete_requests"], report["accepted"], report["accounts_deleted"]) == (3, 3, 2)
    assert sorted(left) == ["A2", "A4"]
