"""Inquiries answered together on PostgreSQL (reports/pg_batch.py) answer as one by one.

The batch path exists on PostgreSQL only (SQLite answers each inquiry in its own
transaction), so these tests run there alone.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import orjson
import pytest
from sqlalchemy import select

from factories import person, record, resident_id, write_jsonl
from openbureau.api.app import create_app
from openbureau.api.problems import Problem
from openbureau.furnishing.submit import submit_file
from openbureau.governance.audit import verify_chain
from openbureau.governance.members import Role, get_member
from openbureau.governance.tables import audit_events
from openbureau.reports import inquiry as inquiry_module
from openbureau.reports import pg_batch as pg_batch_module
from openbureau.reports.inquiry import InquiryIdentity, build_report_body
from openbureau.reports.pg_batch import InquiryRequest, answer_many
from openbureau.reports.tables import inquiries
from openbureau.scoring.service import score_for_report

pytestmark = pytest.mark.parametrize("db_backend", ["postgresql"])

ALICE, BOB, CAROL = person(5), person(6), person(7)


def _national_id(who: dict) -> str:
    return resident_id(who["birth"], who["serial"])


def _identity(who: dict, **changes) -> InquiryIdentity:
    fields = {
        "full_name": who["full_name"],
        "national_id_type": "cn_ric",
        "national_id": _national_id(who),
        "date_of_birth": who["birth"],
    }
    return InquiryIdentity(**(fields | changes))


def _bureau(bureau, members, tmp_path) -> dict[str, str]:
    platform, platform_key = members.add("zhifu", Role.FURNISHER)
    _, lender_key = members.add("lender", Role.SUBSCRIBER)
    _, bank_key = members.add("hzbank", Role.FURNISHER, Role.SUBSCRIBER)
    records = [
        record(**ALICE, account_ref="A1", reporting_date="2005-08-31"),
        record(
            **ALICE,
            account_ref="A1",
            reporting_date="2005-09-30",
            account_status="past_due_30",
            amount_past_due=500,
            date_first_delinquency="2005-08-31",
        ),
        record(**ALICE, account_ref="A2", reporting_date="2005-09-30", date_closed="2005-09-15"),
        record(
            **BOB,
            account_ref="B1",
            address="上海市徐汇区1号",
            phone="+8613900139000",
        ),
    ]
    report, _ = submit_file(bureau, platform, write_jsonl(tmp_path / "p.jsonl", records), actor="t")
    assert report["rejected"] == 0, report["errors"]
    return {"zhifu": platform_key, "lender": lender_key, "hzbank": bank_key}


def test_a_batch_answers_each_request_as_it_would_be_answered_alone(bureau, members, tmp_path):
    keys = _bureau(bureau, members, tmp_path)
    asks = [
        InquiryRequest(keys["lender"], _identity(ALICE), "loan_approval", "C-1"),
        InquiryRequest(keys["lender"], _identity(ALICE), "loan_approval", "C-2"),
        InquiryRequest(keys["hzbank"], _identity(BOB), "loan_approval", "C-3"),
        InquiryRequest("ob_nosuch_key", _identity(ALICE), "loan_approval", "C-4"),
        InquiryRequest(keys["zhifu"], _identity(ALICE), "loan_approval", "C-5"),
        InquiryRequest(keys["lender"], _identity(ALICE), "curiosity", "C-6"),
        InquiryRequest(keys["lender"], _identity(ALICE), "loan_approval", "  "),
        # Nobody on file has Carol's ID: answered one by one, as a no hit.
        InquiryRequest(keys["lender"], _identity(CAROL), "loan_approval", "C-8"),
        # Alice's ID with another name and birth date: not her file.
        InquiryRequest(
            keys["lender"],
            _identity(ALICE, full_name="王芳", date_of_birth=CAROL["birth"]),
            "loan_approval",
            "C-9",
        ),
    ]
    answers = answer_many(bureau, asks)

    refused = {i: (a.status, a.title) for i, a in enumerate(answers) if isinstance(a, Problem)}
    assert refused == {
        3: (401, "Unauthorized"),
        4: (403, "Forbidden"),
        5: (422, "Purpose not permitted"),
        6: (422, "Consent required"),
    }
    assert [answers[i]["result"] for i in (0, 1, 2, 7, 8)] == ["hit"] * 3 + ["no_hit"] * 2
    alice, again, bob = answers[0], answers[1], answers[2]
    assert alice["subject"]["subject_id"] == again["subject"]["subject_id"]
    assert alice["subject"]["subject_id"] != bob["subject"]["subject_id"]
    assert [a["inquiry"]["consent_reference"] for a in answers[:3]] == ["C-1", "C-2", "C-3"]
    assert len(alice["accounts"]) == 2 and len(bob["accounts"]) == 1

    # Each hit's report is the portable builder's, but for the inquiries answered in the same
    # batch: concurrent, so none lists another.
    with bureau.sessions() as session:
        for report, code, batch_peers in (
            (alice, "lender", 1),
            (again, "lender", 1),
            (bob, "hzbank", 0),
        ):
            member = get_member(session, code)
            subject = report["subject"]["subject_id"]
            body = build_report_body(
                bureau,
                session,
                member,
                subject,
                report["inquiry"]["inquiry_id"],
                datetime.fromisoformat(report["generated_at"]),
            )
            portable = orjson.loads(
                orjson.dumps(body | {"score": score_for_report(bureau, session, subject)})
            )
            for part in ("subject", "accounts", "score"):
                assert report[part] == portable[part], part
            assert len(portable["inquiries"]) == len(report["inquiries"]) + batch_peers

    # Every answered inquiry is recorded once and every report audited, in one intact chain;
    # the refused ones left nothing.
    with bureau.sessions() as session:
        recorded = session.execute(
            select(inquiries.c.id, inquiries.c.consent_ref, inquiries.c.outcome)
        ).all()
        served = [
            orjson.loads(detail)["inquiry_id"]
            for detail in session.execute(
                select(audit_events.c.detail).where(audit_events.c.action == "report.serve")
            ).scalars()
        ]
        verdict = verify_chain(session)
    assert verdict.ok, verdict.problem
    assert sorted(consent for _, consent, _ in recorded) == ["C-1", "C-2", "C-3", "C-8", "C-9"]
    hit_ids = sorted(a["inquiry"]["inquiry_id"] for a in (alice, again, bob))
    assert sorted(served) == hit_ids
    assert sorted(i for i, _, outcome in recorded if outcome == "hit") == hit_ids


def test_requests_arriving_together_share_one_batch(bureau, members, tmp_path):
    keys = _bureau(bureau, members, tmp_path)
    body = {
        "identity": {
            "full_name": ALICE["full_name"],
            "national_id_type": "cn_ric",
            "national_id": _national_id(ALICE),
            "date_of_birth": ALICE["birth"].isoformat(),
        },
        "purpose": "loan_approval",
        "consent_reference": "C-1",
    }
    app = create_app(bureau)

    async def ask_together(n: int) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bureau") as client:
            headers = {"Authorization": f"Bearer {keys['lender']}"}
            return await asyncio.gather(
                *(client.post("/v1/inquiries", json=body, headers=headers) for _ in range(n))
            )

    responses = asyncio.run(ask_together(6))

    assert [r.status_code for r in responses] == [200] * 6
    reports = [r.json() for r in responses]
    assert len({r["inquiry"]["inquiry_id"] for r in reports}) == 6
    # One batch, one moment: every report of it was generated at the same time.
    assert len({r["generated_at"] for r in reports}) == 1
    # Concurrent: none of the six lists the others.
    assert all(r["inquiries"] == [] for r in reports)
    with bureau.sessions() as session:
        assert verify_chain(session).ok
        assert len(session.execute(select(inquiries.c.id)).all()) == 6


def test_a_report_that_fails_takes_no_other_request_down(bureau, members, tmp_path, monkeypatch):
    keys = _bureau(bureau, members, tmp_path)
    bob_subject = None
    real = inquiry_module.report_from_reads

    def failing_for_bob(bureau_, session_, answer, subject_id, reads):
        if subject_id == bob_subject:
            raise RuntimeError("Bob's report cannot be built")
        return real(bureau_, session_, answer, subject_id, reads)

    bob_subject = answer_many(
        bureau, [InquiryRequest(keys["hzbank"], _identity(BOB), "loan_approval", "B-0")]
    )[0]["subject"]["subject_id"]
    # The batch path and the one-by-one path both build reports with this function.
    monkeypatch.setattr(inquiry_module, "report_from_reads", failing_for_bob)
    monkeypatch.setattr(pg_batch_module, "report_from_reads", failing_for_bob)

    alice, bob = answer_many(
        bureau,
        [
            InquiryRequest(keys["lender"], _identity(ALICE), "loan_approval", "A-1"),
            InquiryRequest(keys["lender"], _identity(BOB), "loan_approval", "B-1"),
        ],
    )

    assert alice["result"] == "hit" and alice["inquiry"]["consent_reference"] == "A-1"
    assert isinstance(bob, RuntimeError)
    with bureau.sessions() as session:
        consents = session.execute(select(inquiries.c.consent_ref)).scalars().all()
        assert verify_chain(session).ok
    # The failed batch wrote nothing; Alice's inquiry, answered again alone, once.
    assert sorted(consents) == ["A-1", "B-0"]
