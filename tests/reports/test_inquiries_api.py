"""Inquiries over HTTP: consent and purpose, hits and no hits, recording, walls between members."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from factories import jsonl_bytes, person, record, resident_id
from openbureau.governance.members import Role
from openbureau.reports.tables import inquiries

PERSON = person(7)
IDENTITY = {
    "full_name": PERSON["full_name"],
    "national_id_type": "cn_ric",
    "national_id": resident_id(PERSON["birth"], PERSON["serial"]),
    "date_of_birth": PERSON["birth"].isoformat(),
}


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _furnish(client, key: str, records: list[dict], name: str = "f.jsonl") -> dict:
    response = client.post(
        "/v1/submissions", headers=_auth(key), files={"file": (name, jsonl_bytes(records))}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def _setup(client, members):
    _, platform = members.add("zhifu", Role.FURNISHER)
    _, bank_furnisher = members.add("hzbank", Role.FURNISHER, Role.SUBSCRIBER)
    _, lender = members.add("statebank", Role.SUBSCRIBER)
    _furnish(
        client,
        platform,
        [
            record(**PERSON, account_ref="P1", reporting_date="2005-08-31"),
            record(
                **PERSON,
                account_ref="P1",
                reporting_date="2005-09-30",
                account_status="past_due_30",
                amount_past_due=800,
                date_first_delinquency="2005-09-01",
                payment_history="1" + "0" * 23,
            ),
            record(**person(8), account_ref="P2"),
        ],
    )
    _furnish(
        client,
        bank_furnisher,
        [
            record(
                **dict(PERSON, full_name="CE Shi Qi"),
                account_ref="B1",
                account_type="installment",
                credit_limit=None,
                original_amount=90000,
                current_balance=40000,
            ),
        ],
    )
    return platform, bank_furnisher, lender


def _inquiry(identity=IDENTITY, purpose="loan_approval", consent="CONSENT-42") -> dict:
    body = {"identity": identity, "purpose": purpose, "consent_reference": consent}
    return {k: v for k, v in body.items() if v is not None}


def test_report_for_a_consented_inquiry(client, members):
    _, _, lender = _setup(client, members)
    response = client.post("/v1/inquiries", headers=_auth(lender), json=_inquiry())
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["result"] == "hit"
    assert report["inquiry"]["hard"] is True
    assert PERSON["full_name"] in report["subject"]["names"]
    assert len(report["accounts"]) == 2  # one at each furnisher, the same person
    card = next(a for a in report["accounts"] if a["account_type"] == "revolving")
    assert card["account_status"] == "past_due_30"
    assert len(card["history"]) == 24
    assert card["history"][0] == {"period": "2005-09", "code": "1"}
    assert card["history"][1] == {"period": "2005-08", "code": "0"}
    assert card["furnisher"] == "another member" and card["account_ref"] is None
    summary = report["summary"]
    assert summary["accounts_total"] == 2
    assert summary["delinquent_accounts"] == 1
    assert summary["total_balance"] == 12000 + 40000
    assert summary["total_past_due"] == 800
    assert summary["worst_current_status"] == "past_due_30"


def test_missing_purpose_or_consent_is_refused_without_revealing_anything(client, members, bureau):
    _, _, lender = _setup(client, members)
    for body in (
        _inquiry(purpose=None),
        _inquiry(consent=None),
        _inquiry(consent="   "),
        _inquiry(purpose="marketing"),
    ):
        response = client.post("/v1/inquiries", headers=_auth(lender), json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
        assert PERSON["full_name"] not in response.text
        assert "accounts" not in response.json()
    with bureau.sessions() as session:
        assert session.execute(select(func.count()).select_from(inquiries)).scalar_one() == 0


def test_no_match_and_mismatched_identity_get_no_hit(client, members):
    _, _, lender = _setup(client, members)
    unknown = dict(IDENTITY, national_id=resident_id(date(1990, 1, 1), 555))
    wrong_person = dict(IDENTITY, full_name="王芳", date_of_birth="1970-01-01")
    for identity in (unknown, wrong_person):
        response = client.post("/v1/inquiries", headers=_auth(lender), json=_inquiry(identity))
        assert response.status_code == 200
        body = response.json()
        assert body["result"] == "no_hit"
        assert "accounts" not in body and "subject" not in body


def test_inquiries_are_recorded_and_shown_on_later_reports(client, members, bureau):
    _, bank, lender = _setup(client, members)
    client.post("/v1/inquiries", headers=_auth(bank), json=_inquiry())
    client.post(
        "/v1/inquiries", headers=_auth(lender), json=_inquiry(purpose="post_loan_management")
    )
    report = client.post("/v1/inquiries", headers=_auth(lender), json=_inquiry()).json()
    # The soft review does not show to lenders; the other member's hard inquiry does, unnamed.
    assert [i["inquirer"] for i in report["inquiries"]] == ["another member"]
    assert report["summary"]["hard_inquiries_24m"] == 1
    with bureau.sessions() as session:
        rows = session.execute(
            select(
                inquiries.c.member_id,
                inquiries.c.purpose,
                inquiries.c.consent_ref,
                inquiries.c.hard,
                inquiries.c.created_at,
            )
        ).all()
    assert len(rows) == 3
    assert all(r.consent_ref == "CONSENT-42" and r.created_at for r in rows)
    assert sorted(r.hard for r in rows) == [False, True, True]


def test_roles_are_enforced(client, members):
    platform, _, lender = _setup(client, members)
    response = client.post("/v1/inquiries", headers=_auth(platform), json=_inquiry())
    assert response.status_code == 403
    response = client.post(
        "/v1/submissions",
        headers=_auth(lender),
        files={"file": ("f.jsonl", jsonl_bytes([record()]))},
    )
    assert response.status_code == 403
    assert response.json()["type"].endswith("role-required")


def test_missing_bad_and_revoked_keys_get_401(client, members, bureau):
    from openbureau.governance.members import revoke_key

    _, _, lender = _setup(client, members)
    for headers in ({}, {"Authorization": "Basic abc"}, _auth("ob_nope_nope"), _auth("garbage")):
        response = client.post("/v1/inquiries", headers=headers, json=_inquiry())
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/me", headers=_auth(lender)).status_code == 200
    with bureau.sessions() as session, session.begin():
        revoke_key(session, 3, "operator:test")
    assert client.get("/v1/me", headers=_auth(lender)).status_code == 401


def test_furnishers_see_only_their_own_submissions(client, members):
    platform, bank, _ = _setup(client, members)
    mine = client.get("/v1/submissions", headers=_auth(platform)).json()
    theirs = client.get("/v1/submissions", headers=_auth(bank)).json()
    assert len(mine) == 1 and len(theirs) == 1
    other_id = theirs[0]["submission_id"]
    assert client.get(f"/v1/submissions/{other_id}", headers=_auth(platform)).status_code == 404
    assert client.get(f"/v1/submissions/{other_id}", headers=_auth(bank)).status_code == 200


def test_no_endpoint_lists_subjects(client):
    paths = client.get("/openapi.json").json()["paths"]
    # Operators may merge or split one named subject, but nothing reads subjects in bulk.
    assert all("get" not in operations for path, operations in paths.items() if "subject" in path)
    assert not any(path.rstrip("/").endswith("/subjects") for path in paths)
    assert "/v1/inquiries" in paths and "/v1/submissions" in paths


def test_oversize_and_malformed_uploads_get_4xx(client, members, bureau):
    _, platform = members.add("zhifu", Role.FURNISHER)
    limit = bureau.settings.max_upload_bytes
    big = {"Content-Length": str(limit + 10_000_000)}
    response = client.post("/v1/submissions", headers=_auth(platform) | big, content=b"x")
    assert response.status_code == 413
    response = client.post(
        "/v1/submissions",
        headers=_auth(platform),
        files={"file": ("f.csv", "张伟,1\n".encode("gbk") + b"\xa1\n")},
    )
    assert response.status_code == 422
    assert response.json()["rule"] == "encoding"
    data = jsonl_bytes([record()])
    response = client.post(
        "/v1/submissions",
        headers=_auth(platform),
        files={"file": ("f.jsonl", data[:-20])},
        data={"sha256": "0" * 64},
    )
    assert response.status_code == 422 and response.json()["rule"] == "checksum_mismatch"
    response = client.post("/v1/submissions", headers=_auth(platform))
    assert response.status_code == 422


def test_a_furnisher_withdraws_an_account_over_http(client, members):
    """A delete request (docs/furnishing.md) sent to /v1/submissions takes the account off
    the consumer's report; the other furnisher's account stays."""
    platform, _, lender = _setup(client, members)

    def account_types() -> list[str]:
        response = client.post("/v1/inquiries", headers=_auth(lender), json=_inquiry())
        assert response.status_code == 200, response.text
        return sorted(a["account_type"] for a in response.json()["accounts"])

    assert account_types() == ["installment", "revolving"]  # the bank's B1, the platform's P1
    report = _furnish(
        client, platform, [{"account_ref": "P1", "delete_request": "reported_in_error"}], "d.jsonl"
    )
    assert (report["delete_requests"], report["accounts_deleted"]) == (1, 1)
    assert account_types() == ["installment"]


def test_resubmission_over_http_is_a_replay(client, members):
    _, platform = members.add("zhifu", Role.FURNISHER)
    files = {"file": ("f.jsonl", jsonl_bytes([record()]))}
    first = client.post("/v1/submissions", headers=_auth(platform), files=files)
    second = client.post("/v1/submissions", headers=_auth(platform), files=files)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["replay"] is True
    assert second.json()["submission_id"] == first.json()["submission_id"]


def test_concurrent_inquiries_beyond_the_report_slots_wait_and_are_each_audited(
    client, members, bureau
):
    from anyio import CapacityLimiter

    from factories import run_together
    from openbureau.governance.audit import verify_chain
    from openbureau.governance.tables import audit_events

    _, _, lender = _setup(client, members)
    client.app.state.report_slots = CapacityLimiter(2)  # fewer than the requests at once
    threads_n, each = 4, 3
    served: list[dict] = []

    def worker(_: int) -> None:
        for _ in range(each):
            response = client.post("/v1/inquiries", headers=_auth(lender), json=_inquiry())
            assert response.status_code == 200, response.text
            served.append(response.json())

    assert run_together(worker, threads_n) == []
    ids = sorted(r["inquiry"]["inquiry_id"] for r in served)
    assert len(ids) == threads_n * each == len(set(ids))
    with bureau.sessions() as session:
        assert session.scalar(select(func.count()).select_from(inquiries)) == len(ids)
        audited = session.scalar(
            select(func.count()).where(audit_events.c.action == "report.serve")
        )
        assert audited == len(ids)
        verdict = verify_chain(session)
    assert verdict.ok, verdict.problem
