"""make_inquiry's report equals the portable builder's; concurrent reports keep the audit chain.

On PostgreSQL make_inquiry reads everything in one pipelined round trip (reports/pg_reads.py);
`build_report_body` and `score_for_report` are the portable path every database runs. On
SQLite both are the same code, so the comparison holds trivially there.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import select, update

from factories import person, record, resident_id, run_together, write_jsonl
from openbureau.furnishing.submit import submit_file
from openbureau.governance.audit import verify_chain
from openbureau.governance.members import Role, get_member
from openbureau.governance.tables import audit_events
from openbureau.identity.tables import subjects
from openbureau.reports.inquiry import InquiryIdentity, build_report_body, make_inquiry
from openbureau.reports.tables import inquiries
from openbureau.scoring.service import score_for_report

ALICE, BOB = person(21), person(22)


def _identity(who: dict) -> InquiryIdentity:
    return InquiryIdentity(
        who["full_name"], "cn_ric", resident_id(who["birth"], who["serial"]), who["birth"]
    )


def _bureau_with_files(bureau, members, tmp_path) -> None:
    platform, _ = members.add("zhifu", Role.FURNISHER)
    bank, _ = members.add("hzbank", Role.FURNISHER, Role.SUBSCRIBER)
    members.add("lender", Role.SUBSCRIBER)
    alice = dict(ALICE, address="上海市徐汇区1号")
    platform_records = [
        record(**alice, account_ref="A1", reporting_date="2005-07-31"),
        record(
            **alice, account_ref="A1", reporting_date="2005-08-31", account_status="past_due_30"
        ),
        record(
            **alice, account_ref="A1", reporting_date="2005-09-30", payment_history="1" + "0" * 23
        ),
        record(**alice, account_ref="A2", reporting_date="2005-09-30", date_closed="2005-09-15"),
        record(**BOB, account_ref="B1", reporting_date="2005-09-30"),
    ]
    bank_records = [
        record(
            **dict(alice, full_name="Alice Variant"),
            account_ref="K1",
            account_type="installment",
            credit_limit=None,
            original_amount=90000,
            current_balance=40000,
            phone="+8613900139000",
        ),
    ]
    submit_file(bureau, platform, write_jsonl(tmp_path / "p.jsonl", platform_records), actor="t")
    submit_file(bureau, bank, write_jsonl(tmp_path / "b.jsonl", bank_records), actor="t")


def _ask(bureau, code: str, who: dict, purpose: str = "loan_approval") -> dict:
    with bureau.sessions() as session:
        member = get_member(session, code)
        report = make_inquiry(bureau, session, member, _identity(who), purpose, "C-1")
        session.commit()
    return report


def test_the_report_equals_the_portable_builders(bureau, members, tmp_path):
    _bureau_with_files(bureau, members, tmp_path)
    alice_id = _ask(bureau, "lender", ALICE)["subject"]["subject_id"]
    bob_id = _ask(bureau, "hzbank", BOB)["subject"]["subject_id"]
    # Bob's file merged into Alice's, as an identity review would: her file folds his in.
    with bureau.sessions() as session, session.begin():
        session.execute(
            update(subjects).where(subjects.c.id == bob_id).values(merged_into=alice_id)
        )
    _ask(bureau, "hzbank", ALICE)
    _ask(bureau, "lender", ALICE, purpose="post_loan_management")  # soft: not shown
    report = _ask(bureau, "lender", ALICE)

    assert report["result"] == "hit"
    assert {a["account_type"] for a in report["accounts"]} == {"revolving", "installment"}
    assert len(report["accounts"]) == 4  # A1, A2, K1 and Bob's B1
    # Newest first: the bank's on Alice, the bank's on Bob (merged in), the lender's first.
    assert [i["inquirer"] for i in report["inquiries"]] == [
        "another member",
        "another member",
        "you",
    ]
    with bureau.sessions() as session:
        lender = get_member(session, "lender")
        now = datetime.fromisoformat(report["generated_at"])
        inquiry_id = report["inquiry"]["inquiry_id"]
        body = build_report_body(bureau, session, lender, alice_id, inquiry_id, now)
        score = score_for_report(bureau, session, alice_id)
    portable = orjson.loads(orjson.dumps(body | {"score": score}))
    for part in ("subject", "accounts", "inquiries", "summary", "score"):
        assert report[part] == portable[part], part


def test_concurrent_reports_are_each_recorded_and_audited_in_one_chain(bureau, members, tmp_path):
    _bureau_with_files(bureau, members, tmp_path)
    threads_n, each = 4, 6
    served: list[dict] = []

    def worker(_: int) -> None:
        for i in range(each):
            served.append(_ask(bureau, "lender", ALICE if i % 2 else BOB))

    assert run_together(worker, threads_n) == []
    with bureau.sessions() as session:
        verdict = verify_chain(session)
        audited = [
            orjson.loads(d)["inquiry_id"]
            for d in session.execute(
                select(audit_events.c.detail).where(audit_events.c.action == "report.serve")
            ).scalars()
        ]
        recorded = session.execute(select(inquiries.c.id)).scalars().all()
    assert verdict.ok, verdict.problem
    ids = sorted(r["inquiry"]["inquiry_id"] for r in served)
    assert len(ids) == threads_n * each == len(set(ids))
    assert sorted(audited) == ids == sorted(recorded)
