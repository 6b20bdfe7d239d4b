"""Loading tradelines: values that look like bulk-format markers, and both load paths."""

from __future__ import annotations

from sqlalchemy import select

from factories import person, record, write_jsonl
from openbureau.files.tables import tradelines
from openbureau.furnishing.submit import submit_file
from openbureau.governance.members import Role

# \\N is COPY's NULL marker; the others are CSV's quote, separator and line break.
AWKWARD_REFS = ["\\N", 'say "hi"', "a,b", "NULL", "line\nbreak"]


def test_marker_like_account_refs_load_verbatim(bureau, members, tmp_path):
    bank, _ = members.add("bank", Role.FURNISHER)
    records = [record(**person(i), account_ref=ref) for i, ref in enumerate(AWKWARD_REFS)]
    report, _ = submit_file(bureau, bank, write_jsonl(tmp_path / "f.jsonl", records), actor="t")
    assert report["rejected"] == 0, report["errors"]
    with bureau.sessions() as session:
        stored = session.execute(select(tradelines.c.account_ref)).scalars().all()
    assert sorted(stored) == sorted(AWKWARD_REFS)


def test_a_file_of_new_months_and_a_correction_writes_both(bureau, members, tmp_path):
    """New keys alone load by plain COPY on PostgreSQL; one known key sends the chunk
    through the comparing upsert. Both paths must leave the same rows."""
    bank, _ = members.add("bank", Role.FURNISHER)
    people = [record(**person(i), account_ref=f"A{i}") for i in range(4)]
    first, _ = submit_file(bureau, bank, write_jsonl(tmp_path / "1.jsonl", people), actor="t")
    assert first["rows_written"] == 4
    october = [dict(r, reporting_date="2005-10-31") for r in people]
    corrected = dict(people[2], current_balance=1)
    mixed, _ = submit_file(
        bureau, bank, write_jsonl(tmp_path / "2.jsonl", [*october, corrected]), actor="t"
    )
    assert mixed["rows_written"] == 5
    unchanged_again, _ = submit_file(
        bureau, bank, write_jsonl(tmp_path / "3.jsonl", [*october, people[0]]), actor="t"
    )
    assert unchanged_again["rows_written"] == 0
    with bureau.sessions() as session:
        rows = session.execute(
            select(tradelines.c.account_ref, tradelines.c.period, tradelines.c.current_balance)
        ).all()
    balances = {(ref, period): balance for ref, period, balance in rows}
    assert len(balances) == 8
    assert balances[("A2", "2005-09")] == 1
    assert (
        balances[("A1", "2005-09")] == balances[("A1", "2005-10")] == people[1]["current_balance"]
    )
