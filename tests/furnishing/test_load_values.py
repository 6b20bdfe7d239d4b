"""Values that look like a bulk format's markers are stored as sent."""

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
