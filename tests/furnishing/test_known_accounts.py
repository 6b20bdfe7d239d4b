"""A known account keeps its subject month after month, and also after a silence longer than
the look-back window, when it is resolved afresh through its national ID."""

from __future__ import annotations

import polars as pl
from sqlalchemy import text

from factories import person, record, write_jsonl
from openbureau.files.load import LOOKBACK_MONTHS, lookback_start
from openbureau.furnishing.submit import submit_file
from openbureau.governance.members import Role


def test_the_window_starts_months_before_the_earliest_period():
    assert lookback_start(pl.Series(["2005-03", "2005-02"]), 3) == "2004-11"
    assert lookback_start(pl.Series(["2006-01"]), 1) == "2005-12"
    assert lookback_start(pl.Series(["2006-12"]), 12) == "2005-12"


def _subjects(bureau) -> list[int]:
    with bureau.sessions() as session:
        return list(
            session.execute(text("SELECT DISTINCT subject_id FROM tradelines")).scalars()
        )


def test_an_account_silent_past_the_window_stays_on_its_subject(bureau, members, tmp_path):
    bank, _ = members.add("bank", Role.FURNISHER)
    january = [record(**person(i), account_ref=f"A{i}", reporting_date="2005-01-31")
               for i in range(3)]
    first, _ = submit_file(bureau, bank, write_jsonl(tmp_path / "1.jsonl", january), actor="t")
    assert first["new_subjects"] == 3
    # Next month: read from the window, nothing resolved again.
    february = [dict(r, reporting_date="2005-02-28") for r in january]
    second, _ = submit_file(bureau, bank, write_jsonl(tmp_path / "2.jsonl", february), actor="t")
    assert (second["new_subjects"], second["matched_existing_subjects"]) == (0, 3)
    # Back after a long silence: resolved afresh by national ID, to the same subjects.
    late = f"2005-{2 + LOOKBACK_MONTHS + 3:02d}-30"
    back = [dict(r, reporting_date=late) for r in january]
    third, _ = submit_file(bureau, bank, write_jsonl(tmp_path / "3.jsonl", back), actor="t")
    assert (third["new_subjects"], third["matched_existing_subjects"]) == (0, 3)
    assert len(_subjects(bureau)) == 3
    with bureau.sessions() as session:
        per_account = session.execute(
            text("SELECT account_ref, count(DISTINCT subject_id), count(*) FROM tradelines "
                 "GROUP BY account_ref")
        ).all()
    assert sorted(per_account) == [(f"A{i}", 1, 3) for i in range(3)]
