"""Tradelines (migration 0005), stored identities and blocking keys (0008) have no foreign
keys: the loader must keep every reference valid.

After first loads, a later month, a correction, records held for review, both review
outcomes, a merge and a split, every tradeline must point at its own member, at an existing
submission of that member, and (unless held) at an existing subject; every stored identity
and every blocking key at an existing subject, and every identity at an existing member.
"""

from __future__ import annotations

from sqlalchemy import text

from factories import person, record, write_jsonl
from openbureau.furnishing.submit import submit_file
from openbureau.governance.members import Role
from openbureau.identity.changes import merge_subjects, split_subject
from openbureau.identity.review import keep_apart, link
from openbureau.identity.store import open_reviews

SSN = "536-90-4399"
DANGLING = {
    "member": "SELECT count(*) FROM tradelines t "
    "WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = t.member_id)",
    "submission": "SELECT count(*) FROM tradelines t WHERE NOT EXISTS "
    "(SELECT 1 FROM submissions s WHERE s.id = t.submission_id AND s.member_id = t.member_id)",
    "subject": "SELECT count(*) FROM tradelines t WHERE t.subject_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = t.subject_id)",
    "identity subject": "SELECT count(*) FROM subject_identities i "
    "WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = i.subject_id)",
    "identity member": "SELECT count(*) FROM subject_identities i "
    "WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = i.member_id)",
    "blocking key subject": "SELECT count(*) FROM identity_blocking_keys k "
    "WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = k.subject_id)",
}
CLEAN = dict.fromkeys(DANGLING, 0)


def _dangling(bureau) -> dict[str, int]:
    with bureau.sessions() as session:
        return {name: session.execute(text(sql)).scalar_one() for name, sql in DANGLING.items()}


def test_every_tradeline_reference_resolves(bureau, members, tmp_path):
    bank, _ = members.add("bank", Role.FURNISHER)
    shop, _ = members.add("shop", Role.FURNISHER)
    people = [record(**person(i), account_ref=f"A{i}") for i in range(5)]
    people.append(
        record(national_id_type="us_ssn", national_id=SSN, account_ref="A5", full_name="John Smith")
    )
    # Same SSN, another name and birth date: held for review.
    clash = dict(people[5], account_ref="X1", full_name="Mary Jones", date_of_birth="1971-02-02")
    submit_file(bureau, bank, write_jsonl(tmp_path / "b1.jsonl", [*people, clash]), actor="t")
    submit_file(bureau, shop, write_jsonl(tmp_path / "s1.jsonl", people[:3]), actor="t")
    later = [dict(r, reporting_date="2005-10-31") for r in people]
    submit_file(bureau, bank, write_jsonl(tmp_path / "b2.jsonl", later), actor="t")
    corrected = [dict(people[1], current_balance=1)]
    submit_file(bureau, bank, write_jsonl(tmp_path / "b3.jsonl", corrected), actor="t")

    held_clash = dict(clash, account_ref="X2", full_name="Peter Brown", date_of_birth="1972-03-03")
    submit_file(bureau, shop, write_jsonl(tmp_path / "s2.jsonl", [held_clash]), actor="t")
    with bureau.sessions() as session, session.begin():
        held = {item["account_ref"]: item for item in open_reviews(session, bureau.keys)}
        assert set(held) == {"X1", "X2"}
        subject = session.execute(text("SELECT min(id) FROM subjects")).scalar_one()
        link(session, bureau.keys, held["X1"]["review_id"], subject, "operator:t", "CN")
        keep_apart(session, bureau.keys, held["X2"]["review_id"], "operator:t", "CN")
        (_, first), (_, second) = session.execute(
            text("SELECT DISTINCT account_ref, subject_id FROM tradelines "
                 "WHERE account_ref IN ('A0', 'A1') "
                 "AND member_id = :bank ORDER BY account_ref LIMIT 2"),
            {"bank": bank.id},
        ).all()
        merge_subjects(session, first, second, "operator:t", "same person")
        split_subject(session, bureau.keys, "US", first, [(bank.id, "A1")], "operator:t", "two")

    with bureau.sessions() as session:
        counts = session.execute(text("SELECT count(*), count(subject_id) FROM tradelines")).one()
    assert tuple(counts) == (6 + 1 + 3 + 6 + 1, 6 + 1 + 3 + 6 + 1)
    assert _dangling(bureau) == CLEAN
    with bureau.sessions() as session:
        stored = session.execute(
            text("SELECT (SELECT count(*) FROM subject_identities), "
                 "(SELECT count(*) FROM identity_blocking_keys)")
        ).one()
    assert min(stored) > 0
